#pragma once
// Runs a circuit task end to end (issue 6): builds the data, trains the circuit on the clock-free
// schedule, evaluates it with a test pass (plasticity frozen, no teacher) beside the equivalent
// static network, and runs the controls (hidden plasticity off: output-only learning; all
// plasticity off) with the same initial weights and schedule. Metrics go to a ResultSink.
// No Eigen type here: the experiment adapter in settle_networks includes this header.
#include <cstdint>
#include <functional>
#include <string>

#include "networks/circuit/circuit_config.hpp"
#include "sim/results.hpp"

namespace settle::circuit {

struct CircuitProgress {
    std::string run;  // "circuit", "output_only", "frozen"
    std::int64_t presentations = 0, total = 0;
    double test_error = 0.0;
    double seconds = 0.0;
};

// Returns false when stopped early (stop() became true).
bool run_circuit_experiment(const CircuitConfig& config, std::uint64_t seed, ResultSink& results,
                            const std::function<void(const CircuitProgress&)>& progress,
                            const std::function<bool()>& stop);

}  // namespace settle::circuit
