#pragma once
// A 3-4-2 learning circuit on the kernel for tests: pooled_poisson_source "input" ->
// two_channel_unit "layer1" (logistic) -> two_channel_unit "layer2" (linear over [lo, hi]), dense
// projections W1, W2 with the lag-compensated rule and B1, the twin nudge through W2's transpose
// (tied, symmetric feedback). Deterministic initial weights with mixed signs.
// With learned feedback instead: population "feedback1" (4 units, linear over [flo, fhi], soma
// coupled to layer1 with g_feedback) driven by layer2's somatic channel through Q (decoded
// lo + (hi - lo) s: a source offset), Q learning with the lag-compensated rule, and B1 the twin
// nudge through Q itself (tied, not transposed).
#include <cmath>
#include <memory>
#include <vector>

#include "neurons/pooled_poisson_source.hpp"
#include "neurons/two_channel_unit.hpp"
#include "plasticity/lag_compensated_rule.hpp"
#include "sim/simulator.hpp"

namespace settle::testing {

struct TinyDenseCircuit {
    static constexpr std::size_t n0 = 3, n1 = 4, n2 = 2;
    static constexpr double tau = 5.0, tau_s = 20.0, k = 0.9, lambda = 1.0, lo = -2.0, hi = 2.0;
    static constexpr double r_in_hz = 800.0, r_hz = 1000.0, eta_hidden = 0.05, eta_out = 0.08;
    static constexpr double flo = -3.0, fhi = 3.0, g_feedback = 1.2, eta_feedback = 0.1;

    std::uint32_t replicas;
    Network net;
    PooledPoissonSource* input = nullptr;
    TwoChannelUnitPopulation* hidden = nullptr;
    TwoChannelUnitPopulation* output = nullptr;
    TwoChannelUnitPopulation* feedback = nullptr;  // learned feedback only
    std::shared_ptr<DenseMatrix> M1, M2, MQ;
    std::vector<double> W1, W2, b1, b2, Q;  // initial values

    // rates[r]: replica r's initial input rate fractions (n0 each).
    TinyDenseCircuit(std::uint32_t R, const std::vector<std::vector<double>>& rates, bool learned_feedback = false)
        : replicas(R) {
        W1.resize(n1 * n0);
        W2.resize(n2 * n1);
        b1.resize(n1);
        b2.resize(n2);
        for (std::size_t i = 0; i < W1.size(); ++i) W1[i] = 1.5 * std::sin(1.7 * static_cast<double>(i) + 0.3);
        for (std::size_t i = 0; i < W2.size(); ++i) W2[i] = 1.2 * std::cos(2.3 * static_cast<double>(i) + 0.1);
        for (std::size_t i = 0; i < n1; ++i) b1[i] = 0.2 * static_cast<double>(i) - 0.3;
        for (std::size_t i = 0; i < n2; ++i) b2[i] = 0.1 - 0.2 * static_cast<double>(i);
        auto in = std::make_unique<PooledPoissonSource>("input", n0, R, r_in_hz);
        for (std::uint32_t r = 0; r < R; ++r) in->set_rates(r, 0.0, rates[r % rates.size()]);
        input = in.get();
        net.add_population(std::move(in));
        TwoChannelUnitParameters hp;
        hp.tau_ms = tau;
        hp.synapse_tau_ms = tau_s;
        hp.k = k;
        hp.rate_max_hz = r_hz;
        TwoChannelUnitParameters op = hp;
        op.emission = TwoChannelUnitParameters::Emission::linear;
        op.lo = lo;
        op.hi = hi;
        auto l1 = std::make_unique<TwoChannelUnitPopulation>("layer1", n1, R, hp);
        auto l2 = std::make_unique<TwoChannelUnitPopulation>("layer2", n2, R, op);
        l1->set_bias(b1);
        l2->set_bias(b2);
        hidden = l1.get();
        output = l2.get();
        net.add_population(std::move(l1));
        net.add_population(std::move(l2));
        M1 = std::make_shared<DenseMatrix>(n1, n0);
        M2 = std::make_shared<DenseMatrix>(n2, n1);
        M1->w = W1;
        M2->w = W2;
        const double r = r_hz * 1e-3, r_in = r_in_hz * 1e-3, slope = hi - lo;
        auto p1 = std::make_unique<DenseProjection>("W1", 0, 1, TwoChannelUnitPopulation::dendrite, M1, false,
                                                    std::vector<double>{1.0 / (r_in * tau_s)});
        auto p2 = std::make_unique<DenseProjection>("W2", 1, 2, TwoChannelUnitPopulation::dendrite, M2, false,
                                                    std::vector<double>{1.0 / (r * tau_s), 0.0});
        const double gn = lambda * k * slope / (r * tau_s);
        if (learned_feedback) {
            Q.resize(n1 * n2);
            for (std::size_t i = 0; i < Q.size(); ++i) Q[i] = 0.9 * std::sin(2.9 * static_cast<double>(i) + 0.7);
            MQ = std::make_shared<DenseMatrix>(n1, n2);
            MQ->w = Q;
            TwoChannelUnitParameters fp = hp;
            fp.emission = TwoChannelUnitParameters::Emission::linear;
            fp.lo = flo;
            fp.hi = fhi;
            auto f = std::make_unique<TwoChannelUnitPopulation>("feedback1", n1, R, fp);
            f->couple_soma_to(*hidden, g_feedback);
            feedback = f.get();
            net.add_population(std::move(f));
            auto pq = std::make_unique<DenseProjection>("Q1", 2, 3, TwoChannelUnitPopulation::dendrite, MQ, false,
                                                        std::vector<double>{slope / (r * tau_s), 0.0});
            pq->set_source_offset(lo);
            pq->set_rule(std::make_unique<LagCompensatedRule>(
                LagCompensatedRule::Parameters{eta_feedback, fhi - flo, r_hz, true}));
            net.add_dense_projection(std::move(pq));
        }
        auto fb = learned_feedback ? std::make_unique<DenseProjection>("B1", 2, 1, TwoChannelUnitPopulation::nudge, MQ,
                                                                       false, std::vector<double>{gn, -gn})
                                   : std::make_unique<DenseProjection>("B1", 2, 1, TwoChannelUnitPopulation::nudge, M2,
                                                                       true, std::vector<double>{gn, -gn});
        p1->set_rule(std::make_unique<LagCompensatedRule>(LagCompensatedRule::Parameters{eta_hidden, 1.0, r_hz, true}));
        p2->set_rule(std::make_unique<LagCompensatedRule>(LagCompensatedRule::Parameters{eta_out, slope, r_hz, true}));
        net.add_dense_projection(std::move(p1));
        net.add_dense_projection(std::move(p2));
        net.add_dense_projection(std::move(fb));
    }
};

}  // namespace settle::testing
