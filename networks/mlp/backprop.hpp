#pragma once
// Back-propagation (Rumelhart, Hinton, Williams 1986) for the tanh/softmax MLP of mlp.hpp.
//
//   delta_n     = dLoss/dlogits = (p - onehot(y)) / B
//   e_k         = W_k^T delta_{k+1}                          error at h_k (k = n-1 .. 1)
//   delta_k     = e_k * (1 - h_k^2)                          through tanh
//   dLoss/dW_k  = delta_{k+1} s_k(h_k)^T,   dLoss/db_k = sum over the batch of delta_{k+1}
//
// A binarised input s_k = sign is passed straight through (its derivative taken as 1): the
// straight-through estimator (Bengio, Leonard, Courville 2013) that Lee et al. 2015 compare
// discrete DTP against. Without sign units this is the exact gradient.
#include "networks/mlp/algorithm.hpp"

namespace settle::mlp {

// Shared backward sweep: `feedback(k, delta, e)` sets e = B_k delta, the error at h_k from the
// error delta at layer k+1's pre-activation (B_k = W_k^T for back-prop). Fills every W and b of g.
template <class T, class Feedback>
void backward_sweep(const Mlp<T>& net, const Activations<T>& a, const Mat<T>& dlogits, Feedback&& feedback, Params<T>& g) {
    const int n = net.layers();
    Mat<T> delta = dlogits, e;
    for (int k = n - 1; k >= 0; --k) {
        const auto kk = static_cast<std::size_t>(k);
        g.W[kk].noalias() = delta * a.input(k).transpose();
        g.b[kk] = delta.rowwise().sum();
        if (k == 0) break;
        feedback(k, delta, e);
        delta = e.array() * (T(1) - a.h[kk].array().square());
    }
}

template <class T>
class Backprop final : public Algorithm<T> {
public:
    std::string name() const override { return "bp"; }
    BatchResult compute(const Mlp<T>& net, const Mat<T>& x, const std::vector<int>& y, Params<T>& g) override {
        return gradient(net, x, y, g, a_);
    }
    bool reports_angles() const override { return false; }

    // dLoss/dtheta for the mini-batch (x, y); `a` receives the forward pass.
    static BatchResult gradient(const Mlp<T>& net, const Mat<T>& x, const std::vector<int>& y, Params<T>& g,
                                Activations<T>& a);

private:
    Activations<T> a_;
};

}  // namespace settle::mlp
