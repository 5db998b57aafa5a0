// The learning circuit's models against closed forms: pooled_poisson_source fires each unit as a
// Poisson process of rate x_j rate_max (units with x = 0 never), across rate changes; a
// two_channel_unit at rest with a constant bias fires at r_max p(k b) on both channels, which
// agree spike for spike.
#include <cmath>
#include <vector>

#include <catch2/catch.hpp>

#include "neurons/pooled_poisson_source.hpp"
#include "neurons/two_channel_unit.hpp"
#include "recording_observer.hpp"

using namespace settle;

TEST_CASE("pooled_poisson_source: unit j fires at x_j rate_max, x = 0 never, through rate changes",
          "[unit][circuit]") {
    constexpr std::uint32_t R = 2;
    const std::vector<double> x1 = {0.0, 0.1, 0.5, 1.0, 0.25}, x2 = {0.8, 0.0, 0.05, 0.3, 0.6};
    Network net;
    auto src = std::make_unique<PooledPoissonSource>("input", 5, R, 200.0);
    PooledPoissonSource* input = src.get();
    for (std::uint32_t r = 0; r < R; ++r) input->set_rates(r, 0.0, r == 0 ? x1 : x2);
    net.add_population(std::move(src));
    Simulator sim(net, 11);
    sim.record_spikes(0);
    testing::RecordingObserver rec;
    const double T = 200000.0;  // ms per phase
    sim.start(0.0);
    sim.advance(T, rec);
    // Swap the two replicas' rates at T.
    input->set_rates(0, T, x2);
    input->set_rates(1, T, x1);
    sim.reschedule(0, 0);
    sim.reschedule(0, 1);
    sim.advance(2 * T, rec);
    std::vector<double> counts(2 * R * 5, 0.0);  // [phase][node]
    for (const auto& s : rec.spikes) counts[(s.t > T ? 10 : 0) + s.node] += 1.0;
    for (int phase = 0; phase < 2; ++phase)
        for (std::uint32_t r = 0; r < R; ++r)
            for (std::size_t j = 0; j < 5; ++j) {
                const std::vector<double>& x = (r == 0) == (phase == 0) ? x1 : x2;
                const double expected = x[j] * 0.2 * T;
                const double n = counts[phase * 10 + r * 5 + j];
                if (x[j] == 0.0) {
                    CHECK(n == 0.0);
                } else {
                    INFO("phase " << phase << " replica " << r << " unit " << j);
                    CHECK(std::abs(n - expected) < 5.0 * std::sqrt(expected));  // Poisson: sd = sqrt(mean)
                }
            }
    // Inter-spike intervals of the pooled stream are exponential: their coefficient of variation is 1.
    std::vector<double> isi;
    double last = -1.0;
    for (const auto& s : rec.spikes)
        if (s.t <= T && s.node < 5) {
            if (last >= 0.0) isi.push_back(s.t - last);
            last = s.t;
        }
    double m = 0.0, v = 0.0;
    for (double d : isi) m += d;
    m /= static_cast<double>(isi.size());
    for (double d : isi) v += (d - m) * (d - m);
    const double cv = std::sqrt(v / static_cast<double>(isi.size() - 1)) / m;
    CHECK(std::abs(cv - 1.0) < 5.0 / std::sqrt(static_cast<double>(isi.size())));
}

TEST_CASE("two_channel_unit: at rest with a constant bias both channels fire at r_max p(k b), spike for spike",
          "[unit][circuit]") {
    TwoChannelUnitParameters p;
    p.rate_max_hz = 400.0;
    p.k = 0.9;
    Network net;
    auto pop = std::make_unique<TwoChannelUnitPopulation>("layer", 3, 1, p);
    const std::vector<double> b = {-1.0, 0.0, 2.0};
    pop->set_bias(b);
    TwoChannelUnitPopulation* unit = pop.get();
    net.add_population(std::move(pop));
    Simulator sim(net, 5);
    sim.record_spikes(0);
    testing::RecordingObserver rec;
    sim.start(0.0);
    // U = Vbar relax to k b with tau = 5 ms; count from 100 ms (20 tau) on.
    const double t0 = 100.0, T = 100000.0;
    sim.advance(t0, rec);
    const std::size_t skip = rec.spikes.size();
    sim.advance(t0 + T, rec);
    std::vector<double> somatic(3, 0.0), prediction(3, 0.0);
    for (std::size_t i = skip; i < rec.spikes.size(); ++i) {
        const auto& s = rec.spikes[i];
        (s.node < 3 ? somatic : prediction)[s.node % 3] += 1.0;
    }
    for (std::size_t i = 0; i < 3; ++i) {
        const double expected = 0.4 * T / (1.0 + std::exp(-p.k * b[i]));
        INFO("unit " << i);
        CHECK(std::abs(somatic[i] - expected) < 5.0 * std::sqrt(expected));
        CHECK(prediction[i] == somatic[i]);
        const auto v = unit->potentials(0, static_cast<node_index>(i), t0 + T);
        CHECK(v.U == v.Vbar);
        CHECK(v.U == Approx(p.k * b[i]).epsilon(1e-12));
    }
}
