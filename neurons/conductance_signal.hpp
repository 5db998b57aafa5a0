#pragma once
// Somatic teacher conductances g(t) (nS, or unitless in the paper preset) as functions of time.
//
// A neuron advancing across an interval asks a signal for its next breakpoint (a time where the
// signal jumps) and whether it is constant up to there: constant pieces are integrated in closed
// form, smooth pieces with an adaptive Odeint stepper, and no step ever straddles a jump.
#include <memory>
#include <vector>

#include "sim/types.hpp"

namespace settle {

class ConductanceSignal {
public:
    virtual ~ConductanceSignal() = default;
    virtual double value(node_index node, time_ms t) const = 0;
    // First time > t at which the signal may jump (never if none).
    virtual time_ms next_breakpoint(node_index node, time_ms t) const = 0;
    // Whether the signal is constant on [t, next_breakpoint(t)).
    virtual bool constant_after(node_index node, time_ms t) const = 0;
};

// The same value for ever (0 is "no teacher").
class ConstantConductance final : public ConductanceSignal {
public:
    explicit ConstantConductance(double g) : g_(g) {}
    double value(node_index, time_ms) const override { return g_; }
    time_ms next_breakpoint(node_index, time_ms) const override { return never; }
    bool constant_after(node_index, time_ms) const override { return true; }

private:
    double g_;
};

// mean + amplitude * sin(2 pi (t - start) / period + phase) on [start, stop), 0 outside.
class SinusoidConductance final : public ConductanceSignal {
public:
    SinusoidConductance(double mean, double amplitude, time_ms period, double phase_rad, time_ms start, time_ms stop);
    double value(node_index, time_ms t) const override;
    time_ms next_breakpoint(node_index, time_ms t) const override;
    bool constant_after(node_index, time_ms t) const override;

private:
    double mean_, amplitude_, period_, phase_;
    time_ms start_, stop_;
};

// Piecewise constant: value[k] on [times[k], times[k+1]), 0 before times[0]; the last value
// holds for ever. Either one value list for all nodes, or one per node ("from data").
class PiecewiseConductance final : public ConductanceSignal {
public:
    PiecewiseConductance(std::vector<time_ms> times, std::vector<std::vector<double>> values_per_node);
    double value(node_index node, time_ms t) const override;
    time_ms next_breakpoint(node_index node, time_ms t) const override;
    bool constant_after(node_index, time_ms) const override { return true; }

private:
    const std::vector<double>& values_of(node_index node) const;
    std::vector<time_ms> times_;
    std::vector<std::vector<double>> values_;
};

// Sampled data, linearly interpolated between samples at start + k*dt (per node or shared);
// 0 before start and after the last sample.
class SampledConductance final : public ConductanceSignal {
public:
    SampledConductance(time_ms start, time_ms dt, std::vector<std::vector<double>> samples_per_node);
    double value(node_index node, time_ms t) const override;
    time_ms next_breakpoint(node_index node, time_ms t) const override;
    bool constant_after(node_index node, time_ms t) const override;

private:
    const std::vector<double>& samples_of(node_index node) const;
    time_ms start_, dt_;
    std::vector<std::vector<double>> samples_;
};

}  // namespace settle
