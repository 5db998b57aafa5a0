#pragma once
// Pair-based STDP with traces (Bi & Poo 1998; Song, Miller & Abbott 2000; trace form of
// Morrison, Diesmann & Gerstner 2008, Biol. Cybern. 98:459):
//
//   pre spike arrives at t:   w -= eta A_minus f_-(w) y(t)      y = post trace, decay tau_minus
//   post spike at t:          w += eta A_plus  f_+(w) x(t)      x = pre trace,  decay tau_plus
//   additive:        f_+ = f_- = 1, then w is clipped to [w_min, w_max]
//   multiplicative:  f_+ = (w_max - w), f_- = (w - w_min)   (soft bounds, van Rossum et al. 2000)
//   all_to_all:      traces jump by 1 at each spike (every pair counts)
//   nearest:         traces are reset to 1 (each spike pairs with the nearest earlier spike of the
//                    other side: symmetric nearest-neighbour pairing)
// For one pair, dt = t_post - t_pre: dw = eta A_plus exp(-dt/tau_plus) for dt >= 0 and
// -eta A_minus exp(dt/tau_minus) for dt < 0 (additive, within bounds). Times are arrival times
// at the target (spike time + delay); a pre spike and a post spike at the same instant count as
// pre-before-post (the kernel delivers before it resolves emissions). Units: ms; w in the
// projection's weight unit, A_plus and A_minus in that unit (multiplicative: per unit of w).
// Cost: O(1) per pre spike, O(in-degree) per post spike (the classic trace implementation).
// NEST's stdp_synapse differs: it uses a power-law/multiplicative form with alpha, mu_plus,
// mu_minus and updates only at pre spikes from an archived post history; tau_minus lives there
// in the neuron.
#include <cmath>
#include <cstdint>
#include <vector>

#include "sim/projection.hpp"

namespace settle {

struct PairStdpParameters {
    double eta = 1.0;          // learning rate (multiplies both amplitudes)
    double A_plus = 0.01;      // potentiation amplitude
    double A_minus = 0.0105;   // depression amplitude
    double tau_plus = 16.8;    // ms, pre trace (Bi & Poo fit)
    double tau_minus = 33.7;   // ms, post trace
    double w_min = 0.0;
    double w_max = 1.0;
    bool multiplicative = false;
    bool nearest = false;
    void validate() const;
};

class PairStdpRule final : public PlasticityRule {
public:
    explicit PairStdpRule(PairStdpParameters params);
    std::string name() const override { return "pair_stdp"; }
    void attach(Projection& projection, Population& source, Population& target) override;
    void on_delivery(std::size_t connection, time_ms t) override;
    void on_post_spike(node_index node, time_ms t) override;
    void update_all(time_ms) override {}
    const PairStdpParameters& parameters() const { return p_; }

private:
    struct Trace {
        double value = 0.0;
        time_ms t = 0.0;
        double at(time_ms now, double inv_tau) const { return value * std::exp(-(now - t) * inv_tau); }
    };
    void bump(Trace& tr, time_ms t, double inv_tau) const;

    PairStdpParameters p_;
    Projection* projection_ = nullptr;
    std::vector<Trace> pre_;   // per connection
    std::vector<Trace> post_;  // per target node
    std::vector<std::vector<std::uint64_t>> incoming_;  // per target node: its connections
};

}  // namespace settle
