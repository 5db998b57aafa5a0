#pragma once
// A spiking circuit on the kernel, trained, evaluated and read step by step: what `settle run`
// does with `experiment = "circuit"` (circuit_run.hpp), in parts a script can interleave. The
// Python API's settle.Circuit is this class. No Eigen type here: the Python module includes it.
//
// Same seed, same results as `settle run`: the session builds the circuit with the run's initial
// weights (centre_init included), trains it on the same schedule with the same annealing, records
// the same window, and its test pass is the run's. Training in parts (train(a) then train(b))
// gives bitwise the spikes and weights of train(b) alone (EventCircuit::continue_training);
// evaluate(), weights() and derivative_test() never change the training state (they run
// separate frozen networks or only read).
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "networks/circuit/circuit_config.hpp"
#include "networks/circuit/derivative_cell.hpp"
#include "sim/simulator.hpp"

namespace settle::circuit {

class EventCircuit;
struct Dataset;

class CircuitSession {
public:
    // `config` must be the spiking mode on the event engine (ConfigError naming circuit.mode or
    // circuit.engine otherwise). Loads the task's data (FileError when a data file is missing),
    // builds the circuit and begins its training run of config.presentations presentations (the
    // annealing's horizon). `recorder` (may be null) receives config.record's spikes and reports
    // during the recording window, as `settle run` writes them to its file.
    CircuitSession(const CircuitConfig& config, std::uint64_t seed, RunObserver* recorder);
    ~CircuitSession();
    CircuitSession(const CircuitSession&) = delete;
    CircuitSession& operator=(const CircuitSession&) = delete;

    // Trains until `until` presentations have ended in total (returns at once when they have): a
    // state train() continues from. Returns the presentations ended so far.
    std::int64_t train(std::int64_t until);
    std::int64_t presentations_done() const;
    std::int64_t configured_presentations() const { return config_.presentations; }
    double now_ms() const;

    // The test pass of `settle run` (plasticity frozen, no teacher) on the task's test set with
    // the current weights. Raising *stop (set_stop) interrupts it with Interrupted.
    struct Evaluation {
        double test_error = 0.0;  // classification: error rate; regression: mean squared error
        bool classification = false;
        std::size_t outputs = 0, inputs = 0;
        std::vector<double> decoded;  // outputs x inputs, row-major: decoded output potentials
    };
    Evaluation evaluate() const;

    // The temporal-derivative table on the first q.inputs test inputs, as `settle run` computes
    // it (teacher strengths outermost).
    std::vector<DerivativeCell> derivative_test(const DerivativeTestConfig& q, std::uint64_t seed) const;

    struct Matrix {
        std::size_t rows = 0, cols = 0;
        std::vector<double> values;  // row-major
    };
    // "W1", "b1", "W2", ... as the run's file names them (b<l> a rows x 1 matrix).
    std::vector<std::pair<std::string, Matrix>> weights() const;
    std::vector<std::string> population_names() const;
    // Replica 0's teacher onsets inside the recording window, ms.
    std::vector<double> teacher_onsets() const;
    double record_start_ms() const;
    const RunStats& stats() const;
    const CircuitConfig& config() const { return config_; }
    // The training network written out longhand (EventCircuit::longhand_config).
    std::string longhand() const;
    // Interrupts evaluate() and derivative_test() (and train(), which then cannot continue).
    void set_stop(const std::atomic<bool>* flag);

private:
    CircuitConfig config_;
    std::uint64_t seed_;
    std::shared_ptr<const Dataset> data_;
    std::unique_ptr<EventCircuit> circuit_;
};

}  // namespace settle::circuit
