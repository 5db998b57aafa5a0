#include "plasticity/lag_compensated_rule.hpp"

#include <algorithm>
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
    own.keep_traces();
    tied_ = std::move(tied);
    for (DenseProjection* p : tied_) p->keep_traces();
    n_pre_ = own.source_units();
    n_post_ = own.target_units();
    buffers_.assign(own.replicas(), Buffer{std::vector<double>(n_pre_ * n_post_, 0.0), std::vector<double>(n_post_, 0.0),
                                           std::vector<char>(n_post_, 0)});
    any_touched_.assign(n_post_, 0);
    row_.assign(n_pre_, 0.0);
}

void LagCompensatedRule::on_post_emission(node_index unit, std::uint32_t q, std::uint32_t channel_mask, time_ms t) {
    // Bit 0: somatic channel, bit 1: prediction channel; both or neither: no change.
    const double sign = channel_mask == 1u ? 1.0 : channel_mask == 2u ? -1.0 : 0.0;
    if (sign == 0.0) return;
    const double a = sign * p_.eta_per_ms * eta_scale_ * p_.scale /
                     (p_.rate_max_hz * 1e-3 * static_cast<double>(own_->replicas()));
    if (a == 0.0) return;
    ++updates_;
    Buffer& buf = buffers_[q];
    const double* tr = own_->trace_ref(q);
    const double ad = a * own_->trace_decay(q, t);
    double* dW = &buf.dW[std::size_t{unit} * n_pre_];
    // The presynaptic signal is offset + tr (DenseProjection's source offset; usually 0).
    const double a_offset = a * own_->source_offset();
    for (std::size_t j = 0; j < n_pre_; ++j) dW[j] += ad * tr[j] + a_offset;
    if (p_.learn_bias) buf.db[unit] += a;
    buf.touched[unit] = 1;
    any_touched_[unit] = 1;
}

void LagCompensatedRule::synchronize(time_ms t) {
    DenseMatrix& M = *own_->matrix();
    DenseTarget& target = own_->dense_target();
    for (std::size_t i = 0; i < n_post_; ++i) {
        if (!any_touched_[i]) continue;
        any_touched_[i] = 0;
        // The row's change, summed in replica order.
        std::fill(row_.begin(), row_.end(), 0.0);
        double db = 0.0;
        for (Buffer& buf : buffers_) {
            if (!buf.touched[i]) continue;
            buf.touched[i] = 0;
            double* dW = &buf.dW[i * n_pre_];
            for (std::size_t j = 0; j < n_pre_; ++j) {
                row_[j] += dW[j];
                dW[j] = 0.0;
            }
            db += buf.db[i];
            buf.db[i] = 0.0;
        }
        for (std::size_t j = 0; j < n_pre_; ++j) M(i, j) += row_[j];
        // The dendrite of every replica r sees the new row from now on: row . tr^r(t).
        own_->on_target_row_change(i, row_.data(), t);
        if (db != 0.0) target.add_constant(own_->receptor(), static_cast<node_index>(i), t, db);
        for (DenseProjection* p : tied_) {
            if (p->transposed())
                p->on_source_row_change(i, row_.data(), 1, t);
            else
                p->on_target_row_change(i, row_.data(), t);
        }
    }
}

}  // namespace settle
