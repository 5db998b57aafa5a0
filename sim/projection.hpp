#pragma once
// A projection: the synapses from one population to a receptor of another.
//
// Storage is CSR by source node, and within a source by delay: a spike of a source is one
// delivery event per distinct delay, which then walks a contiguous range of (target, weight).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/types.hpp"

namespace settle {

class Population;
class Projection;

// A plasticity rule attached to a projection. The kernel calls it at the synapse's own
// pre-synaptic deliveries and at the target's spikes; a rule keeps whatever per-neuron or
// per-synapse state it needs. Rules live in plasticity/; the kernel knows none of them.
class PlasticityRule {
public:
    virtual ~PlasticityRule() = default;
    virtual std::string name() const = 0;
    // Called once before the run.
    virtual void attach(Projection& projection, Population& source, Population& target) = 0;
    // A pre-synaptic spike reaches synapse `connection` at t: bring its weight up to t (the
    // weight used for this very spike is the returned, updated one).
    virtual void on_delivery(std::size_t connection, time_ms t) = 0;
    // The target neuron `node` emitted a spike at t.
    virtual void on_post_spike(node_index node, time_ms t) = 0;
    // End of run, or a read: bring every weight up to t.
    virtual void update_all(time_ms t) = 0;
    // A read of one weight: bring synapse `connection` up to t (default: weights are always current).
    virtual void update_connection(std::size_t /*connection*/, time_ms /*t*/) {}
};

struct Connection {
    node_index source;
    node_index target;
    double weight;
    double delay_ms;
};

class Projection {
public:
    Projection(std::string name, std::size_t source_population, std::size_t target_population,
               int receptor, std::vector<Connection> connections, std::size_t n_sources);

    const std::string& name() const { return name_; }
    std::size_t source_population() const { return source_population_; }
    std::size_t target_population() const { return target_population_; }
    int receptor() const { return receptor_; }
    std::size_t size() const { return targets_.size(); }

    // CSR access: the delay groups of a source, then the connections of a group.
    std::uint64_t groups_begin(node_index source) const { return row_groups_[source]; }
    std::uint64_t groups_end(node_index source) const { return row_groups_[source + 1]; }
    double group_delay(std::uint64_t group) const { return groups_[group].delay_ms; }
    std::uint64_t group_first(std::uint64_t group) const { return groups_[group].first; }
    std::uint64_t group_last(std::uint64_t group) const { return groups_[group + 1].first; }

    node_index source_of(std::size_t c) const { return sources_[c]; }
    node_index target_of(std::size_t c) const { return targets_[c]; }
    double delay_of(std::size_t c) const { return delays_[c]; }
    double weight(std::size_t c) const { return weights_[c]; }
    double& weight(std::size_t c) { return weights_[c]; }
    std::vector<double>& weights() { return weights_; }
    const std::vector<double>& weights() const { return weights_; }

    // Prefetch hints (see Population::prefetch), in two stages so that each stage reads only
    // what the previous one brought into cache: the CSR row of a source, then its groups'
    // first connections.
    void prefetch_row(node_index source) const { __builtin_prefetch(&row_groups_[source]); }
    void prefetch_groups(node_index source) const {
        for (auto g = row_groups_[source]; g < row_groups_[source + 1]; ++g) prefetch_group(g);
    }
    void prefetch_group(std::uint64_t g) const {
        __builtin_prefetch(&groups_[g]);
        const auto first = groups_[g].first;
        __builtin_prefetch(&targets_[first]);
        __builtin_prefetch(&weights_[first]);
    }
    // The same in one more stage (the kernel's lookahead lane, which has the room): the groups'
    // records, then (once they are in cache) their first connections. No stage waits on memory.
    void prefetch_group_records(node_index source) const {
        for (auto g = row_groups_[source]; g < row_groups_[source + 1]; ++g) __builtin_prefetch(&groups_[g]);
    }
    void prefetch_connections(node_index source) const {
        for (auto g = row_groups_[source]; g < row_groups_[source + 1]; ++g) {
            const auto first = groups_[g].first;
            __builtin_prefetch(&targets_[first]);
            __builtin_prefetch(&weights_[first]);
        }
    }

    void set_rule(std::unique_ptr<PlasticityRule> rule) { rule_ = std::move(rule); }
    PlasticityRule* rule() const { return rule_.get(); }

private:
    std::string name_;
    std::size_t source_population_;
    std::size_t target_population_;
    int receptor_;
    // Connection arrays, sorted by (source, delay, target).
    std::vector<node_index> sources_;
    std::vector<node_index> targets_;
    std::vector<double> weights_;
    std::vector<double> delays_;
    std::vector<std::uint64_t> row_groups_;   // n_sources + 1
    // Delay groups side by side with their first connection, so a spike touches one cache line
    // per group; a sentinel closes the last group.
    struct Group {
        double delay_ms;
        std::uint64_t first;
    };
    std::vector<Group> groups_;  // n_groups + 1
    std::unique_ptr<PlasticityRule> rule_;
};

}  // namespace settle
