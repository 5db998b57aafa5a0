#include "networks/circuit/static_network.hpp"

namespace settle::circuit {

Eigen::MatrixXd activation(const Weights& w, int i, const Eigen::MatrixXd& U) {
    if (i == w.layers() - 1) return U;
    return (1.0 / (1.0 + (-U.array()).exp())).matrix();
}

Eigen::MatrixXd activation_derivative(const Weights& w, int i, const Eigen::MatrixXd& U) {
    if (i == w.layers() - 1) return Eigen::MatrixXd::Ones(U.rows(), U.cols());
    const Eigen::ArrayXXd s = 1.0 / (1.0 + (-U.array()).exp());
    return (s * (1.0 - s)).matrix();
}

StaticPass static_forward(const Weights& w, double k, const Eigen::MatrixXd& x) {
    StaticPass p;
    const Eigen::MatrixXd* pre = &x;
    for (int i = 0; i < w.layers(); ++i) {
        p.U.push_back(k * ((w.W[static_cast<std::size_t>(i)] * *pre).colwise() + w.b[static_cast<std::size_t>(i)]));
        p.r.push_back(activation(w, i, p.U.back()));
        pre = &p.r.back();
    }
    return p;
}

Gradients backprop(const Weights& w, double k, const Eigen::MatrixXd& x, const Eigen::MatrixXd& y) {
    const StaticPass p = static_forward(w, k, x);
    const int L = w.layers();
    Gradients g;
    g.dW.resize(static_cast<std::size_t>(L));
    g.db.resize(static_cast<std::size_t>(L));
    g.neg_dL_dr.resize(static_cast<std::size_t>(L - 1));
    g.neg_dL_dU.resize(static_cast<std::size_t>(L));
    Eigen::MatrixXd delta = p.U.back() - y;  // dLoss/dU_L
    for (int i = L - 1; i >= 0; --i) {
        const auto s = static_cast<std::size_t>(i);
        g.neg_dL_dU[s] = -delta;
        const Eigen::MatrixXd& pre = i == 0 ? x : p.r[s - 1];
        g.dW[s] = k * delta * pre.transpose();
        g.db[s] = k * delta.rowwise().sum();
        if (i == 0) break;
        const Eigen::MatrixXd dL_dr = k * w.W[s].transpose() * delta;
        g.neg_dL_dr[s - 1] = -dL_dr;
        delta = (dL_dr.array() * activation_derivative(w, i - 1, p.U[s - 1]).array()).matrix();
    }
    return g;
}

}  // namespace settle::circuit
