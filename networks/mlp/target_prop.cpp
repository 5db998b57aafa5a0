#include "networks/mlp/target_prop.hpp"

namespace settle::mlp {

template <class T>
TargetPropagationBase<T>::TargetPropagationBase(const Mlp<T>& net, TargetPropConfig config, std::uint64_t seed,
                                                bool difference)
    : config_(config), difference_(difference), inverses_(net, config.inverse, seed) {}

template <class T>
void TargetPropagationBase<T>::begin_epoch(const Mlp<T>& net, int epoch, std::size_t n_batches, const BatchFn<T>& batch) {
    reconstruction_ = inverses_.train_epoch(net, epoch, n_batches, batch);
}

template <class T>
BatchResult TargetPropagationBase<T>::compute(const Mlp<T>& net, const Mat<T>& x, const std::vector<int>& y, Params<T>& g) {
    net.forward(x, a_);
    BatchResult r;
    r.loss = cross_entropy<T>(a_.h.back(), y, &r.errors);
    const auto n = static_cast<std::size_t>(net.layers());
    t_.resize(n);
    Mat<T> dlogits;
    top_target<T>(net, a_, y, config_.target_step, t_[n - 1], dlogits);
    propagate_targets<T>(a_, inverses_.as_function(), difference_, t_);
    target_gradients<T>(net, a_, t_, dlogits, g);
    return r;
}

template class TargetPropagationBase<float>;
template class TargetPropagationBase<double>;

}  // namespace settle::mlp
