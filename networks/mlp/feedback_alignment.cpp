#include "networks/mlp/feedback_alignment.hpp"

#include <cmath>

#include "networks/mlp/backprop.hpp"
#include "networks/mlp/random.hpp"

namespace settle::mlp {

template <class T>
FeedbackAlignment<T>::FeedbackAlignment(const Mlp<T>& net, std::uint64_t seed, double feedback_scale) {
    B_.resize(static_cast<std::size_t>(net.layers()));
    for (int k = 1; k < net.layers(); ++k) {
        const int rows = net.shape().sizes[static_cast<std::size_t>(k)];
        const int cols = net.shape().sizes[static_cast<std::size_t>(k) + 1];
        B_[static_cast<std::size_t>(k)] =
            uniform_matrix<T>(rows, cols, std::sqrt(6.0 / (rows + cols)), seed,
                              static_cast<std::uint32_t>(Purpose::init_feedback), static_cast<std::uint32_t>(k)) *
            static_cast<T>(feedback_scale);
    }
}

template <class T>
BatchResult FeedbackAlignment<T>::compute(const Mlp<T>& net, const Mat<T>& x, const std::vector<int>& y, Params<T>& g) {
    net.forward(x, a_);
    BatchResult r;
    r.loss = cross_entropy<T>(a_.h.back(), y, &r.errors);
    Mat<T> dlogits;
    cross_entropy_grad<T>(a_.h.back(), y, dlogits);
    if (g.W.size() != net.p.W.size()) g = net.zeros_like();
    backward_sweep(net, a_, dlogits,
                   [&](int k, const Mat<T>& delta, Mat<T>& e) { e.noalias() = B_[static_cast<std::size_t>(k)] * delta; },
                   g);
    return r;
}

template <class T>
void FeedbackAlignment<T>::write_arrays(ResultSink& sink) const {
    for (std::size_t k = 1; k < B_.size(); ++k) emit_matrix<T>(sink, "feedback/B" + std::to_string(k + 1), B_[k]);
}

template class FeedbackAlignment<float>;
template class FeedbackAlignment<double>;

}  // namespace settle::mlp
