#pragma once
// The network (populations + projections) and the event loop that runs it.
//
// Invariants the loop relies on:
//  - every emission stream of a population has exactly one valid pending candidate: for a
//    population whose streams are its nodes, a queued event at pending_[population][stream] (a
//    queued candidate at another time is stale, its stream was rescheduled, and is dropped when
//    it comes up); for the others, its entry in the stream heap (stream_heap.hpp);
//  - the next event is the earlier, in the same total order, of the queue's and the heap's fronts;
//  - replica mode (every population replicated R > 1 times with one stream per replica, no CSR
//    projection): replicas do not interact between global events (samples, sync points, the
//    end of an advance), because dense deliveries stay within a replica and plasticity rules
//    only buffer until a sync point. The loop then runs each replica in turn up to the next
//    global event (a replica's candidates in their total order, the earliest of its few
//    streams found by a scan), then the global event: the same result as one interleaved order,
//    with each replica's state hot in cache, and the partition a later threaded run needs;
//  - a spike emitted at t schedules one delivery per (projection, delay group) at t + delay,
//    and delays are >= 0, so no event is ever scheduled in the past;
//  - events are processed in the total order of EventQueue, so results do not depend on the
//    order in which they were scheduled.
#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sim/dense_projection.hpp"
#include "sim/event_queue.hpp"
#include "sim/stream_heap.hpp"
#include "sim/population.hpp"
#include "sim/projection.hpp"

namespace settle {

class Network {
public:
    std::size_t add_population(std::unique_ptr<Population> population);
    std::size_t add_projection(std::unique_ptr<Projection> projection);

    std::size_t population_count() const { return populations_.size(); }
    Population& population(std::size_t i) { return *populations_[i]; }
    const Population& population(std::size_t i) const { return *populations_[i]; }
    // Index of the population with this name, or -1.
    long find_population(const std::string& name) const;

    std::size_t projection_count() const { return projections_.size(); }
    Projection& projection(std::size_t i) { return *projections_[i]; }
    const Projection& projection(std::size_t i) const { return *projections_[i]; }
    long find_projection(const std::string& name) const;

    std::size_t add_dense_projection(std::unique_ptr<DenseProjection> projection);
    std::size_t dense_projection_count() const { return dense_.size(); }
    DenseProjection& dense_projection(std::size_t i) { return *dense_[i]; }
    const DenseProjection& dense_projection(std::size_t i) const { return *dense_[i]; }
    long find_dense_projection(const std::string& name) const;

private:
    std::vector<std::unique_ptr<Population>> populations_;
    std::vector<std::unique_ptr<Projection>> projections_;
    std::vector<std::unique_ptr<DenseProjection>> dense_;
};

// Periodic samples of state variables of some nodes of one population.
struct StateProbe {
    std::size_t population;
    std::vector<node_index> nodes;
    std::vector<int> element_ids;  // per node, the same list
    time_ms start = 0.0;
    time_ms dt = 0.1;
    // If set, fills the row itself instead of reading `nodes` x `element_ids` of the population
    // (e.g. synaptic weights, read through a projection's plasticity rule).
    std::function<void(time_ms, std::vector<double>&)> sampler;
};

// What the loop reports as it goes. Recorders (HDF5, in-memory for tests) implement it.
class RunObserver {
public:
    virtual ~RunObserver() = default;
    virtual void on_spike(std::size_t population, node_index node, time_ms t) = 0;
    // One row: for each node of the probe, its element values in order.
    virtual void on_sample(std::size_t probe, std::uint64_t step, time_ms t, const std::vector<double>& row) = 0;
    // Called every few thousand events and at the end; a recorder may flush here.
    virtual void on_progress(time_ms /*t*/, std::uint64_t /*events*/) {}
};

struct RunStats {
    time_ms simulated_ms = 0.0;
    std::uint64_t events = 0;
    std::uint64_t synaptic_events = 0;  // connections reached (CSR) plus target units reached (dense)
    std::vector<std::uint64_t> spikes;  // per population
    bool interrupted = false;
};

class Simulator {
public:
    explicit Simulator(Network& network, std::uint64_t seed);

    // The calendar queue's layout (bucket width in ms, bucket count a power of two), before
    // start(). It changes only where events wait, never their order: a test runs one network
    // with several layouts and compares the spikes bitwise.
    void set_queue_geometry(time_ms bucket_width, std::size_t bucket_count);

    void add_probe(StateProbe probe);
    const std::vector<StateProbe>& probes() const { return probes_; }
    // Spikes of these populations go to the observer (all others are counted only).
    void record_spikes(std::size_t population) { record_spikes_.at(population) = true; }

    // Runs from t_start until t_stop (inclusive of events at t_stop), or until *stop becomes true:
    // start(), advance(t_stop), finish(). A state sample falls on t_stop as the last row.
    RunStats run(time_ms t_start, time_ms t_stop, RunObserver& observer, const std::atomic<bool>* stop = nullptr);

    // Run continuation, for drivers that change inputs between runs: start() once, then any
    // number of advance() calls, each continuing where the last one stopped (events at t_stop
    // are processed), and finish() at the end. advance(a) then advance(b) processes exactly the
    // events of advance(b) alone. Statistics accumulate from start().
    void start(time_ms t_start);
    RunStats advance(time_ms t_stop, RunObserver& observer, const std::atomic<bool>* stop = nullptr);
    void finish();
    time_ms now() const { return now_; }
    const RunStats& stats() const { return stats_; }
    // A driver changed what drives stream `stream` of `population` (a rate, say): its pending
    // candidate is dropped and the next one is taken from next_stream_candidate() again.
    void reschedule(std::size_t population, std::size_t stream);
    // Rebases replica `replica` of every population and dense projection at the current time.
    void rebase(std::uint32_t replica);
    // Replica sync points at t_start + k * interval (k >= 1), where dense plasticity rules apply
    // the updates their replicas buffered (DensePlasticityRule::synchronize). Set before start();
    // 0 (the default): none.
    void set_sync_interval(time_ms interval);
    // Every population and dense projection is rebased (Population::rebase) at t_start + k * interval:
    // a grid fixed in advance, so results never depend on recording or probing. Default 100 ms;
    // 0: only when a driver calls rebase(). Set before start().
    void set_rebase_interval(time_ms interval);
    static constexpr time_ms default_rebase_interval_ms = 100.0;
    // Replica mode is used whenever the network allows it (see the invariants above); false
    // forces the interleaved loop (the same results: tests compare the two).
    void allow_replica_mode(bool allowed) { replica_mode_allowed_ = allowed; }
    // The lookahead lane is used for populations with predetermined candidates (see below);
    // false processes them like any stream (the same results: a test compares the two). Set
    // before start().
    void allow_lookahead(bool allowed) { lookahead_allowed_ = allowed; }

private:
    void emit(std::size_t population, const Population::Emission& e, time_ms t);
    void schedule_candidate(std::size_t population, std::size_t stream);
    // Resolves the candidate of `stream` at t and schedules the stream's next one.
    void process_candidate(std::size_t population, std::size_t stream, time_ms t);
    // Replica mode: replica r's candidates up to t (inclusive); false if interrupted.
    bool advance_replica(std::uint32_t replica, time_ms t, const std::atomic<bool>* stop);
    void process_global(const Event& e, RunObserver& observer, std::vector<double>& row);
    // Every dense target applies its deferred column adds (DenseTarget::commit_inputs).
    void commit_dense_inputs();
    void deliver(Projection& projection, std::uint64_t group, time_ms t);
    void prefetch_ahead() const;
    // The lookahead lane: candidates of populations whose candidates are predetermined
    // (Population::candidates_are_predetermined) are drawn up to lane_depth ahead, in the kernel's
    // order, into a ring; what each will touch (its source row, delay groups and targets) is
    // prefetched in stages as it moves to the front, where it is processed like any candidate
    // (accept() at its own time). Drawing ahead changes no result: the candidates depend on no
    // state and are never rescheduled.
    void fill_lane();
    void process_lane_front();
    struct LaneEntry {
        std::uint32_t population;
        std::uint64_t stream;
        Population::Candidate candidate;
    };
    static constexpr std::size_t lane_depth = 16;  // a power of two (ring index mask)
    // Prefetch stages, in places from the front (the source row is requested on entry, at about
    // lane_depth): the groups' records, their first connections, then the targets' state.
    static constexpr std::size_t lane_groups = 11, lane_connections = 7, lane_targets = 3;
    StreamHeap lane_heap_;                 // the lane populations' streams, at their next candidate
    std::vector<bool> in_lane_;            // per population
    std::array<LaneEntry, lane_depth> lane_{};
    std::size_t lane_head_ = 0, lane_size_ = 0;
    bool lookahead_allowed_ = true;

    Network& network_;
    std::uint64_t seed_;
    EventQueue queue_;
    time_ms queue_bucket_width_ = 0.025;
    std::size_t queue_bucket_count_ = 16384;
    std::vector<StateProbe> probes_;
    std::vector<bool> record_spikes_;
    std::vector<std::vector<std::size_t>> outgoing_;       // per population: projections it sends
    std::vector<std::vector<PlasticityRule*>> incoming_rules_;  // per population: rules of its inputs
    std::vector<std::vector<DenseProjection*>> outgoing_dense_;
    std::vector<std::vector<DensePlasticityRule*>> incoming_dense_rules_;
    std::vector<std::vector<DensePlasticityRule*>> candidate_dense_rules_;  // samples_candidates() rules, by target
    std::vector<std::vector<time_ms>> pending_;  // per population and stream: its valid candidate
    StreamHeap stream_heap_;                      // candidates of populations whose streams are not nodes
    std::vector<bool> in_heap_;                   // per population
    bool replica_mode_ = false, replica_mode_allowed_ = true;
    std::uint32_t replicas_ = 1;
    std::vector<time_ms> replica_next_;           // replica mode: [replica * populations + population]
    struct RecordedSpike {
        time_ms t;
        std::size_t population;
        node_index node;
    };
    std::vector<RecordedSpike> epoch_spikes_;     // replica mode: recorded spikes of the current epoch
    struct Layout {
        std::uint32_t channels;
        std::size_t units;
        bool streams_are_nodes;
    };
    // Replica mode: the longest epoch between global events. Any cut gives the same result; long
    // enough that a replica's tables warm up in cache before the next replica's turn (a test pass
    // of 256 replicas ran 5 % faster than with 1 ms), short enough to bound the spike buffer.
    static constexpr time_ms max_epoch_ms = 5.0;
    std::vector<Layout> layout_;  // per population, read once at start()
    RunObserver* observer_ = nullptr;
    RunStats stats_;
    time_ms now_ = 0.0;
    // Candidates and samples later than this are not queued: a one-shot run() stops there; with
    // continuation it is `never`.
    time_ms final_stop_ = never;
    std::uint64_t candidates_without_progress_ = 0;  // consecutive candidates at one time
    bool started_ = false;
    time_ms sync_interval_ = 0.0, sync_origin_ = 0.0, rebase_interval_ = default_rebase_interval_ms;
};

}  // namespace settle
