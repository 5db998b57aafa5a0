#include "networks/mlp/rmsprop.hpp"

namespace settle::mlp {

template <class T>
typename RmsProp<T>::State& RmsProp<T>::state(std::size_t slot, Eigen::Index rows, Eigen::Index cols) {
    if (s_.size() <= slot) s_.resize(slot + 1);
    State& s = s_[slot];
    if (s.m.rows() != rows || s.m.cols() != cols) {
        s.m = Mat<T>::Zero(rows, cols);
        s.v = Mat<T>::Zero(rows, cols);
        s.d = Mat<T>::Zero(rows, cols);
    }
    return s;
}

template <class T>
void RmsProp<T>::step(Mat<T>& theta, const Mat<T>& g, std::size_t slot) {
    State& s = state(slot, g.rows(), g.cols());
    const T rho = static_cast<T>(c_.decay), mu = static_cast<T>(c_.momentum), lr = static_cast<T>(c_.learning_rate),
            eps = static_cast<T>(c_.epsilon);
    s.m = rho * s.m + (T(1) - rho) * g;
    s.v = rho * s.v + (T(1) - rho) * g.cwiseAbs2();
    s.d = mu * s.d - lr * (g.array() / (s.v.array() - s.m.array().square() + eps).sqrt()).matrix();
    theta += s.d;
}

template <class T>
void RmsProp<T>::step(Vec<T>& theta, const Vec<T>& g, std::size_t slot) {
    Mat<T> t = theta;
    step(t, Mat<T>(g), slot);
    theta = t;
}

template <class T>
void RmsProp<T>::step(Params<T>& params, const Params<T>& grads) {
    for (std::size_t k = 0; k < params.W.size(); ++k) {
        step(params.W[k], grads.W[k], 2 * k);
        step(params.b[k], grads.b[k], 2 * k + 1);
    }
}

template class RmsProp<float>;
template class RmsProp<double>;

}  // namespace settle::mlp
