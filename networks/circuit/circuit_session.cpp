#include "networks/circuit/circuit_session.hpp"

#include <Eigen/Core>

#include "networks/circuit/circuit_run.hpp"
#include "networks/circuit/event_circuit.hpp"
#include "networks/circuit/tasks.hpp"
#include "sim/error.hpp"

namespace settle::circuit {

namespace {

double test_error(const Dataset& d, const Eigen::MatrixXd& out) {
    return d.classification ? error_rate(out, d.label_test) : mean_squared_error(out, d.y_test);
}

CircuitSession::Matrix to_matrix(const Eigen::MatrixXd& m) {
    CircuitSession::Matrix r;
    r.rows = static_cast<std::size_t>(m.rows());
    r.cols = static_cast<std::size_t>(m.cols());
    r.values.resize(r.rows * r.cols);
    Eigen::Map<Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(r.values.data(), m.rows(), m.cols()) = m;
    return r;
}

// "W" + std::to_string(i) trips GCC 12's -Wrestrict false positive.
std::string indexed(const char* prefix, int i) {
    std::string s(prefix);
    s += std::to_string(i);
    return s;
}

}  // namespace

CircuitSession::CircuitSession(const CircuitConfig& config, std::uint64_t seed, RunObserver* recorder)
    : config_(config), seed_(seed) {
    if (config_.mode != Mode::spiking)
        throw ConfigError("circuit.mode", "a Circuit session runs the spiking circuit on the kernel; \"" +
                                              to_string(config_.mode) + "\" runs through run_config");
    if (config_.engine != Engine::event)
        throw ConfigError("circuit.engine", "a Circuit session runs the event engine; \"" + to_string(config_.engine) +
                                                "\" runs through run_config");
    data_ = load_circuit_data(config_, seed_);
    // As circuit_run.cpp's run_mode: the circuit's matrices are small, Eigen's threads would spin.
    Eigen::setNbThreads(1);
    circuit_ = std::make_unique<EventCircuit>(config_, seed_);
    if (config_.centre_init) circuit_->set_bias(0, -circuit_->weights().W[0] * data_->x_train.rowwise().mean());
    circuit_->begin_training(*data_, config_.presentations, seed_, recorder);
}

CircuitSession::~CircuitSession() = default;

std::int64_t CircuitSession::train(std::int64_t until) {
    if (until <= circuit_->presentations_done()) return circuit_->presentations_done();
    return circuit_->continue_training(until, [](std::int64_t) { return true; });
}

std::int64_t CircuitSession::presentations_done() const { return circuit_->presentations_done(); }

double CircuitSession::now_ms() const { return circuit_->training_state().t; }

CircuitSession::Evaluation CircuitSession::evaluate() const {
    const Eigen::MatrixXd out = circuit_->test_outputs(data_->x_test);
    Evaluation e;
    e.test_error = test_error(*data_, out);
    e.classification = data_->classification;
    const Matrix m = to_matrix(out);
    e.outputs = m.rows;
    e.inputs = m.cols;
    e.decoded = m.values;
    return e;
}

std::vector<DerivativeCell> CircuitSession::derivative_test(const DerivativeTestConfig& q, std::uint64_t seed) const {
    const Eigen::Index n = std::min<Eigen::Index>(q.inputs, data_->x_test.cols());
    return circuit_->temporal_derivative_test(data_->x_test.leftCols(n), data_->y_test.leftCols(n), q.teacher_strengths,
                                              q.delays_ms, q.settle_ms, q.trials, seed);
}

std::vector<std::pair<std::string, CircuitSession::Matrix>> CircuitSession::weights() const {
    const Weights w = circuit_->weights();
    std::vector<std::pair<std::string, Matrix>> out;
    for (int i = 0; i < w.layers(); ++i) {
        const auto s = static_cast<std::size_t>(i);
        out.emplace_back(indexed("W", i + 1), to_matrix(w.W[s]));
        out.emplace_back(indexed("b", i + 1), to_matrix(w.b[s]));
    }
    return out;
}

std::vector<std::string> CircuitSession::population_names() const { return config_.population_names(); }

std::vector<double> CircuitSession::teacher_onsets() const { return circuit_->recorded_teacher_onsets(); }

double CircuitSession::record_start_ms() const { return circuit_->record_start_ms(); }

const RunStats& CircuitSession::stats() const { return circuit_->simulator().stats(); }

std::string CircuitSession::longhand() const { return circuit_->longhand_config(); }

void CircuitSession::set_stop(const std::atomic<bool>* flag) { circuit_->set_stop(flag); }

}  // namespace settle::circuit
