#pragma once
// Exact O(1) integrals of a per-neuron signal against each synapse's decaying trace.
//
// A rule whose change over a synapse's silent interval (t_i, t] is a sum of terms
//     F_tau(t_i, t) = int_{t_i}^t exp(-(s - t_i)/tau) dG(s)
// for a few time constants tau and a postsynaptic signal dG (continuous density and impulses) keeps
// one WindowIntegrals: the neuron side accumulates K_tau(t) = int_T^t exp(-(s - T)/tau) dG(s) from
// an epoch start T (the rule integrates dG over each piece it knows, relative to the piece's start,
// and calls add_piece / add_impulse); a synapse stores which epoch it refers to and K there, so
// F = exp((t_i - T)/tau) (R_T(t) - R_T(t_i)) costs O(1) whatever t - t_i.
//
// Numerical design (see docs in plasticity/dendritic_prediction_rule.hpp):
//  - a new epoch starts lazily, when a synapse refers to the neuron more than 6 tau_min after the
//    current epoch's start, so exp((t_i - T)/tau) <= e^6 bounds the cancellation in R(t) - R(t_i);
//  - at an epoch change the closing epoch's integrals are folded into every record younger than
//    the horizon 6 tau_min + 45 tau_max (older records' later contributions are below e^-45 of a
//    synapse's own and are dropped); a record lives while a synapse refers to it, so long silences
//    neither overflow nor lose an interval, and memory is bounded by the number of synapses.
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "sim/types.hpp"

namespace settle {

class WindowIntegrals {
public:
    static constexpr std::size_t max_tau = 4;
    using Values = std::array<double, max_tau>;

    // inv_tau: 1/tau of each used kernel (> 0), n of them.
    void reset(std::size_t n_neurons, std::size_t n_synapses, const std::vector<double>& inv_tau);

    std::size_t used() const { return used_; }
    double inv_tau(std::size_t j) const { return inv_tau_[j]; }
    // Time up to which a neuron's integrals are complete (-inf before its first piece).
    time_ms neuron_time(node_index node) const { return neurons_[node].t; }
    // Starts a neuron's clock at t if it has none yet.
    void start(node_index node, time_ms t);

    // Adds the integral over [t0, t1] of exp(-(s - t0)/tau_j) dG(s), given relative to t0 (D[j]).
    // Pieces of a neuron must be contiguous (t0 = neuron_time).
    void add_piece(node_index node, time_ms t0, time_ms t1, const Values& D);
    // Adds an impulse of dG with weight v at t (t = neuron_time).
    void add_impulse(node_index node, time_ms t, double v);

    // F_j over (t_last, t] for synapse c of neuron `node`, where t_last is the time of the synapse's
    // previous refer(); all zero if it never referred. The neuron must be complete up to t.
    Values integral(std::size_t c, node_index node) const;
    // The synapse refers to the neuron at t from now on (call after integral()).
    void refer(std::size_t c, node_index node, time_ms t);
    // The synapse no longer needs integrals (its trace vanished).
    void forget(std::size_t c);

    std::size_t live_records() const;
    std::size_t records_in_use() const { return records_.size() - free_.size(); }

private:
    static constexpr std::uint32_t none = std::numeric_limits<std::uint32_t>::max();
    struct Record {
        time_ms T = 0.0;
        Values base{};  // R_T at the start of the neuron's current epoch
        std::uint32_t refs = 0;
        bool live = false, current = false;
    };
    struct Neuron {
        time_ms t = -std::numeric_limits<double>::infinity();
        time_ms T = 0.0;
        Values K{};
        std::uint32_t current = none;
        std::vector<std::uint32_t> live;
    };
    struct Ref {
        std::uint32_t record = none;
        time_ms t = 0.0;
        Values r{};
    };
    std::uint32_t current_record(Neuron& n, time_ms t);
    std::uint32_t new_record(time_ms T);

    std::size_t used_ = 0;
    Values inv_tau_{};
    double epoch_length_ = 0.0, horizon_ = 0.0;
    std::vector<Neuron> neurons_;
    std::vector<Ref> refs_;
    std::vector<Record> records_;
    std::vector<std::uint32_t> free_;
};

}  // namespace settle
