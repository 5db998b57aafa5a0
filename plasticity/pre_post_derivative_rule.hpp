#pragma once
// STDP as pre x d/dt post (Hinton 2007; Bengio, Mesnard, Fischer, Zhang & Wu 2015,
// arXiv:1509.05936, Neural Comput. 29:555, 2017):
//
//   dw/dt = eta rho_pre(t) d/dt rho_post(t)
//
//   rho_pre  = "spikes": the pre spike train sum_k delta(t - t_k) (arrival times), 1/ms
//            = "trace":  x(t) / tau_pre, x = sum_k exp(-(t - t_k)/tau_pre)   (unit area per spike)
//   rho_post = "rate":   phi(U(t)) of an urbanczik_senn target; d/dt phi(U) = phi'(U) dU/dt with
//                        dU/dt from the model's equations (somatic_derivative), never differenced
//            = "trace":  y(t) / tau_post, y = sum of exp(-(t - t_post)/tau_post) over the
//                        target's spikes; d/dt = -y/tau_post^2 + sum delta(t - t_post)/tau_post
// Weights are clipped to [w_min, w_max] at each update. Units: ms, rates in 1/ms, eta in
// (weight unit) ms^2 for spikes x rate.
//
// Exact event-based evaluation, O(1) per synapse touch:
//   spikes x rate:  w += eta phi'(U(t)) U'(t) at each arrival;
//   spikes x trace: w += -eta y(t) / tau_post^2 at each arrival (a post spike at the very
//                   instant of an arrival is not paired: deliveries come first);
//   trace x trace:  the change over a silent interval (t_i, t] is eta x(t_i)/tau_pre times
//                   int exp(-(s - t_i)/tau_pre) d rho_post(s), from per-neuron running integrals
//                   (WindowIntegrals): the continuous part is closed-form between post spikes,
//                   each post spike adds an impulse 1/tau_post.
//   trace x rate:   the same, with d rho_post = phi'(U(s)) U'(s) ds (U is continuous, so there are
//                   no impulses). The rule listens to the target's dendrite (DendriteListener):
//                   for every piece the neuron advances across, before it moves, U and U' inside
//                   the piece come from the neuron's own solution (peek_soma: closed form, or
//                   Odeint where somatic conductances make it necessary), and
//                   int exp(-(s - t0)/tau_pre) phi'(U) U' ds is integrated by adaptive
//                   Gauss-Kronrod quadrature (relative tolerance quad_rel_tol).
// Applied to one pre and one post spike, trace x trace gives potentiation eta/(tau_pre tau_post)
// exp(-dt/tau_pre) tau_post/(tau_pre + tau_post) for dt = t_post - t_pre > 0 and depression
// -eta/(tau_pre tau_post) exp(dt/tau_post) tau_pre/(tau_pre + tau_post) for dt < 0: the classic
// asymmetric window. NEST has no counterpart.
#include <cstdint>
#include <vector>

#include "neurons/urbanczik_senn_neuron.hpp"
#include "plasticity/quadrature.hpp"
#include "plasticity/window_integrals.hpp"
#include "sim/projection.hpp"

namespace settle {

struct PrePostDerivativeParameters {
    enum class Pre { spikes, trace };
    enum class Post { rate, trace };
    double eta = 1.0;
    Pre pre = Pre::trace;
    Post post = Post::trace;
    double tau_pre = 20.0;   // ms
    double tau_post = 20.0;  // ms
    double w_min = -1e300;
    double w_max = 1e300;
    double quad_rel_tol = 1e-12;  // trace x rate: quadrature tolerance
    void validate() const;
};

class PrePostDerivativeRule final : public PlasticityRule, public DendriteListener {
public:
    explicit PrePostDerivativeRule(PrePostDerivativeParameters params);
    ~PrePostDerivativeRule() override;
    std::string name() const override { return "pre_post_derivative"; }
    void attach(Projection& projection, Population& source, Population& target) override;
    void on_delivery(std::size_t connection, time_ms t) override;
    void on_post_spike(node_index node, time_ms t) override;
    void update_all(time_ms t) override;
    void update_connection(std::size_t connection, time_ms t) override;
    // trace x rate only: integrates d phi(U) over the piece the target node is about to cross.
    void on_dendrite_segment(node_index node, time_ms t0, time_ms t1, double a_L, double a_s) override;
    const quadrature::Stats& quadrature_stats() const { return quad_stats_; }

private:
    struct PostTrace {
        double y = 0.0;
        time_ms t = 0.0;
    };
    struct Synapse {
        double x = 0.0;
        time_ms t = 0.0;
    };
    void bring_neuron_to(node_index node, time_ms t);
    void advance_synapse(std::size_t c, time_ms t, bool spike);
    void add(std::size_t c, double dw);

    PrePostDerivativeParameters p_;
    Projection* projection_ = nullptr;
    UrbanczikSennPopulation* neuron_ = nullptr;
    WindowIntegrals window_;
    std::vector<PostTrace> post_;
    std::vector<Synapse> synapses_;
    bool listening_ = false;
    quadrature::Stats quad_stats_;
};

}  // namespace settle
