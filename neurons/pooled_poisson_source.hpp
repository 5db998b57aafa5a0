#pragma once
// Poisson spike sources driven by data, generated per replica without thinning.
//
// Unit j of replica r fires as a Poisson process of rate x_j rate_max (x_j in [0, 1], e.g. a
// pixel's intensity; rate_max is the rate at x = 1, in Hz: a unit stands for a pool of sources
// whose pooled rate sets its signal-to-noise ratio). The rates are piecewise constant, changed
// by a driver (set_rates) at arbitrary times. The sources' spikes do not depend on any state, so
// they are drawn directly: one stream per replica with the summed rate R = rate_max sum_j x_j
// and, per spike, the unit j with probability x_j / sum x, from Walker's alias table (built in
// O(n) per set_rates, one uniform per spike: its integer part times n picks a column, its
// fraction chooses between the column and its alias). So a spike costs one queue event and O(1),
// whatever the number of units, and no candidate is rejected. A Poisson process is memoryless,
// so redrawing the next spike at a rate change is exact.
//
// Node ids: replica * units + unit (one channel).
#include <cstdint>
#include <string>
#include <vector>

#include "sim/population.hpp"
#include "sim/random.hpp"

namespace settle {

class PooledPoissonSource final : public Population {
public:
    // first_replica offsets the replicas' stream keys (a block of a larger set of replicas).
    PooledPoissonSource(std::string name, std::size_t units, std::uint32_t replicas, double rate_max_hz,
                        std::uint32_t first_replica = 0);

    std::string model() const override { return "pooled_poisson_source"; }
    void initialize(std::uint64_t seed, time_ms t_start) override;
    std::uint32_t replicas() const override { return replicas_; }
    bool streams_are_nodes() const override { return false; }
    std::size_t emission_streams() const override { return replicas_; }
    time_ms next_stream_candidate(std::size_t stream) const override { return rep_[stream].next; }
    Emission resolve_stream(std::size_t stream, time_ms t) override;
    std::vector<StateVariable> state_variables() const override { return {{"rate", "Hz", 4}}; }
    double read(node_index node, int element_id, time_ms t) override;

    // The key of each replica's stream (default first_replica + replica); equal keys, equal
    // spikes (common random numbers). Before initialize().
    void set_replica_keys(std::vector<std::uint32_t> keys);
    // Replica r's units fire at x_j rate_max from t on (x_j finite, in [0, 1]); the driver then
    // calls Simulator::reschedule(population, r). Before initialize(), t is ignored.
    void set_rates(std::uint32_t replica, time_ms t, const std::vector<double>& x);

private:
    void draw_next(std::uint32_t replica, time_ms t);

    std::size_t n_;
    std::uint32_t replicas_, first_replica_;
    double rate_max_per_ms_;
    struct Replica {
        std::vector<double> x;
        double total = 0.0;                // sum of x
        struct Column {
            double keep;       // alias table: column j emits j with probability keep ...
            node_index alias;  // ... else alias (one cache line per draw)
        };
        std::vector<Column> table;
        time_ms next = never;
        CounterRng rng{0, 0, 0, StreamKind::emission};
    };
    std::vector<Replica> rep_;
    std::vector<std::uint32_t> replica_keys_;
    bool initialized_ = false;
};

}  // namespace settle
