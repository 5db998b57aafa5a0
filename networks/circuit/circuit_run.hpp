#pragma once
// Runs a circuit task end to end (docs/science.md, section 4): builds the data, trains the circuit
// on the clock-free schedule, evaluates it with a test pass (plasticity frozen, no teacher) beside
// the equivalent static network, and runs the controls (hidden plasticity off: output-only
// learning; all plasticity off) with the same initial weights and schedule. Metrics go to a
// ResultSink.
// No Eigen type here: the experiment adapter in settle_networks includes this header.
#include <cstdint>
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "networks/circuit/circuit_config.hpp"
#include "sim/results.hpp"
#include "sim/simulator.hpp"

namespace settle::circuit {

struct CircuitProgress {
    std::string run;  // "circuit", "output_only", "frozen"
    std::int64_t presentations = 0, total = 0;
    double test_error = 0.0;
    double seconds = 0.0;
};

// What a circuit run records of its main training run (engine = "event"; config.record says
// which populations and reports): `observer` receives the spikes of recorded populations (index
// 0 input, l layer l) and the report rows (one probe per config.record.reports entry, in order)
// during the recording window. `stats` and `population_names` describe that run afterwards.
struct CircuitRecorder {
    RunObserver* observer = nullptr;
    RunStats stats;
    std::vector<std::string> population_names;
};

// Returns false when stopped early (stop() became true).
struct Dataset;  // tasks.hpp (Eigen types; opaque here)

// Loads and checks the task's data (a missing or malformed data file is a FileError naming it).
std::shared_ptr<const Dataset> load_circuit_data(const CircuitConfig& config, std::uint64_t seed);

// `data`: the task's data from load_circuit_data(config, seed), or null to load it here.
bool run_circuit_experiment(const CircuitConfig& config, std::uint64_t seed, ResultSink& results,
                            const std::function<void(const CircuitProgress&)>& progress,
                            const std::atomic<bool>* stop, CircuitRecorder* recorder = nullptr,
                            const Dataset* data = nullptr);

// The spiking circuit's training network and drive as a plain network config (TOML text): see
// EventCircuit::longhand_config.
std::string circuit_longhand(const CircuitConfig& config, std::uint64_t seed);

}  // namespace settle::circuit
