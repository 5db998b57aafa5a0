#pragma once
// A toy leaky integrator with linear Poisson emission. Source: a test fixture (settle's own,
// no paper, no other simulator): it exists to check the steps of docs/architecture.md,
// "Adding a neuron model", and is not a product model (it is registered only by the test that
// uses it, tests/unit/test_toy_model.cpp).
//
//   membrane   tau dV/dt = -(V - E_L) + R I(t),   R I(t) = sum_k w_k delta(t - t_k)
//              (delta synapses: an input of weight w at t_k makes V jump by w / tau);
//              between inputs, in closed form, V(t) = E_L + (V(t0) - E_L) exp(-(t - t0) / tau)
//   emission   Poisson with rate r(V) = r_max clamp((V - V_lo) / (V_hi - V_lo), 0, 1), drawn
//              exactly by thinning at r_max: candidate times at rate r_max from the node's
//              emission stream (they do not depend on V), a candidate at t kept iff
//              u r_max < r(V(t)), with u uniform on (0, 1) from the same stream.
//              No reset, no refractoriness: a spike leaves V unchanged.
//
// Units: time ms; V, E_L, V_init, V_lo, V_hi in mV; tau in ms; weights in mV ms (a weight w
// moves V by w / tau mV); r_max configured in Hz (r_max_hz) and used in 1/ms.
//
// State: per node, the potential V_ref at a reference time t_ref (the last input, or the start).
// V(t) is the closed form evaluated from (t_ref, V_ref) and never stored, so read() is a pure
// function of the state: recording changes nothing, not even rounding. Only receive() (and
// advance_all(), at the end of a run) moves the reference.
#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/parameters.hpp"
#include "sim/population.hpp"
#include "sim/random.hpp"

namespace settle::testing {

struct ToyLeakyParameters {
    double tau_ms = 10.0;     // ms, membrane time constant
    double E_L = -65.0;       // mV, resting potential
    double V_init = -65.0;    // mV, initial potential
    double V_lo = -70.0;      // mV, r(V) = 0 at and below
    double V_hi = -50.0;      // mV, r(V) = r_max at and above
    double r_max_hz = 100.0;  // Hz, maximal rate (the thinning bound); 0: never emits

    // The first bad parameter and why, or nothing. (A config reader turns it into
    // t.fail(parameter, reason), so the error names the config key.)
    struct Problem {
        std::string parameter, reason;
    };
    std::optional<Problem> problem() const {
        auto finite = [](double v) { return std::isfinite(v); };
        if (!(tau_ms > 0.0 && finite(tau_ms))) return Problem{"tau_ms", "must be > 0 and finite, got " + std::to_string(tau_ms)};
        if (!finite(E_L)) return Problem{"E_L", "must be finite"};
        if (!finite(V_init)) return Problem{"V_init", "must be finite"};
        if (!finite(V_lo)) return Problem{"V_lo", "must be finite"};
        if (!(V_hi > V_lo && finite(V_hi)))
            return Problem{"V_hi", "must be finite and > V_lo (" + std::to_string(V_lo) + "), got " + std::to_string(V_hi)};
        if (!(r_max_hz >= 0.0 && finite(r_max_hz)))
            return Problem{"r_max_hz", "must be >= 0 and finite, got " + std::to_string(r_max_hz)};
        return std::nullopt;
    }
    // Throws std::invalid_argument naming the first bad parameter.
    void validate() const {
        if (auto p = problem()) throw std::invalid_argument(p->parameter + " " + p->reason);
    }

    // Name, unit and meaning of every parameter (the config keys are these names).
    static const std::vector<ParameterInfo<ToyLeakyParameters>>& table() {
        using P = ToyLeakyParameters;
        static const std::vector<ParameterInfo<P>> t = {
            {"tau_ms", "ms", "membrane time constant", &P::tau_ms},
            {"E_L", "mV", "resting potential", &P::E_L},
            {"V_init", "mV", "initial potential", &P::V_init},
            {"V_lo", "mV", "potential below which the rate is 0", &P::V_lo},
            {"V_hi", "mV", "potential above which the rate is r_max", &P::V_hi},
            {"r_max_hz", "Hz", "maximal rate, the thinning bound", &P::r_max_hz},
        };
        return t;
    }
};

class ToyLeakyPopulation final : public Population {
public:
    enum Receptor : int { soma = 0 };
    enum Element : int { V = 0 };

    ToyLeakyPopulation(std::string name, std::size_t size, ToyLeakyParameters params)
        : Population(std::move(name), size), p_(params) {
        p_.validate();
    }

    std::string model() const override { return "toy_leaky"; }

    void initialize(std::uint64_t seed, time_ms t_start) override {
        seed_ = seed;
        nodes_.assign(size(), Node{});
        for (node_index i = 0; i < size(); ++i) {
            Node& n = nodes_[i];
            n.t_ref = t_start;
            n.V_ref = p_.V_init;
            if (bound() > 0.0) {
                CounterRng rng(seed, key(), i, StreamKind::emission);
                n.next_candidate = t_start + rng.exponential(bound());
                n.rng_counter = rng.counter();
            }
        }
    }

    std::vector<std::string> receptors() const override { return {"soma"}; }

    void receive(node_index node, time_ms t, double weight, int receptor) override {
        if (receptor != soma) throw std::logic_error("toy_leaky: unknown receptor " + std::to_string(receptor));
        Node& n = nodes_[node];
        n.V_ref = potential(n, t) + weight / p_.tau_ms;
        n.t_ref = t;
    }

    time_ms next_candidate(node_index node) const override { return nodes_[node].next_candidate; }

    bool resolve_candidate(node_index node, time_ms t) override {
        Node& n = nodes_[node];
        CounterRng rng(seed_, key(), node, StreamKind::emission, n.rng_counter);
        const double u = rng.uniform();  // the acceptance draw, then the next candidate
        const bool spike = u * bound() < rate(potential(n, t));
        n.next_candidate = t + rng.exponential(bound());
        n.rng_counter = rng.counter();
        return spike;  // no reset: V is unchanged
    }

    std::vector<StateVariable> state_variables() const override { return {{"V", "mV", V}}; }

    double read(node_index node, int element_id, time_ms t) override {
        if (element_id != V) return Population::read(node, element_id, t);
        return potential(nodes_[node], t);  // changes nothing
    }

    void advance_all(time_ms t) override {
        for (Node& n : nodes_) {
            n.V_ref = potential(n, t);
            n.t_ref = t;
        }
    }

    const ToyLeakyParameters& parameters() const { return p_; }
    // r(V) in 1/ms.
    double rate(double v) const {
        return bound() * std::clamp((v - p_.V_lo) / (p_.V_hi - p_.V_lo), 0.0, 1.0);
    }

private:
    struct Node {
        time_ms t_ref = 0.0;  // time V_ref refers to
        double V_ref = 0.0;   // mV
        time_ms next_candidate = never;
        std::uint64_t rng_counter = 0;
    };
    double bound() const { return 1e-3 * p_.r_max_hz; }  // r_max in 1/ms
    double potential(const Node& n, time_ms t) const {
        return p_.E_L + (n.V_ref - p_.E_L) * std::exp(-(t - n.t_ref) / p_.tau_ms);
    }

    ToyLeakyParameters p_;
    std::vector<Node> nodes_;
    std::uint64_t seed_ = 0;
};

}  // namespace settle::testing
