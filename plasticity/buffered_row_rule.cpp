#include "plasticity/buffered_row_rule.hpp"

#include <algorithm>

namespace settle {

void BufferedRowRule::attach(DenseProjection& own, std::vector<DenseProjection*> tied) {
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

void BufferedRowRule::buffer_row(node_index unit, std::uint32_t q, double a, time_ms t) {
    ++updates_;
    Buffer& buf = buffers_[q];
    const double* tr = own_->trace_ref(q);
    const double ad = a * own_->trace_decay(q, t);
    const double a_offset = a * own_->source_offset();
    double* dW = &buf.dW[std::size_t{unit} * n_pre_];
    for (std::size_t j = 0; j < n_pre_; ++j) dW[j] += ad * tr[j] + a_offset;
    if (learn_bias_) buf.db[unit] += a;
    buf.touched[unit] = 1;
    any_touched_[unit] = 1;
}

void BufferedRowRule::synchronize(time_ms t) {
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
        // The target of every replica r sees the new row from now on: row . (o + tr^r(t)).
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
