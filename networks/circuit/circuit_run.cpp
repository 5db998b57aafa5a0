#include "networks/circuit/circuit_run.hpp"

#include <chrono>
#include <memory>
#include <stdexcept>
#include <cmath>
#include <type_traits>

#include <Eigen/Core>

#include "networks/circuit/circuit_training.hpp"
#include "networks/circuit/event_circuit.hpp"
#include "networks/circuit/rate_circuit.hpp"
#include "networks/circuit/spiking_circuit.hpp"
#include "networks/circuit/tasks.hpp"

namespace settle::circuit {

namespace {

double test_error(const Dataset& d, const Eigen::MatrixXd& out) {
    return d.classification ? error_rate(out, d.label_test) : mean_squared_error(out, d.y_test);
}

std::vector<double> flat(const Eigen::MatrixXd& m) {
    std::vector<double> v(static_cast<std::size_t>(m.size()));
    Eigen::Map<Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(v.data(), m.rows(), m.cols()) = m;
    return v;
}

// "W" + std::to_string(i) trips GCC 12's -Wrestrict false positive.
std::string indexed(const char* prefix, int i) {
    std::string s(prefix);
    s += std::to_string(i);
    return s;
}

// The temporal-derivative table's cells, one per (teacher strength, delay), strength outermost.
std::vector<DerivativeCell> derivative_cells(RateCircuit& c, const Eigen::MatrixXd& x, const Eigen::MatrixXd& y,
                                             const DerivativeTestConfig& q, std::uint64_t seed) {
    std::vector<DerivativeCell> cells;
    for (double g : q.teacher_strengths)
        for (double d : q.delays_ms) cells.push_back(temporal_derivative_test(c, x, y, g, d, q.settle_ms, seed));
    return cells;
}

std::vector<DerivativeCell> derivative_cells(EventCircuit& c, const Eigen::MatrixXd& x, const Eigen::MatrixXd& y,
                                             const DerivativeTestConfig& q, std::uint64_t seed) {
    return c.temporal_derivative_test(x, y, q.teacher_strengths, q.delays_ms, q.settle_ms, q.trials, seed);
}

// Training: the stepped circuits through train() (circuit_training.hpp), the event-driven one
// through its own driver on the kernel.
template <class Circuit>
typename Circuit::State train_circuit(Circuit& c, const Dataset& data, std::int64_t presentations, std::uint64_t seed,
                                      const std::function<bool(std::int64_t)>& checkpoint) {
    return train(c, data, presentations, seed, checkpoint);
}
EventCircuit::State train_circuit(EventCircuit& c, const Dataset& data, std::int64_t presentations, std::uint64_t seed,
                                  const std::function<bool(std::int64_t)>& checkpoint) {
    return c.train(data, presentations, seed, checkpoint);
}

// The main run of the event engine records (config.record); the others and the controls do not.
template <class Circuit>
void attach_recorder(Circuit&, CircuitRecorder*) {}
void attach_recorder(EventCircuit& c, CircuitRecorder* recorder) {
    if (recorder) c.record(recorder->observer);
}
template <class Circuit>
void report_run(Circuit&, CircuitRecorder*) {}
void report_run(EventCircuit& c, CircuitRecorder* recorder) {
    if (!recorder) return;
    recorder->stats = c.simulator().stats();
    for (std::size_t p = 0; p < c.network().population_count(); ++p)
        recorder->population_names.push_back(c.network().population(p).name());
}

template <class Circuit>
void centre_first_layer(Circuit& c, const Eigen::VectorXd& b) {
    c.weights().b[0] = b;
}
void centre_first_layer(EventCircuit& c, const Eigen::VectorXd& b) { c.set_bias(0, b); }

std::vector<DerivativeCell> derivative_cells(SpikingCircuit& c, const Eigen::MatrixXd& x, const Eigen::MatrixXd& y,
                                             const DerivativeTestConfig& q, std::uint64_t seed) {
    return spiking_temporal_derivative_test(c, x, y, q.teacher_strengths, q.delays_ms, q.settle_ms, q.trials, seed);
}

// Runs the temporal-derivative table on circuit c; metrics derivative_<tag>_*.
template <class Circuit>
void derivative_table(Circuit& c, const Dataset& data, const DerivativeTestConfig& q, std::uint64_t seed,
                      const std::string& tag, ResultSink& results) {
    const Eigen::Index n = std::min<Eigen::Index>(q.inputs, data.x_test.cols());
    const std::vector<DerivativeCell> cells = derivative_cells(c, data.x_test.leftCols(n), data.y_test.leftCols(n), q, seed);
    std::vector<double> gs, ds, rows;
    const auto hidden = static_cast<std::size_t>(c.weights().layers() - 1);
    const bool unpaired = !cells.empty() && !cells.front().unpaired_cos_mean.empty();
    std::vector<std::vector<double>> cos(hidden), ci(cos), ang(cos), sh(cos), shci(cos), up(cos), upci(cos);
    for (const DerivativeCell& cell : cells) {
        gs.push_back(cell.g);
        ds.push_back(cell.delay_ms);
        rows.push_back(cell.g);
        rows.push_back(cell.delay_ms);
        for (std::size_t l = 0; l < hidden; ++l) {
            cos[l].push_back(cell.cos_mean[l]);
            ci[l].push_back(cell.cos_ci95[l]);
            ang[l].push_back(cell.angle_deg_mean[l]);
            sh[l].push_back(cell.shuffled_cos_mean[l]);
            shci[l].push_back(cell.shuffled_cos_ci95[l]);
            for (double v : {cell.cos_mean[l], cell.cos_ci95[l], cell.angle_deg_mean[l], cell.shuffled_cos_mean[l],
                             cell.shuffled_cos_ci95[l]})
                rows.push_back(v);
            if (unpaired) {
                up[l].push_back(cell.unpaired_cos_mean[l]);
                upci[l].push_back(cell.unpaired_cos_ci95[l]);
            }
        }
    }
    const std::string p = "derivative_" + tag + "_";
    results.metric_series(p + "teacher_strength", gs);
    results.metric_series(p + "delay_ms", ds);
    for (std::size_t l = 0; l < hidden; ++l) {
        const std::string L = indexed("_l", static_cast<int>(l) + 1);
        results.metric_series(p + "cos" + L, cos[l]);
        results.metric_series(p + "cos_ci95" + L, ci[l]);
        results.metric_series(p + "angle_deg" + L, ang[l]);
        results.metric_series(p + "shuffled_cos" + L, sh[l]);
        results.metric_series(p + "shuffled_cos_ci95" + L, shci[l]);
        if (unpaired) {
            results.metric_series(p + "unpaired_cos" + L, up[l]);
            results.metric_series(p + "unpaired_cos_ci95" + L, upci[l]);
        }
    }
    // One row per (teacher strength, delay): g, delay, then per hidden layer cos, ci95, angle,
    // shuffled cos, shuffled ci95.
    results.array(p + "table", gs.size(), 2 + 5 * hidden, rows);
}

template <class Circuit>
bool run_mode(const CircuitConfig& cfg, std::uint64_t seed, ResultSink& results,
              const std::function<void(const CircuitProgress&)>& progress, const std::atomic<bool>* stop,
              CircuitRecorder* recorder, const Dataset& data) {
    // The circuit's matrices are small (tens of rows, a few streams): Eigen's OpenMP threads (this
    // library is built with networks/mlp's settings) would only spin; 30x slower on a loaded machine.
    Eigen::setNbThreads(1);
    const auto t0 = std::chrono::steady_clock::now();
    auto seconds = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
    bool stopped = false;

    // Trains one circuit; returns its final test outputs and fills the learning curve (whose last
    // point is the final test pass: a test pass of 10,000 spiking inputs costs minutes, so it runs
    // once). The training itself (without the checkpoints' test passes) is timed for the speed
    // metrics.
    struct TrainingCost {
        double wall_seconds = 0.0;
        typename Circuit::State state;
    };
    auto run = [&](Circuit& c, const std::string& name, std::vector<double>* curve_x, std::vector<double>* curve_y,
                   TrainingCost* cost = nullptr) {
        const double start = seconds();
        double in_checkpoints = 0.0;
        Eigen::MatrixXd last_outputs;
        std::int64_t last_done = -1;
        typename Circuit::State final_state = train_circuit(c, data, cfg.presentations, seed, [&](std::int64_t done) {
            const double t_enter = seconds();
            CircuitProgress p{name, done, cfg.presentations, NAN, t_enter};
            if (curve_x && cfg.record.weights) {
                // Snapshots of the main run's weights: W<l>_checkpoint_<k>, b<l>_checkpoint_<k>.
                const Weights w = c.weights();
                const std::string k = indexed("_checkpoint_", static_cast<int>(curve_x->size()));
                for (int i = 0; i < w.layers(); ++i) {
                    const auto s = static_cast<std::size_t>(i);
                    results.array(indexed("W", i + 1) + k, static_cast<std::size_t>(w.W[s].rows()),
                                  static_cast<std::size_t>(w.W[s].cols()), flat(w.W[s]));
                    results.array(indexed("b", i + 1) + k, static_cast<std::size_t>(w.b[s].size()), 1, flat(w.b[s]));
                }
            }
            if (curve_x) {
                last_outputs = c.test_outputs(data.x_test);
                last_done = done;
                p.test_error = test_error(data, last_outputs);
                curve_x->push_back(static_cast<double>(done));
                curve_y->push_back(p.test_error);
            }
            progress(p);
            if (stop && stop->load()) stopped = true;
            in_checkpoints += seconds() - t_enter;
            return !stopped;
        });
        if (cost) {
            cost->wall_seconds = seconds() - start - in_checkpoints;
            cost->state = std::move(final_state);
        }
        if (last_done == cfg.presentations && !stopped) return last_outputs;
        return Eigen::MatrixXd(c.test_outputs(data.x_test));
    };

    // Same initial weights for the circuit and its controls.
    auto make_circuit = [&] {
        auto c = std::make_unique<Circuit>(cfg, seed);
        c->set_stop(stop);
        if (cfg.centre_init) centre_first_layer(*c, -c->weights().W[0] * data.x_train.rowwise().mean());
        return c;
    };
    const std::unique_ptr<Circuit> circuit_owner = make_circuit();
    Circuit& circuit = *circuit_owner;
    attach_recorder(circuit, recorder);
    if (cfg.derivative_test.enabled && cfg.derivative_test.untrained)
        derivative_table(circuit, data, cfg.derivative_test, seed, "untrained", results);
    const Weights initial = circuit.weights();
    const double err0 = test_error(data, circuit.test_outputs(data.x_test));
    if (cfg.feedback == Feedback::learned)
        results.metric_series("reconstruction_error_initial", circuit.reconstruction_error(data.x_test));
    results.metric("test_error_initial", err0);
    std::vector<double> cx{0.0}, cy{err0};
    TrainingCost cost;
    const Eigen::MatrixXd out_circuit = run(circuit, "circuit", &cx, &cy, &cost);
    report_run(circuit, recorder);
    if constexpr (std::is_same_v<Circuit, EventCircuit>) {
        results.metric_series("circuit_teacher_onsets_ms", circuit.recorded_teacher_onsets());
        if (circuit.record_start_ms() != never) results.metric("circuit_record_start_ms", circuit.record_start_ms());
        results.metric("train_weight_updates", static_cast<double>(cost.state.weight_updates));
    }
    const double err = test_error(data, out_circuit);
    // Speed of the training run: simulated time summed over streams per wall second of training.
    const double simulated_s = static_cast<double>(cfg.streams) * cost.state.t * 1e-3;
    results.metric("train_wall_seconds", cost.wall_seconds);
    results.metric("train_simulated_seconds", simulated_s);
    results.metric("train_simulated_seconds_per_wall_second", cost.wall_seconds > 0 ? simulated_s / cost.wall_seconds : 0.0);
    if constexpr (!std::is_same_v<Circuit, RateCircuit>) {
        results.metric("train_input_spikes", cost.state.input_spikes);
        results.metric("train_neuron_spikes", cost.state.neuron_spikes);
        results.metric("train_synaptic_events", cost.state.synaptic_events);
        results.metric("train_synaptic_events_per_second",
                       cost.wall_seconds > 0 ? cost.state.synaptic_events / cost.wall_seconds : 0.0);
    }
    results.metric("test_error_final", err);
    if (cfg.feedback == Feedback::learned)
        results.metric_series("reconstruction_error_final", circuit.reconstruction_error(data.x_test));
    results.metric_series("test_error_curve", cy);
    results.metric_series("test_error_curve_presentations", cx);
    const Eigen::MatrixXd out_static = static_forward(circuit.weights(), cfg.k(), data.x_test).U.back();
    results.metric("test_error_static", test_error(data, out_static));
    results.metric("circuit_static_max_abs_difference", (out_circuit - out_static).cwiseAbs().maxCoeff());
    if (data.classification) {
        results.metric("test_accuracy", 1.0 - err);
        results.metric("test_accuracy_initial", 1.0 - err0);
    }
    std::vector<double> norm0, norm1;
    for (int i = 0; i < circuit.weights().layers(); ++i) {
        const auto s = static_cast<std::size_t>(i);
        norm0.push_back(initial.W[s].norm());
        norm1.push_back(circuit.weights().W[s].norm());
        results.array(indexed("W", i + 1), static_cast<std::size_t>(circuit.weights().W[s].rows()),
                      static_cast<std::size_t>(circuit.weights().W[s].cols()), flat(circuit.weights().W[s]));
        results.array(indexed("b", i + 1), static_cast<std::size_t>(circuit.weights().b[s].size()), 1,
                      flat(circuit.weights().b[s]));
    }
    results.metric_series("weight_norm_initial", norm0);
    results.metric_series("weight_norm_final", norm1);

    // Angle of the circuit's learning signal to back-prop on (up to) 200 test inputs: settle 10
    // tau without teacher, then 2 tau with the teacher on, plasticity frozen. Rate mode only (the
    // spiking mode's counterpart is the temporal-derivative table).
    if constexpr (std::is_same_v<Circuit, RateCircuit>) {
        const Eigen::Index n = std::min<Eigen::Index>(200, data.x_test.cols());
        const Alignment a = measure_alignment(circuit, data.x_test.leftCols(n), data.y_test.leftCols(n),
                                              10 * cfg.tau_ms, 2 * cfg.tau_ms);
        results.metric_series("backprop_cos_dW", a.cos_dW);
        results.metric_series("backprop_cos_dr", a.cos_dr_mean);
        results.metric_series("backprop_cos_dr_ci95", a.cos_dr_ci95);
    }

    if (cfg.derivative_test.enabled && cfg.derivative_test.trained && !stopped)
        derivative_table(circuit, data, cfg.derivative_test, seed, "trained", results);

    if (cfg.control_output_only && !stopped) {
        const auto c = make_circuit();
        c->set_eta(0.0, cfg.eta_out);
        const double e = test_error(data, run(*c, "output_only", nullptr, nullptr));
        results.metric("test_error_output_only", e);
        if (data.classification) results.metric("test_accuracy_output_only", 1.0 - e);
    }
    if (cfg.control_frozen && !stopped) {
        const auto c = make_circuit();
        c->set_eta(0.0, 0.0);
        results.metric("test_error_frozen", test_error(data, run(*c, "frozen", nullptr, nullptr)));
    }
    results.metric("wall_seconds_total", seconds());
    return !stopped;
}

}  // namespace

std::shared_ptr<const Dataset> load_circuit_data(const CircuitConfig& cfg, std::uint64_t seed) {
    return std::make_shared<const Dataset>(make_dataset(cfg.task, seed));
}

bool run_circuit_experiment(const CircuitConfig& cfg, std::uint64_t seed, ResultSink& results,
                            const std::function<void(const CircuitProgress&)>& progress,
                            const std::atomic<bool>* stop, CircuitRecorder* recorder, const Dataset* data) {
    std::shared_ptr<const Dataset> loaded;
    if (data == nullptr) {
        loaded = load_circuit_data(cfg, seed);
        data = loaded.get();
    }
    try {
        if (cfg.mode == Mode::spiking && cfg.engine == Engine::event)
            return run_mode<EventCircuit>(cfg, seed, results, progress, stop, recorder, *data);
        if (cfg.mode == Mode::spiking) return run_mode<SpikingCircuit>(cfg, seed, results, progress, stop, nullptr, *data);
        return run_mode<RateCircuit>(cfg, seed, results, progress, stop, nullptr, *data);
    } catch (const Interrupted&) {
        return false;  // stopped inside a loop (stop_flag.hpp); what was recorded so far stays
    }
}

std::string circuit_longhand(const CircuitConfig& config, std::uint64_t seed) {
    CircuitConfig c = config;
    c.mode = Mode::spiking;
    c.engine = Engine::event;
    return EventCircuit(c, seed).longhand_config();
}

}  // namespace settle::circuit
