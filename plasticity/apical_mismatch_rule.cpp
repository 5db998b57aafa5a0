#include "plasticity/apical_mismatch_rule.hpp"

#include <cmath>
#include <stdexcept>

namespace settle {

ApicalMismatchRule::ApicalMismatchRule(Parameters p, const DenseTarget& error_target, int error_receptor)
    : BufferedRowRule(true), p_(p), error_(&error_target), error_receptor_(error_receptor) {
    if (!std::isfinite(p_.eta_per_ms)) throw std::invalid_argument("apical_mismatch: eta must be finite");
    if (!std::isfinite(p_.error_scale)) throw std::invalid_argument("apical_mismatch: error_scale must be finite");
    if (!(p_.rate_max_hz > 0.0 && std::isfinite(p_.rate_max_hz)))
        throw std::invalid_argument("apical_mismatch: rate_max_hz must be finite and > 0");
}

void ApicalMismatchRule::on_post_candidate(node_index unit, std::uint32_t q, time_ms t) {
    if (p_.eta_per_ms == 0.0) return;
    const double e = p_.error_scale * error_->receptor_input(error_receptor_, q, unit, t);
    const double a = p_.eta_per_ms * e / (p_.rate_max_hz * 1e-3 * static_cast<double>(own().replicas()));
    if (a != 0.0) buffer_row(unit, q, a, t);
}

}  // namespace settle
