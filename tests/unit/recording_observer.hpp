#pragma once
// An in-memory RunObserver for tests.
#include <tuple>
#include <vector>

#include "sim/simulator.hpp"

namespace settle::testing {

struct RecordingObserver final : RunObserver {
    struct Spike {
        std::size_t population;
        node_index node;
        time_ms t;
        bool operator==(const Spike&) const = default;
    };
    std::vector<Spike> spikes;
    std::vector<std::vector<double>> rows;
    std::vector<time_ms> sample_times;
    void on_spike(std::size_t p, node_index n, time_ms t) override { spikes.push_back({p, n, t}); }
    void on_sample(std::size_t, std::uint64_t, time_ms t, const std::vector<double>& row) override {
        sample_times.push_back(t);
        rows.push_back(row);
    }
    std::vector<Spike> of(std::size_t population) const {
        std::vector<Spike> out;
        for (const auto& s : spikes)
            if (s.population == population) out.push_back(s);
        return out;
    }
};

}  // namespace settle::testing
