#include "plasticity/lag_compensated_rule.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace settle {

LagCompensatedRule::LagCompensatedRule(Parameters p) : BufferedRowRule(p.learn_bias), p_(p) {
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
    BufferedRowRule::attach(own, std::move(tied));
}

void LagCompensatedRule::on_post_emission(node_index unit, std::uint32_t q, std::uint32_t channel_mask, time_ms t) {
    // Bit 0: somatic channel, bit 1: prediction channel; both or neither: no change.
    const double sign = channel_mask == 1u ? 1.0 : channel_mask == 2u ? -1.0 : 0.0;
    if (sign == 0.0) return;
    const double a = sign * p_.eta_per_ms * eta_scale_ * p_.scale /
                     (p_.rate_max_hz * 1e-3 * static_cast<double>(own().replicas()));
    if (a == 0.0) return;
    buffer_row(unit, q, a, t);
}

}  // namespace settle
