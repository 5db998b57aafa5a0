#pragma once
// Labelled image data for the MLP experiments: Fashion-MNIST (or any IDX image/label pair),
// pixels scaled to [0, 1], one example per column.
#include <cstddef>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "networks/mlp/spec.hpp"

namespace settle::mlp {

struct Dataset {
    Eigen::MatrixXf x;   // features x examples
    std::vector<int> y;  // class labels, 0..classes-1
    int classes = 0;
    std::size_t size() const { return y.size(); }
    int features() const { return static_cast<int>(x.rows()); }
};


struct DataSplits {
    Dataset train, validation, test;
};

// The install command named in the error for missing data files.
inline constexpr const char* kFashionMnistInstall = "sudo apt-get install dataset-fashion-mnist";

// Reads an image file (N x d1 x d2 ... ) and a label file (N), scaling values by `scale`.
Dataset load_idx_dataset(const std::string& images, const std::string& labels, double scale);

// Training, validation (the last validation_size training examples) and test sets. A missing file
// is a FileError that names the install command.
DataSplits load_splits(const DataSpec& spec);

// Copies columns order[first .. first+count) into x (features x count) and their labels into y.
template <class T>
void gather_batch(const Dataset& d, const std::vector<std::size_t>& order, std::size_t first, std::size_t count,
                  Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>& x, std::vector<int>& y) {
    x.resize(d.x.rows(), static_cast<Eigen::Index>(count));
    y.resize(count);
    for (std::size_t j = 0; j < count; ++j) {
        const auto c = static_cast<Eigen::Index>(order[first + j]);
        x.col(static_cast<Eigen::Index>(j)) = d.x.col(c).template cast<T>();
        y[j] = d.y[static_cast<std::size_t>(c)];
    }
}

}  // namespace settle::mlp
