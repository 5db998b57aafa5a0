#pragma once
// The equivalent static (rate) network of a circuit, and back-prop through it: the reference the
// circuit is measured against (the static feedforward network with the circuit's weights, and the
// angle of the circuit's updates to back-prop's). A small self-contained Eigen helper: the rate
// references of networks/mlp are tanh/softmax classifiers and do not cover this network.
//
// With the circuit's settled, un-nudged state (no teacher: U = Vbar = V*; docs/science.md,
// section 4):
//     U_l = k (W_l r_{l-1} + b_l),   r_0 = x,   r_l = phi_l(U_l),
//     phi_l = logistic 1 / (1 + exp(-U)) for hidden layers, the identity for the output layer;
//     Loss = 1/2 sum_i (y_i - U_L,i)^2 per sample (potentials are the targets).
// Layers are indexed 0..L-1 here for weight layers: W[i] maps layer i to layer i + 1.
#include <vector>

#include <Eigen/Core>

namespace settle::circuit {

struct Weights {
    std::vector<Eigen::MatrixXd> W;  // W[i]: n_{i+1} x n_i
    std::vector<Eigen::VectorXd> b;  // b[i]: n_{i+1}
    int layers() const { return static_cast<int>(W.size()); }
};

// Activation of layer index i (0-based over weight layers; the last is the output).
Eigen::MatrixXd activation(const Weights& w, int i, const Eigen::MatrixXd& U);
// Its derivative with respect to U.
Eigen::MatrixXd activation_derivative(const Weights& w, int i, const Eigen::MatrixXd& U);

struct StaticPass {
    std::vector<Eigen::MatrixXd> U, r;  // U[i], r[i] of layer i + 1; one column per sample
};
StaticPass static_forward(const Weights& w, double k, const Eigen::MatrixXd& x);

struct Gradients {
    std::vector<Eigen::MatrixXd> dW;        // dLoss/dW[i], summed over samples
    std::vector<Eigen::VectorXd> db;
    std::vector<Eigen::MatrixXd> neg_dL_dr;  // -dLoss/dr of hidden layer i + 1 (i < L - 1), per sample
    std::vector<Eigen::MatrixXd> neg_dL_dU;  // -dLoss/dU of layer i + 1, per sample
};
Gradients backprop(const Weights& w, double k, const Eigen::MatrixXd& x, const Eigen::MatrixXd& y);

}  // namespace settle::circuit
