#pragma once
// Poisson spike sources with a constant, sinusoidal or piecewise-constant (data-driven) rate.
//
// An inhomogeneous Poisson process with rate lambda(t) <= lambda_max is drawn exactly by
// thinning (Lewis & Shedler 1979): candidates at rate lambda_max, each kept with probability
// lambda(t) / lambda_max. Rates are configured in Hz and used in 1/ms.
// Piecewise schedules can grow during a run (present()), which is how experiments show data
// samples one after another: a rate-coded input swapped at arbitrary times.
#include <memory>
#include <vector>

#include "sim/population.hpp"

namespace settle {

class PoissonSource final : public Population {
public:
    struct Sinusoid {
        double mean_hz = 0.0, amplitude_hz = 0.0;
        time_ms period_ms = 1000.0;
        double phase_rad = 0.0;
    };

    // Constant rate, one per population (size 1 vector) or one per node.
    static std::unique_ptr<PoissonSource> constant(std::string name, std::size_t size, std::vector<double> rates_hz);
    // Sinusoidally modulated rate, the same for all nodes.
    static std::unique_ptr<PoissonSource> sinusoidal(std::string name, std::size_t size, Sinusoid s);
    // Piecewise constant: rates_hz[k] (one per node, or one for all) from times_ms[k] on; 0 before
    // the first time. max_rate_hz bounds every rate present() may add later.
    static std::unique_ptr<PoissonSource> piecewise(std::string name, std::size_t size, std::vector<time_ms> times_ms,
                                                    std::vector<std::vector<double>> rates_hz, double max_rate_hz);

    std::string model() const override { return "poisson_source"; }
    void initialize(std::uint64_t seed, time_ms t_start) override;
    time_ms next_candidate(node_index node) const override { return nodes_[node].next; }
    bool resolve_candidate(node_index node, time_ms t) override;
    void prefetch(node_index node) const override { __builtin_prefetch(&nodes_[node]); }
    std::vector<StateVariable> state_variables() const override { return {{"rate", "Hz", 4}}; }
    double read(node_index node, int element_id, time_ms t) override;

    // Appends a piecewise segment from t_from on (t_from not before the last segment).
    void present(time_ms t_from, std::vector<double> rates_hz);
    bool piecewise() const { return kind_ == Kind::piecewise; }
    // Rate of a node at t, in Hz.
    double rate_hz(node_index node, time_ms t) const;

    enum class Kind { constant, sinusoid, piecewise };
    // Use the named constructors above; this one leaves the rates empty.
    PoissonSource(std::string name, std::size_t size, Kind kind);

private:
    double bound_per_ms(node_index node) const;

    Kind kind_;
    std::vector<double> constant_hz_;
    Sinusoid sinusoid_;
    std::vector<time_ms> times_;
    std::vector<std::vector<double>> segments_hz_;
    double max_rate_hz_ = 0.0;
    struct NodeState {  // one cache line touch per candidate
        time_ms next;
        std::uint64_t counter;
    };
    std::vector<NodeState> nodes_;
    std::uint64_t seed_ = 0;
};

}  // namespace settle
