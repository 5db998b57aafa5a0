#pragma once
// Sources that replay given spike times: explicit lists, optionally repeated with a period, and
// the frozen Poisson pattern of Urbanczik & Senn (2014, Fig. 1): each node draws one Poisson
// train at `rate_hz` over [0, period) from its own random stream (so each seed gives another
// pattern), which is then replayed every period from `start_ms` on.
#include <memory>
#include <vector>

#include "sim/population.hpp"

namespace settle {

struct SpikeRepetition {
    time_ms start_ms = 0.0;   // first replay starts here
    time_ms period_ms = 0.0;  // 0: no repetition
    std::uint64_t count = 1;  // number of replays (>= 1)
};

class SpikeTrainSource final : public Population {
public:
    using Repetition = SpikeRepetition;

    // Explicit spike times per node (need not be sorted), replayed as `rep` says.
    static std::unique_ptr<SpikeTrainSource> explicit_times(std::string name, std::vector<std::vector<time_ms>> times,
                                                            Repetition rep = {});
    // A frozen Poisson pattern of length rep.period_ms, drawn at initialize().
    static std::unique_ptr<SpikeTrainSource> frozen_poisson(std::string name, std::size_t size, double rate_hz,
                                                            Repetition rep);

    std::string model() const override { return "spike_train_source"; }
    void initialize(std::uint64_t seed, time_ms t_start) override;
    time_ms next_candidate(node_index node) const override;
    bool resolve_candidate(node_index node, time_ms t) override;

    // The pattern (one period) of a node, after initialize().
    const std::vector<time_ms>& pattern(node_index node) const { return pattern_[node]; }

    // Use the named constructors above; this one has no spikes.
    SpikeTrainSource(std::string name, std::size_t size, Repetition rep);

private:
    Repetition rep_;
    double frozen_rate_hz_ = -1.0;  // < 0: explicit times
    std::vector<std::vector<time_ms>> pattern_;
    std::vector<std::size_t> cursor_;   // position in pattern (within the current repetition)
    std::vector<std::uint64_t> repeat_; // current repetition index
};

}  // namespace settle
