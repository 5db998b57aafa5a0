#include "neurons/poisson_source.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "sim/random.hpp"

namespace settle {

PoissonSource::PoissonSource(std::string name, std::size_t size, Kind kind)
    : Population(std::move(name), size), kind_(kind) {}

std::unique_ptr<PoissonSource> PoissonSource::constant(std::string name, std::size_t size,
                                                       std::vector<double> rates_hz) {
    if (rates_hz.size() != 1 && rates_hz.size() != size)
        throw std::invalid_argument("give one rate, or one per node (" + std::to_string(size) + ")");
    for (double r : rates_hz)
        if (!(r >= 0.0 && std::isfinite(r))) throw std::invalid_argument("rates must be finite and >= 0");
    auto s = std::make_unique<PoissonSource>(std::move(name), size, Kind::constant);
    s->constant_hz_ = std::move(rates_hz);
    return s;
}

std::unique_ptr<PoissonSource> PoissonSource::sinusoidal(std::string name, std::size_t size, Sinusoid sin) {
    if (!(sin.mean_hz >= std::abs(sin.amplitude_hz)))
        throw std::invalid_argument("a sinusoidal rate needs mean >= |amplitude| so the rate stays >= 0");
    if (!(sin.period_ms > 0.0)) throw std::invalid_argument("period must be > 0");
    auto s = std::make_unique<PoissonSource>(std::move(name), size, Kind::sinusoid);
    s->sinusoid_ = sin;
    return s;
}

std::unique_ptr<PoissonSource> PoissonSource::piecewise(std::string name, std::size_t size,
                                                        std::vector<time_ms> times_ms,
                                                        std::vector<std::vector<double>> rates_hz,
                                                        double max_rate_hz) {
    if (!(max_rate_hz > 0.0)) throw std::invalid_argument("max_rate_hz must be > 0");
    auto s = std::make_unique<PoissonSource>(std::move(name), size, Kind::piecewise);
    s->max_rate_hz_ = max_rate_hz;
    if (times_ms.size() != rates_hz.size()) throw std::invalid_argument("one rate vector per time");
    for (std::size_t k = 0; k < times_ms.size(); ++k) s->present(times_ms[k], std::move(rates_hz[k]));
    return s;
}

void PoissonSource::present(time_ms t_from, std::vector<double> rates_hz) {
    if (kind_ != Kind::piecewise) throw std::logic_error("present() needs a piecewise Poisson source");
    if (!times_.empty() && t_from < times_.back()) throw std::invalid_argument("segments must start in time order");
    if (rates_hz.size() != 1 && rates_hz.size() != size())
        throw std::invalid_argument("give one rate, or one per node (" + std::to_string(size()) + ")");
    for (double r : rates_hz)
        if (!(r >= 0.0 && r <= max_rate_hz_))
            throw std::invalid_argument("rate " + std::to_string(r) + " Hz outside [0, max_rate_hz = " +
                                        std::to_string(max_rate_hz_) + "]");
    times_.push_back(t_from);
    segments_hz_.push_back(std::move(rates_hz));
}

double PoissonSource::rate_hz(node_index node, time_ms t) const {
    switch (kind_) {
    case Kind::constant:
        return constant_hz_.size() == 1 ? constant_hz_[0] : constant_hz_[node];
    case Kind::sinusoid:
        return sinusoid_.mean_hz +
               sinusoid_.amplitude_hz * std::sin(2.0 * M_PI * t / sinusoid_.period_ms + sinusoid_.phase_rad);
    case Kind::piecewise: {
        const auto it = std::upper_bound(times_.begin(), times_.end(), t);
        if (it == times_.begin()) return 0.0;
        const auto& seg = segments_hz_[static_cast<std::size_t>(it - times_.begin()) - 1];
        return seg.size() == 1 ? seg[0] : seg[node];
    }
    }
    return 0.0;
}

double PoissonSource::bound_per_ms(node_index node) const {
    switch (kind_) {
    case Kind::constant:
        return 1e-3 * (constant_hz_.size() == 1 ? constant_hz_[0] : constant_hz_[node]);
    case Kind::sinusoid:
        return 1e-3 * (sinusoid_.mean_hz + std::abs(sinusoid_.amplitude_hz));
    case Kind::piecewise:
        return 1e-3 * max_rate_hz_;
    }
    return 0.0;
}

void PoissonSource::initialize(std::uint64_t seed, time_ms t_start) {
    seed_ = seed;
    nodes_.assign(size(), NodeState{never, 0});
    for (node_index i = 0; i < size(); ++i) {
        const double bound = bound_per_ms(i);
        if (bound <= 0.0) continue;
        CounterRng rng(seed, key(), i, StreamKind::emission);
        nodes_[i] = {t_start + rng.exponential(bound), rng.counter()};
    }
}

bool PoissonSource::resolve_candidate(node_index node, time_ms t) {
    const double bound = bound_per_ms(node);
    NodeState& state = nodes_[node];
    CounterRng rng(seed_, key(), node, StreamKind::emission, state.counter);
    const double u = rng.uniform();
    const bool spike = kind_ == Kind::constant || u * bound < 1e-3 * rate_hz(node, t);
    state = {t + rng.exponential(bound), rng.counter()};
    return spike;
}

double PoissonSource::read(node_index node, int element_id, time_ms t) {
    if (element_id != 4) return Population::read(node, element_id, t);
    return rate_hz(node, t);
}

}  // namespace settle
