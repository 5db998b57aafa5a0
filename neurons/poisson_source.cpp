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
    blocks_.clear();
    for (std::size_t k = 0; k < emission_streams(); ++k) {
        Block block{static_cast<node_index>(k * nodes_per_stream), std::min(nodes_per_stream, size() - k * nodes_per_stream),
                    0.0, kind_ == Kind::constant, never,
                    CounterRng(seed, key(), static_cast<std::uint32_t>(k), StreamKind::emission)};
        for (std::size_t i = 0; i < block.count; ++i) {
            const double bound = bound_per_ms(block.first + static_cast<node_index>(i));
            if (block.accepts_all && i > 0 && bound != block.bound_per_ms) block.accepts_all = false;
            block.bound_per_ms = std::max(block.bound_per_ms, bound);
        }
        if (block.bound_per_ms > 0.0)
            block.next = t_start + block.rng.exponential(block.bound_per_ms * static_cast<double>(block.count));
        blocks_.push_back(std::move(block));
    }
}

Population::Candidate PoissonSource::draw_candidate(std::size_t stream) {
    Block& block = blocks_[stream];
    Candidate c;
    c.t = block.next;
    // The candidate's node: uniform in the block (u < 1, so the index stays below count).
    c.unit = block.first + static_cast<node_index>(block.rng.uniform() * static_cast<double>(block.count));
    // The acceptance draw, compared with the rate only at c.t (accept): a driver may present a
    // new rate before then.
    c.u = block.accepts_all ? 0.0 : block.rng.uniform() * block.bound_per_ms;
    block.next = c.t + block.rng.exponential(block.bound_per_ms * static_cast<double>(block.count));
    return c;
}

bool PoissonSource::accept(const Candidate& c) {
    // u == 0 only in blocks that accept every candidate (u is drawn on (0, 1) times a bound > 0).
    return c.u == 0.0 || c.u < 1e-3 * rate_hz(c.unit, c.t);
}

Population::Emission PoissonSource::resolve_stream(std::size_t stream, time_ms t) {
    Candidate c = draw_candidate(stream);
    c.t = t;
    return {c.unit, 0, accept(c) ? 1u : 0u};
}

double PoissonSource::read(node_index node, int element_id, time_ms t) {
    if (element_id != 4) return Population::read(node, element_id, t);
    return rate_hz(node, t);
}

}  // namespace settle
