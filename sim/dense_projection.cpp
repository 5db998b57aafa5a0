#include "sim/dense_projection.hpp"

#include <cmath>
#include <stdexcept>

namespace settle {

DenseProjection::DenseProjection(std::string name, std::size_t source_population, std::size_t target_population,
                                 int receptor, std::shared_ptr<DenseMatrix> matrix, bool transposed,
                                 std::vector<double> channel_gain)
    : name_(std::move(name)),
      source_population_(source_population),
      target_population_(target_population),
      receptor_(receptor),
      matrix_(std::move(matrix)),
      transposed_(transposed),
      channel_gain_(std::move(channel_gain)) {
    if (!matrix_) throw std::invalid_argument("dense projection '" + name_ + "' has no matrix");
    for (double g : channel_gain_)
        if (!std::isfinite(g)) throw std::invalid_argument("dense projection '" + name_ + "': non-finite channel gain");
}

void DenseProjection::bind(Population& source, Population& target) {
    auto* dense = dynamic_cast<DenseTarget*>(&target);
    if (!dense)
        throw std::invalid_argument("dense projection '" + name_ + "': population '" + target.name() + "' (" +
                                    target.model() + ") accepts no dense projection");
    if (source.replicas() != target.replicas())
        throw std::invalid_argument("dense projection '" + name_ + "': source and target replica counts differ");
    if (source.units() != source_units() || target.units() != target_units())
        throw std::invalid_argument("dense projection '" + name_ + "': matrix is " + std::to_string(matrix_->rows) +
                                    " x " + std::to_string(matrix_->cols) + ", populations have " +
                                    std::to_string(target.units()) + " and " + std::to_string(source.units()) +
                                    " units");
    if (channel_gain_.size() != source.channels())
        throw std::invalid_argument("dense projection '" + name_ + "': one gain per source channel (" +
                                    std::to_string(source.channels()) + ")");
    const std::size_t n_receptors = target.receptors().size();
    if (receptor_ < 0 || static_cast<std::size_t>(receptor_) >= n_receptors)
        throw std::invalid_argument("dense projection '" + name_ + "': no such receptor of '" + target.name() + "'");
    target_ = &target;
    dense_target_ = dense;
    tau_ = dense->input_time_constant(receptor_);
    replicas_ = source.replicas();
    n_src_ = source_units();
    if (offset_ != 0.0 && !offset_applied_) {
        offset_applied_ = true;
        for (std::size_t j = 0; j < target_units(); ++j) {
            double row_sum = 0.0;
            for (std::size_t m = 0; m < n_src_; ++m) row_sum += weight(m, j);
            dense->add_constant(receptor_, static_cast<node_index>(j), 0.0, offset_ * row_sum);
        }
    }
}

void DenseProjection::set_source_offset(double offset) {
    if (!std::isfinite(offset)) throw std::invalid_argument("dense projection '" + name_ + "': non-finite source offset");
    if (offset_applied_) throw std::logic_error("dense projection '" + name_ + "': source offset set after the first run");
    offset_ = offset;
}

void DenseProjection::keep_traces() {
    if (!target_) throw std::logic_error("dense projection '" + name_ + "': keep_traces() before bind()");
    traces_.assign(std::size_t{replicas_} * n_src_, 0.0);
    ref_ms_.assign(replicas_, 0.0);
}

double DenseProjection::dot_trace(const double* v, std::uint32_t replica, time_ms t) const {
    const double* tr = trace_ref(replica);
    double dot = 0.0;
    for (std::size_t m = 0; m < n_src_; ++m) dot += v[m] * tr[m];
    return dot * trace_decay(replica, t);
}

double DenseProjection::trace_decay(std::uint32_t replica, time_ms t) const {
    return std::exp(-(t - ref_ms_[replica]) / tau_);
}

std::size_t DenseProjection::deliver(const Population::Emission& e, time_ms t) {
    double gain = 0.0;
    for (std::uint32_t c = 0; c < channel_gain_.size(); ++c)
        if (e.channel_mask & (1u << c)) gain += channel_gain_[c];
    if (gain == 0.0) return 0;
    const std::uint32_t r = e.replica;
    const std::size_t m = e.unit;
    const DenseTarget::Growth growth =
        transposed_ ? dense_target_->add_matrix_column(receptor_, r, t, &matrix_->w[m], static_cast<std::ptrdiff_t>(matrix_->rows), gain)
                    : dense_target_->add_matrix_column(receptor_, r, t, &matrix_->w[m * matrix_->rows], 1, gain);
    if (!traces_.empty()) {
        // The target's factor is this very exponential when it keeps the same reference time
        // (both are rebased together) and time constant (tau_ is the receptor's).
        const double factor = growth.factor > 0.0 && growth.reference == ref_ms_[r] ? growth.factor
                                                                                     : std::exp((t - ref_ms_[r]) / tau_);
        traces_[std::size_t{r} * n_src_ + m] += gain * factor;
    }
    return target_units();
}

void DenseProjection::on_source_row_change(std::size_t m, const double* delta, std::ptrdiff_t stride, time_ms t) {
    for (std::uint32_t r = 0; r < replicas_; ++r) {
        const double tr = trace(r, m, t);
        if (tr != 0.0) dense_target_->add_column(receptor_, r, t, delta, stride, tr);
    }
    if (offset_ != 0.0)
        for (std::size_t j = 0; j < target_units(); ++j) {
            const double d = delta[static_cast<std::ptrdiff_t>(j) * stride];
            if (d != 0.0) dense_target_->add_constant(receptor_, static_cast<node_index>(j), t, offset_ * d);
        }
}

void DenseProjection::on_target_row_change(std::size_t j, const double* delta, time_ms t) {
    for (std::uint32_t r = 0; r < replicas_; ++r) {
        const double amount = dot_trace(delta, r, t);
        if (amount != 0.0) dense_target_->add_input(receptor_, r, static_cast<node_index>(j), t, amount);
    }
    if (offset_ != 0.0) {
        double sum = 0.0;
        for (std::size_t m = 0; m < n_src_; ++m) sum += delta[m];
        if (sum != 0.0) dense_target_->add_constant(receptor_, static_cast<node_index>(j), t, offset_ * sum);
    }
}

void DenseProjection::rebase(std::uint32_t replica, time_ms t) {
    if (traces_.empty()) return;
    const double f = trace_decay(replica, t);
    double* tr = &traces_[std::size_t{replica} * n_src_];
    for (std::size_t m = 0; m < n_src_; ++m) tr[m] *= f;
    ref_ms_[replica] = t;
}

}  // namespace settle
