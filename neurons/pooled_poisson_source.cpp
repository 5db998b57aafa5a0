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
        r.cumulative.assign(n_, 0.0);
    }
}

void PooledPoissonSource::initialize(std::uint64_t seed, time_ms t_start) {
    for (std::uint32_t r = 0; r < replicas_; ++r) {
        rep_[r].rng = CounterRng(seed, key(), first_replica_ + r, StreamKind::emission);
        draw_next(r, t_start);
    }
    initialized_ = true;
}

void PooledPoissonSource::draw_next(std::uint32_t replica, time_ms t) {
    Replica& rep = rep_[replica];
    const double total = rep.cumulative.back() * rate_max_per_ms_;
    rep.next = total > 0.0 ? t + rep.rng.exponential(total) : never;
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
        rep.cumulative[j] = sum;
    }
    rep.x = x;
    if (initialized_) draw_next(replica, t);
}

Population::Emission PooledPoissonSource::resolve_stream(std::size_t stream, time_ms t) {
    const auto r = static_cast<std::uint32_t>(stream);
    Replica& rep = rep_[r];
    const double u = rep.rng.uniform() * rep.cumulative.back();
    // The first unit whose cumulative rate exceeds u; units with x = 0 are never chosen.
    auto it = std::upper_bound(rep.cumulative.begin(), rep.cumulative.end(), u);
    if (it == rep.cumulative.end()) --it;  // u rounded up to the total
    const auto unit = static_cast<node_index>(it - rep.cumulative.begin());
    draw_next(r, t);
    return {unit, r, 1u};
}

double PooledPoissonSource::read(node_index node, int element_id, time_ms t) {
    if (element_id != 4 || node >= size()) return Population::read(node, element_id, t);
    return rep_[node / n_].x[node % n_] * rate_max_per_ms_ * 1e3;
}

}  // namespace settle
