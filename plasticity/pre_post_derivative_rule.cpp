#include "plasticity/pre_post_derivative_rule.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "neurons/urbanczik_senn_neuron.hpp"

namespace settle {

void PrePostDerivativeParameters::validate() const {
    if (!std::isfinite(eta)) throw std::invalid_argument("eta must be finite");
    if (!(tau_pre > 0.0)) throw std::invalid_argument("tau_pre must be > 0");
    if (!(tau_post > 0.0)) throw std::invalid_argument("tau_post must be > 0");
    if (!(w_max >= w_min)) throw std::invalid_argument("w_max must be >= w_min");
    if (!(quad_rel_tol > 0.0 && quad_rel_tol < 1e-3)) throw std::invalid_argument("quad_rel_tol must be in (0, 1e-3)");
}

PrePostDerivativeRule::PrePostDerivativeRule(PrePostDerivativeParameters params) : p_(params) { p_.validate(); }

PrePostDerivativeRule::~PrePostDerivativeRule() {
    if (listening_ && neuron_) neuron_->remove_dendrite_listener(this);
}

void PrePostDerivativeRule::attach(Projection& projection, Population&, Population& target) {
    using P = PrePostDerivativeParameters;
    if (listening_ && neuron_) neuron_->remove_dendrite_listener(this);
    listening_ = false;
    projection_ = &projection;
    neuron_ = dynamic_cast<UrbanczikSennPopulation*>(&target);
    if (p_.post == P::Post::rate && !neuron_)
        throw std::invalid_argument("projection '" + projection.name() + "': post = \"rate\" needs an urbanczik_senn target");
    if (p_.pre == P::Pre::trace && p_.post == P::Post::rate) {
        neuron_->add_dendrite_listener(this);
        listening_ = true;
    }
    quad_stats_ = {};
    post_.assign(target.size(), PostTrace{});
    synapses_.assign(projection.size(), Synapse{});
    window_.reset(target.size(), projection.size(), {1.0 / p_.tau_pre});
}

void PrePostDerivativeRule::add(std::size_t c, double dw) {
    double& w = projection_->weight(c);
    w = std::clamp(w + dw, p_.w_min, p_.w_max);
}

void PrePostDerivativeRule::on_dendrite_segment(node_index node, time_ms t0, time_ms t1, double, double) {
    if (!listening_) return;
    const double inv_tau = 1.0 / p_.tau_pre;
    // exp(-(s - t0)/tau_pre) d phi(U(s)), d phi = phi(U) h(U) U' ds; the 15 nodes of a quadrature
    // step in one sweep of a copy of the neuron (one Odeint pass where U has no closed form).
    auto f = [&](const std::array<double, 15>& x, std::array<std::array<double, 1>, 15>& out) {
        std::array<time_ms, 15> ts;
        std::array<UrbanczikSennPopulation::SomaticPeek, 15> peek;
        for (std::size_t i = 0; i < 15; ++i) ts[i] = t0 + x[i];
        neuron_->peek_soma(node, ts.data(), ts.size(), peek.data());
        for (std::size_t i = 0; i < 15; ++i) {
            const double u = peek[i].U;
            out[i][0] = std::exp(-x[i] * inv_tau) * neuron_->rate(u) * neuron_->log_rate_derivative(u) * peek[i].dU_dt;
        }
    };
    // The integrand vanishes where U is at rest, where its computed value is rounding noise; the
    // absolute tolerance (quad_rel_tol * 1e-3 phi_max, a bound on the piece's integral being
    // phi_max) stops bisecting noise. Relative to the weight change of one synapse this is below
    // quad_rel_tol per piece.
    const double abs_tol = p_.quad_rel_tol * 1e-3 * neuron_->parameters().phi_max;
    const auto r = quadrature::integrate_sorted<1>(f, 0.0, t1 - t0, p_.quad_rel_tol, abs_tol, &quad_stats_);
    WindowIntegrals::Values D{};
    D[0] = r[0];
    window_.add_piece(node, t0, t1, D);
}

// trace x rate: the pieces come from the neuron (on_dendrite_segment), so advance it. trace x
// trace: integrates the continuous part of d rho_post (-y/tau_post^2) against exp(-(s - t0)/tau_pre).
void PrePostDerivativeRule::bring_neuron_to(node_index node, time_ms t) {
    if (listening_) {
        neuron_->advance_node(node, t);
        window_.start(node, t);
        return;
    }
    window_.start(node, t);
    const time_ms t0 = window_.neuron_time(node);
    if (!(t > t0)) return;
    const PostTrace& pt = post_[node];
    const double y0 = pt.y * std::exp(-(t0 - pt.t) / p_.tau_post);
    const double lambda = 1.0 / p_.tau_pre + 1.0 / p_.tau_post;
    WindowIntegrals::Values D{};
    D[0] = -(y0 / (p_.tau_post * p_.tau_post)) * (-std::expm1(-(t - t0) * lambda)) / lambda;
    window_.add_piece(node, t0, t, D);
}

void PrePostDerivativeRule::advance_synapse(std::size_t c, time_ms t, bool spike) {
    Synapse& s = synapses_[c];
    const node_index node = projection_->target_of(c);
    if (s.x != 0.0) {
        const auto F = window_.integral(c, node);
        add(c, p_.eta * s.x / p_.tau_pre * F[0]);
        s.x *= std::exp(-(t - s.t) / p_.tau_pre);
    }
    s.t = t;
    if (spike) s.x += 1.0;
    if (s.x != 0.0) window_.refer(c, node, t);
}

void PrePostDerivativeRule::on_delivery(std::size_t c, time_ms t) {
    using P = PrePostDerivativeParameters;
    const node_index node = projection_->target_of(c);
    if (p_.pre == P::Pre::spikes) {
        if (p_.post == P::Post::rate) {
            const double u = neuron_->somatic_potential(node, t);
            const double du = neuron_->somatic_derivative(node, t);
            add(c, p_.eta * neuron_->rate(u) * neuron_->log_rate_derivative(u) * du);
        } else {
            const PostTrace& pt = post_[node];
            const double y = pt.y * std::exp(-(t - pt.t) / p_.tau_post);
            add(c, -p_.eta * y / (p_.tau_post * p_.tau_post));
        }
        return;
    }
    bring_neuron_to(node, t);
    advance_synapse(c, t, true);
}

void PrePostDerivativeRule::on_post_spike(node_index node, time_ms t) {
    if (p_.post == PrePostDerivativeParameters::Post::rate) return;
    if (p_.pre == PrePostDerivativeParameters::Pre::trace) {
        bring_neuron_to(node, t);
        window_.add_impulse(node, t, 1.0 / p_.tau_post);
    }
    PostTrace& pt = post_[node];
    pt.y = pt.y * std::exp(-(t - pt.t) / p_.tau_post) + 1.0;
    pt.t = t;
}

void PrePostDerivativeRule::update_connection(std::size_t c, time_ms t) {
    if (p_.pre != PrePostDerivativeParameters::Pre::trace || t <= synapses_[c].t) return;
    bring_neuron_to(projection_->target_of(c), t);
    advance_synapse(c, t, false);
}

void PrePostDerivativeRule::update_all(time_ms t) {
    if (p_.pre != PrePostDerivativeParameters::Pre::trace) return;
    if (listening_)
        for (node_index i = 0; i < neuron_->size(); ++i) bring_neuron_to(i, t);
    for (std::size_t c = 0; c < synapses_.size(); ++c) update_connection(c, t);
}

}  // namespace settle
