#include "neurons/pooled_poisson_source.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace settle {

PooledPoissonSource::PooledPoissonSource(std::string name, std::size_t units, std::uint32_t replicas,
                                         double rate_max_hz, std::uint32_t first_replica)
    : Population(std::move(name), units * replicas),
      n_(units),
      replicas_(replicas),
      first_replica_(first_replica),
      rate_max_per_ms_(rate_max_hz * 1e-3) {
    if (units == 0 || replicas == 0)
        throw std::invalid_argument("population '" + this->name() + "': needs at least one unit and one replica");
    if (!(rate_max_hz > 0.0 && std::isfinite(rate_max_hz)))
        throw std::invalid_argument("population '" + this->name() + "': rate_max_hz must be finite and > 0");
    rep_.resize(replicas_);
    for (Replica& r : rep_) {
        r.x.assign(n_, 0.0);
        r.table.resize(n_);
        for (std::size_t j = 0; j < n_; ++j) r.table[j] = {1.0, static_cast<node_index>(j)};
    }
}

void PooledPoissonSource::initialize(std::uint64_t seed, time_ms t_start) {
    for (std::uint32_t r = 0; r < replicas_; ++r) {
        rep_[r].rng = CounterRng(seed, key(), replica_keys_.empty() ? first_replica_ + r : replica_keys_[r], StreamKind::emission);
        draw_next(r, t_start);
    }
    initialized_ = true;
}

void PooledPoissonSource::set_replica_keys(std::vector<std::uint32_t> keys) {
    if (keys.size() != replicas_) throw std::invalid_argument("population '" + name() + "': one key per replica");
    replica_keys_ = std::move(keys);
}

void PooledPoissonSource::draw_next(std::uint32_t replica, time_ms t) {
    Replica& rep = rep_[replica];
    const double total = rep.total * rate_max_per_ms_;
    rep.next = total > 0.0 ? t + rep.rng.exponential(total) : never;
    // The next spike's alias-table column is usually known now (its uniform is in the buffer):
    // fetch it while other streams run, so that resolve_stream need not wait for it.
    const double u = rep.rng.peek_uniform();
    if (u >= 0.0) __builtin_prefetch(&rep.table[std::min(static_cast<std::size_t>(u * static_cast<double>(n_)), n_ - 1)]);
}

void PooledPoissonSource::set_rates(std::uint32_t replica, time_ms t, const std::vector<double>& x) {
    if (replica >= replicas_) throw std::out_of_range("population '" + name() + "': replica out of range");
    if (x.size() != n_)
        throw std::invalid_argument("population '" + name() + "': " + std::to_string(x.size()) + " rates for " +
                                    std::to_string(n_) + " units");
    Replica& rep = rep_[replica];
    double sum = 0.0;
    for (std::size_t j = 0; j < n_; ++j) {
        if (!(x[j] >= 0.0 && x[j] <= 1.0))
            throw std::invalid_argument("population '" + name() + "': rate fraction " + std::to_string(x[j]) +
                                        " of unit " + std::to_string(j) + " outside [0, 1]");
        sum += x[j];
    }
    rep.x = x;
    rep.total = sum;
    // Walker's alias table (Vose's construction): scaled probabilities n x_j / sum, columns below
    // 1 topped up by one column above 1. Deterministic: the work lists are in index order.
    std::vector<double> scaled(n_, 1.0);
    if (sum > 0.0)
        for (std::size_t j = 0; j < n_; ++j) scaled[j] = x[j] * static_cast<double>(n_) / sum;
    std::vector<node_index> small, large;
    for (std::size_t j = 0; j < n_; ++j) (scaled[j] < 1.0 ? small : large).push_back(static_cast<node_index>(j));
    std::size_t si = 0, li = 0;
    while (si < small.size() && li < large.size()) {
        const node_index s = small[si++], l = large[li];
        rep.table[s] = {scaled[s], l};
        scaled[l] -= 1.0 - scaled[s];
        if (scaled[l] < 1.0) {
            ++li;
            small.push_back(l);
        }
    }
    // What is left is 1 up to rounding.
    for (; li < large.size(); ++li) {
        rep.table[large[li]] = {1.0, large[li]};
    }
    // A unit with x = 0 is never left over (its deficit is 1, not rounding); the guard keeps it
    // silent whatever the rounding.
    const auto positive = static_cast<node_index>(std::find_if(x.begin(), x.end(), [](double v) { return v > 0.0; }) - x.begin());
    for (; si < small.size(); ++si) {
        const node_index s = small[si];
        rep.table[s] = {x[s] > 0.0 ? 1.0 : 0.0, x[s] > 0.0 || positive >= n_ ? s : positive};
    }
    if (initialized_) draw_next(replica, t);
}

Population::Emission PooledPoissonSource::resolve_stream(std::size_t stream, time_ms t) {
    const auto r = static_cast<std::uint32_t>(stream);
    Replica& rep = rep_[r];
    const double scaled = rep.rng.uniform() * static_cast<double>(n_);
    const double column = std::floor(scaled);
    const auto j = static_cast<std::size_t>(std::min(column, static_cast<double>(n_ - 1)));
    const auto& c = rep.table[j];
    const node_index unit = scaled - column < c.keep ? static_cast<node_index>(j) : c.alias;
    draw_next(r, t);
    return {unit, r, 1u};
}

double PooledPoissonSource::read(node_index node, int element_id, time_ms t) {
    if (element_id != 4 || node >= size()) return Population::read(node, element_id, t);
    return rep_[node / n_].x[node % n_] * rate_max_per_ms_ * 1e3;
}

}  // namespace settle
