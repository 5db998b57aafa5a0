#pragma once
// Spiking mode of the settle-and-delta-rule circuit (docs/science.md, "Spiking mode").
//
// The same two-compartment neurons, potentials and rule as the rate mode (rate_circuit.hpp), but
// every signal that travels between neurons is a spike train. Units: time in ms, potentials in
// the paper's unitless form relative to rest, rates in 1/ms.
//
//   Emission (Poisson, by thinning): each neuron has candidate events at rate r_max (exponential
//   intervals) and accepts a candidate with probability p(U). Two channels share the candidates
//   and their acceptance draws (common random numbers; two multiplexed channels, in the spirit of
//   the event and burst channels of Payeur et al. 2021):
//     somatic channel     accepts if u < p(U)     -> rate r_max p(U)
//     prediction channel  accepts if u < p(Vbar)  -> rate r_max p(Vbar)
//   so the channels differ only where U and Vbar differ: without a teacher they are identical.
//   p = logistic for hidden layers; for the (linear, potential-valued) output layer
//   p(U) = clamp((U - lo) / (hi - lo), 0, 1), [lo, hi] = output_range. Inputs: candidates at
//   rate r_in (input_rate_hz: an input stands for a pool of sources, whose pooled rate sets its
//   signal-to-noise ratio) accepted with probability x (the data's rate in [0, 1]); one channel.
//
//   Synapses: each channel is low-passed, tau_s ds/dt = -s + sum_spikes delta(t - t_k) / r_max
//   (r_in for inputs), so E[s] = p for a constant rate and its variance is p / (2 r_max tau_s).
//   Decoded signal: a(s) = s for hidden layers and inputs, a(s) = lo + (hi - lo) s for the output
//   (so E[a] = U inside the clamp).
//
//   V*_l  = k (W_l a(s_{l-1}) + b_l)                 dendrite, driven by the layer below's somatic channel
//   tau dU_l/dt    = -U_l + V*_l + I_l                soma
//   tau dVbar_l/dt = -Vbar_l + V*_l                   lag-matched prediction
//   twin nudge:  I_l = lambda k G_l (a(s^U_{l+1}) - a(s^Vbar_{l+1}))   (random B_l or W_{l+1}^T)
//   output:      I_L = g_y m(t) (y - U_L)             teacher conductance, as in rate mode
//
//   Rule (lag-compensated dendritic prediction, with spikes): dW_l/dt = eta_l c_l (S^U_l(t) -
//   S^Vbar_l(t)) a(s_{l-1})^T / r_max, S the channels' spike trains, c_l = 1 for hidden layers and
//   hi - lo for the output; its expectation is the rate mode's eta (p(U) - p(Vbar)) r_pre for hidden
//   layers. Weights change only at the events where one channel spikes and the other does not,
//   a row at a time (event-driven plasticity, O(n_pre) per event); never without a teacher.
//
// Integration: steps of dt as in rate mode (exponential Euler for U and Vbar with inputs held over
// the step). Spikes are events in continuous time: a candidate at t_k is accepted with the
// start-of-step potentials, and its trace contribution exp(-(t_end - t_k) / tau_s) / (r_max tau_s)
// is added at the step's end, so the traces are exact at step boundaries. The dendrites are dense
// products of the weights with the traces at each step (cheaper than delivering every event).
//
// Learned feedback (`learned`, difference target propagation by dynamics, as in rate mode): per
// hidden layer a feedback population B_l of two-compartment units,
//   V*_B = k (Q_l a(s^U_{l+1}) + c_l)    dendrite, driven by layer l+1's somatic channel
//   tau dU_B/dt = -U_B + V*_B + g_B (U_l - U_B)   soma coupled to F_l's potential (a conductance,
//   like the teacher's: the one signal here that is not a spike train); tau dVbar_B/dt = -Vbar_B + V*_B
// emitting two channels with p_B(U) = clamp((U - lo) / (hi - lo)), [lo, hi] = feedback_range, and
// learning Q_l, c_l at their disagreement events with the same rule (c = hi - lo, eta_feedback),
// so Q_l learns to reconstruct U_l from layer l+1's spikes, always (teacher or not). The nudge is
// B_l's dendritic prediction driven by each of layer l+1's two channels, their difference:
// I_l = lambda k Q_l (a(s^U_{l+1}) - a(s^Vbar_{l+1})), exactly zero without a teacher.
//
// Lateral nudge (`lateral`, interneuron cancellation after Sacramento et al. 2018, as in rate
// mode): only somatic channels travel down. Per hidden layer one interneuron per neuron of F_l,
//   V*_I = k (P_l a(s^U_l) + d_l)        dendrite, driven by F_l's own somatic spikes (P_l = 0 at start)
//   tau dU_I/dt = -U_I + V*_I            soma
// emitting one spike train with p_I(U) = clamp((U - lo) / (hi - lo)), [lo, hi] = interneuron_range,
// decoded a_I = lo + (hi - lo) s_I. The interneuron's output passes the same soma and synaptic
// low-pass as the feedback it cancels (F_{l+1}'s soma and somatic trace), so the two are lag-matched:
//   I_l = lambda (k G_l a(s^U_{l+1}) - a_I(s_I,l))
//   dP_l/dt = eta_I (k G_l a(s^U_{l+1}) - a_I) a(s^U_l)^T   (d_l likewise; every step, dense: the
//   error is the apical mismatch, a potential, not a spike difference)
// Without a teacher the nudge is the interneurons' prediction error plus the Poisson noise of both
// spike trains, which no prediction from F_l can cancel: unlike `twin`, it is never exactly zero
// (measured in docs/results.md, "What limits the spiking mode").
//
// Noise and lag (measured, docs/results.md, "What limits the spiking mode"): the traces' Poisson noise enters the output's
// error through V* and acts as a weight decay (errors in variables); r_max tau_s = 32 spikes per
// time constant (1600 Hz, 20 ms) is the default trade-off between that bias and cost. The traces
// also delay the feedforward sweep by about tau_s per layer, so the spiking mode's default
// teacher onsets come later (circuit_config.cpp).
//
// Streams: S independent replicas (columns) share the weights; each update is divided by S.
// Readout (test pass): output somatic spike counts in a window after settling, decoded to
// potentials by U = lo + (hi - lo) count / (r_max T).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "networks/circuit/circuit_config.hpp"
#include "networks/circuit/stop_flag.hpp"
#include "networks/circuit/rate_circuit.hpp"
#include "networks/circuit/static_network.hpp"
#include "sim/random.hpp"

namespace settle::circuit {

class SpikingCircuit {
public:
    // Same initial weights and feedback as RateCircuit(config, seed).
    SpikingCircuit(const CircuitConfig& config, std::uint64_t seed);

    struct State {
        double t = 0.0;  // ms since rest
        std::vector<Eigen::MatrixXd> U, Vbar;  // [i]: layer i + 1, n x columns
        Eigen::MatrixXd s_in;                  // input traces
        std::vector<Eigen::MatrixXd> sU, sV;   // [i]: layer i + 1, somatic and prediction channel traces
        std::vector<Eigen::MatrixXd> next;     // [0]: inputs, [i + 1]: layer i + 1; next candidate time
        std::vector<std::vector<CounterRng>> rng;  // [layer][column], emission streams
        std::vector<Eigen::MatrixXd> countU, countV;  // [i]: spikes of layer i + 1 since the last reset
        // Learned feedback: [i] the feedback population of hidden layer i + 1.
        std::vector<Eigen::MatrixXd> UB, VbarB, nextB;
        std::vector<std::vector<CounterRng>> rngB;
        // Lateral nudge: [i] the interneurons of hidden layer i + 1 (potential, trace, emission).
        std::vector<Eigen::MatrixXd> UI, sI, nextI;
        std::vector<std::vector<CounterRng>> rngI;
        void reset_counts();
        // Since rest, never reset: spikes of the inputs and of every layer's two channels, and the
        // synaptic events they caused (each spike times the number of its targets: feedforward
        // weights for inputs and somatic channels, feedback weights for both channels of layers
        // above the first hidden one).
        double input_spikes = 0.0, neuron_spikes = 0.0, synaptic_events = 0.0;

        // Work space of step(), kept so that a step allocates nothing.
        struct ErrorEvent {
            int layer;  // weight layer, or the hidden layer's feedback population if `feedback`
            bool feedback;
            Eigen::Index neuron, column;
            double sign;  // +1: the somatic channel spiked alone, -1: the prediction channel alone
        };
        struct Scratch {
            std::vector<Eigen::MatrixXd> pre, Vs, I, incU, incV, preB, VsB, eI, incI, VsI;
            Eigen::MatrixXd inc_in, e;
            std::vector<ErrorEvent> events;
        } scratch;
    };
    // Everything at rest, no spikes in flight; the emission streams are keyed by (seed, purpose,
    // layer, column), so two states with the same purpose draw the same candidates and acceptance
    // numbers (common random numbers: used for paired teacher-on/off trials).
    // first_column offsets the stream keys (a block of a larger set of independent columns).
    State rest(Eigen::Index columns, const std::string& purpose = "train", Eigen::Index first_column = 0) const;

    // Advances every column by h ms (inputs x in [0, 1], targets y, teacher gate 0/1 per column).
    // With `learn`, weights change at the channels' disagreement events (mean over columns).
    void step(State& s, const Eigen::MatrixXd& x, const Eigen::MatrixXd& y, const Eigen::RowVectorXd& gate, double h,
              bool learn);

    // Test pass: each column of x from rest for test_settle_ms, then output spike counts over
    // test_window_ms decoded to potentials; plasticity frozen, no teacher.
    Eigen::MatrixXd test_outputs(const Eigen::MatrixXd& x);

    const CircuitConfig& config() const { return config_; }
    Weights& weights() { return w_; }
    const Weights& weights() const { return w_; }
    Eigen::MatrixXd feedback_matrix(int i) const;
    // Learned feedback: see RateCircuit::reconstruction_error (empty for other feedback).
    std::vector<double> reconstruction_error(const Eigen::MatrixXd& x) const;
    // The nudges I_l of the hidden layers in state s (from its traces): [i] for hidden layer i + 1.
    std::vector<Eigen::MatrixXd> hidden_nudges(const State& s) const;
    void set_eta(double hidden, double out) {
        eta_hidden_ = hidden;
        eta_out_ = out;
    }
    // Multiplies eta_hidden and eta_out (the training protocol's annealing; 1 by default).
    void set_eta_scale(double scale) { eta_scale_ = scale; }
    // The run's stop flag: every step() checks it and throws Interrupted (stop_flag.hpp).
    void set_stop(const std::atomic<bool>* flag) { stop_.set(flag); }
    void set_teacher(double g) { config_.g_teacher = g; }
    // Emission probability per candidate of a neuron of layer index i (0-based over weight layers)
    // at potential U.
    double acceptance(int i, double U) const;
    // Decoded signal a(s) of layer index i's traces.
    Eigen::MatrixXd decode(int i, const Eigen::MatrixXd& s) const;
    double rate_max_per_ms() const { return config_.rate_max_hz * 1e-3; }
    double input_rate_per_ms() const { return config_.input_rate_hz * 1e-3; }

private:
    CircuitConfig config_;
    Weights w_;
    std::vector<Eigen::MatrixXd> B_;  // random feedback; Q_l (initially random) for learned feedback
    std::vector<Eigen::VectorXd> c_;  // learned feedback biases
    std::vector<Eigen::MatrixXd> P_;  // lateral nudge: interneuron weights (from F_l), start at 0
    std::vector<Eigen::VectorXd> d_;
    double eta_scale_ = 1.0;
    StopFlag stop_;
    double eta_hidden_, eta_out_, eta_feedback_;
    std::uint64_t seed_;
    double feedback_acceptance(double U) const;
    double interneuron_acceptance(double U) const;
    // Hidden layer i's nudge from the start-of-step traces into I (twin or lateral); for lateral
    // also the interneurons' error into eI. `work` is scratch space.
    void compute_nudge(const State& s, std::size_t i, Eigen::MatrixXd& I, Eigen::MatrixXd* eI,
                       Eigen::MatrixXd& work) const;
};

// Hinton's temporal-derivative test in spiking mode. For every input (column of x), `trials`
// replicas settle from rest without teacher for settle_ms; then paired continuations run with the
// same random numbers: teacher on (strength g), teacher off, and the shuffled control (the
// teacher's error permuted cyclically across outputs, as in rate mode). Each hidden neuron's rate
// change is estimated from the trial-summed somatic spike counts in (t_y, t_y + d] of the teacher
// run minus those of the paired teacher-off run, for each readout delay d; the vector is compared
// with -dLoss/dr by back-prop through the static network (cosine per input; mean and 95 % CI over
// inputs). Also reported: the unpaired estimate (counts in (t_y, t_y + d] minus counts in
// (t_y - d, t_y] of the teacher run alone), what an experimenter without a counterfactual measures.
// Returns one cell per (g, delay), g outermost.
// One cell of a spiking temporal-derivative table, from trial-summed spike-count differences per
// hidden layer (n_l x inputs each): paired (teacher on - off), shuffled (shuffled control - off)
// and unpaired (after - before the onset, teacher run alone), each compared per input with
// -dLoss/dr of the static network (grad); mean and 95 % CI over inputs. Shared by both engines.
DerivativeCell spike_count_derivative_cell(double g, double delay_ms, const Gradients& grad,
                                           const std::vector<Eigen::MatrixXd>& paired,
                                           const std::vector<Eigen::MatrixXd>& shuffled,
                                           const std::vector<Eigen::MatrixXd>& unpaired);

std::vector<DerivativeCell> spiking_temporal_derivative_test(SpikingCircuit& c, const Eigen::MatrixXd& x,
                                                             const Eigen::MatrixXd& y, const std::vector<double>& gs,
                                                             const std::vector<double>& delays_ms, double settle_ms,
                                                             int trials, std::uint64_t seed);

}  // namespace settle::circuit
