#include "sim/projection.hpp"

#include <algorithm>
#include <stdexcept>

namespace settle {

Projection::Projection(std::string name, std::size_t source_population, std::size_t target_population,
                       int receptor, std::vector<Connection> connections, std::size_t n_sources)
    : name_(std::move(name)),
      source_population_(source_population),
      target_population_(target_population),
      receptor_(receptor) {
    // Ordered by (source, delay, target), keeping the given order of equal multapses: a counting
    // sort by source (stable, linear), then each source's connections by (delay, target) with a
    // stable sort. The same order as one stable sort of the whole, without its n log n (ten
    // million connections took seconds to build).
    {
        std::vector<std::size_t> start(n_sources + 1, 0);
        for (const Connection& con : connections) {
            if (con.source >= n_sources) throw std::out_of_range("projection '" + name_ + "': source index out of range");
            ++start[con.source + 1];
        }
        for (std::size_t s = 0; s < n_sources; ++s) start[s + 1] += start[s];
        std::vector<Connection> by_source(connections.size());
        std::vector<std::size_t> next(start.begin(), start.end() - 1);
        for (const Connection& con : connections) by_source[next[con.source]++] = con;
        for (std::size_t s = 0; s < n_sources; ++s)
            if (start[s + 1] - start[s] > 1)
                std::stable_sort(by_source.begin() + static_cast<std::ptrdiff_t>(start[s]),
                                 by_source.begin() + static_cast<std::ptrdiff_t>(start[s + 1]),
                                 [](const Connection& a, const Connection& b) {
                                     if (a.delay_ms != b.delay_ms) return a.delay_ms < b.delay_ms;
                                     return a.target < b.target;
                                 });
        connections = std::move(by_source);
    }
    const std::size_t n = connections.size();
    sources_.resize(n);
    targets_.resize(n);
    weights_.resize(n);
    delays_.resize(n);
    row_groups_.assign(n_sources + 1, 0);
    for (std::size_t c = 0; c < n; ++c) {
        const auto& con = connections[c];
        if (con.source >= n_sources) throw std::out_of_range("projection '" + name_ + "': source index out of range");
        if (!(con.delay_ms >= 0.0)) throw std::invalid_argument("projection '" + name_ + "': negative delay");
        sources_[c] = con.source;
        targets_[c] = con.target;
        weights_[c] = con.weight;
        delays_[c] = con.delay_ms;
        const bool new_group = c == 0 || con.source != connections[c - 1].source ||
                               con.delay_ms != connections[c - 1].delay_ms;
        if (new_group) {
            groups_.push_back({con.delay_ms, c});
            row_groups_[con.source + 1] += 1;
        }
    }
    groups_.push_back({0.0, n});
    for (std::size_t s = 0; s < n_sources; ++s) row_groups_[s + 1] += row_groups_[s];
}

}  // namespace settle
