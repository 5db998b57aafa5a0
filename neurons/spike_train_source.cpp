#include "neurons/spike_train_source.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "sim/random.hpp"

namespace settle {

SpikeTrainSource::SpikeTrainSource(std::string name, std::size_t size, Repetition rep)
    : Population(std::move(name), size), rep_(rep) {
    if (rep_.count < 1) throw std::invalid_argument("repetition count must be >= 1");
    if (!(rep_.period_ms >= 0.0)) throw std::invalid_argument("period must be >= 0");
    if (rep_.count > 1 && !(rep_.period_ms > 0.0)) throw std::invalid_argument("repeating needs a period > 0");
}

std::unique_ptr<SpikeTrainSource> SpikeTrainSource::explicit_times(std::string name,
                                                                   std::vector<std::vector<time_ms>> times,
                                                                   Repetition rep) {
    auto s = std::make_unique<SpikeTrainSource>(std::move(name), times.size(), rep);
    for (auto& node_times : times) {
        for (double t : node_times)
            if (!std::isfinite(t)) throw std::invalid_argument("spike times must be finite");
        std::sort(node_times.begin(), node_times.end());
        if (rep.count > 1 && !node_times.empty() && (node_times.front() < 0.0 || node_times.back() >= rep.period_ms))
            throw std::invalid_argument("repeated spike times must lie in [0, period)");
    }
    s->pattern_ = std::move(times);
    return s;
}

std::unique_ptr<SpikeTrainSource> SpikeTrainSource::frozen_poisson(std::string name, std::size_t size, double rate_hz,
                                                                   Repetition rep) {
    if (!(rep.period_ms > 0.0)) throw std::invalid_argument("a frozen pattern needs period_ms > 0");
    if (!(rate_hz >= 0.0)) throw std::invalid_argument("rate must be >= 0");
    auto s = std::make_unique<SpikeTrainSource>(std::move(name), size, rep);
    s->frozen_rate_hz_ = rate_hz;
    return s;
}

void SpikeTrainSource::initialize(std::uint64_t seed, time_ms t_start) {
    if (frozen_rate_hz_ >= 0.0) {
        pattern_.assign(size(), {});
        const double rate = 1e-3 * frozen_rate_hz_;
        for (node_index i = 0; i < size(); ++i) {
            if (rate <= 0.0) continue;
            CounterRng rng(seed, key(), i, StreamKind::data);
            for (double t = rng.exponential(rate); t < rep_.period_ms; t += rng.exponential(rate))
                pattern_[i].push_back(t);
        }
    }
    cursor_.assign(size(), 0);
    repeat_.assign(size(), 0);
    // Skip what lies before t_start.
    for (node_index i = 0; i < size(); ++i)
        while (next_candidate(i) < t_start) resolve_candidate(i, next_candidate(i));
}

time_ms SpikeTrainSource::next_candidate(node_index node) const {
    const auto& p = pattern_[node];
    if (repeat_[node] >= rep_.count || cursor_[node] >= p.size()) return never;
    return rep_.start_ms + static_cast<double>(repeat_[node]) * rep_.period_ms + p[cursor_[node]];
}

bool SpikeTrainSource::resolve_candidate(node_index node, time_ms) {
    if (++cursor_[node] >= pattern_[node].size()) {
        cursor_[node] = 0;
        ++repeat_[node];
    }
    return true;
}

}  // namespace settle
