#pragma once
// Lag-compensated dendritic prediction rule, spike form, for dense projections onto a
// two_channel_unit population (the circuit of networks/circuit/spiking_circuit.hpp; after Urbanczik & Senn
// 2014, Neuron 81:521, with the lag-matched prediction as the rule's reference).
//
// The rate form of the rule is dW_ij/dt = eta (phi(U_i) - phi(Vbar_i)) r_j: the somatic rate
// minus the rate predicted by the lag-matched, un-nudged twin Vbar, times the presynaptic signal.
// With spikes, the target's two channels (somatic S^U, prediction S^Vbar; two_channel_unit.hpp)
// are Poisson trains with those rates sharing their candidates and acceptance draws, so
//
//   dW_ij/dt = eta c (S^U_i(t) - S^Vbar_i(t)) tr_j(t) / (r_max R),   db_i/dt = the same without tr_j,
//
// tr_j the projection's presynaptic signal at that instant (its trace plus its source offset, 0
// unless the source's decoded signal is affine: DenseProjection; exact), r_max the
// target's maximum rate (1/ms), c a scale (the slope of the target's decoded signal: 1 for a
// logistic unit, hi - lo for a linear one), R the number of replicas (replicas share the matrix
// and their updates are averaged). Its expectation over the channels is the rate form's
// eta c (p(U) - p(Vbar)) tr. A weight row changes only at the events where one channel spikes and
// the other does not, by +-eta c tr / (r_max R), in O(n_pre). Units: eta in 1/ms.
//
// When an update reaches the weights: at the kernel's replica sync points, summed in replica
// order (BufferedRowRule, buffered_row_rule.hpp), so replicas are independent between them. The
// stepped loop applies its updates at the end of each 0.5 ms step; a 0.5 ms sync grid is the same
// delay.
// Without a teacher or nudge the channels never disagree (two_channel_unit.hpp), so no weight
// changes.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "plasticity/buffered_row_rule.hpp"

namespace settle {

class LagCompensatedRule final : public BufferedRowRule {
public:
    struct Parameters {
        double eta_per_ms = 0.0;      // learning rate, 1/ms
        double scale = 1.0;           // c above
        double rate_max_hz = 1600.0;  // the target's maximum rate, Hz
        bool learn_bias = true;
    };
    explicit LagCompensatedRule(Parameters p);

    std::string name() const override { return "lag_compensated"; }
    void attach(DenseProjection& own, std::vector<DenseProjection*> tied) override;
    void on_post_emission(node_index unit, std::uint32_t replica, std::uint32_t channel_mask, time_ms t) override;

    // Multiplies eta (a training protocol's annealing; 1 by default).
    void set_eta_scale(double s) { eta_scale_ = s; }
    void set_eta(double eta_per_ms) { p_.eta_per_ms = eta_per_ms; }
    const Parameters& parameters() const { return p_; }

private:
    Parameters p_;
    double eta_scale_ = 1.0;
};

}  // namespace settle
