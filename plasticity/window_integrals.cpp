#include "plasticity/window_integrals.hpp"

#include <algorithm>
#include <stdexcept>

namespace settle {

void WindowIntegrals::reset(std::size_t n_neurons, std::size_t n_synapses, const std::vector<double>& inv_tau) {
    if (inv_tau.empty() || inv_tau.size() > max_tau) throw std::invalid_argument("WindowIntegrals: 1 to 4 time constants");
    used_ = inv_tau.size();
    inv_tau_ = {};
    for (std::size_t j = 0; j < used_; ++j) {
        if (!(inv_tau[j] > 0.0) || !std::isfinite(inv_tau[j]))
            throw std::invalid_argument("WindowIntegrals: time constants must be finite and > 0");
        inv_tau_[j] = inv_tau[j];
    }
    const double fastest = *std::max_element(inv_tau.begin(), inv_tau.end());
    const double slowest = *std::min_element(inv_tau.begin(), inv_tau.end());
    epoch_length_ = 6.0 / fastest;
    horizon_ = epoch_length_ + 45.0 / slowest;
    neurons_.assign(n_neurons, Neuron{});
    refs_.assign(n_synapses, Ref{});
    records_.clear();
    free_.clear();
}

void WindowIntegrals::start(node_index node, time_ms t) {
    Neuron& n = neurons_[node];
    if (n.t == -std::numeric_limits<double>::infinity()) n.t = n.T = t;
}

void WindowIntegrals::add_piece(node_index node, time_ms t0, time_ms t1, const Values& D) {
    Neuron& n = neurons_[node];
    if (n.t == -std::numeric_limits<double>::infinity()) n.t = n.T = t0;
    if (t0 != n.t) throw std::logic_error("WindowIntegrals: pieces of a neuron must be contiguous");
    const double age = t0 - n.T;
    for (std::size_t j = 0; j < used_; ++j) n.K[j] += std::exp(-age * inv_tau_[j]) * D[j];
    n.t = t1;
}

void WindowIntegrals::add_impulse(node_index node, time_ms t, double v) {
    Neuron& n = neurons_[node];
    start(node, t);
    const double age = t - n.T;
    for (std::size_t j = 0; j < used_; ++j) n.K[j] += std::exp(-age * inv_tau_[j]) * v;
}

WindowIntegrals::Values WindowIntegrals::integral(std::size_t c, node_index node) const {
    Values F{};
    const Ref& s = refs_[c];
    if (s.record == none) return F;
    const Neuron& n = neurons_[node];
    const Record& R = records_[s.record];
    const double lead = s.t - R.T;
    const double age = n.T - R.T;
    for (std::size_t j = 0; j < used_; ++j) {
        double Rt = R.base[j];
        if (R.live) Rt += std::exp(-age * inv_tau_[j]) * n.K[j];
        F[j] = std::exp(lead * inv_tau_[j]) * (Rt - s.r[j]);
    }
    return F;
}

std::uint32_t WindowIntegrals::new_record(time_ms T) {
    std::uint32_t k;
    if (!free_.empty()) {
        k = free_.back();
        free_.pop_back();
        records_[k] = Record{};
    } else {
        k = static_cast<std::uint32_t>(records_.size());
        records_.emplace_back();
    }
    records_[k].T = T;
    return k;
}

std::uint32_t WindowIntegrals::current_record(Neuron& n, time_ms t) {
    if (n.current != none && t - n.T <= epoch_length_) return n.current;
    // New epoch at t: fold the closing epoch into every live record, retire records past the
    // horizon, free records nobody refers to.
    if (n.current != none) {
        std::size_t kept = 0;
        for (std::uint32_t k : n.live) {
            Record& R = records_[k];
            const double age = n.T - R.T;
            for (std::size_t j = 0; j < used_; ++j) R.base[j] += std::exp(-age * inv_tau_[j]) * n.K[j];
            R.current = false;
            if (t - R.T > horizon_) R.live = false;
            if (R.refs == 0) {
                R.live = false;
                free_.push_back(k);
            } else if (R.live) {
                n.live[kept++] = k;
            }
        }
        n.live.resize(kept);
    }
    const std::uint32_t k = new_record(t);
    records_[k].live = records_[k].current = true;
    n.live.push_back(k);
    n.current = k;
    n.T = t;
    n.K = {};
    return k;
}

void WindowIntegrals::refer(std::size_t c, node_index node, time_ms t) {
    Neuron& n = neurons_[node];
    start(node, t);
    if (t != n.t) throw std::logic_error("WindowIntegrals: a synapse refers to a neuron that is not at its time");
    const std::uint32_t k = current_record(n, t);
    Ref& s = refs_[c];
    if (k != s.record) {
        forget(c);
        ++records_[k].refs;
        s.record = k;
    }
    s.t = t;
    const Record& R = records_[k];
    for (std::size_t j = 0; j < used_; ++j) s.r[j] = R.base[j] + n.K[j];
}

void WindowIntegrals::forget(std::size_t c) {
    Ref& s = refs_[c];
    if (s.record == none) return;
    Record& R = records_[s.record];
    if (--R.refs == 0 && !R.live && !R.current) free_.push_back(s.record);
    s.record = none;
}

std::size_t WindowIntegrals::live_records() const {
    std::size_t n = 0;
    for (const auto& ns : neurons_) n += ns.live.size();
    return n;
}

}  // namespace settle
