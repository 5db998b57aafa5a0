#include "networks/circuit/tasks.hpp"

#include <cmath>

#include "networks/mlp/dataset.hpp"
#include "sim/error.hpp"
#include "sim/random.hpp"

namespace settle::circuit {

namespace {

Eigen::MatrixXd normal_matrix(CounterRng& rng, int rows, int cols, double std) {
    Eigen::MatrixXd m(rows, cols);
    for (int j = 0; j < cols; ++j)
        for (int i = 0; i < rows; ++i) m(i, j) = std * rng.normal();
    return m;
}

Dataset teacher_student(const TaskConfig& t, std::uint64_t seed) {
    CounterRng net(seed, stable_key("circuit.task.teacher"), 0, StreamKind::data);
    const Eigen::MatrixXd W1 = normal_matrix(net, t.n_teacher_hidden, t.n_in, 1.0 / std::sqrt(t.n_in));
    const Eigen::VectorXd b1 = normal_matrix(net, t.n_teacher_hidden, 1, 0.1);
    const Eigen::MatrixXd W2 = normal_matrix(net, t.n_out, t.n_teacher_hidden, 1.0 / std::sqrt(t.n_teacher_hidden));
    const Eigen::VectorXd b2 = normal_matrix(net, t.n_out, 1, 0.1);
    auto draw = [&](int n, std::uint32_t which) {
        CounterRng rng(seed, stable_key("circuit.task.inputs"), which, StreamKind::data);
        Eigen::MatrixXd x(t.n_in, n);
        for (int j = 0; j < n; ++j)
            for (int i = 0; i < t.n_in; ++i) x(i, j) = rng.uniform();
        return x;
    };
    auto teach = [&](const Eigen::MatrixXd& x) {
        const Eigen::MatrixXd z = (x.array() - 0.5) * std::sqrt(12.0);  // unit variance
        const Eigen::MatrixXd h = ((t.teacher_gain * W1 * z).colwise() + b1).array().tanh();
        return Eigen::MatrixXd((W2 * h).colwise() + b2);
    };
    Dataset d;
    d.x_train = draw(t.n_train, 0);
    d.x_test = draw(t.n_test, 1);
    d.y_train = teach(d.x_train);
    d.y_test = teach(d.x_test);
    const Eigen::VectorXd mean = d.y_train.rowwise().mean();
    const Eigen::VectorXd sd =
        ((d.y_train.colwise() - mean).array().square().rowwise().mean()).sqrt().max(1e-12).matrix();
    for (Eigen::MatrixXd* y : {&d.y_train, &d.y_test}) *y = ((y->colwise() - mean).array().colwise() / sd.array()).matrix();
    return d;
}

// make_moons: class 0 on (cos a, sin a), class 1 on (1 - cos a, 0.5 - sin a), a ~ U(0, pi),
// plus N(0, noise^2) per coordinate; classes alternate.
Eigen::MatrixXd moons(CounterRng& rng, int n, double noise, std::vector<int>& labels) {
    Eigen::MatrixXd p(2, n);
    labels.resize(static_cast<std::size_t>(n));
    for (int j = 0; j < n; ++j) {
        const int c = j % 2;
        const double a = M_PI * rng.uniform();
        p(0, j) = (c == 0 ? std::cos(a) : 1.0 - std::cos(a)) + noise * rng.normal();
        p(1, j) = (c == 0 ? std::sin(a) : 0.5 - std::sin(a)) + noise * rng.normal();
        labels[static_cast<std::size_t>(j)] = c;
    }
    return p;
}

Dataset two_moons(const TaskConfig& t, std::uint64_t seed) {
    Dataset d;
    d.classification = true;
    CounterRng rng_train(seed, stable_key("circuit.task.moons"), 0, StreamKind::data);
    CounterRng rng_test(seed, stable_key("circuit.task.moons"), 1, StreamKind::data);
    CounterRng rng_map(seed, stable_key("circuit.task.moons_map"), 0, StreamKind::data);
    const Eigen::MatrixXd p_train = moons(rng_train, t.n_train, t.noise, d.label_train);
    const Eigen::MatrixXd p_test = moons(rng_test, t.n_test, t.noise, d.label_test);
    const Eigen::MatrixXd A = normal_matrix(rng_map, t.n_in, 2, 1.0);
    Eigen::MatrixXd x_train = A * p_train, x_test = A * p_test;
    // Each input rescaled to [0, 1] over the training set (a linear map; test inputs clipped).
    const Eigen::VectorXd lo = x_train.rowwise().minCoeff(), hi = x_train.rowwise().maxCoeff();
    const Eigen::ArrayXd span = (hi - lo).array().max(1e-12);
    d.x_train = ((x_train.colwise() - lo).array().colwise() / span).matrix();
    d.x_test = ((x_test.colwise() - lo).array().colwise() / span).cwiseMax(0.0).cwiseMin(1.0).matrix();
    auto one_hot = [](const std::vector<int>& labels) {
        Eigen::MatrixXd y = Eigen::MatrixXd::Zero(2, static_cast<Eigen::Index>(labels.size()));
        for (std::size_t j = 0; j < labels.size(); ++j) y(labels[j], static_cast<Eigen::Index>(j)) = 1.0;
        return y;
    };
    d.y_train = one_hot(d.label_train);
    d.y_test = one_hot(d.label_test);
    return d;
}

// Images as input rates (pixel / 255, optionally 2x2-averaged), one-hot targets.
Dataset fashion_mnist(const TaskConfig& t) {
    const mlp::DataSpec files;  // the file names of dataset-fashion-mnist
    auto load = [&](const std::string& images, const std::string& labels, int limit, Eigen::MatrixXd& x,
                    Eigen::MatrixXd& y, std::vector<int>& label) {
        const std::string im = t.data_dir + "/" + images;
        const mlp::Dataset d = mlp::load_idx_dataset(im, t.data_dir + "/" + labels, files.pixel_scale);
        if (d.features() != 784) throw FileError(im, "expected 28x28 images, got " + std::to_string(d.features()) + " values each");
        if (d.classes > 10) throw FileError(im, "labels must be 0..9");
        const auto n = static_cast<Eigen::Index>(std::min<std::size_t>(d.size(), static_cast<std::size_t>(limit)));
        const int f = t.downsample, side = 28 / f;
        x.resize(side * side, n);
        for (Eigen::Index j = 0; j < n; ++j)
            for (int r = 0; r < side; ++r)
                for (int c = 0; c < side; ++c) {
                    double sum = 0.0;
                    for (int a = 0; a < f; ++a)
                        for (int b = 0; b < f; ++b) sum += d.x((r * f + a) * 28 + c * f + b, j);
                    x(r * side + c, j) = sum / (f * f);
                }
        label.assign(d.y.begin(), d.y.begin() + n);
        y = Eigen::MatrixXd::Zero(10, n);
        for (Eigen::Index j = 0; j < n; ++j) y(label[static_cast<std::size_t>(j)], j) = 1.0;
    };
    Dataset d;
    d.classification = true;
    load(files.train_images, files.train_labels, t.n_train, d.x_train, d.y_train, d.label_train);
    load(files.test_images, files.test_labels, t.n_test, d.x_test, d.y_test, d.label_test);
    return d;
}

}  // namespace

Dataset make_dataset(const TaskConfig& task, std::uint64_t seed) {
    switch (task.kind) {
        case TaskKind::two_moons: return two_moons(task, seed);
        case TaskKind::fashion_mnist: return fashion_mnist(task);
        case TaskKind::teacher_student: break;
    }
    return teacher_student(task, seed);
}

double mean_squared_error(const Eigen::MatrixXd& out, const Eigen::MatrixXd& y) {
    return (out - y).array().square().mean();
}

double error_rate(const Eigen::MatrixXd& out, const std::vector<int>& labels) {
    std::size_t wrong = 0;
    for (Eigen::Index j = 0; j < out.cols(); ++j) {
        Eigen::Index arg = 0;
        out.col(j).maxCoeff(&arg);
        if (arg != labels[static_cast<std::size_t>(j)]) ++wrong;
    }
    return out.cols() ? static_cast<double>(wrong) / static_cast<double>(out.cols()) : 0.0;
}

}  // namespace settle::circuit
