#include "neurons/conductance_signal.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace settle {

SinusoidConductance::SinusoidConductance(double mean, double amplitude, time_ms period, double phase_rad,
                                         time_ms start, time_ms stop)
    : mean_(mean), amplitude_(amplitude), period_(period), phase_(phase_rad), start_(start), stop_(stop) {
    if (!(period > 0.0)) throw std::invalid_argument("sinusoid period must be > 0");
    if (!(stop > start)) throw std::invalid_argument("sinusoid stop must be after start");
}

double SinusoidConductance::value(node_index, time_ms t) const {
    if (t < start_ || t >= stop_) return 0.0;
    return mean_ + amplitude_ * std::sin(2.0 * M_PI * (t - start_) / period_ + phase_);
}

time_ms SinusoidConductance::next_breakpoint(node_index, time_ms t) const {
    if (t < start_) return start_;
    if (t < stop_) return stop_;
    return never;
}

bool SinusoidConductance::constant_after(node_index, time_ms t) const { return t < start_ || t >= stop_; }

PiecewiseConductance::PiecewiseConductance(std::vector<time_ms> times, std::vector<std::vector<double>> values)
    : times_(std::move(times)), values_(std::move(values)) {
    if (times_.empty()) throw std::invalid_argument("piecewise conductance needs at least one time");
    if (!std::is_sorted(times_.begin(), times_.end())) throw std::invalid_argument("piecewise times must increase");
    if (values_.empty()) throw std::invalid_argument("piecewise conductance needs values");
    for (const auto& v : values_)
        if (v.size() != times_.size()) throw std::invalid_argument("piecewise conductance: one value per time");
}

const std::vector<double>& PiecewiseConductance::values_of(node_index node) const {
    return values_.size() == 1 ? values_[0] : values_.at(node);
}

double PiecewiseConductance::value(node_index node, time_ms t) const {
    const auto it = std::upper_bound(times_.begin(), times_.end(), t);
    if (it == times_.begin()) return 0.0;
    return values_of(node)[static_cast<std::size_t>(it - times_.begin()) - 1];
}

time_ms PiecewiseConductance::next_breakpoint(node_index, time_ms t) const {
    const auto it = std::upper_bound(times_.begin(), times_.end(), t);
    return it == times_.end() ? never : *it;
}

SampledConductance::SampledConductance(time_ms start, time_ms dt, std::vector<std::vector<double>> samples)
    : start_(start), dt_(dt), samples_(std::move(samples)) {
    if (!(dt > 0.0)) throw std::invalid_argument("sampled conductance dt must be > 0");
    if (samples_.empty() || samples_[0].size() < 2) throw std::invalid_argument("sampled conductance needs at least 2 samples");
    for (const auto& s : samples_)
        if (s.size() != samples_[0].size()) throw std::invalid_argument("sampled conductance: equal lengths per node");
}

const std::vector<double>& SampledConductance::samples_of(node_index node) const {
    return samples_.size() == 1 ? samples_[0] : samples_.at(node);
}

double SampledConductance::value(node_index node, time_ms t) const {
    const auto& s = samples_of(node);
    const double x = (t - start_) / dt_;
    // [start, end): the value at `end` itself is the 0 that follows, as next_breakpoint() says.
    if (x < 0.0 || x >= static_cast<double>(s.size() - 1)) return 0.0;
    const auto k = static_cast<std::size_t>(x);
    const double f = x - static_cast<double>(k);
    return s[k] + f * (s[k + 1] - s[k]);
}

time_ms SampledConductance::next_breakpoint(node_index node, time_ms t) const {
    // Kinks at samples are harmless to an adaptive stepper; only the edges jump.
    const time_ms end = start_ + dt_ * static_cast<double>(samples_of(node).size() - 1);
    if (t < start_) return start_;
    if (t < end) return end;
    return never;
}

bool SampledConductance::constant_after(node_index node, time_ms t) const {
    const time_ms end = start_ + dt_ * static_cast<double>(samples_of(node).size() - 1);
    return t < start_ || t >= end;
}

}  // namespace settle
