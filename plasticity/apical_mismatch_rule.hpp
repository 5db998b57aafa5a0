#pragma once
// Apical-mismatch rule for the lateral interneurons of the learning circuit (after Sacramento,
// Ponte Costa, Bengio & Senn 2018, NeurIPS, "Dendritic cortical microcircuits approximate the
// backpropagation algorithm"), spike form, for a dense projection onto the interneurons.
//
// Continuous form (the circuit's definition): interneuron i predicts, from its layer's somatic
// spikes, the top-down feedback its partner unit i receives, and learns from the mismatch left
// at that unit's apical (nudge) input:
//     dP_ij/dt = eta e_i(t) tr_j(t),   dd_i/dt = eta e_i(t),   e_i = I_n,i(t) / lambda,
// I_n,i the nudge receptor's whole input of unit i of the error population (DenseTarget::
// receptor_input; lambda its nudge strength: I_n = lambda (k G a_above - a_interneuron)), tr_j
// the projection's presynaptic signal (its trace plus source offset) and d_i the interneuron's
// bias. Units: eta in 1/ms; the rule's change per unit time is eta times a potential times a
// rate fraction.
//
// Spike form, with the same expectation: e and tr are continuous, so the rule samples them at
// the interneuron's own emission candidates (DensePlasticityRule::samples_candidates), which form
// a Poisson process of rate r_max per unit whatever the state: at each candidate of unit i,
//     row i += eta e_i(t) (o + tr(t)) / (r_max R),   d_i += eta e_i(t) / (r_max R)
// (R replicas, averaged). For any path, E[sum over candidates in [t1, t2] of f(t_c)] = r_max times
// the integral of f over [t1, t2] for f continuous and known just before t_c, so the expected
// change equals the continuous rule's integral exactly; the sampling adds zero-mean noise of
// variance (eta / (r_max R))^2 r_max times the integral of (e tr)^2. A test checks this.
// Updates reach the weights at the replica sync points (BufferedRowRule).
#include <cstdint>
#include <string>

#include "plasticity/buffered_row_rule.hpp"

namespace settle {

class ApicalMismatchRule final : public BufferedRowRule {
public:
    struct Parameters {
        double eta_per_ms = 0.0;      // learning rate, 1/ms
        double error_scale = 1.0;     // 1 / lambda: e = error_scale * I_n
        double rate_max_hz = 1600.0;  // the interneurons' candidate rate per unit, Hz
    };
    // error_target / error_receptor: the population and receptor whose input is the error (the
    // nudge of the layer the interneurons serve), unit for unit with this projection's target.
    // Invariant relied on: error_target outlives the rule (both belong to one Network).
    ApicalMismatchRule(Parameters p, const DenseTarget& error_target, int error_receptor);

    std::string name() const override { return "apical_mismatch"; }
    bool samples_candidates() const override { return true; }
    void on_post_candidate(node_index unit, std::uint32_t replica, time_ms t) override;
    void on_post_emission(node_index, std::uint32_t, std::uint32_t, time_ms) override {}

private:
    Parameters p_;
    const DenseTarget* error_;
    int error_receptor_;
};

}  // namespace settle
