#pragma once
// Small synthetic data and networks for the MLP tests.
#include <cmath>
#include <filesystem>
#include <string>
#include <unistd.h>

#include "networks/mlp/dataset.hpp"
#include "networks/mlp/mlp.hpp"
#include "networks/mlp/random.hpp"

namespace mlp_test {

using namespace settle::mlp;

// Gaussian clusters: `classes` random centres in `dim` dimensions, unit spread times `spread`.
inline Dataset clusters(int n, int dim, int classes, double spread, std::uint64_t seed, std::uint32_t stream) {
    Rng centres(seed, Purpose::test, 1000);
    Eigen::MatrixXf mu(dim, classes);
    for (int c = 0; c < classes; ++c)
        for (int i = 0; i < dim; ++i) mu(i, c) = static_cast<float>(centres.normal());
    Rng rng(seed, Purpose::test, stream);
    Dataset d;
    d.classes = classes;
    d.x.resize(dim, n);
    d.y.resize(static_cast<std::size_t>(n));
    for (int j = 0; j < n; ++j) {
        const int c = static_cast<int>(rng.below(static_cast<std::uint64_t>(classes)));
        d.y[static_cast<std::size_t>(j)] = c;
        for (int i = 0; i < dim; ++i) d.x(i, j) = mu(i, c) + static_cast<float>(spread * rng.normal());
    }
    return d;
}

inline DataSplits cluster_splits(int n_train, int dim, int classes, double spread, std::uint64_t seed) {
    DataSplits s;
    s.train = clusters(n_train, dim, classes, spread, seed, 1);
    s.validation = clusters(200, dim, classes, spread, seed, 2);
    s.test = clusters(200, dim, classes, spread, seed, 3);
    return s;
}

template <class T>
Mlp<T> random_net(std::vector<int> sizes, std::uint64_t seed, double scale = 1.0, std::vector<bool> sign = {}) {
    NetworkShape shape{std::move(sizes), std::move(sign)};
    Mlp<T> net(shape);
    net.initialise(seed, Init::uniform);
    Rng rng(seed, Purpose::test, 77);
    for (auto& W : net.p.W) W *= static_cast<T>(scale);
    for (auto& b : net.p.b)
        for (Eigen::Index i = 0; i < b.size(); ++i) b(i) = static_cast<T>(0.3 * rng.normal());
    return net;
}

template <class T>
Mat<T> random_input(int rows, int cols, std::uint64_t seed) {
    Rng rng(seed, Purpose::test, 99);
    Mat<T> x(rows, cols);
    for (Eigen::Index j = 0; j < x.cols(); ++j)
        for (Eigen::Index i = 0; i < x.rows(); ++i) x(i, j) = static_cast<T>(rng.normal());
    return x;
}

// A fresh temporary directory, removed at the end of the scope.
struct TempDir {
    std::filesystem::path path;
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "settle_mlp_XXXXXX").string();
        path = mkdtemp(tmpl.data());
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    std::string file(const std::string& name) const { return (path / name).string(); }
};

}  // namespace mlp_test
