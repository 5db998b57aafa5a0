#include "networks/mlp/backprop.hpp"

namespace settle::mlp {

template <class T>
BatchResult Backprop<T>::gradient(const Mlp<T>& net, const Mat<T>& x, const std::vector<int>& y, Params<T>& g,
                                  Activations<T>& a) {
    net.forward(x, a);
    BatchResult r;
    r.loss = cross_entropy<T>(a.h.back(), y, &r.errors);
    Mat<T> dlogits;
    cross_entropy_grad<T>(a.h.back(), y, dlogits);
    if (g.W.size() != net.p.W.size()) g = net.zeros_like();
    backward_sweep(net, a, dlogits,
                   [&](int k, const Mat<T>& delta, Mat<T>& e) {
                       e.noalias() = net.p.W[static_cast<std::size_t>(k)].transpose() * delta;
                   },
                   g);
    return r;
}

template class Backprop<float>;
template class Backprop<double>;

}  // namespace settle::mlp
