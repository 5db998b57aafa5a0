#pragma once
// The description of a clock-free settle-and-delta-rule circuit (docs/science.md, section 4),
// shared by its rate and spiking modes: layer sizes, hidden nudge kind, feedback kind, neuron
// constants, learning rates, the input schedule, the task and the training budget. Read from the
// config tables [circuit], [schedule], [task] and [training] of `experiment = "circuit"`
// (docs/config.md, "Circuit"). No Eigen type here: the experiment adapter includes this header.
#include <cstdint>
#include <string>
#include <vector>

#include "networks/config_reader.hpp"

namespace settle::circuit {

enum class Mode { rate, spiking };
// How spiking mode runs: on settle's event-driven kernel (event_circuit.hpp) or on the circuit's
// own fixed-step loop (spiking_circuit.hpp), kept until the event-driven one covers every option.
enum class Engine { stepped, event };
enum class Nudge { twin, lateral };
enum class Feedback { random, learned, symmetric };
enum class TaskKind { teacher_student, two_moons, fashion_mnist };
// What the plasticity rule compares the somatic rate with: the lag-matched prediction Vbar (the
// lag-compensated rule, docs/science.md section 4) or the instantaneous V* (the single-neuron
// rule, which acts as a weight decay in a circuit whose inputs switch; kept to demonstrate that).
enum class RuleReference { lagged, instantaneous };

// Clock-free presentation schedule: samples back to back, each held for a duration drawn
// uniformly from [duration_min_ms, duration_max_ms]; the teacher comes on at a delay drawn
// uniformly from [onset_min_ms, onset_max_ms] after the presentation starts (ms). The defaults
// are the rate mode's; spiking mode's are later (parse_circuit_config: 4-5 tau_s onsets).
struct ScheduleConfig {
    double duration_min_ms = 50.0, duration_max_ms = 150.0;
    double onset_min_ms = 20.0, onset_max_ms = 50.0;
};

struct TaskConfig {
    TaskKind kind = TaskKind::teacher_student;
    int n_train = 2000, n_test = 1000;
    // teacher_student: x ~ U(0, 1)^n_in; y = W2 tanh(gain W1 z + b1) + b2 with z the standardised
    // x, W1 ~ N(0, 1/n_in), W2 ~ N(0, 1/n_teacher_hidden), b ~ N(0, 0.1^2); y standardised per
    // output over the training set.
    int n_in = 30, n_teacher_hidden = 20, n_out = 10;
    double teacher_gain = 1.0;
    // two_moons: scikit-learn's make_moons with Gaussian noise, embedded by a random linear map
    // into n_in inputs, each rescaled to [0, 1] over the training set; 2 one-hot outputs.
    double noise = 0.1;
    // fashion_mnist: the IDX files of dataset-fashion-mnist (any MNIST-format pair works), pixels
    // scaled to [0, 1] as input rates, one-hot targets; `downsample` = 2 averages 2x2 blocks (14x14
    // inputs). n_train / n_test take the first images of the training / test file.
    std::string data_dir = "/usr/share/datasets/fashion-mnist";
    int downsample = 1;
};

// Hinton's temporal-derivative test (docs/science.md, section 5), run by the circuit experiment on
// the untrained and/or trained circuit.
struct DerivativeTestConfig {
    bool enabled = false;
    int inputs = 100;                              // test inputs (>= 100 for the acceptance table)
    std::vector<double> teacher_strengths{0.02, 0.06, 0.2};
    std::vector<double> delays_ms{1.0, 2.0, 5.0, 10.0, 20.0};  // readout delay after teacher onset
    double settle_ms = 150.0;  // settling before the teacher comes on (30 tau: a 50 ms residual masks 1 ms readouts)
    bool untrained = true, trained = true;
    int trials = 100;  // spiking mode: trials per input whose spike counts are averaged
};

// [record] of a circuit run (engine = "event"): spikes of the main training run's populations
// ("input", "layer1" .. "layer<L>", L the output) during the last `window_presentations`
// presentations, and reports of their state over the same window (event_circuit.hpp).
struct CircuitReportConfig {
    std::string population;
    std::vector<std::int64_t> nodes;       // empty: all
    std::vector<std::string> variables;    // empty: all of the model's
    double dt_ms = 0.1;
};
struct CircuitRecordConfig {
    std::vector<std::string> spikes;       // population names
    std::int64_t window_presentations = 20;
    std::vector<CircuitReportConfig> reports;
    bool weights = false;  // weight and bias snapshots at every checkpoint (both engines)
    bool any() const { return !spikes.empty() || !reports.empty(); }
};

struct CircuitConfig {
    Mode mode = Mode::rate;
    Engine engine = Engine::stepped;
    Nudge nudge = Nudge::twin;
    Feedback feedback = Feedback::random;
    RuleReference rule_reference = RuleReference::lagged;
    std::vector<int> hidden;  // hidden layer sizes

    // Neuron (paper's unitless potentials relative to rest; docs/science.md, sections 1 and 4).
    double tau_ms = 5.0;          // somatic time constant C / (g_L + g_D), ms
    double g_L = 0.1, g_D = 2.0;  // only their ratio enters: k = g_D / (g_L + g_D)
    double lambda = 1.0;          // hidden nudge strength (dimensionless)
    double g_teacher = 1.0;       // output teacher conductance, in units of g_L + g_D
    double eta_hidden = 2e-3;     // 1/ms
    double eta_out = 5e-3;        // 1/ms
    double w_init_hidden = 1.0;   // initial weights N(0, (w_init / sqrt(n_in))^2)
    double w_init_out = 1.0;
    // First-layer biases start at -W_1 mean(x_train), so each initial hidden unit's hyperplane
    // passes through the centre of the data (as with centred inputs); else biases start at 0.
    bool centre_init = false;
    double g_feedback = 0.3;      // learned feedback: nudge of B_l's soma toward F_l, units of g_L + g_D
    double eta_feedback = 5e-3;   // learned feedback: learning rate of Q_l, 1/ms
    double eta_interneuron = 1e-2;  // lateral nudge: learning rate of the interneurons, 1/ms (spiking: 3e-4)
    double feedback_scale = 1.0;  // random feedback B ~ N(0, (feedback_scale / sqrt(n_l))^2)
    double dt_ms = 0.5;           // integration step of the rate mode
    // Event engine: the replicas' weight updates reach the shared weights at sync points on this
    // grid (lag_compensated_rule.hpp); 0.5 ms is the stepped loop's update delay.
    double sync_interval_ms = 0.5;
    int streams = 16;             // asynchronous input streams sharing weights (mean update)
    // Spiking mode (spiking_circuit.hpp).
    // A unit stands for a small pool of neurons (4 at 400 Hz each): its rate sets the traces'
    // signal-to-noise ratio, and the noise acts as a weight decay (spiking_circuit.hpp).
    double rate_max_hz = 1600.0;   // candidate rate of every neuron's thinning (maximum rate), Hz
    double input_rate_hz = 1600.0; // input layer: rate of a source at x = 1 (a population of sources pooled), Hz
    double synapse_tau_ms = 20.0; // low-pass of every spike train, ms
    // Output emission p(U) = clamp((U - lo) / (hi - lo), 0, 1): the potentials the output's rate
    // spans. Default [-3, 3] for standardised regression targets, [-0.5, 1.5] for one-hot ones.
    double output_lo = -3.0, output_hi = 3.0;
    double output_span() const { return output_hi - output_lo; }
    // Learned feedback in spiking mode: the feedback units' emission p(U_B) = clamp((U_B - lo) /
    // (hi - lo), 0, 1), [lo, hi] = feedback_range: the hidden potentials they reconstruct.
    double feedback_lo = -8.0, feedback_hi = 8.0;
    double feedback_span() const { return feedback_hi - feedback_lo; }
    // Lateral nudge in spiking mode: the interneurons' emission p(U_I) = clamp((U_I - lo) / (hi -
    // lo), 0, 1), [lo, hi] = interneuron_range: the feedback potentials k G a they predict. A
    // narrower range means less decoded noise (span^2 p / (2 r_max tau_s)) but more clamping.
    double interneuron_lo = -1.0, interneuron_hi = 1.0;
    double interneuron_span() const { return interneuron_hi - interneuron_lo; }

    ScheduleConfig schedule;
    TaskConfig task;
    CircuitRecordConfig record;
    DerivativeTestConfig derivative_test;

    // Training and evaluation.
    std::int64_t presentations = 48000;  // total over all streams
    // Annealing of the feedforward learning rates (eta_hidden, eta_out): they fall geometrically
    // with the presentations done, to this fraction of their value at the end of training (1:
    // constant). The same factor for every synapse, set by the training protocol, and
    // independent of the presentations' timing: not a phase signal.
    double eta_final_fraction = 1.0;
    int checkpoints = 8;                 // test evaluations during training (learning curve)
    double test_settle_ms = 50.0;        // settling time of the test pass per input (spiking mode: 150)
    double test_window_ms = 500.0;       // spiking mode: output spike-count window after settling
    bool control_output_only = true;     // also train with hidden plasticity off
    bool control_frozen = true;          // also run with all plasticity off

    double k() const { return g_D / (g_L + g_D); }
    // n_in, hidden..., n_out.
    std::vector<int> sizes() const;
    // The event engine's training network, population by population in index order (the one
    // place this order is written; event_circuit.hpp builds it so and checks): input, layer1 ..
    // layer<L>, then interneuron1 .. interneuron<L-1> (lateral nudge), then feedback1 ..
    // feedback<L-1> (learned feedback); and each one's units.
    std::vector<std::string> population_names() const;
    std::vector<int> population_units() const;
};

// Reads and validates [circuit], [schedule], [task], [training] (each optional); unknown keys and
// modes not implemented yet are ConfigErrors naming the key.
CircuitConfig parse_circuit_config(ConfigTable& root);
// The [task] and [schedule] readers parse_circuit_config uses (a driven plain network uses them
// too: network_drive.hpp). read_task leaves t.finish() to the caller; read_schedule finishes s.
void read_task(ConfigTable& t, TaskConfig& c);
void read_schedule(ConfigTable& s, ScheduleConfig& d);

std::string to_string(Mode);
std::string to_string(Engine);
std::string to_string(Nudge);
std::string to_string(Feedback);
std::string to_string(TaskKind);

}  // namespace settle::circuit
