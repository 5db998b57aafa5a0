// The interneurons' apical-mismatch rule (plasticity/apical_mismatch_rule.hpp) samples the
// continuous rule dP_ij/dt = eta e_i tr_j, dd_i/dt = eta e_i at the interneurons' emission
// candidates; its expected change is the continuous rule's integral. Checked on one run: the
// error e (a layer's nudge input / lambda, driven by the spikes of a population above) and the
// presynaptic traces tr (the layer's own somatic spikes) do not depend on P here, so their
// integrals follow exactly from the recorded spikes; the rule's change must lie within a few
// standard deviations of its sampling noise, computed from the same integrals.
#include <cmath>
#include <memory>
#include <vector>

#include <catch2/catch.hpp>

#include "neurons/two_channel_unit.hpp"
#include "plasticity/apical_mismatch_rule.hpp"
#include "sim/simulator.hpp"
#include "tests/unit/recording_observer.hpp"

using namespace settle;

TEST_CASE("apical_mismatch: the spike-form change equals the continuous rule's integral within its sampling noise",
          "[plasticity][circuit]") {
    constexpr std::size_t n_above = 3, n = 2;
    constexpr std::uint32_t R = 2;
    constexpr double tau = 5.0, tau_s = 20.0, k = 0.9, r_hz = 1000.0, lambda = 0.5, eta = 0.02, T = 3000.0;
    const double r = r_hz * 1e-3;
    TwoChannelUnitParameters p;
    p.tau_ms = tau;
    p.synapse_tau_ms = tau_s;
    p.k = k;
    p.rate_max_hz = r_hz;
    TwoChannelUnitParameters pi = p;
    pi.emission = TwoChannelUnitParameters::Emission::linear;
    Network net;
    auto above = std::make_unique<TwoChannelUnitPopulation>("above", n_above, R, p);
    above->set_bias({1.5, -0.5, 0.3});
    auto layer = std::make_unique<TwoChannelUnitPopulation>("layer", n, R, p);
    layer->set_bias({0.8, -1.2});
    TwoChannelUnitPopulation* layer_ptr = layer.get();
    auto inter = std::make_unique<TwoChannelUnitPopulation>("interneuron", n, R, pi);
    TwoChannelUnitPopulation* inter_ptr = inter.get();
    net.add_population(std::move(above));
    net.add_population(std::move(layer));
    net.add_population(std::move(inter));
    // The error: G (n x n_above) from the population above into the layer's nudge.
    auto G = std::make_shared<DenseMatrix>(n, n_above);
    G->w = {0.9, -0.4, -0.7, 1.1, 0.5, 0.8};
    const double gain_down = 1.0 / (r * tau_s);
    net.add_dense_projection(std::make_unique<DenseProjection>("G", 0, 1, TwoChannelUnitPopulation::nudge, G, false,
                                                               std::vector<double>{gain_down, 0.0}));
    auto P = std::make_shared<DenseMatrix>(n, n);
    auto proj = std::make_unique<DenseProjection>("P", 1, 2, TwoChannelUnitPopulation::dendrite, P, false,
                                                  std::vector<double>{1.0 / (r * tau_s), 0.0});
    proj->set_rule(std::make_unique<ApicalMismatchRule>(ApicalMismatchRule::Parameters{eta, 1.0 / lambda, r_hz},
                                                        *layer_ptr, TwoChannelUnitPopulation::nudge));
    net.add_dense_projection(std::move(proj));
    Simulator sim(net, 11);
    sim.set_sync_interval(0.5);
    sim.record_spikes(0);
    sim.record_spikes(1);
    testing::RecordingObserver rec;
    sim.run(0.0, T, rec);
    // The rule really read the layer's nudge (a spot check of receptor_input against the traces
    // below comes with the integrals).

    // Exact integrals from the spikes: between events every trace is a single exponential, so
    // with e_i = a_i Es and tr_j = b_j Es over an interval of length h,
    //   int e_i tr_j = a_i b_j tau_s / 2 (1 - e^(-2h/tau_s)),  int e_i = a_i tau_s (1 - e^(-h/tau_s)),
    //   int (e_i tr_j)^2 = (a_i b_j)^2 tau_s / 4 (1 - e^(-4h/tau_s)),  int e_i^2 likewise with 2h.
    std::vector<double> I_etr(n * n, 0.0), I_e(n, 0.0), V_etr(n * n, 0.0), V_e(n, 0.0);
    for (std::uint32_t q = 0; q < R; ++q) {
        std::vector<double> e(n, 0.0), tr(n, 0.0);
        double last = 0.0;
        auto integrate_to = [&](double t) {
            const double h = t - last;
            const double f1 = tau_s * -std::expm1(-h / tau_s), f2 = tau_s / 2 * -std::expm1(-2 * h / tau_s),
                         f4 = tau_s / 4 * -std::expm1(-4 * h / tau_s);
            for (std::size_t i = 0; i < n; ++i) {
                I_e[i] += e[i] * f1;
                V_e[i] += e[i] * e[i] * f2;
                for (std::size_t j = 0; j < n; ++j) {
                    I_etr[i * n + j] += e[i] * tr[j] * f2;
                    V_etr[i * n + j] += e[i] * e[i] * tr[j] * tr[j] * f4;
                }
            }
            const double d = std::exp(-h / tau_s);
            for (std::size_t i = 0; i < n; ++i) {
                e[i] *= d;
                tr[i] *= d;
            }
            last = t;
        };
        for (const auto& s : rec.spikes) {
            const std::size_t units = s.population == 0 ? n_above : n;
            const std::size_t unit = s.node % units, rc = s.node / units;
            if (rc / 2 != q || rc % 2 != 0) continue;  // this replica's somatic channel
            integrate_to(s.t);
            if (s.population == 0)
                for (std::size_t i = 0; i < n; ++i) e[i] += (*G)(i, unit) * gain_down / lambda;
            else
                tr[unit] += 1.0 / (r * tau_s);
        }
        integrate_to(T);
        // The error the rule reads is the layer's nudge input / lambda, which the traces give.
        for (std::size_t i = 0; i < n; ++i)
            CHECK(layer_ptr->receptor_input(TwoChannelUnitPopulation::nudge, q, static_cast<node_index>(i), T) / lambda ==
                  Approx(e[i]).epsilon(1e-9));
    }
    const double c = eta / (r * R);  // each sample's factor
    double worst_z = 0.0, sum_z2 = 0.0;
    std::size_t compared = 0;
    auto compare = [&](double got, double integral, double square_integral) {
        const double expected = eta / R * integral;
        const double sd = c * std::sqrt(r * square_integral);  // Poisson sampling at rate r
        INFO("change " << got << ", expected " << expected << " +- " << sd);
        REQUIRE(sd > 0.0);
        CHECK(sd < 0.05 * std::abs(expected));  // the check has power: noise well below the signal
        const double z = (got - expected) / sd;
        worst_z = std::max(worst_z, std::abs(z));
        sum_z2 += z * z;
        ++compared;
        CHECK(std::abs(z) < 4.5);
    };
    for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t j = 0; j < n; ++j) compare((*P)(i, j), I_etr[i * n + j], V_etr[i * n + j]);
        compare(inter_ptr->bias()[i], I_e[i], V_e[i]);
    }
    INFO("worst |z| " << worst_z << ", mean z^2 " << sum_z2 / static_cast<double>(compared));
    CHECK(sum_z2 / static_cast<double>(compared) < 6.0);
}
