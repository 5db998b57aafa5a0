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
    // Stable sort keeps the given order of equal (source, delay, target) multapses.
    std::stable_sort(connections.begin(), connections.end(), [](const Connection& a, const Connection& b) {
        if (a.source != b.source) return a.source < b.source;
        if (a.delay_ms != b.delay_ms) return a.delay_ms < b.delay_ms;
        return a.target < b.target;
    });
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
