#pragma once
// Rate mode of the settle-and-delta-rule circuit (docs/science.md, section 4).
//
// Layers l = 0..L: r_0 = x (input rates, from the data), hidden layers 1..L-1, output layer L.
// Every neuron has two compartments; potentials are relative to rest in the paper's unitless
// form (Urbanczik & Senn 2014), time in ms, rates dimensionless (logistic units in [0, 1]).
//
//   V*_l  = k (W_l r_{l-1} + b_l),   k = g_D / (g_L + g_D)    dendritic prediction (U&S 2014)
//   tau dU_l/dt    = -U_l + V*_l + I_l                            soma, tau = C / (g_L + g_D)
//   tau dVbar_l/dt = -Vbar_l + V*_l                               lag-matched prediction
//   r_l = phi_l(U_l)   phi = logistic for hidden layers, identity for the output (potentials)
//   dW_l/dt = eta_l (phi_l(U_l) - phi_l(Vbar_l)) r_{l-1}^T,  db_l/dt likewise    always on
//
// Nudges (I_l, in units of potential):
//   output:  I_L = g_y m(t) (y - U_L), m(t) = 1 from the teacher onset to the presentation's end
//            (a conductance toward the target potential y, g_y in units of g_L + g_D);
//   hidden, `twin` (error feedback):  I_l = lambda G_l(phi(U_{l+1})) - lambda G_l(phi(Vbar_{l+1}))
//            with G_l(r) = k B_l r (`random`: fixed B_l, feedback alignment) or
//            G_l(r) = k W_{l+1}^T r (`symmetric`: the control for the temporal-derivative test).
//            `learned` (difference target propagation by dynamics): a feedback population B_l per
//            hidden layer, same two-compartment neuron with identity output (potential-valued):
//              V*_B = k (Q_l r_{l+1} + c_l);  tau dU_B/dt = -U_B + V*_B + g_B (U_l - U_B)  (soma
//              weakly nudged toward F_l's potential); tau dVbar_B/dt = -Vbar_B + V*_B;
//              dQ_l/dt = eta_B (U_B - Vbar_B) r_{l+1}^T, dc_l/dt likewise (the same rule);
//            so Q_l learns to reconstruct U_l from r_{l+1} (the approximate inverse g_l), and
//            G_l(r) = k (Q_l r + c_l): B_l's dendritic prediction driven by each of layer l+1's
//            two signals (somatic and lag-matched rates), its two outputs' difference the nudge.
//            Being linear, it is computed as lambda G_l(phi(U_{l+1}) - phi(Vbar_{l+1})); with no
//            teacher U and Vbar of every neuron receive identical input, stay bitwise equal and
//            the nudge is exactly zero.
//   hidden, `lateral` (interneuron cancellation, after Sacramento et al. 2018): only somatic rates
//            travel. I_l = lambda (k G_l r_{l+1} - U_I,l), where an interneuron per feedback neuron,
//            tau dU_I/dt = -U_I + k (P_l r_l + d_l), learns from F_l's own rates to predict the
//            feedback: dP_l/dt = eta_I (k G_l r_{l+1} - U_I) r_l^T (d_l likewise), P_l = 0 at
//            start. Without a teacher a small residual nudge remains (prediction error, lags).
//
// Integration: exponential Euler with step dt (default 0.5 ms): over a step the inputs of every
// compartment (V*, I, teacher gate) are held at their start-of-step values and the linear
// membrane equations are solved exactly; U and Vbar use the same arithmetic, so the rule's error
// is exactly zero without a nudge. Input switches and teacher onsets take effect at the first
// step boundary at or after their time. Weight updates are applied each step (Euler).
//
// Streams: the state holds S independent replicas (one column each) that share the weights; the
// weight change per step is the mean over replicas (a mini-batch-like speed device; S = 1 is the
// plain circuit). Eta is per replica, so the default learning rates do not depend on S.
#include <cstdint>
#include <functional>
#include <vector>

#include <Eigen/Core>

#include "networks/circuit/circuit_config.hpp"
#include "networks/circuit/derivative_cell.hpp"
#include "networks/circuit/stop_flag.hpp"
#include "networks/circuit/static_network.hpp"
#include "networks/circuit/tasks.hpp"

namespace settle::circuit {

// Initial weights shared by both modes: W_l ~ N(0, (w_init / sqrt(n_in))^2), biases 0, keyed by
// (seed, "circuit.W<l>"); fixed random feedback B_l ~ N(0, (feedback_scale / sqrt(n_l))^2).
Weights initial_weights(const CircuitConfig& config, std::uint64_t seed);
std::vector<Eigen::MatrixXd> initial_feedback(const CircuitConfig& config, std::uint64_t seed);
// Learned feedback's reconstruction error per hidden layer: mean squared error of k (Q_l r_{l+1} +
// c_l) against U_l on the static network's activities for inputs x (both modes).
std::vector<double> feedback_reconstruction_error(const Weights& w, double k, const std::vector<Eigen::MatrixXd>& Q,
                                                  const std::vector<Eigen::VectorXd>& c, const Eigen::MatrixXd& x);

class RateCircuit {
public:
    // Draws weights (N(0, (w_init / sqrt(n_in))^2), biases 0) and fixed random feedback.
    RateCircuit(const CircuitConfig& config, std::uint64_t seed);

    struct State {
        double t = 0.0;                          // ms since rest
        std::vector<Eigen::MatrixXd> U, Vbar;  // [i]: layer i + 1, n x columns
        std::vector<Eigen::MatrixXd> UI;         // lateral nudge: [i] interneurons of hidden layer i + 1
        std::vector<Eigen::MatrixXd> UB, VbarB;  // learned feedback: [i] B population of hidden layer i + 1
    };
    // Everything at rest (U = Vbar = 0).
    State rest(Eigen::Index columns) const;

    // Advances every column by h ms: inputs x (n_in x S), targets y (n_out x S), teacher gate
    // (0 or 1 per column). With `learn`, the weights change by the rule (mean over columns).
    // With `accumulate`, the rule's integrated change of every weight layer (sum over columns,
    // eta = 1) is added to it (for alignment measurements).
    void step(State& s, const Eigen::MatrixXd& x, const Eigen::MatrixXd& y, const Eigen::RowVectorXd& gate, double h,
              bool learn, std::vector<Eigen::MatrixXd>* accumulate = nullptr);

    // The nudges I_l of the hidden layers in state s: [i] for hidden layer i + 1.
    std::vector<Eigen::MatrixXd> hidden_nudges(const State& s) const;

    // Test pass: each column of x is presented from rest for test_settle_ms with plasticity
    // frozen and no teacher; returns the output potentials U_L.
    Eigen::MatrixXd test_outputs(const Eigen::MatrixXd& x);

    const CircuitConfig& config() const { return config_; }
    Weights& weights() { return w_; }
    const Weights& weights() const { return w_; }
    // Feedback matrix of hidden layer i + 1 (maps layer i + 2's rates to layer i + 1).
    Eigen::MatrixXd feedback_matrix(int i) const;
    // Learned feedback: mean squared reconstruction error of U_l by k (Q_l r_{l+1} + c_l) on the
    // static network's activities for inputs x, per hidden layer (empty for other feedback).
    std::vector<double> reconstruction_error(const Eigen::MatrixXd& x) const;
    void set_eta_feedback(double eta) { eta_feedback_ = eta; }
    void set_teacher(double g) { config_.g_teacher = g; }
    // Time derivatives dU_l/dt (1/ms) of every layer in state s, from the model equations.
    std::vector<Eigen::MatrixXd> derivatives(const State& s, const Eigen::MatrixXd& x, const Eigen::MatrixXd& y,
                                             const Eigen::RowVectorXd& gate) const;
    void set_eta(double hidden, double out) {
        eta_hidden_ = hidden;
        eta_out_ = out;
    }
    // Multiplies eta_hidden and eta_out (the training protocol's annealing; 1 by default).
    void set_eta_scale(double scale) { eta_scale_ = scale; }
    // The run's stop flag: every step() checks it and throws Interrupted (stop_flag.hpp).
    void set_stop(const std::atomic<bool>* flag) { stop_.set(flag); }

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
};

// Alignment of the circuit's learning signal with back-prop on a batch (columns of x, y): every
// column settles from rest without teacher for settle_ms, then the teacher is on for window_ms
// with plasticity frozen.
struct Alignment {
    std::vector<double> cos_dW;        // per weight layer: accumulated rule update vs -dLoss/dW (batch)
    std::vector<double> cos_dr_mean;   // per hidden layer: mean over columns of cos(r(t_y + window) - r(t_y), -dL/dr)
    std::vector<double> cos_dr_ci95;   // half-width of its 95 % confidence interval
};
Alignment measure_alignment(RateCircuit& c, const Eigen::MatrixXd& x, const Eigen::MatrixXd& y, double settle_ms,
                            double window_ms);

// Hinton's temporal-derivative test (Hinton 2007; docs/science.md, section 5), rate mode. Every
// column of x settles from rest without teacher for settle_ms (plasticity frozen); the teacher
// (strength g) comes on at t_y; delay_ms later each hidden neuron's d rate/dt = phi'(U) dU/dt is
// read from the model equations and compared, per input, with -dLoss/dr_l from back-prop through
// the static network with the circuit's current weights. The control delivers the teacher's
// error signal shuffled across output neurons: target y' = V*_L + P (y - V*_L) with V*_L the
// settled output prediction and P a random cyclic permutation (no fixed point) per input.
// One cell of the table: DerivativeCell (derivative_cell.hpp).
// The shuffled control's targets: y' = V + P (y - V) per column, with V the settled output
// prediction and P a uniformly random cyclic permutation (no output keeps its own error).
Eigen::MatrixXd shuffled_teacher_targets(const Eigen::MatrixXd& y, const Eigen::MatrixXd& settled_prediction,
                                         std::uint64_t seed);

DerivativeCell temporal_derivative_test(RateCircuit& c, const Eigen::MatrixXd& x, const Eigen::MatrixXd& y, double g,
                                        double delay_ms, double settle_ms, std::uint64_t seed);

}  // namespace settle::circuit
