#include "plasticity/dendritic_prediction_rule.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace settle {

void DendriticPredictionParameters::validate(double tau_L) const {
    if (!std::isfinite(eta)) throw std::invalid_argument("eta must be finite");
    if (!(tau_Delta >= 0.0) || !std::isfinite(tau_Delta)) throw std::invalid_argument("tau_Delta must be >= 0 (0: no filter)");
    if (tau_Delta > 0.0 && !(tau_Delta >= 2.0 * tau_L))
        throw std::invalid_argument("tau_Delta must be 0 or >= 2 tau_L (" + std::to_string(2.0 * tau_L) + " ms), got " +
                                    std::to_string(tau_Delta));
    if (!(w_max >= w_min)) throw std::invalid_argument("w_max must be >= w_min");
    if (!(quad_rel_tol > 0.0 && quad_rel_tol < 1e-3)) throw std::invalid_argument("quad_rel_tol must be in (0, 1e-3)");
}

DendriticPredictionRule::DendriticPredictionRule(DendriticPredictionParameters params) : p_(params) {}

DendriticPredictionRule::~DendriticPredictionRule() {
    if (target_) target_->remove_dendrite_listener(this);
}

void DendriticPredictionRule::attach(Projection& projection, Population&, Population& target) {
    auto* neuron = dynamic_cast<UrbanczikSennPopulation*>(&target);
    if (!neuron)
        throw std::invalid_argument("projection '" + projection.name() + "': dendritic_prediction needs an urbanczik_senn target, '" +
                                    target.name() + "' is " + target.model());
    if (projection.receptor() != UrbanczikSennPopulation::dendrite)
        throw std::invalid_argument("projection '" + projection.name() + "': dendritic_prediction needs receptor = \"dendrite\"");
    const UrbanczikSennParameters& m = neuron->parameters();
    p_.validate(m.tau_L());
    if (target_ && target_ != neuron) target_->remove_dendrite_listener(this);
    projection_ = &projection;
    target_ = neuron;
    target_->add_dendrite_listener(this);

    eta_eff_ = p_.nest_convention ? 225.0 * m.C_m_d * p_.eta : p_.eta;
    psp_scale_ = m.psp_scale();
    inv_tau_L_ = 1.0 / m.tau_L();
    inv_tau_s_ = 1.0 / m.tau_syn_d;
    inv_tau_Delta_ = p_.tau_Delta > 0.0 ? 1.0 / p_.tau_Delta : 0.0;
    E_L_ = m.E_L;
    g_ratio_ = m.g_sp / (m.g_L_s + m.g_sp);
    beta_ = m.beta;
    theta_ = m.theta;
    log_k_ = std::log(m.rate_slope);
    phi_max_ = m.phi_max;

    std::vector<double> inv_tau = {inv_tau_L_, inv_tau_s_};
    if (inv_tau_Delta_ > 0.0) {
        inv_tau.push_back(inv_tau_L_ - inv_tau_Delta_);
        inv_tau.push_back(inv_tau_s_ - inv_tau_Delta_);
    }
    window_.reset(target.size(), projection.size(), inv_tau);
    synapses_.assign(projection.size(), Synapse{});
    for (std::size_t c = 0; c < projection.size(); ++c) {
        synapses_[c].w0 = projection.weight(c);
        projection.weight(c) = weight_of(synapses_[c]);
    }
    synapse_updates_ = 0;
    quad_stats_ = {};
}

double DendriticPredictionRule::weight_of(const Synapse& s) const {
    const double w = s.w0 + eta_eff_ * (s.I - s.E);
    return std::min(std::max(w, p_.w_min), p_.w_max);
}

void DendriticPredictionRule::on_dendrite_segment(node_index node, time_ms t0, time_ms t1, double a_L, double a_s) {
    const std::size_t used = window_.used();
    WindowIntegrals::Values D{};
    const double h = t1 - t0;
    // -phi(V*) h(V*) = -phi_max beta z / (1 + z)^2, z = exp(-|q|), q = beta (theta - V*) + ln k
    // (= -phi_max beta / (4 cosh^2(q/2)), without overflow).
    auto minus_phi_h = [&](double v_star) {
        const double z = std::exp(-std::abs(beta_ * (theta_ - v_star) + log_k_));
        const double one_z = 1.0 + z;
        return -phi_max_ * beta_ * z / (one_z * one_z);
    };
    if (a_L == 0.0 && a_s == 0.0) {
        const double g = minus_phi_h(E_L_);
        for (std::size_t j = 0; j < used; ++j) D[j] = g * (-std::expm1(-h * window_.inv_tau(j))) / window_.inv_tau(j);
    } else {
        const double amp_L = g_ratio_ * psp_scale_ * a_L, amp_s = g_ratio_ * psp_scale_ * a_s;
        const bool filter = used == 4;
        auto fill = [&](double eL, double es, double eD, WindowIntegrals::Values& out) {
            const double g = minus_phi_h(E_L_ + amp_L * eL - amp_s * es);
            out[0] = g * eL;
            out[1] = g * es;
            out[2] = filter ? out[0] * eD : 0.0;  // unused components stay 0: they enter the error test
            out[3] = filter ? out[1] * eD : 0.0;
        };
        // Short segments (the common case: one per dendritic input) first try one G3-K7 step,
        // with the exponentials at the 7 nodes as exp(centre) times exp(+-offset).
        auto batch = [&](double c, const std::array<double, 3>& d, std::array<WindowIntegrals::Values, 7>& out) {
            const double cL = std::exp(-c * inv_tau_L_), cs = std::exp(-c * inv_tau_s_);
            const double cD = filter ? std::exp(c * inv_tau_Delta_) : 0.0;
            fill(cL, cs, cD, out[0]);
            for (std::size_t k = 0; k < 3; ++k) {
                const double rL = std::exp(d[k] * inv_tau_L_), rs = std::exp(d[k] * inv_tau_s_);
                const double rD = filter ? std::exp(d[k] * inv_tau_Delta_) : 1.0;
                fill(cL * rL, cs * rs, cD / rD, out[2 * k + 1]);  // c - d
                fill(cL / rL, cs / rs, cD * rD, out[2 * k + 2]);  // c + d
            }
        };
        if (!quadrature::gk7_batch<WindowIntegrals::max_tau>(batch, 0.0, h, D, p_.quad_rel_tol, 1e-300, &quad_stats_)) {
            auto f = [&](double x, WindowIntegrals::Values& out) {
                fill(std::exp(-x * inv_tau_L_), std::exp(-x * inv_tau_s_), filter ? std::exp(x * inv_tau_Delta_) : 0.0, out);
            };
            D = quadrature::integrate<WindowIntegrals::max_tau>(f, 0.0, h, p_.quad_rel_tol, 1e-300, &quad_stats_);
        }
    }
    window_.add_piece(node, t0, t1, D);
}

void DendriticPredictionRule::bring_neuron_to(node_index node, time_ms t) {
    target_->advance_node(node, t);
    window_.start(node, t);
}

void DendriticPredictionRule::on_post_spike(node_index node, time_ms t) {
    bring_neuron_to(node, t);
    const double v_star = target_->read(node, UrbanczikSennPopulation::V_star, t);
    window_.add_impulse(node, t, beta_ / (1.0 + std::exp(-(beta_ * (theta_ - v_star) + log_k_))));
}

void DendriticPredictionRule::advance_synapse(std::size_t c, time_ms t, bool spike) {
    Synapse& s = synapses_[c];
    const node_index node = projection_->target_of(c);
    if (s.x_L != 0.0 || s.x_s != 0.0) {
        const WindowIntegrals::Values F = window_.integral(c, node);
        s.I += psp_scale_ * (s.x_L * F[0] - s.x_s * F[1]);
        const double span = t - s.t;
        if (inv_tau_Delta_ > 0.0) s.E = std::exp(-span * inv_tau_Delta_) * (s.E + psp_scale_ * (s.x_L * F[2] - s.x_s * F[3]));
        s.x_L *= std::exp(-span * inv_tau_L_);
        s.x_s *= std::exp(-span * inv_tau_s_);
    }
    s.t = t;
    if (spike) {
        s.x_L += 1.0;
        s.x_s += 1.0;
    }
    if (s.x_L != 0.0 || s.x_s != 0.0) window_.refer(c, node, t);
    ++synapse_updates_;
}

void DendriticPredictionRule::on_delivery(std::size_t c, time_ms t) {
    bring_neuron_to(projection_->target_of(c), t);
    advance_synapse(c, t, true);
    projection_->weight(c) = weight_of(synapses_[c]);
}

void DendriticPredictionRule::update_connection(std::size_t c, time_ms t) {
    if (t <= synapses_[c].t) return;
    bring_neuron_to(projection_->target_of(c), t);
    advance_synapse(c, t, false);
    projection_->weight(c) = weight_of(synapses_[c]);
}

void DendriticPredictionRule::update_all(time_ms t) {
    for (node_index i = 0; i < target_->size(); ++i) bring_neuron_to(i, t);
    for (std::size_t c = 0; c < synapses_.size(); ++c) update_connection(c, t);
}

}  // namespace settle
