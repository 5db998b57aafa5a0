#pragma once
// Two-compartment Poisson neuron of Urbanczik & Senn (2014), "Learning by the dendritic
// prediction of somatic spiking", Neuron 81:521-528; SI form as NEST's pp_cond_exp_mc_urbanczik.
//
//   soma      C_m_s dU/dt = -g_L_s (U - E_L) + g_sp (V_w - U) + g_E(t) (E_ex - U) + g_I(t) (E_in - U)
//   dendrite  V_w(t) = E_L + sum_i w_i sum_{s in input i} eps(t - s),
//             eps(t) = tau_syn_d / (g_L_d (tau_L - tau_syn_d)) (exp(-t/tau_L) - exp(-t/tau_syn_d)),
//             tau_L = C_m_d / g_L_d                    [mV per pA of weight w]
//   prediction V*_w = (g_L_s E_L + g_sp V_w) / (g_L_s + g_sp)
//   spiking   Poisson with rate phi(U) = phi_max / (1 + rate_slope exp(beta (theta - U))),
//             no spike within t_ref after a spike, U is not reset.
// g_E, g_I = teacher conductance (a ConductanceSignal) + spike-driven somatic synapses that jump
// by their weight (nS) and decay with tau_syn_ex / tau_syn_in.
// Optional background input: a neuron-local Poisson train at background_rate_hz whose spikes add
// background_weight to the dendrite like any dendritic synapse (the superposition of many
// equal-weight Poisson inputs, as Brian2's PoissonInput). Its arrivals come from the neuron's
// own random stream and are applied inside the lazy advance, without queue events.
//
// Units: ms, mV, pF, nS, pA (so nS*mV = pA and pF/nS = ms); rates per ms.
// Integration: between events, with no somatic synaptic conductance and a piecewise-constant
// teacher, U is a sum of exponentials and is advanced in closed form; otherwise by Boost.Odeint
// (Dormand-Prince 5 with error control, tolerances ode_abs_tol/ode_rel_tol). Spikes are drawn
// exactly by thinning at the bound phi_max.
//
// Differences from NEST's model, and why:
//  - The dendrite is the exact linear response to its synaptic currents (NEST integrates the
//    same linear equations numerically on a 0.1 ms grid); the soma-to-dendrite back-coupling,
//    0 by default in NEST, is not modelled (it would make V_w depend on U).
//  - Teacher conductances can be continuous functions of time; NEST's example builds them from
//    spike trains (increments every 0.1 ms decaying with 3 ms), whose mean this reproduces.
//  - Time is continuous: spikes are not bound to a 0.1 ms grid.
#include <memory>
#include <string>
#include <vector>

#include "neurons/conductance_signal.hpp"
#include "sim/parameters.hpp"
#include "sim/population.hpp"
#include "sim/random.hpp"

namespace settle {

struct UrbanczikSennParameters {
    double C_m_s = 300.0;     // pF, somatic capacitance
    double g_L_s = 30.0;      // nS, somatic leak
    double E_L = -70.0;       // mV, resting potential
    double E_ex = 0.0;        // mV, excitatory reversal
    double E_in = -75.0;      // mV, inhibitory reversal
    double g_sp = 600.0;      // nS, dendrite-to-soma coupling (g_D in the paper)
    double C_m_d = 300.0;     // pF, dendritic capacitance
    double g_L_d = 30.0;      // nS, dendritic leak (tau_L = C_m_d / g_L_d = 10 ms)
    double tau_syn_d = 3.0;   // ms, dendritic synaptic current time constant (tau_s)
    double tau_syn_ex = 3.0;  // ms, somatic excitatory conductance decay
    double tau_syn_in = 3.0;  // ms, somatic inhibitory conductance decay
    double phi_max = 0.15;    // 1/ms, maximal rate
    double rate_slope = 0.5;  // k
    double beta = 1.0 / 3.0;  // 1/mV
    double theta = -55.0;     // mV
    double t_ref = 3.0;       // ms, dead time after a spike (0: none)
    double U_init = -70.0;    // mV, initial somatic potential
    double ode_abs_tol = 1e-9;  // mV, Odeint absolute tolerance
    double ode_rel_tol = 1e-9;  // Odeint relative tolerance
    double background_rate_hz = 0.0;  // Hz, neuron-local Poisson input (0: none)
    double background_weight = 0.0;   // pA, dendritic weight of each background spike

    double tau_L() const { return C_m_d / g_L_d; }
    // PSP amplitude factor of eps(t): mV per unit weight.
    double psp_scale() const { return tau_syn_d / (g_L_d * (tau_L() - tau_syn_d)); }
    // Throws std::invalid_argument naming the first bad parameter.
    void validate() const;

    // NEST pp_cond_exp_mc_urbanczik defaults (the default preset).
    static UrbanczikSennParameters nest();
    // The paper's unitless set: C = 1, g_L = 0.1, g_D = 2, E_E = 14/3, E_I = -1/3, tau_L = 10,
    // tau_s = 3, phi = 0.15 / (1 + 0.5 exp(5 (1 - U))); eps normalised to
    // (exp(-t/tau_L) - exp(-t/tau_s)) / (tau_L - tau_s), which C_m_d = 30, g_L_d = 3 give.
    static UrbanczikSennParameters paper();
    static const std::vector<ParameterInfo<UrbanczikSennParameters>>& table();
};

// Observes the dendrite of a population (plasticity rules use it). Whenever a node advances
// across [t0, t1], its dendritic traces evolve freely from (a_L, a_s) at t0, with no dendritic input
// inside: V_w(t) = E_L + psp_scale (a_L exp(-(t - t0)/tau_L) - a_s exp(-(t - t0)/tau_syn_d)).
// Segments of a node arrive in time order and tile the run without gaps.
class DendriteListener {
public:
    virtual ~DendriteListener() = default;
    virtual void on_dendrite_segment(node_index node, time_ms t0, time_ms t1, double a_L, double a_s) = 0;
};

class UrbanczikSennPopulation final : public Population {
public:
    enum Receptor : int { dendrite = 0, soma_exc = 1, soma_inh = 2 };
    enum Element : int { U = 0, V_w = 1, V_star = 2, phi = 3 };

    UrbanczikSennPopulation(std::string name, std::size_t size, UrbanczikSennParameters params,
                            std::shared_ptr<const ConductanceSignal> teacher_exc = nullptr,
                            std::shared_ptr<const ConductanceSignal> teacher_inh = nullptr);

    std::string model() const override { return "urbanczik_senn"; }
    void initialize(std::uint64_t seed, time_ms t_start) override;
    std::vector<std::string> receptors() const override { return {"dendrite", "soma_exc", "soma_inh"}; }
    void receive(node_index node, time_ms t, double weight, int receptor) override;
    time_ms next_candidate(node_index node) const override { return nodes_[node].next_candidate; }
    bool resolve_candidate(node_index node, time_ms t) override;
    void prefetch(node_index node) const override { __builtin_prefetch(&nodes_[node]); }
    std::vector<StateVariable> state_variables() const override;
    // Pure: evolves a copy of the node to t (recording never changes a result).
    double read(node_index node, int element_id, time_ms t) override;
    void advance_all(time_ms t) override;
    // A driver changes the teacher from t on (run continuation: between two Simulator::advance
    // calls, t = now()): every node is advanced to t under the old signals, then the given ones
    // (null: unchanged) hold. As a piecewise signal with a breakpoint at t would, so the result
    // equals a config that scheduled the change.
    void set_teacher(time_ms t, std::shared_ptr<const ConductanceSignal> exc, std::shared_ptr<const ConductanceSignal> inh);

    const UrbanczikSennParameters& parameters() const { return p_; }

    // Model functions, shared with plasticity rules (which read the neuron, never change it).
    double rate(double u) const;                 // phi(U), 1/ms
    double log_rate_derivative(double u) const;  // h(U) = d ln phi / dU, 1/mV
    double prediction(double v_w) const;         // V*_w from V_w
    double dendritic_potential(node_index node, time_ms t);   // V_w(t) (advances the node)
    double somatic_potential(node_index node, time_ms t);     // U(t) (advances the node)
    // dU/dt at t from the model's equations (advances the node to t first).
    double somatic_derivative(node_index node, time_ms t);
    // U and dU/dt at t >= the node's current time as the node would evolve with no further input,
    // computed on a copy of its state: read-only (a rule evaluates U inside a segment with it,
    // e.g. from a DendriteListener callback, which comes before the node moves). Counters unchanged.
    struct SomaticPeek {
        double U, dU_dt;
    };
    SomaticPeek peek_soma(node_index node, time_ms t) const;
    // The same at n ascending times t[0] <= t[1] <= ..., evolving one copy from time to time.
    void peek_soma(node_index node, const time_ms* t, std::size_t n, SomaticPeek* out) const;

    // Dendrite listeners (not owned; adding one twice has no effect).
    void add_dendrite_listener(DendriteListener* listener);
    void remove_dendrite_listener(DendriteListener* listener);
    // Brings a node to t (listeners see the segments).
    void advance_node(node_index node, time_ms t) { advance(nodes_[node], node, t); }

    // Counters for benchmarks and tests.
    std::uint64_t ode_segments() const { return ode_segments_; }
    std::uint64_t exact_segments() const { return exact_segments_; }

private:
    struct Node {
        time_ms t = 0.0;          // time the state refers to
        time_ms next_background = never;  // next background input arrival
        std::uint64_t background_counter = 0;
        double U = 0.0;           // mV
        double a_L = 0.0;         // dendritic trace amplitudes: V_w - E_L = psp_scale (a_L - a_s)
        double a_s = 0.0;
        double g_ex = 0.0;        // nS, spike-driven somatic conductances
        double g_in = 0.0;
        time_ms last_spike = -never;
        time_ms next_candidate = never;
        std::uint64_t rng_counter = 0;
    };
    void advance(Node& n, node_index index, time_ms t1);
    // Brings n to t1 through its background arrivals: `segment(n, t)` evolves n over an input-free
    // stretch to t; between stretches the arrival's weight is added and the next one drawn.
    template <class Segment>
    void with_background(Node& n, node_index index, time_ms t1, Segment&& segment) const {
        while (n.next_background <= t1) {
            const time_ms arrival = n.next_background;
            segment(n, arrival);
            n.a_L += p_.background_weight;
            n.a_s += p_.background_weight;
            CounterRng rng(seed_, key(), index, StreamKind::background, n.background_counter);
            n.next_background = arrival + rng.exponential(1e-3 * p_.background_rate_hz);
            n.background_counter = rng.counter();
        }
        segment(n, t1);
    }
    // The node's state at t >= its time, on a copy (what read() reports; nothing changes).
    Node state_at(node_index index, time_ms t) const;
    // Evolves n to t1 without telling listeners, counting closed-form and Odeint pieces if asked.
    void evolve(Node& n, node_index index, time_ms t1, std::uint64_t* exact, std::uint64_t* ode) const;
    // advance() without background arrivals in (n.t, t1]: notifies listeners, then evolves.
    void advance_free(Node& n, node_index index, time_ms t1);
    void advance_exact(Node& n, time_ms t1, double g_E, double g_I) const;
    void advance_ode(Node& n, node_index index, time_ms t1) const;
    double derivative_of(const Node& n, node_index index, time_ms t) const;
    double teacher_exc(node_index i, time_ms t) const { return teacher_exc_ ? teacher_exc_->value(i, t) : 0.0; }
    double teacher_inh(node_index i, time_ms t) const { return teacher_inh_ ? teacher_inh_->value(i, t) : 0.0; }
    double v_w_of(const Node& n) const { return p_.E_L + psp_scale_ * (n.a_L - n.a_s); }

    UrbanczikSennParameters p_;
    double psp_scale_ = 0.0;
    std::shared_ptr<const ConductanceSignal> teacher_exc_, teacher_inh_;
    std::vector<Node> nodes_;
    std::vector<DendriteListener*> listeners_;
    std::uint64_t seed_ = 0;
    std::uint64_t ode_segments_ = 0, exact_segments_ = 0;
};

// (exp(-l2 s) - exp(-l1 s)) / (l1 - l2): the response of x' = -l1 x + exp(-l2 t) from x(0) = 0,
// computed without cancellation when l1 is close to l2 (its limit there is s exp(-l1 s)).
double exp_difference_response(double l1, double l2, double s);

}  // namespace settle
