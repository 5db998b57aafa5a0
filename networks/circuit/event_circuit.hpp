#pragma once
// The spiking learning circuit on settle's event-driven kernel: a builder and a driver, not an
// engine. The circuit's layers are two_channel_unit populations (neurons/two_channel_unit.hpp),
// its inputs a pooled_poisson_source (neurons/pooled_poisson_source.hpp), its weights dense
// projections (sim/dense_projection.hpp) learning with the lag-compensated rule
// (plasticity/lag_compensated_rule.hpp); nothing here integrates a membrane or draws a spike.
//
// Network, for sizes n_0 (inputs), n_1 .. n_L (hidden layers, then the output), S replicas
// (`streams`, independent input streams sharing every matrix):
//   population "input"            pooled_poisson_source, n_0 units, rate input_rate_hz at x = 1
//   population "layer<l>"         two_channel_unit, n_l units; logistic emission for hidden
//                                 layers, linear over output_range for the output
//   projection "W<l>"             dense, layer l-1 -> layer l, receptor dendrite; somatic channel
//                                 only, gain 1 / (r tau_s) per spike (r: the source's maximum
//                                 rate); rule lag_compensated (eta_hidden or eta_out; scale 1 or
//                                 the output's span)
//   projection "B<l>" (l < L)     dense, layer l+1 -> layer l, receptor nudge; both channels, gains
//                                 +-lambda k c / (r tau_s) (c: layer l+1's decoded slope), so it
//                                 carries the twin nudge lambda k G (a(s^U) - a(s^Vbar)); G a
//                                 fixed random matrix (`random`), W<l+1> transposed and tied to
//                                 it (`symmetric`: it stays W^T bitwise while W learns), or Q_l
//                                 (`learned`: tied to Q<l>, which learns)
//   lateral nudge instead of the twin nudge, per hidden layer l:
//   projection "B<l>"             dense, layer l+1 -> layer l, receptor nudge; somatic channel
//                                 only, gain lambda k c / (r tau_s) (source offset lambda k lo
//                                 when l+1 is the output): lambda k G a(s^U_{l+1})
//   population "interneuron<l>"   two_channel_unit, n_l units, linear emission over
//                                 interneuron_range, no nudge (its two channels are one train)
//   projection "P<l>"             dense, layer l -> interneuron<l>, receptor dendrite, somatic
//                                 channel, P_l = 0 at start; rule apical_mismatch (training only:
//                                 eta_interneuron, error = layer l's nudge input / lambda)
//   projection "I<l>"             dense one-to-one, interneuron<l> -> layer l, receptor nudge,
//                                 gain -lambda span_I / (r tau_s), source offset -lambda lo_I:
//                                 -lambda a_I(s_I)
//   The lateral nudge is not zero without a teacher, so the test pass keeps these, frozen.
//   learned feedback only, per hidden layer l (training network):
//   population "feedback<l>"      two_channel_unit, n_l units, linear emission over
//                                 feedback_range, soma coupled to layer l's U with conductance
//                                 g_feedback (two_channel_unit.hpp, "Soma coupling")
//   projection "Q<l>"             dense, layer l+1 -> feedback<l>, receptor dendrite; somatic
//                                 channel, layer l+1's decoded signal (source offset output lo
//                                 when l+1 is the output); rule lag_compensated (eta_feedback,
//                                 not annealed; scale: the feedback range's span). Q_l learns to
//                                 reconstruct U_l from layer l+1's spikes, with or without teacher
// The teacher is layer L's conductance g_teacher toward the targets, switched by the driver.
// These are the equations of the circuit's spiking mode (spiking_circuit.hpp, the stepped
// implementation) without its time step: spikes and weight changes happen at their exact times.
//
// Replicas share every matrix; each buffers its weight changes until the kernel's next replica
// sync point (every sync_interval_ms, a fixed grid: lag_compensated_rule.hpp), where they are
// summed in replica order. Between sync points the replicas are independent.
//
// Driver: each replica follows its own clock-free PresentationSchedule (the same schedules,
// seeds and learning-rate annealing as the stepped loop). At each schedule event of replica s the
// kernel is advanced to that time (run continuation) and the driver changes the replica's
// input rates, targets or teacher, and rebases the replica (a schedule-fixed time: results do not
// depend on recording). Replica s's spikes have SONATA node ids (s * 2 + channel) * n + unit
// (channel 0 somatic, 1 prediction; the input has one channel: s * n_0 + unit).
//
// Test pass: a separate frozen network (no rules, no teacher) with the same matrices, one
// replica per test input in blocks; the output's somatic spikes over test_window_ms after
// test_settle_ms are decoded to potentials, as in the stepped loop.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "networks/circuit/circuit_config.hpp"
#include "networks/circuit/presentation_driver.hpp"
#include "networks/circuit/stop_flag.hpp"
#include "networks/circuit/rate_circuit.hpp"
#include "networks/circuit/static_network.hpp"
#include "networks/circuit/tasks.hpp"
#include "neurons/pooled_poisson_source.hpp"
#include "neurons/two_channel_unit.hpp"
#include "plasticity/apical_mismatch_rule.hpp"
#include "plasticity/lag_compensated_rule.hpp"
#include "sim/simulator.hpp"

namespace settle::circuit {

class EventCircuit {
public:
    // Same initial weights and feedback as RateCircuit(config, seed) and SpikingCircuit.
    EventCircuit(const CircuitConfig& config, std::uint64_t seed);
    EventCircuit(const EventCircuit&) = delete;
    EventCircuit& operator=(const EventCircuit&) = delete;
    EventCircuit(EventCircuit&&) = delete;  // the training driver refers to it

    // Totals of a training run (cf. SpikingCircuit::State).
    struct State {
        double t = 0.0;  // simulated ms per replica
        double input_spikes = 0.0, neuron_spikes = 0.0, synaptic_events = 0.0;
        std::uint64_t weight_updates = 0;
    };

    const CircuitConfig& config() const { return config_; }
    // A copy of the current weights and biases.
    Weights weights() const;
    void set_bias(int layer_index, const Eigen::VectorXd& b);
    void set_eta(double hidden, double out);
    void set_eta_scale(double scale);
    // The run's stop flag: every kernel advance of training, test pass and derivative test stops
    // on it and throws Interrupted (stop_flag.hpp).
    void set_stop(const std::atomic<bool>* flag) { stop_.set(flag); }
    Eigen::MatrixXd feedback_matrix(int i) const;
    // Learned feedback: see RateCircuit::reconstruction_error (empty for other feedback).
    std::vector<double> reconstruction_error(const Eigen::MatrixXd& x) const;

    // Trains on the clock-free schedule until `presentations` presentations have ended over all
    // replicas; checkpoint(done) as in train() (circuit_training.hpp). `observer` sees the
    // recorded populations' spikes (record_spikes) of the training network.
    State train(const Dataset& data, std::int64_t presentations, std::uint64_t seed,
                const std::function<bool(std::int64_t)>& checkpoint, RunObserver* observer = nullptr);
    // train() in parts, for drivers that evaluate or read between them (the Python API):
    // begin_training sets up the schedule, recording and annealing of a training run of
    // `presentations` presentations (`data` must outlive the circuit); continue_training drives
    // until `until` presentations have ended in total. Parts give bitwise the events of one train() call; at
    // presentation number `presentations` the buffered replica updates are applied, as at the
    // end of train(); training may continue past it (learning rates at their final fraction).
    void begin_training(const Dataset& data, std::int64_t presentations, std::uint64_t seed,
                        RunObserver* observer = nullptr);
    std::int64_t continue_training(std::int64_t until, const std::function<bool(std::int64_t)>& checkpoint);
    std::int64_t presentations_done() const;
    State training_state() const;
    // Population indices of the training network, for recording: 0 = input, l = layer l.
    Network& network() { return *net_; }
    Simulator& simulator() { return *sim_; }
    const Simulator& simulator() const { return *sim_; }
    void record_spikes(std::size_t population) { sim_->record_spikes(population); }

    // Recording (config().record): `observer` receives, during the last window_presentations
    // presentations of train(), the spikes of the recorded populations and one report row per
    // configured report (default nodes: replica 0's units, node ids 0 .. n - 1). Set before train().
    void record(RunObserver* observer) { record_observer_ = observer; }
    // After train(): the start of the recording window and replica 0's teacher onsets in it (ms).
    double record_start_ms() const { return record_start_ms_; }
    const std::vector<double>& recorded_teacher_onsets() const { return teacher_onsets_; }

    // The training network and its drive written out longhand as a plain network config
    // ([[population]], [[projection]] kind = "dense", rules, [drive], [task], [schedule]; every
    // number to 17 significant digits, so it reads back bit for bit): running it gives the same
    // training spikes as this circuit's train() (a test checks it), for every feedback and nudge.
    std::string longhand_config() const;

    // Test pass (frozen, no teacher): decoded output potentials, one column per input.
    Eigen::MatrixXd test_outputs(const Eigen::MatrixXd& x) const;

    // Hinton's temporal-derivative test on the kernel, as spiking_temporal_derivative_test
    // (spiking_circuit.hpp) defines it: per input `trials` trials settle from rest without a
    // teacher for max(settle_ms, largest delay); then three continuations with common random
    // numbers (teacher on with strength g, teacher off, the shuffled control). Each is a replica
    // of one frozen network whose emission streams are keyed by (input, trial) only, so the three
    // copies of a trial are bitwise identical until the teacher switches, and differ after it only
    // through the teacher. Rate changes are somatic spike counts (two_channel_unit's counters).
    // One cell per (g, delay), g outermost.
    std::vector<DerivativeCell> temporal_derivative_test(const Eigen::MatrixXd& x, const Eigen::MatrixXd& y,
                                                         const std::vector<double>& gs,
                                                         const std::vector<double>& delays_ms, double settle_ms,
                                                         int trials, std::uint64_t seed) const;

private:
    TwoChannelUnitParameters unit_parameters(int layer) const;
    // The lateral nudge's interneurons and learned feedback's units of hidden layer `layer`:
    // linear emission over [lo, hi] (their configured ranges).
    TwoChannelUnitParameters linear_unit_parameters(int layer, double lo, double hi) const;
    // The circuit's network over R replicas without rules or teacher, sharing the matrices:
    // populations prefix + "input", prefix + "layer<l>", projections W<l> (in layer order, first)
    // and, with_feedback, the nudge projections B<l>; biases per layer. first_replica offsets the
    // stream keys. The training network is this one with the rules added.
    std::unique_ptr<Network> circuit_network(std::uint32_t replicas, const std::string& prefix, bool with_feedback,
                                            std::uint32_t first_replica, const std::vector<Eigen::VectorXd>& biases) const;
    double decode_slope(int layer) const;
    void add_learned_feedback();

    CircuitConfig config_;
    std::uint64_t seed_;
    std::vector<std::shared_ptr<DenseMatrix>> W_, B_;  // B_ empty for symmetric feedback
    // Behind pointers so the circuit can move while the simulator keeps its network's address.
    std::unique_ptr<Network> net_;
    std::unique_ptr<Simulator> sim_;
    PooledPoissonSource* input_ = nullptr;
    std::vector<TwoChannelUnitPopulation*> layers_;
    std::vector<LagCompensatedRule*> rules_;  // the forward projections' (annealed); not Q<l>'s
    std::vector<TwoChannelUnitPopulation*> feedback_;  // learned feedback: population feedback<l>
    std::vector<const DenseProjection*> feedback_projections_;  // and its projection Q<l>
    // Lateral nudge: the interneurons' weights P_l (from their layer, 0 at start), the one-to-one
    // matrices from the interneurons to their units, and the training network's interneurons.
    std::vector<std::shared_ptr<DenseMatrix>> P_, one_to_one_;
    std::vector<TwoChannelUnitPopulation*> interneurons_;
    RunObserver* record_observer_ = nullptr;
    std::unique_ptr<RunObserver> forward_;  // the recording window's filter (train's observer)
    std::unique_ptr<PresentationDriver> driver_;
    StopFlag stop_;
    double record_start_ms_ = 0.0;
    std::vector<double> teacher_onsets_;
};

}  // namespace settle::circuit
