#include "plasticity/pair_stdp_rule.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "sim/population.hpp"

namespace settle {

void PairStdpParameters::validate() const {
    if (!std::isfinite(eta)) throw std::invalid_argument("eta must be finite");
    if (!(A_plus >= 0.0)) throw std::invalid_argument("A_plus must be >= 0");
    if (!(A_minus >= 0.0)) throw std::invalid_argument("A_minus must be >= 0");
    if (!(tau_plus > 0.0)) throw std::invalid_argument("tau_plus must be > 0");
    if (!(tau_minus > 0.0)) throw std::invalid_argument("tau_minus must be > 0");
    if (!(w_max >= w_min)) throw std::invalid_argument("w_max must be >= w_min");
}

PairStdpRule::PairStdpRule(PairStdpParameters params) : p_(params) { p_.validate(); }

void PairStdpRule::attach(Projection& projection, Population&, Population& target) {
    projection_ = &projection;
    pre_.assign(projection.size(), Trace{});
    post_.assign(target.size(), Trace{});
    incoming_.assign(target.size(), {});
    for (std::size_t c = 0; c < projection.size(); ++c) incoming_[projection.target_of(c)].push_back(c);
}

void PairStdpRule::bump(Trace& tr, time_ms t, double inv_tau) const {
    tr.value = p_.nearest ? 1.0 : tr.at(t, inv_tau) + 1.0;
    tr.t = t;
}

void PairStdpRule::on_delivery(std::size_t c, time_ms t) {
    double& w = projection_->weight(c);
    const double y = post_[projection_->target_of(c)].at(t, 1.0 / p_.tau_minus);
    if (p_.multiplicative)
        w -= p_.eta * p_.A_minus * (w - p_.w_min) * y;
    else
        w = std::clamp(w - p_.eta * p_.A_minus * y, p_.w_min, p_.w_max);
    bump(pre_[c], t, 1.0 / p_.tau_plus);
}

void PairStdpRule::on_post_spike(node_index node, time_ms t) {
    for (std::uint64_t c : incoming_[node]) {
        double& w = projection_->weight(c);
        const double x = pre_[c].at(t, 1.0 / p_.tau_plus);
        if (p_.multiplicative)
            w += p_.eta * p_.A_plus * (p_.w_max - w) * x;
        else
            w = std::clamp(w + p_.eta * p_.A_plus * x, p_.w_min, p_.w_max);
    }
    bump(post_[node], t, 1.0 / p_.tau_minus);
}

}  // namespace settle
