#pragma once
// What target propagation and difference target propagation share (Lee, Zhang, Fischer, Bengio
// 2015, "Difference Target Propagation", ECML-PKDD; arXiv:1412.7525): the learned approximate
// inverses and the layer-local target losses.
//
// Inverse of hidden weight layer k (mapping h_{k+1} back to h_k; k = 1..n-2, none for the first
// and the softmax layer):
//
//   g_k(h) = tanh(V_k s_k(h) + c_k)       (s_k = sign when layer k binarises its input, as the
//                                          paper's discrete network does)
//
// trained, once per epoch on every mini-batch and before the forward weights learn, on noisy
// activity to minimise the reconstruction error
//
//   L_inv,k = mean over the batch of | g_k(f_k(h_k + eps)) - (h_k + eps) |^2,   eps ~ N(0, sigma^2)
//
// with the noise and its reconstruction treated as constants, by RMSprop. sigma may decay as
// sigma / (1 + epoch / decay_epochs) (the paper's discrete experiment).
//
// Targets: the top hidden layer gets t_{n-1} = h_{n-1} - eta_hat dLoss/dh_{n-1}, where Loss is
// the mini-batch MEAN cross-entropy (as in the paper's code, so the step per example is
// eta_hat / B); lower targets come from the inverses (target_prop.hpp, difference_target_prop.hpp).
// Each hidden weight layer k then descends its local loss mean_batch |f_k(h_k) - t_{k+1}|^2:
//
//   dW_k = (2/B) [(h_{k+1} - t_{k+1}) * (1 - h_{k+1}^2)] s_k(h_k)^T
//
// and the softmax layer its true gradient.
#include <cstdint>
#include <functional>

#include "networks/mlp/algorithm.hpp"
#include "networks/mlp/rmsprop.hpp"

namespace settle::mlp {

struct InverseConfig {
    RmsPropConfig optimizer;         // learning_rate: the paper's lr_b
    double noise_std = 0.36;         // sigma
    double noise_decay_epochs = 0;   // 0: constant sigma
    Init init = Init::orthogonal;
};

// out = g_k(h) for the inverse of weight layer k.
template <class T>
using InverseFn = std::function<void(int k, const Mat<T>& h, Mat<T>& out)>;

template <class T>
class Inverses {
public:
    Inverses(const Mlp<T>& net, InverseConfig config, std::uint64_t seed);
    bool has(int k) const { return k >= 1 && k + 1 < layers_; }
    void apply(int k, const Mat<T>& h, Mat<T>& out) const;
    InverseFn<T> as_function() const {
        return [this](int k, const Mat<T>& h, Mat<T>& out) { apply(k, h, out); };
    }
    double noise_std(int epoch) const;

    // One RMSprop step on every inverse for mini-batch `batch` of `epoch` (forward pass `a`);
    // returns the reconstruction error before the step (mean over the inverses).
    double train_batch(const Mlp<T>& net, const Activations<T>& a, int epoch, std::size_t batch);
    // Reconstruction error mean over inverses of |g(f(h + eps)) - (h + eps)|^2 with the given noise.
    double reconstruction_error(const Mlp<T>& net, const Activations<T>& a, double sigma, std::uint64_t key) const;
    // A whole epoch of inverse training; returns the mean reconstruction error over its batches.
    double train_epoch(const Mlp<T>& net, int epoch, std::size_t n_batches, const BatchFn<T>& batch);

    void write_arrays(ResultSink& sink) const;

    std::vector<Mat<T>> V;  // V[k]: sizes[k] x sizes[k+1]
    std::vector<Vec<T>> c;  // c[k]: sizes[k]

private:
    // Corrupted activity, its image under f_k and reconstruction error term for layer k.
    void corrupt(const Mlp<T>& net, const Activations<T>& a, int k, double sigma, std::uint64_t key, Mat<T>& hc,
                 Mat<T>& fc) const;
    int layers_;
    std::vector<bool> sign_input_;
    InverseConfig config_;
    std::uint64_t seed_;
    RmsProp<T> opt_;
};

// Top target t_{n-1} = h_{n-1} - eta_hat dLoss/dh_{n-1} (sign inputs passed straight through);
// also returns dLoss/dlogits.
template <class T>
void top_target(const Mlp<T>& net, const Activations<T>& a, const std::vector<int>& y, double eta_hat, Mat<T>& target,
                Mat<T>& dlogits);

// Lower targets, k = n-2 .. 1, into t (t[k] for hidden layer k; t.size() = n, t[0] unused):
//   difference: t_k = h_k - g_k(h_{k+1}) + g_k(t_{k+1})       (DTP)
//   otherwise:  t_k = g_k(t_{k+1})                              (TP)
template <class T>
void propagate_targets(const Activations<T>& a, const InverseFn<T>& g, bool difference, std::vector<Mat<T>>& t);

// Fills g: the softmax layer's true gradient from dlogits, every hidden layer's local-loss gradient.
template <class T>
void target_gradients(const Mlp<T>& net, const Activations<T>& a, const std::vector<Mat<T>>& t, const Mat<T>& dlogits,
                      Params<T>& g);

}  // namespace settle::mlp
