#pragma once
// The data of the circuit tasks (docs/science.md, "Tasks"): inputs are rates in [0, 1] (one
// column per sample), targets are output potentials (relative to rest, paper's unitless units).
//  - teacher_student: targets from a fixed random 2-layer tanh network, standardised.
//  - two_moons: scikit-learn's make_moons (two interleaved half circles, Gaussian noise), embedded
//    by a random linear map into n_in input rates; targets one-hot (1 for the class, 0 otherwise).
//  - fashion_mnist: Fashion-MNIST images (pixel / 255, optionally 2x2-averaged) as input rates,
//    one-hot targets; a missing file is a FileError naming the Debian package.
#include <cstdint>
#include <vector>

#include <Eigen/Core>

#include "networks/circuit/circuit_config.hpp"

namespace settle::circuit {

struct Dataset {
    Eigen::MatrixXd x_train, y_train, x_test, y_test;  // n_in x N, n_out x N
    std::vector<int> label_train, label_test;          // classification only
    bool classification = false;
};

Dataset make_dataset(const TaskConfig& task, std::uint64_t seed);

// Mean over samples and outputs of (out - y)^2.
double mean_squared_error(const Eigen::MatrixXd& out, const Eigen::MatrixXd& y);
// Fraction of columns whose largest output is not the label.
double error_rate(const Eigen::MatrixXd& out, const std::vector<int>& labels);

}  // namespace settle::circuit
