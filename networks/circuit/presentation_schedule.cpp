#include "networks/circuit/presentation_schedule.hpp"

namespace settle::circuit {

PresentationSchedule::PresentationSchedule(const ScheduleConfig& config, std::size_t n_samples, std::uint64_t seed,
                                           std::uint32_t stream, const std::string& name)
    : config_(config), n_samples_(n_samples), rng_(seed, stable_key("circuit.schedule." + name), stream, StreamKind::data) {}

Presentation PresentationSchedule::next() {
    Presentation p;
    p.sample = static_cast<std::size_t>(rng_.below(n_samples_));
    p.start_ms = t_;
    const double u = rng_.uniform(), v = rng_.uniform();
    p.teacher_ms = t_ + config_.onset_min_ms + (config_.onset_max_ms - config_.onset_min_ms) * u;
    p.end_ms = t_ + config_.duration_min_ms + (config_.duration_max_ms - config_.duration_min_ms) * v;
    t_ = p.end_ms;
    return p;
}

}  // namespace settle::circuit
