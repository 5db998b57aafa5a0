#pragma once
// RMSprop as Lee et al. 2015 used it (their util.rms_prop: Graves' centred form with momentum):
//
//   m  <- rho m  + (1 - rho) g            running mean of the gradient
//   v  <- rho v  + (1 - rho) g^2          running mean of its square
//   d  <- mu d - lr g / sqrt(v - m^2 + eps)
//   theta <- theta + d
//
// Their values: rho = 0.95, mu = 0.9, eps = 0.001 (inside the square root).
#include <vector>

#include "networks/mlp/mlp.hpp"
#include "networks/mlp/spec.hpp"

namespace settle::mlp {


template <class T>
class RmsProp {
public:
    RmsProp() = default;
    explicit RmsProp(RmsPropConfig c) : c_(c) {}
    const RmsPropConfig& config() const { return c_; }

    // theta += update for gradient g (a descent direction is -g).
    void step(Mat<T>& theta, const Mat<T>& g, std::size_t slot);
    void step(Vec<T>& theta, const Vec<T>& g, std::size_t slot);
    // Steps every W and b of `params` with gradients `grads` (slots 2k and 2k+1).
    void step(Params<T>& params, const Params<T>& grads);
    // Creates the (zero) state of a slot now, so that later steps on distinct slots may run in
    // parallel threads.
    void reserve(std::size_t slot, Eigen::Index rows, Eigen::Index cols) { state(slot, rows, cols); }

private:
    struct State {
        Mat<T> m, v, d;
    };
    State& state(std::size_t slot, Eigen::Index rows, Eigen::Index cols);
    RmsPropConfig c_;
    std::vector<State> s_;
};

}  // namespace settle::mlp
