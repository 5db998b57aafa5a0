#include "networks/mlp/mlp.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "networks/mlp/random.hpp"

namespace settle::mlp {

template <class T>
Mlp<T>::Mlp(NetworkShape shape) : shape_(std::move(shape)) {
    if (shape_.sizes.size() < 2) throw std::invalid_argument("an MLP needs at least an input and an output layer");
    if (shape_.sign_input.empty()) shape_.sign_input.assign(static_cast<std::size_t>(layers()), false);
    if (shape_.sign_input.size() != static_cast<std::size_t>(layers()))
        throw std::invalid_argument("sign_input needs one entry per weight layer");
    for (int k = 0; k < layers(); ++k) {
        p.W.push_back(Mat<T>::Zero(shape_.sizes[static_cast<std::size_t>(k) + 1], shape_.sizes[static_cast<std::size_t>(k)]));
        p.b.push_back(Vec<T>::Zero(shape_.sizes[static_cast<std::size_t>(k) + 1]));
    }
}

template <class T>
void Mlp<T>::initialise(std::uint64_t seed, Init init) {
    for (int k = 0; k < layers(); ++k) {
        const auto rows = static_cast<int>(p.W[static_cast<std::size_t>(k)].rows());
        const auto cols = static_cast<int>(p.W[static_cast<std::size_t>(k)].cols());
        const auto u = static_cast<std::uint32_t>(k);
        p.W[static_cast<std::size_t>(k)] =
            init == Init::orthogonal
                ? orthogonal_matrix<T>(rows, cols, seed, static_cast<std::uint32_t>(Purpose::init_forward), u)
                : uniform_matrix<T>(rows, cols, std::sqrt(6.0 / (rows + cols)), seed,
                                    static_cast<std::uint32_t>(Purpose::init_forward), u);
        p.b[static_cast<std::size_t>(k)].setZero();
    }
}

template <class T>
void Mlp<T>::forward(const Mat<T>& x, Activations<T>& a) const {
    const auto n = static_cast<std::size_t>(layers());
    a.h.resize(n + 1);
    a.signed_.resize(n);
    a.h[0] = x;
    for (std::size_t k = 0; k < n; ++k) {
        if (shape_.sign_input[k]) a.signed_[k] = binarise<T>(a.h[k]);
        else a.signed_[k].resize(0, 0);
        const Mat<T>& in = a.input(static_cast<int>(k));
        if (k + 1 < n) {
            Mat<T>& out = a.h[k + 1];
            out.noalias() = p.W[k] * in;
            out.colwise() += p.b[k];
            out = out.array().tanh();
        } else {
            a.logits.noalias() = p.W[k] * in;
            a.logits.colwise() += p.b[k];
            softmax_columns<T>(a.logits, a.h[n]);
        }
    }
}

template <class T>
void Mlp<T>::layer_output(int k, const Mat<T>& h, Mat<T>& out) const {
    const auto kk = static_cast<std::size_t>(k);
    if (shape_.sign_input[kk]) out.noalias() = p.W[kk] * binarise<T>(h);
    else out.noalias() = p.W[kk] * h;
    out.colwise() += p.b[kk];
    out = out.array().tanh();
}

template <class T>
Params<T> Mlp<T>::zeros_like() const {
    Params<T> z;
    for (std::size_t k = 0; k < p.W.size(); ++k) {
        z.W.push_back(Mat<T>::Zero(p.W[k].rows(), p.W[k].cols()));
        z.b.push_back(Vec<T>::Zero(p.b[k].size()));
    }
    return z;
}

template <class T>
void softmax_columns(const Mat<T>& logits, Mat<T>& probs) {
    const Eigen::Matrix<T, 1, Eigen::Dynamic> mx = logits.colwise().maxCoeff();
    probs = (logits.rowwise() - mx).array().exp();
    const Eigen::Matrix<T, 1, Eigen::Dynamic> sums = probs.colwise().sum();
    probs.array().rowwise() /= sums.array();
}

template <class T>
double cross_entropy(const Mat<T>& probs, const std::vector<int>& labels, std::size_t* errors) {
    double loss = 0.0;
    std::size_t wrong = 0;
    const auto B = static_cast<Eigen::Index>(labels.size());
    for (Eigen::Index j = 0; j < B; ++j) {
        const int y = labels[static_cast<std::size_t>(j)];
        const double py = static_cast<double>(probs(y, j));
        loss -= std::log(std::max(py, static_cast<double>(std::numeric_limits<T>::min())));
        Eigen::Index arg;
        probs.col(j).maxCoeff(&arg);
        if (arg != y) ++wrong;
    }
    if (errors) *errors += wrong;
    return B ? loss / static_cast<double>(B) : 0.0;
}

template <class T>
void cross_entropy_grad(const Mat<T>& probs, const std::vector<int>& labels, Mat<T>& dlogits) {
    dlogits = probs;
    for (std::size_t j = 0; j < labels.size(); ++j) dlogits(labels[j], static_cast<Eigen::Index>(j)) -= T(1);
    dlogits /= static_cast<T>(labels.size());
}

template <class T>
Mat<T> uniform_matrix(int rows, int cols, double r, std::uint64_t seed, std::uint32_t purpose, std::uint32_t index) {
    Rng rng(seed, static_cast<Purpose>(purpose), index);
    Mat<T> m(rows, cols);
    for (int j = 0; j < cols; ++j)
        for (int i = 0; i < rows; ++i) m(i, j) = static_cast<T>(rng.uniform(-r, r));
    return m;
}

template <class T>
Mat<T> orthogonal_matrix(int rows, int cols, std::uint64_t seed, std::uint32_t purpose, std::uint32_t index) {
    // Nearest semi-orthogonal matrix of a uniform random matrix, computed in double.
    return nearest_semi_orthogonal(uniform_matrix<double>(rows, cols, 1.0, seed, purpose, index)).cast<T>();
}

template <class T>
double angle_deg(const Mat<T>& a, const Mat<T>& b) {
    const double na = static_cast<double>(a.template cast<double>().norm());
    const double nb = static_cast<double>(b.template cast<double>().norm());
    if (!(na > 0) || !(nb > 0)) return std::numeric_limits<double>::quiet_NaN();
    const double c = (a.template cast<double>().array() * b.template cast<double>().array()).sum() / (na * nb);
    return std::acos(std::clamp(c, -1.0, 1.0)) * 180.0 / M_PI;
}

#define SETTLE_MLP_INSTANTIATE(T)                                                                              \
    template class Mlp<T>;                                                                                     \
    template void softmax_columns<T>(const Mat<T>&, Mat<T>&);                                                  \
    template double cross_entropy<T>(const Mat<T>&, const std::vector<int>&, std::size_t*);                    \
    template void cross_entropy_grad<T>(const Mat<T>&, const std::vector<int>&, Mat<T>&);                      \
    template Mat<T> uniform_matrix<T>(int, int, double, std::uint64_t, std::uint32_t, std::uint32_t);          \
    template Mat<T> orthogonal_matrix<T>(int, int, std::uint64_t, std::uint32_t, std::uint32_t);               \
    template double angle_deg<T>(const Mat<T>&, const Mat<T>&);
SETTLE_MLP_INSTANTIATE(float)
SETTLE_MLP_INSTANTIATE(double)

}  // namespace settle::mlp
