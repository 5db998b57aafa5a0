#include "sim/connectivity.hpp"

#include <algorithm>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

#include "sim/random.hpp"

namespace settle {

std::vector<std::pair<node_index, node_index>> make_pairs(const ConnectionRule& rule, std::size_t n_source,
                                                          std::size_t n_target, bool same_population,
                                                          std::uint64_t seed, std::uint32_t projection_key) {
    std::vector<std::pair<node_index, node_index>> pairs;
    const bool skip_self = same_population && !rule.allow_autapses;
    using K = ConnectionRule::Kind;
    switch (rule.kind) {
    case K::one_to_one:
        if (n_source != n_target)
            throw std::invalid_argument("one_to_one needs equal sizes, got " + std::to_string(n_source) + " and " +
                                        std::to_string(n_target));
        for (std::size_t i = 0; i < n_source; ++i)
            if (!skip_self) pairs.emplace_back(i, i);
        break;
    case K::all_to_all:
        pairs.reserve(n_source * n_target);
        for (std::size_t t = 0; t < n_target; ++t)
            for (std::size_t s = 0; s < n_source; ++s)
                if (!(skip_self && s == t)) pairs.emplace_back(s, t);
        break;
    case K::fixed_probability:
        for (std::size_t t = 0; t < n_target; ++t) {
            CounterRng rng(seed, projection_key, static_cast<std::uint32_t>(t), StreamKind::connectivity);
            for (std::size_t s = 0; s < n_source; ++s) {
                const double u = rng.uniform();
                if (u < rule.probability && !(skip_self && s == t)) pairs.emplace_back(s, t);
            }
        }
        break;
    case K::fixed_indegree: {
        const std::size_t available = n_source - (skip_self ? 1 : 0);
        if (!rule.allow_multapses && rule.indegree > available)
            throw std::invalid_argument("fixed_indegree " + std::to_string(rule.indegree) + " exceeds the " +
                                        std::to_string(available) + " available sources (set allow_multapses)");
        for (std::size_t t = 0; t < n_target; ++t) {
            CounterRng rng(seed, projection_key, static_cast<std::uint32_t>(t), StreamKind::connectivity);
            std::unordered_set<std::size_t> chosen;
            std::vector<node_index> sources;
            while (sources.size() < rule.indegree) {
                const std::size_t s = rng.below(n_source);
                if (skip_self && s == t) continue;
                if (!rule.allow_multapses && !chosen.insert(s).second) continue;
                sources.push_back(static_cast<node_index>(s));
            }
            std::sort(sources.begin(), sources.end());
            for (auto s : sources) pairs.emplace_back(s, t);
        }
        break;
    }
    case K::explicit_list:
        if (rule.sources.size() != rule.targets.size())
            throw std::invalid_argument("explicit sources and targets differ in length");
        for (std::size_t i = 0; i < rule.sources.size(); ++i) {
            const auto s = rule.sources[i];
            const auto t = rule.targets[i];
            if (s < 0 || static_cast<std::size_t>(s) >= n_source)
                throw std::invalid_argument("explicit source " + std::to_string(s) + " outside [0, " +
                                            std::to_string(n_source) + ")");
            if (t < 0 || static_cast<std::size_t>(t) >= n_target)
                throw std::invalid_argument("explicit target " + std::to_string(t) + " outside [0, " +
                                            std::to_string(n_target) + ")");
            pairs.emplace_back(static_cast<node_index>(s), static_cast<node_index>(t));
        }
        break;
    }
    return pairs;
}

std::vector<double> make_values(const ValueInit& init, const std::vector<std::pair<node_index, node_index>>& pairs,
                                std::uint64_t seed, std::uint32_t projection_key, bool for_delays) {
    using K = ValueInit::Kind;
    std::vector<double> out(pairs.size());
    if (init.kind == K::explicit_values) {
        if (init.values.size() != pairs.size())
            throw std::invalid_argument("explicit values: " + std::to_string(init.values.size()) + " given for " +
                                        std::to_string(pairs.size()) + " connections");
        return init.values;
    }
    if (init.kind == K::constant) {
        std::fill(out.begin(), out.end(), init.value);
        return out;
    }
    // Each target node has its own stream; pairs arrive grouped by target for generated rules,
    // but explicit lists may interleave, so keep one stream per target.
    const StreamKind kind = for_delays ? StreamKind::delays : StreamKind::weights;
    std::unordered_map<node_index, CounterRng> streams;
    auto stream_for = [&](node_index t) -> CounterRng& {
        auto it = streams.find(t);
        if (it == streams.end()) it = streams.emplace(t, CounterRng(seed, projection_key, t, kind)).first;
        return it->second;
    };
    for (std::size_t i = 0; i < pairs.size(); ++i) {
        CounterRng& rng = stream_for(pairs[i].second);
        if (init.kind == K::uniform) {
            out[i] = init.low + (init.high - init.low) * rng.uniform();
        } else {
            out[i] = std::clamp(init.mean + init.std * rng.normal(), init.min, init.max);
        }
    }
    return out;
}

}  // namespace settle
