#pragma once
// Poisson spike sources with a constant, sinusoidal or piecewise-constant (data-driven) rate.
//
// An inhomogeneous Poisson process with rate lambda(t) <= lambda_max is drawn exactly by
// thinning (Lewis & Shedler 1979): candidates at rate lambda_max, each kept with probability
// lambda(t) / lambda_max. Rates are configured in Hz and used in 1/ms.
// Piecewise schedules can grow during a run (present()), which is how experiments show data
// samples one after another: a rate-coded input swapped at arbitrary times.
//
// Emission streams: the nodes are drawn in blocks of nodes_per_stream. A block's candidates are
// the superposition of its nodes' candidate processes, a Poisson process at the summed bound
// rate n_block lambda_max, and each candidate belongs to a node drawn uniformly from the block
// (superposition and random splitting of Poisson processes are exact); the node then keeps it
// with probability lambda_node(t) / lambda_max. So a million sources cost a few thousand queue
// entries, not a million, while every node stays an ordinary node (its own id, spikes and
// projections). Each block draws from its own counter-based stream keyed by (population, block).
#include <memory>
#include <vector>

#include "sim/population.hpp"
#include "sim/random.hpp"

namespace settle {

class PoissonSource final : public Population {
public:
    struct Sinusoid {
        double mean_hz = 0.0, amplitude_hz = 0.0;
        time_ms period_ms = 1000.0;
        double phase_rad = 0.0;
    };

    // Constant rate, one per population (size 1 vector) or one per node.
    static std::unique_ptr<PoissonSource> constant(std::string name, std::size_t size, std::vector<double> rates_hz);
    // Sinusoidally modulated rate, the same for all nodes.
    static std::unique_ptr<PoissonSource> sinusoidal(std::string name, std::size_t size, Sinusoid s);
    // Piecewise constant: rates_hz[k] (one per node, or one for all) from times_ms[k] on; 0 before
    // the first time. max_rate_hz bounds every rate present() may add later.
    static std::unique_ptr<PoissonSource> piecewise(std::string name, std::size_t size, std::vector<time_ms> times_ms,
                                                    std::vector<std::vector<double>> rates_hz, double max_rate_hz);

    // Nodes per emission stream (the last block may be smaller). Changing it changes which random
    // numbers are drawn, not the spikes' statistics.
    static constexpr std::size_t nodes_per_stream = 16384;

    std::string model() const override { return "poisson_source"; }
    void initialize(std::uint64_t seed, time_ms t_start) override;
    bool streams_are_nodes() const override { return false; }
    std::size_t emission_streams() const override { return (size() + nodes_per_stream - 1) / nodes_per_stream; }
    time_ms next_stream_candidate(std::size_t stream) const override { return blocks_[stream].next; }
    Emission resolve_stream(std::size_t stream, time_ms t) override;
    bool candidates_are_predetermined() const override { return true; }
    Candidate draw_candidate(std::size_t stream) override;
    bool accept(const Candidate& c) override;
    std::vector<StateVariable> state_variables() const override { return {{"rate", "Hz", 4}}; }
    double read(node_index node, int element_id, time_ms t) override;

    // Appends a piecewise segment from t_from on (t_from not before the last segment).
    void present(time_ms t_from, std::vector<double> rates_hz);
    bool piecewise() const { return kind_ == Kind::piecewise; }
    // Rate of a node at t, in Hz.
    double rate_hz(node_index node, time_ms t) const;

    enum class Kind { constant, sinusoid, piecewise };
    // Use the named constructors above; this one leaves the rates empty.
    PoissonSource(std::string name, std::size_t size, Kind kind);

private:
    double bound_per_ms(node_index node) const;

    Kind kind_;
    std::vector<double> constant_hz_;
    Sinusoid sinusoid_;
    std::vector<time_ms> times_;
    std::vector<std::vector<double>> segments_hz_;
    double max_rate_hz_ = 0.0;
    struct Block {
        node_index first = 0;
        std::size_t count = 0;
        double bound_per_ms = 0.0;  // the largest node bound in the block
        bool accepts_all = false;  // constant, equal rates: every candidate is a spike, no draw
        time_ms next = never;
        CounterRng rng;
    };
    std::vector<Block> blocks_;
};

}  // namespace settle
