#pragma once
// Plain settings structs of the MLP experiments (no Eigen here: experiment.hpp, which the rest of
// settle includes, is built on these).
#include <cstddef>
#include <string>

namespace settle::mlp {

struct RmsPropConfig {
    double learning_rate = 1e-3;
    double decay = 0.95;     // rho
    double momentum = 0.9;   // mu
    double epsilon = 1e-3;   // added to the variance estimate inside the square root
};

struct DataSpec {
    std::string dir = "/usr/share/datasets/fashion-mnist";
    std::string train_images = "train-images-idx3-ubyte.gz";
    std::string train_labels = "train-labels-idx1-ubyte.gz";
    std::string test_images = "t10k-images-idx3-ubyte.gz";
    std::string test_labels = "t10k-labels-idx1-ubyte.gz";
    std::size_t validation_size = 10000;  // the last examples of the training file
    std::size_t train_limit = 0;          // use only the first n training examples (0: all)
    std::size_t test_limit = 0;           // use only the first n test examples (0: all)
    double pixel_scale = 1.0 / 255.0;
};

}  // namespace settle::mlp
