#include "sim/simulator.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "sim/error.hpp"

namespace settle {

std::size_t Network::add_population(std::unique_ptr<Population> population) {
    if (find_population(population->name()) >= 0)
        throw std::invalid_argument("duplicate population name '" + population->name() + "'");
    populations_.push_back(std::move(population));
    return populations_.size() - 1;
}

std::size_t Network::add_projection(std::unique_ptr<Projection> projection) {
    if (find_projection(projection->name()) >= 0 || find_dense_projection(projection->name()) >= 0)
        throw std::invalid_argument("duplicate projection name '" + projection->name() + "'");
    projections_.push_back(std::move(projection));
    return projections_.size() - 1;
}

long Network::find_population(const std::string& name) const {
    for (std::size_t i = 0; i < populations_.size(); ++i)
        if (populations_[i]->name() == name) return static_cast<long>(i);
    return -1;
}

std::size_t Network::add_dense_projection(std::unique_ptr<DenseProjection> projection) {
    if (find_projection(projection->name()) >= 0 || find_dense_projection(projection->name()) >= 0)
        throw std::invalid_argument("duplicate projection name '" + projection->name() + "'");
    dense_.push_back(std::move(projection));
    return dense_.size() - 1;
}

long Network::find_dense_projection(const std::string& name) const {
    for (std::size_t i = 0; i < dense_.size(); ++i)
        if (dense_[i]->name() == name) return static_cast<long>(i);
    return -1;
}

long Network::find_projection(const std::string& name) const {
    for (std::size_t i = 0; i < projections_.size(); ++i)
        if (projections_[i]->name() == name) return static_cast<long>(i);
    return -1;
}

Simulator::Simulator(Network& network, std::uint64_t seed)
    : network_(network), seed_(seed), record_spikes_(network.population_count(), false) {}

void Simulator::add_probe(StateProbe probe) {
    if (!(probe.dt > 0.0)) throw std::invalid_argument("sampling interval must be > 0");
    probes_.push_back(std::move(probe));
}

void Simulator::emit(std::size_t population, const Population::Emission& e, time_ms t) {
    const Layout& layout = layout_[population];
    for (std::uint32_t c = 0; c < layout.channels; ++c) {
        if (!(e.channel_mask & (1u << c))) continue;
        const auto node = static_cast<node_index>((std::size_t{e.replica} * layout.channels + c) * layout.units + e.unit);
        ++stats_.spikes[population];
        if (record_spikes_[population]) {
            if (replica_mode_)
                epoch_spikes_.push_back({t, population, node});
            else
                observer_->on_spike(population, node, t);
        }
        for (PlasticityRule* rule : incoming_rules_[population]) rule->on_post_spike(node, t);
        for (std::size_t p : outgoing_[population]) {
            Projection& proj = network_.projection(p);
            for (auto g = proj.groups_begin(node); g < proj.groups_end(node); ++g) {
                // A zero-delay group is delivered at once. This is exactly the queued order: a
                // delivery at t (class 0) would be the very next event, because every other
                // delivery at t was already processed before this candidate (class 1) was.
                if (proj.group_delay(g) == 0.0)
                    deliver(proj, g, t);
                else
                    queue_.push({t + proj.group_delay(g), EventClass::delivery, static_cast<std::uint32_t>(p), g});
            }
        }
    }
    // Dense projections have no delay: the emission reaches them at once, all channels together
    // (see DenseProjection). The order of rules and deliveries at one instant does not matter:
    // a rule's row change reads the traces as they are when it runs.
    for (DensePlasticityRule* rule : incoming_dense_rules_[population]) rule->on_post_emission(e.unit, e.replica, e.channel_mask, t);
    for (DenseProjection* proj : outgoing_dense_[population]) stats_.synaptic_events += proj->deliver(e, t);
}

void Simulator::prefetch_ahead() const {
    // Memory-level parallelism for large networks: the state of events a few places ahead is
    // requested now, in stages, so it is in cache when they are processed. Hints only; only for
    // populations whose streams are their nodes.
    constexpr std::size_t far = 12, near = 6, last = 3;
    auto node_candidate = [&](const Event* e) {
        return e && e->cls == EventClass::candidate && layout_[e->a].streams_are_nodes;
    };
    if (const Event* e = queue_.peek_ahead(far)) {
        if (node_candidate(e)) {
            const auto node = static_cast<node_index>(e->b);
            network_.population(e->a).prefetch(node);
            for (std::size_t p : outgoing_[e->a]) network_.projection(p).prefetch_row(node);
        } else if (e->cls == EventClass::delivery) {
            network_.projection(e->a).prefetch_group(e->b);
        }
    }
    if (const Event* e = queue_.peek_ahead(near)) {
        if (node_candidate(e)) {
            const auto node = static_cast<node_index>(e->b);
            for (std::size_t p : outgoing_[e->a]) network_.projection(p).prefetch_groups(node);
        } else if (e->cls == EventClass::delivery) {
            const Projection& proj = network_.projection(e->a);
            const Population& target = network_.population(proj.target_population());
            target.prefetch(proj.target_of(proj.group_first(e->b)));
        }
    }
    if (const Event* e = queue_.peek_ahead(last)) {
        if (node_candidate(e)) {
            const auto node = static_cast<node_index>(e->b);
            for (std::size_t p : outgoing_[e->a]) {
                const Projection& proj = network_.projection(p);
                const Population& target = network_.population(proj.target_population());
                for (auto g = proj.groups_begin(node); g < proj.groups_end(node); ++g)
                    target.prefetch(proj.target_of(proj.group_first(g)));
            }
        }
    }
}

void Simulator::deliver(Projection& proj, std::uint64_t group, time_ms t) {
    Population& target = network_.population(proj.target_population());
    PlasticityRule* rule = proj.rule();
    const int receptor = proj.receptor();
    for (auto c = proj.group_first(group); c < proj.group_last(group); ++c) {
        if (rule) rule->on_delivery(c, t);
        target.receive(proj.target_of(c), t, proj.weight(c), receptor);
    }
    stats_.synaptic_events += proj.group_last(group) - proj.group_first(group);
}

void Simulator::schedule_candidate(std::size_t population, std::size_t stream) {
    const time_ms tc = network_.population(population).next_stream_candidate(stream);
    if (replica_mode_) {
        replica_next_[stream * network_.population_count() + population] = tc;
        return;
    }
    if (in_heap_[population]) {
        stream_heap_.update(static_cast<std::uint32_t>(population), stream, tc);
        return;
    }
    if (in_lane_[population]) {
        lane_heap_.update(static_cast<std::uint32_t>(population), stream, tc);
        return;
    }
    pending_[population][stream] = tc;
    if (tc != never && tc <= final_stop_)
        queue_.push({tc, EventClass::candidate, static_cast<std::uint32_t>(population), stream});
}

void Simulator::process_candidate(std::size_t population, std::size_t stream, time_ms t) {
    ++stats_.events;
    Population& pop = network_.population(population);
    const Population::Emission em = pop.resolve_stream(stream, t);
    for (DensePlasticityRule* rule : candidate_dense_rules_[population]) rule->on_post_candidate(em.unit, em.replica, t);
    if (em.channel_mask != 0) emit(population, em, t);
    const time_ms next = pop.next_stream_candidate(stream);
    if (next < t) throw std::logic_error("population '" + pop.name() + "' scheduled a candidate in the past");
    // Invariant: time advances. A candidate at exactly the same time happens by rounding (rarely,
    // at high rates); a million in a row means a rate so high that t + 1/rate == t.
    if (next == t) {
        if (++candidates_without_progress_ > 1'000'000)
            throw InputError("population '" + pop.name() + "': its emission does not advance past t = " + std::to_string(t) +
                             " ms (a rate too high for the time resolution?)");
    } else {
        candidates_without_progress_ = 0;
    }
    if (replica_mode_) {
        replica_next_[stream * network_.population_count() + population] = next;
        return;
    }
    if (in_heap_[population]) {
        stream_heap_.update(static_cast<std::uint32_t>(population), stream, next);
        return;
    }
    pending_[population][stream] = next;
    if (next != never && next <= final_stop_)
        queue_.push({next, EventClass::candidate, static_cast<std::uint32_t>(population), stream});
}

void Simulator::fill_lane() {
    while (lane_size_ < lane_depth && !lane_heap_.empty()) {
        const StreamHeap::Entry top = lane_heap_.top();
        if (top.t == never || top.t > final_stop_) return;
        Population& pop = network_.population(top.population);
        const Population::Candidate c = pop.draw_candidate(top.stream);
        const time_ms next = pop.next_stream_candidate(top.stream);
        if (next < c.t) throw std::logic_error("population '" + pop.name() + "' scheduled a candidate in the past");
        lane_heap_.update(top.population, top.stream, next);
        lane_[(lane_head_ + lane_size_) & (lane_depth - 1)] = {top.population, top.stream, c};
        ++lane_size_;
        // First prefetch stage: the new entry's source row in each outgoing projection.
        for (std::size_t p : outgoing_[top.population]) network_.projection(p).prefetch_row(c.unit);
    }
}

void Simulator::process_lane_front() {
    const LaneEntry e = lane_[lane_head_];
    lane_head_ = (lane_head_ + 1) & (lane_depth - 1);
    --lane_size_;
    // Later stages for the entries behind it, each reading only what the one before brought in.
    if (lane_size_ > lane_groups) {
        const LaneEntry& n = lane_[(lane_head_ + lane_groups) & (lane_depth - 1)];
        for (std::size_t p : outgoing_[n.population]) network_.projection(p).prefetch_group_records(n.candidate.unit);
    }
    if (lane_size_ > lane_connections) {
        const LaneEntry& n = lane_[(lane_head_ + lane_connections) & (lane_depth - 1)];
        for (std::size_t p : outgoing_[n.population]) network_.projection(p).prefetch_connections(n.candidate.unit);
    }
    if (lane_size_ > lane_targets) {
        const LaneEntry& n = lane_[(lane_head_ + lane_targets) & (lane_depth - 1)];
        for (std::size_t p : outgoing_[n.population]) {
            const Projection& proj = network_.projection(p);
            const Population& target = network_.population(proj.target_population());
            for (auto g = proj.groups_begin(n.candidate.unit); g < proj.groups_end(n.candidate.unit); ++g)
                target.prefetch(proj.target_of(proj.group_first(g)));
        }
    }
    ++stats_.events;
    const time_ms t = e.candidate.t;
    // Invariant: time advances (see process_candidate).
    if (t == now_ && lane_size_ > 0 && lane_[lane_head_].candidate.t == t) {
        if (++candidates_without_progress_ > 1'000'000)
            throw InputError("population '" + network_.population(e.population).name() +
                             "': its emission does not advance past t = " + std::to_string(t) +
                             " ms (a rate too high for the time resolution?)");
    } else {
        candidates_without_progress_ = 0;
    }
    Population& pop = network_.population(e.population);
    const Population::Emission em{e.candidate.unit, 0, pop.accept(e.candidate) ? 1u : 0u};
    for (DensePlasticityRule* rule : candidate_dense_rules_[e.population]) rule->on_post_candidate(em.unit, em.replica, t);
    if (em.channel_mask != 0) emit(e.population, em, t);
}

void Simulator::set_queue_geometry(time_ms bucket_width, std::size_t bucket_count) {
    if (started_) throw std::logic_error("set_queue_geometry() after start()");
    if (!(bucket_width > 0.0)) throw std::invalid_argument("set_queue_geometry: bucket width must be > 0");
    EventQueue check(bucket_width, bucket_count);  // throws unless bucket_count is a power of two
    queue_bucket_width_ = bucket_width;
    queue_bucket_count_ = bucket_count;
}

void Simulator::reschedule(std::size_t population, std::size_t stream) {
    if (!started_) throw std::logic_error("reschedule() before start()");
    if (in_lane_[population])
        throw std::logic_error("population '" + network_.population(population).name() +
                               "' has predetermined candidates: they are never rescheduled");
    schedule_candidate(population, stream);
}

void Simulator::set_sync_interval(time_ms interval) {
    if (!(interval >= 0.0 && std::isfinite(interval))) throw std::invalid_argument("sync interval must be finite and >= 0");
    sync_interval_ = interval;
}

void Simulator::set_rebase_interval(time_ms interval) {
    if (!(interval >= 0.0 && std::isfinite(interval))) throw std::invalid_argument("rebase interval must be finite and >= 0");
    rebase_interval_ = interval;
}

void Simulator::rebase(std::uint32_t replica) {
    for (std::size_t p = 0; p < network_.population_count(); ++p) network_.population(p).rebase(replica, now_);
    for (std::size_t d = 0; d < network_.dense_projection_count(); ++d) network_.dense_projection(d).rebase(replica, now_);
}

RunStats Simulator::run(time_ms t_start, time_ms t_stop, RunObserver& observer, const std::atomic<bool>* stop) {
    final_stop_ = t_stop;
    start(t_start);
    advance(t_stop, observer, stop);
    finish();
    observer.on_progress(stats_.simulated_ms, stats_.events);
    return stats_;
}

void Simulator::start(time_ms t_start) {
    stats_ = RunStats{};
    stats_.spikes.assign(network_.population_count(), 0);
    stats_.simulated_ms = t_start;
    now_ = t_start;

    const std::size_t n_pop = network_.population_count();
    outgoing_.assign(n_pop, {});
    incoming_rules_.assign(n_pop, {});
    outgoing_dense_.assign(n_pop, {});
    incoming_dense_rules_.assign(n_pop, {});
    candidate_dense_rules_.assign(n_pop, {});
    for (std::size_t p = 0; p < network_.projection_count(); ++p) {
        Projection& proj = network_.projection(p);
        outgoing_[proj.source_population()].push_back(p);
        if (PlasticityRule* rule = proj.rule()) {
            rule->attach(proj, network_.population(proj.source_population()),
                         network_.population(proj.target_population()));
            incoming_rules_[proj.target_population()].push_back(rule);
        }
    }
    for (std::size_t d = 0; d < network_.dense_projection_count(); ++d) {
        DenseProjection& proj = network_.dense_projection(d);
        proj.bind(network_.population(proj.source_population()), network_.population(proj.target_population()));
        outgoing_dense_[proj.source_population()].push_back(&proj);
    }
    for (std::size_t d = 0; d < network_.dense_projection_count(); ++d) {
        DenseProjection& proj = network_.dense_projection(d);
        if (DensePlasticityRule* rule = proj.rule()) {
            if (!(sync_interval_ > 0.0))
                throw std::invalid_argument("projection '" + proj.name() + "': a dense plasticity rule needs replica sync points (set_sync_interval)");
            std::vector<DenseProjection*> tied;
            for (std::size_t o = 0; o < network_.dense_projection_count(); ++o)
                if (o != d && network_.dense_projection(o).matrix() == proj.matrix())
                    tied.push_back(&network_.dense_projection(o));
            rule->attach(proj, std::move(tied));
            incoming_dense_rules_[proj.target_population()].push_back(rule);
            if (rule->samples_candidates()) candidate_dense_rules_[proj.target_population()].push_back(rule);
        }
    }

    queue_ = EventQueue{queue_bucket_width_, queue_bucket_count_};
    pending_.assign(n_pop, {});
    stream_heap_.clear();
    in_heap_.assign(n_pop, false);
    lane_heap_.clear();
    in_lane_.assign(n_pop, false);
    lane_head_ = lane_size_ = 0;
    replicas_ = n_pop > 0 ? network_.population(0).replicas() : 1;
    replica_mode_ = replica_mode_allowed_ && replicas_ > 1 && network_.projection_count() == 0;
    for (std::size_t p = 0; p < n_pop; ++p) {
        const Population& pop = network_.population(p);
        if (pop.streams_are_nodes() || pop.replicas() != replicas_ || pop.emission_streams() != replicas_)
            replica_mode_ = false;
    }
    replica_next_.assign(replica_mode_ ? std::size_t{replicas_} * n_pop : 0, never);
    layout_.clear();
    for (std::size_t p = 0; p < n_pop; ++p)
        layout_.push_back({network_.population(p).channels(), network_.population(p).units(),
                           network_.population(p).streams_are_nodes()});
    started_ = true;
    for (std::size_t p = 0; p < n_pop; ++p) {
        Population& pop = network_.population(p);
        pop.initialize(seed_, t_start);
        if (replica_mode_) {
        } else if (lookahead_allowed_ && pop.candidates_are_predetermined()) {
            in_lane_[p] = true;
            lane_heap_.add_population(static_cast<std::uint32_t>(p), pop.emission_streams());
        } else if (!pop.streams_are_nodes()) {
            in_heap_[p] = true;
            stream_heap_.add_population(static_cast<std::uint32_t>(p), pop.emission_streams());
        } else {
            pending_[p].assign(pop.emission_streams(), never);
        }
        for (std::size_t s = 0; s < pop.emission_streams(); ++s) schedule_candidate(p, s);
    }
    sync_origin_ = t_start;
    if (sync_interval_ > 0.0 && t_start + sync_interval_ <= final_stop_)
        queue_.push({t_start + sync_interval_, EventClass::sync, 0, 1});
    if (rebase_interval_ > 0.0 && t_start + rebase_interval_ <= final_stop_)
        queue_.push({t_start + rebase_interval_, EventClass::rebase, 0, 1});
    for (std::size_t i = 0; i < probes_.size(); ++i) {
        const time_ms first = std::max(probes_[i].start, t_start);
        const auto step = static_cast<std::uint64_t>(std::ceil((first - probes_[i].start) / probes_[i].dt - 1e-9));
        const time_ms t = probes_[i].start + static_cast<double>(step) * probes_[i].dt;
        if (t <= final_stop_) queue_.push({t, EventClass::sample, static_cast<std::uint32_t>(i), step});
    }
}

bool Simulator::advance_replica(std::uint32_t replica, time_ms t, const std::atomic<bool>* stop) {
    const std::size_t n_pop = network_.population_count();
    const time_ms* next = &replica_next_[std::size_t{replica} * n_pop];
    for (std::uint64_t n = 1;; ++n) {
        // An epoch is short in time but may hold any number of candidates (a rate of 1e12 Hz):
        // the stop flag is checked inside it too.
        if (stop && n % 4096 == 0 && stop->load(std::memory_order_relaxed)) return false;
        // The replica's earliest stream; ties by population index (the kernel's order).
        std::size_t p = 0;
        for (std::size_t q = 1; q < n_pop; ++q)
            if (next[q] < next[p]) p = q;
        const time_ms tc = next[p];
        if (tc > t) return true;
        process_candidate(p, replica, tc);
    }
}

void Simulator::commit_dense_inputs() {
    for (std::size_t d = 0; d < network_.dense_projection_count(); ++d) network_.dense_projection(d).dense_target().commit_inputs();
}

void Simulator::process_global(const Event& e, RunObserver& observer, std::vector<double>& row) {
    // Invariant relied on by DenseTarget::add_matrix_column: deferred column adds are applied
    // before anything that may change a dense matrix (a sync point) or read every target.
    commit_dense_inputs();
    switch (e.cls) {
        case EventClass::sample: {
            ++stats_.events;
            const StateProbe& probe = probes_[e.a];
            Population& pop = network_.population(probe.population);
            row.clear();
            if (probe.sampler)
                probe.sampler(e.t, row);
            else
                for (node_index n : probe.nodes)
                    for (int el : probe.element_ids) row.push_back(pop.read(n, el, e.t));
            observer.on_sample(e.a, e.b, e.t, row);
            const std::uint64_t next_step = e.b + 1;
            const time_ms next = probe.start + static_cast<double>(next_step) * probe.dt;
            if (next <= final_stop_ + 1e-9 * probe.dt)
                queue_.push({std::min(next, final_stop_), EventClass::sample, e.a, next_step});
            break;
        }
        case EventClass::sync: {
            ++stats_.events;
            for (std::size_t d = 0; d < network_.dense_projection_count(); ++d)
                if (DensePlasticityRule* rule = network_.dense_projection(d).rule()) rule->synchronize(e.t);
            // k-th sync point at origin + k * interval: no accumulated rounding.
            const time_ms next = sync_origin_ + static_cast<double>(e.b + 1) * sync_interval_;
            if (next <= final_stop_) queue_.push({next, EventClass::sync, 0, e.b + 1});
            break;
        }
        case EventClass::rebase: {
            ++stats_.events;
            const std::uint32_t replicas = network_.population_count() > 0 ? network_.population(0).replicas() : 1;
            for (std::uint32_t r = 0; r < replicas; ++r) {
                for (std::size_t p = 0; p < network_.population_count(); ++p)
                    if (r < network_.population(p).replicas()) network_.population(p).rebase(r, e.t);
                for (std::size_t d = 0; d < network_.dense_projection_count(); ++d)
                    if (r < network_.dense_projection(d).replicas()) network_.dense_projection(d).rebase(r, e.t);
            }
            const time_ms next = sync_origin_ + static_cast<double>(e.b + 1) * rebase_interval_;
            if (next <= final_stop_) queue_.push({next, EventClass::rebase, 0, e.b + 1});
            break;
        }
        default:
            throw std::logic_error("process_global: not a global event");
    }
}

RunStats Simulator::advance(time_ms t_stop, RunObserver& observer, const std::atomic<bool>* stop) {
    if (!started_) throw std::logic_error("advance() before start()");
    if (t_stop < now_) throw std::invalid_argument("advance() to a time before the current one");
    observer_ = &observer;
    stats_.interrupted = false;
    std::vector<double> row;
    constexpr std::uint64_t progress_every = 1u << 14;
    if (replica_mode_) {
        // Global events are samples and sync points (no CSR deliveries, no node streams).
        while (true) {
            // Epochs end at the next global event, and at most max_epoch_ms after the last one
            // (any cut gives the same result; this one bounds the spike buffer and keeps Ctrl-C
            // responsive in networks without sync points).
            const time_ms t_global = queue_.empty() ? never : queue_.top().t;
            const time_ms epoch_end = std::min({t_global, t_stop, now_ + max_epoch_ms});
            const std::uint64_t before = stats_.events;
            bool whole = true;
            for (std::uint32_t r = 0; r < replicas_ && whole; ++r) whole = advance_replica(r, epoch_end, stop);
            if (!whole) {
                // Stopped inside an epoch: its spikes are dropped (now() stays at the last epoch
                // end, which every observer saw completely). The replicas' states are past now()
                // then: an interrupted simulator is not advanced further.
                epoch_spikes_.clear();
                stats_.interrupted = true;
                break;
            }
            // Observers see spikes in time order (then population, node), as in the interleaved loop.
            std::sort(epoch_spikes_.begin(), epoch_spikes_.end(), [](const RecordedSpike& a, const RecordedSpike& b) {
                return a.t < b.t || (a.t == b.t && (a.population < b.population ||
                                                    (a.population == b.population && a.node < b.node)));
            });
            for (const RecordedSpike& sp : epoch_spikes_) observer.on_spike(sp.population, sp.node, sp.t);
            epoch_spikes_.clear();
            now_ = epoch_end;
            stats_.simulated_ms = epoch_end;
            if (before / progress_every != stats_.events / progress_every) observer.on_progress(epoch_end, stats_.events);
            if (epoch_end < t_global) {  // a cut, not a global event
                if (epoch_end >= t_stop) break;
                if (stop && stop->load(std::memory_order_relaxed)) {
                    stats_.interrupted = true;
                    break;
                }
                continue;
            }
            if (t_global > t_stop) break;
            // An interruption takes effect between epochs, when every replica is at one time.
            if (stop && stop->load(std::memory_order_relaxed)) {
                stats_.interrupted = true;
                break;
            }
            process_global(queue_.pop(), observer, row);
        }
        if (!stats_.interrupted) now_ = t_stop;
        stats_.simulated_ms = now_;
        observer_ = nullptr;
        commit_dense_inputs();
        return stats_;
    }
    while (true) {
        // The earliest of the three fronts, in the kernel's total order.
        if (lane_size_ < lane_depth) fill_lane();
        const bool from_queue = !queue_.empty();
        const bool from_heap = !stream_heap_.empty() && stream_heap_.top().t != never;
        const bool from_lane = lane_size_ > 0;
        if (!from_queue && !from_heap && !from_lane) break;
        bool take_heap = from_heap;
        if (from_queue && from_heap) {
            const StreamHeap::Entry& h = stream_heap_.top();
            take_heap = queue_.top() > Event{h.t, EventClass::candidate, h.population, h.stream};
        }
        if (from_lane) {
            const LaneEntry& l = lane_[lane_head_];
            const Event lane_event{l.candidate.t, EventClass::candidate, l.population, l.stream};
            const bool lane_first =
                (!from_queue && !from_heap) ||
                (take_heap ? Event{stream_heap_.top().t, EventClass::candidate, stream_heap_.top().population,
                                   stream_heap_.top().stream} > lane_event
                           : (!from_queue || queue_.top() > lane_event));
            if (lane_first) {
                if (l.candidate.t > t_stop) break;
                if (stop && (stats_.events % 256 == 0) && stop->load(std::memory_order_relaxed)) {
                    stats_.interrupted = true;
                    break;
                }
                now_ = l.candidate.t;
                stats_.simulated_ms = now_;
                process_lane_front();
                if (stats_.events % progress_every == 0) observer.on_progress(now_, stats_.events);
                continue;
            }
        }
        const time_ms t_next = take_heap ? stream_heap_.top().t : queue_.top().t;
        if (t_next > t_stop) break;
        if (stop && (stats_.events % 256 == 0) && stop->load(std::memory_order_relaxed)) {
            stats_.interrupted = true;
            break;
        }
        now_ = t_next;
        stats_.simulated_ms = t_next;
        if (take_heap) {
            const StreamHeap::Entry h = stream_heap_.top();
            process_candidate(h.population, h.stream, h.t);
            if (stats_.events % progress_every == 0) observer.on_progress(h.t, stats_.events);
            continue;
        }
        if (network_.projection_count() > 0) prefetch_ahead();  // hints for CSR state only
        const Event e = queue_.pop();
        switch (e.cls) {
        case EventClass::delivery:
            ++stats_.events;
            deliver(network_.projection(e.a), e.b, e.t);
            break;
        case EventClass::candidate:
            if (pending_[e.a][e.b] != e.t) break;  // stale: its stream was rescheduled
            process_candidate(e.a, e.b, e.t);
            break;
        case EventClass::sample:
        case EventClass::sync:
        case EventClass::rebase:
            process_global(e, observer, row);
            break;
        }
        if (stats_.events % progress_every == 0) observer.on_progress(e.t, stats_.events);
    }
    if (!stats_.interrupted) now_ = t_stop;
    stats_.simulated_ms = now_;
    observer_ = nullptr;
    commit_dense_inputs();
    return stats_;
}

void Simulator::finish() {
    // What the replicas buffered since the last sync point is applied now, like the CSR rules'
    // update_all: the final weights include every change.
    for (std::size_t d = 0; d < network_.dense_projection_count(); ++d)
        if (DensePlasticityRule* rule = network_.dense_projection(d).rule()) rule->synchronize(now_);
    for (std::size_t p = 0; p < network_.population_count(); ++p) network_.population(p).advance_all(now_);
    for (std::size_t p = 0; p < network_.projection_count(); ++p)
        if (PlasticityRule* rule = network_.projection(p).rule()) rule->update_all(now_);
    stats_.simulated_ms = now_;
}

}  // namespace settle
