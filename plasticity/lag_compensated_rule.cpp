#include "plasticity/lag_compensated_rule.hpp"

#include <cmath>
#include <stdexcept>

namespace settle {

LagCompensatedRule::LagCompensatedRule(Parameters p) : p_(p) {
    if (!std::isfinite(p_.eta_per_ms)) throw std::invalid_argument("lag_compensated: eta must be finite");
    if (!std::isfinite(p_.scale)) throw std::invalid_argument("lag_compensated: scale must be finite");
    if (!(p_.rate_max_hz > 0.0 && std::isfinite(p_.rate_max_hz)))
        throw std::invalid_argument("lag_compensated: rate_max_hz must be finite and > 0");
}

void LagCompensatedRule::attach(DenseProjection& own, std::vector<DenseProjection*> tied) {
    if (own.transposed())
        throw std::invalid_argument("projection '" + own.name() + "': lag_compensated learns a projection's own matrix, not a transposed view");
    if (own.target().channels() != 2)
        throw std::invalid_argument("projection '" + own.name() + "': lag_compensated needs a target with a somatic and a prediction channel");
    own_ = &own;
    own.keep_traces(true);
    tied_ = std::move(tied);
    for (DenseProjection* p : tied_) p->keep_traces(false);
    delta_.assign(own.source_units(), 0.0);
}

void LagCompensatedRule::on_post_emission(node_index unit, std::uint32_t q, std::uint32_t channel_mask, time_ms t) {
    // Bit 0: somatic channel, bit 1: prediction channel; both or neither: no change.
    const double sign = channel_mask == 1u ? 1.0 : channel_mask == 2u ? -1.0 : 0.0;
    if (sign == 0.0) return;
    const double a = sign * p_.eta_per_ms * eta_scale_ * p_.scale /
                     (p_.rate_max_hz * 1e-3 * static_cast<double>(own_->replicas()));
    if (a == 0.0) return;
    ++updates_;
    DenseMatrix& M = *own_->matrix();
    const std::size_t n_pre = own_->source_units();
    const double* tr = own_->trace_ref(q);
    const double decay = own_->trace_decay(q, t);
    for (std::size_t j = 0; j < n_pre; ++j) {
        delta_[j] = a * (tr[j] * decay);
        M(unit, j) += delta_[j];
    }
    // The row change reaches the target's dendrite in every replica r: a tr^q(t) . tr^r(t).
    DenseTarget& target = own_->dense_target();
    for (std::uint32_t r = 0; r < own_->replicas(); ++r) {
        const double amount = a * own_->trace_dot(q, r, t);
        if (amount != 0.0) target.add_input(own_->receptor(), r, unit, t, amount);
    }
    if (p_.learn_bias) target.add_constant(own_->receptor(), unit, t, a);
    for (DenseProjection* p : tied_) {
        if (p->transposed())
            p->on_source_row_change(unit, delta_.data(), 1, t);
        else
            p->on_target_row_change(unit, delta_.data(), 1, t);
    }
}

}  // namespace settle
