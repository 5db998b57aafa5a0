#include "networks/mlp/inverses.hpp"

#include <cmath>

#include "networks/mlp/random.hpp"

namespace settle::mlp {

namespace {

// Noise stream of inverse k for mini-batch `batch` of `epoch`.
std::uint64_t noise_key(int epoch, std::size_t batch) {
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(epoch)) << 32) | static_cast<std::uint32_t>(batch);
}

}  // namespace

template <class T>
Inverses<T>::Inverses(const Mlp<T>& net, InverseConfig config, std::uint64_t seed)
    : layers_(net.layers()), sign_input_(net.shape().sign_input), config_(config), seed_(seed), opt_(config.optimizer) {
    V.resize(static_cast<std::size_t>(layers_));
    c.resize(static_cast<std::size_t>(layers_));
    for (int k = 1; k + 1 < layers_; ++k) {
        const int rows = net.shape().sizes[static_cast<std::size_t>(k)];
        const int cols = net.shape().sizes[static_cast<std::size_t>(k) + 1];
        const auto purpose = static_cast<std::uint32_t>(Purpose::init_inverse);
        V[static_cast<std::size_t>(k)] =
            config.init == Init::orthogonal
                ? orthogonal_matrix<T>(rows, cols, seed, purpose, static_cast<std::uint32_t>(k))
                : uniform_matrix<T>(rows, cols, std::sqrt(6.0 / (rows + cols)), seed, purpose, static_cast<std::uint32_t>(k));
        c[static_cast<std::size_t>(k)] = Vec<T>::Zero(rows);
    }
    // Optimiser state exists before the parallel training loop touches it.
    for (int k = 1; k + 1 < layers_; ++k) {
        const auto kk = static_cast<std::size_t>(k);
        opt_.reserve(2 * kk, V[kk].rows(), V[kk].cols());
        opt_.reserve(2 * kk + 1, c[kk].rows(), 1);
    }
}

template <class T>
void Inverses<T>::apply(int k, const Mat<T>& h, Mat<T>& out) const {
    const auto kk = static_cast<std::size_t>(k);
    if (!sign_input_[kk]) out.noalias() = V[kk] * h;
    else out.noalias() = V[kk] * binarise<T>(h);
    out.colwise() += c[kk];
    out = out.array().tanh();
}

template <class T>
double Inverses<T>::noise_std(int epoch) const {
    if (config_.noise_decay_epochs > 0) return config_.noise_std / (1.0 + epoch / config_.noise_decay_epochs);
    return config_.noise_std;
}

template <class T>
void Inverses<T>::corrupt(const Mlp<T>& net, const Activations<T>& a, int k, double sigma, std::uint64_t key,
                          Mat<T>& hc, Mat<T>& fc) const {
    const Mat<T>& h = a.h[static_cast<std::size_t>(k)];
    Rng rng(seed_, Purpose::noise, static_cast<std::uint32_t>(key >> 32),
            static_cast<std::uint32_t>(key) * 256u + static_cast<std::uint32_t>(k));
    hc.resize(h.rows(), h.cols());
    for (Eigen::Index j = 0; j < h.cols(); ++j)
        for (Eigen::Index i = 0; i < h.rows(); ++i) hc(i, j) = h(i, j) + static_cast<T>(sigma * rng.normal());
    net.layer_output(k, hc, fc);
}

template <class T>
double Inverses<T>::reconstruction_error(const Mlp<T>& net, const Activations<T>& a, double sigma,
                                         std::uint64_t key) const {
    double total = 0.0;
    int count = 0;
    Mat<T> hc, fc, r;
    for (int k = 1; k + 1 < layers_; ++k) {
        corrupt(net, a, k, sigma, key, hc, fc);
        apply(k, fc, r);
        total += static_cast<double>((r - hc).squaredNorm()) / static_cast<double>(hc.cols());
        ++count;
    }
    return count ? total / count : 0.0;
}

template <class T>
double Inverses<T>::train_batch(const Mlp<T>& net, const Activations<T>& a, int epoch, std::size_t batch) {
    const double sigma = noise_std(epoch);
    const std::uint64_t key = noise_key(epoch, batch);
    std::vector<double> err(static_cast<std::size_t>(layers_), 0.0);
    // Each inverse learns from its own layer only: the inverses are independent and are trained in
    // parallel, one thread per inverse (results do not depend on the thread count).
#pragma omp parallel for schedule(dynamic, 1)
    for (int k = 1; k < layers_ - 1; ++k) {
        const auto kk = static_cast<std::size_t>(k);
        Mat<T> hc, fc, r;
        corrupt(net, a, k, sigma, key, hc, fc);
        apply(k, fc, r);
        const auto B = static_cast<T>(hc.cols());
        Mat<T> diff = r - hc;
        err[kk] = static_cast<double>(diff.squaredNorm()) / static_cast<double>(hc.cols());
        const Mat<T> e = (T(2) / B) * (diff.array() * (T(1) - r.array().square())).matrix();
        Mat<T> dV;
        if (sign_input_[kk]) dV.noalias() = e * binarise<T>(fc).transpose();
        else dV.noalias() = e * fc.transpose();
        const Vec<T> dc = e.rowwise().sum();
        opt_.step(V[kk], dV, 2 * kk);
        opt_.step(c[kk], dc, 2 * kk + 1);
    }
    double total = 0.0;
    for (int k = 1; k + 1 < layers_; ++k) total += err[static_cast<std::size_t>(k)];
    return layers_ > 2 ? total / (layers_ - 2) : 0.0;
}

template <class T>
double Inverses<T>::train_epoch(const Mlp<T>& net, int epoch, std::size_t n_batches, const BatchFn<T>& batch) {
    Mat<T> x;
    std::vector<int> y;
    Activations<T> a;
    double total = 0.0;
    for (std::size_t i = 0; i < n_batches; ++i) {
        batch(i, x, y);
        net.forward(x, a);
        total += train_batch(net, a, epoch, i);
    }
    return n_batches ? total / static_cast<double>(n_batches) : 0.0;
}

template <class T>
void Inverses<T>::write_arrays(ResultSink& sink) const {
    for (int k = 1; k + 1 < layers_; ++k) {
        // Named after the forward layer they invert (1-based), like the paper's V2..V7.
        emit_matrix<T>(sink, "inverse/V" + std::to_string(k + 1), V[static_cast<std::size_t>(k)]);
        emit_matrix<T>(sink, "inverse/c" + std::to_string(k + 1), Mat<T>(c[static_cast<std::size_t>(k)]));
    }
}

template <class T>
void top_target(const Mlp<T>& net, const Activations<T>& a, const std::vector<int>& y, double eta_hat, Mat<T>& target,
                Mat<T>& dlogits) {
    const int n = net.layers();
    cross_entropy_grad<T>(a.h.back(), y, dlogits);
    const Mat<T> dh = net.p.W[static_cast<std::size_t>(n - 1)].transpose() * dlogits;
    target = a.h[static_cast<std::size_t>(n - 1)] - static_cast<T>(eta_hat) * dh;
}

template <class T>
void propagate_targets(const Activations<T>& a, const InverseFn<T>& g, bool difference, std::vector<Mat<T>>& t) {
    const int n = static_cast<int>(a.h.size()) - 1;
    Mat<T> g_target, g_h;
    for (int k = n - 2; k >= 1; --k) {
        const auto kk = static_cast<std::size_t>(k);
        g(k, t[kk + 1], g_target);
        if (difference) {
            g(k, a.h[kk + 1], g_h);
            t[kk] = a.h[kk] - g_h + g_target;
        } else {
            t[kk] = g_target;
        }
    }
}

template <class T>
void target_gradients(const Mlp<T>& net, const Activations<T>& a, const std::vector<Mat<T>>& t, const Mat<T>& dlogits,
                      Params<T>& g) {
    const int n = net.layers();
    if (g.W.size() != net.p.W.size()) g = net.zeros_like();
    const auto top = static_cast<std::size_t>(n - 1);
    g.W[top].noalias() = dlogits * a.input(n - 1).transpose();
    g.b[top] = dlogits.rowwise().sum();
    // The local losses are independent: one thread per layer (each layer is computed whole by one
    // thread, so the result does not depend on the schedule).
#pragma omp parallel for schedule(dynamic, 1)
    for (int k = 0; k < n - 1; ++k) {
        const auto kk = static_cast<std::size_t>(k);
        const Mat<T>& h = a.h[kk + 1];
        const auto B = static_cast<T>(h.cols());
        const Mat<T> e = (T(2) / B) * ((h - t[kk + 1]).array() * (T(1) - h.array().square())).matrix();
        g.W[kk].noalias() = e * a.input(k).transpose();
        g.b[kk] = e.rowwise().sum();
    }
}

#define SETTLE_MLP_INSTANTIATE(T)                                                                                  \
    template class Inverses<T>;                                                                                    \
    template void top_target<T>(const Mlp<T>&, const Activations<T>&, const std::vector<int>&, double, Mat<T>&,     \
                                Mat<T>&);                                                                          \
    template void propagate_targets<T>(const Activations<T>&, const InverseFn<T>&, bool, std::vector<Mat<T>>&);   \
    template void target_gradients<T>(const Mlp<T>&, const Activations<T>&, const std::vector<Mat<T>>&,            \
                                      const Mat<T>&, Params<T>&);
SETTLE_MLP_INSTANTIATE(float)
SETTLE_MLP_INSTANTIATE(double)

}  // namespace settle::mlp
