#pragma once
// Dendritic prediction learning (Urbanczik & Senn 2014, Neuron 81:521, Eq. 3 and Fig. 1), for
// dendritic synapses onto an urbanczik_senn population:
//
//   PI_i(t)  = [S(t) - phi(V*_w(t))] h(V*_w(t)) PSP_i(t)        h = d ln phi / dU  [1/mV]
//   w_i(t)   = clip(w_i(0) + eta_eff (I_i(t) - E_i(t)), w_min, w_max)
//   I_i(t)   = int_0^t PI_i,   E_i(t) = int_0^t exp(-(t - s)/tau_Delta) PI_i(s) ds
//
// I - E is eta's integral of PI low-passed with tau_Delta (the paper's Delta_i); tau_Delta = 0
// switches the filter off (w = w0 + eta_eff I). S is the neuron's spike train (deltas), PSP_i the
// synapse's unit-weight dendritic PSP, PSP_i(t) = psp_scale sum_k (exp(-(t - t_k)/tau_L) -
// exp(-(t - t_k)/tau_s)) over its spike arrivals t_k [mV per pA]. Units: ms, mV, pA; phi in 1/ms.
// convention = "nest": eta_eff = 15 * 15 * C_m_d * eta, NEST's scaling (its h carries a factor 15,
// its weight update 15 C_m), so NEST's eta (0.07 default, 0.17 in its Fig. 1 example) gives NEST's
// learning speed; convention = "plain": eta_eff = eta.
//
// Event-based and exact: a synapse is touched only at its own spike arrivals and when read, in
// O(1). With F_tau(t_i, t) = int_{t_i}^t [S - phi] h exp(-(s - t_i)/tau) ds, the change over a
// silent interval is psp_scale (x_L F_tauL - x_s F_taus) with the synapse's traces x after its
// last spike (and tau' = 1/(1/tau - 1/tau_Delta) for E). Each target neuron keeps running integrals
// K_tau(t) = int_{T}^t [S - phi] h exp(-(s - T)/tau) ds from an epoch start T, fed by the neuron's
// DendriteListener segments: between dendritic inputs V*_w is a known sum of two exponentials and
// phi(V*) h(V*) is integrated by Gauss-Kronrod quadrature (relative tolerance quad_rel_tol): one
// G3-K7 step first, accepted when |K7 - G3| is within tolerance (most segments, one per dendritic
// input, are short; 7 evaluations sharing exp(centre) across nodes), else adaptive G7-K15; post
// spikes add h(V*(t)) exp(-(t - T)/tau). Then F = exp((t_i - T)/tau)
// (R_T(t) - R_T(t_i)). Epochs are re-based at most every 6 tau_min (bounding the cancellation in
// R(t) - R(t_i) to a factor e^6), lazily, only when a synapse refers to the neuron; an epoch record
// keeps its integral up to date for a horizon 6 tau_min + 45 tau_max after it started (later
// contributions are below e^-45 of the synapse's own) and lives while a synapse refers to it, so
// neither an overflow nor a lost interval can happen in arbitrarily long silences.
//
// Differences from NEST's urbanczik_synapse, and why:
//  - NEST integrates on its 0.1 ms grid (rectangle rule, spikes in steps); here the integrals are
//    exact to quadrature tolerance in continuous time.
//  - NEST pairs the error at time t with its PSP trace at t + 2 delays (the trace starts at the
//    spike's emission, the error history is read shifted by the delay); here the error at t meets
//    the PSP at t, which starts at the spike's arrival, as the dendrite sees it (0.2 ms apart in
//    NEST's Fig. 1 example).
//  - NEST only updates a weight at pre-synaptic spikes; here reads and the end of a run also bring
//    weights up to date (weights differ only by the change since each synapse's last spike).
//  - Same parameters and initial state otherwise: eta, tau_Delta, Wmin/Wmax (w_min/w_max), the
//    clip without feedback (the unclipped value keeps integrating), weights start at w(0).
#include <cstdint>
#include <vector>

#include "neurons/urbanczik_senn_neuron.hpp"
#include "plasticity/quadrature.hpp"
#include "plasticity/window_integrals.hpp"
#include "sim/projection.hpp"

namespace settle {

struct DendriticPredictionParameters {
    double eta = 0.07;         // learning rate (see convention)
    double tau_Delta = 100.0;  // ms, low-pass filter of the weight change; 0: no filter
    double w_min = 0.0;        // pA
    double w_max = 100.0;      // pA
    bool nest_convention = true;  // eta_eff = 225 C_m_d eta (NEST), else eta_eff = eta
    double quad_rel_tol = 1e-12;  // relative tolerance of the quadrature of phi(V*) h(V*)
    // Throws std::invalid_argument naming the first bad parameter (tau_L is the target's).
    void validate(double tau_L) const;
};

class DendriticPredictionRule final : public PlasticityRule, public DendriteListener {
public:
    explicit DendriticPredictionRule(DendriticPredictionParameters params);
    ~DendriticPredictionRule() override;

    std::string name() const override { return "dendritic_prediction"; }
    void attach(Projection& projection, Population& source, Population& target) override;
    void on_delivery(std::size_t connection, time_ms t) override;
    void on_post_spike(node_index node, time_ms t) override;
    void update_all(time_ms t) override;
    void update_connection(std::size_t connection, time_ms t) override;

    void on_dendrite_segment(node_index node, time_ms t0, time_ms t1, double a_L, double a_s) override;

    const DendriticPredictionParameters& parameters() const { return p_; }
    double effective_eta() const { return eta_eff_; }
    // Diagnostics for tests and benchmarks.
    std::uint64_t synapse_updates() const { return synapse_updates_; }
    const quadrature::Stats& quadrature_stats() const { return quad_stats_; }
    const WindowIntegrals& integrals() const { return window_; }

private:
    struct Synapse {
        time_ms t = 0.0;              // state refers to t
        double x_L = 0.0, x_s = 0.0;  // spike traces after the last arrival (unit jumps)
        double I = 0.0, E = 0.0;      // integral of PI and its tau_Delta-filtered integral
        double w0 = 0.0;
    };
    void bring_neuron_to(node_index node, time_ms t);
    void advance_synapse(std::size_t c, time_ms t, bool spike);
    double weight_of(const Synapse& s) const;

    DendriticPredictionParameters p_;
    Projection* projection_ = nullptr;
    UrbanczikSennPopulation* target_ = nullptr;
    WindowIntegrals window_;
    double eta_eff_ = 0.0, psp_scale_ = 0.0;
    double inv_tau_L_ = 0.0, inv_tau_s_ = 0.0, inv_tau_Delta_ = 0.0;
    // Model constants for phi(V*) h(V*).
    double E_L_ = 0.0, g_ratio_ = 0.0, beta_ = 0.0, theta_ = 0.0, log_k_ = 0.0, phi_max_ = 0.0;
    std::vector<Synapse> synapses_;
    std::uint64_t synapse_updates_ = 0;
    quadrature::Stats quad_stats_;
};

}  // namespace settle
