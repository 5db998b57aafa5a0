#pragma once
// Connection rules and initialisers for weights and delays. All random choices come from
// counter-based streams keyed by the projection's name and the target node, so a projection's
// synapses do not depend on any other part of the network.
#include <cstdint>
#include <string>
#include <vector>

#include "sim/projection.hpp"

namespace settle {

struct ConnectionRule {
    enum class Kind { one_to_one, all_to_all, fixed_probability, fixed_indegree, explicit_list };
    Kind kind = Kind::all_to_all;
    double probability = 0.0;       // fixed_probability
    std::uint64_t indegree = 0;     // fixed_indegree
    bool allow_autapses = true;     // only matters when source and target are the same population
    bool allow_multapses = false;   // fixed_indegree: may a source be drawn twice for one target?
    std::vector<std::int64_t> sources, targets;  // explicit_list
};

struct ValueInit {
    enum class Kind { constant, uniform, normal, explicit_values };
    Kind kind = Kind::constant;
    double value = 0.0;             // constant
    double low = 0.0, high = 0.0;   // uniform
    double mean = 0.0, std = 0.0;   // normal
    double min = -1e300, max = 1e300;  // normal draws are clipped to [min, max]
    std::vector<double> values;     // explicit, one per connection in rule order
};

// Pairs (source, target) in rule order: by target, then source for the generated rules.
std::vector<std::pair<node_index, node_index>> make_pairs(const ConnectionRule& rule, std::size_t n_source,
                                                          std::size_t n_target, bool same_population,
                                                          std::uint64_t seed, std::uint32_t projection_key);

// One value per pair; draws are keyed by (projection, target node, kind).
std::vector<double> make_values(const ValueInit& init, const std::vector<std::pair<node_index, node_index>>& pairs,
                                std::uint64_t seed, std::uint32_t projection_key, bool for_delays);

}  // namespace settle
