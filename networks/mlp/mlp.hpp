#pragma once
// A multilayer perceptron with tanh hidden units and a softmax output, batched on Eigen (one
// example per column), in float32 or float64.
//
//   h_0 = x,   h_{k+1} = tanh(W_k s_k(h_k) + b_k)  for k = 0..n-2,   p = softmax(W_{n-1} s(h_{n-1}) + b_{n-1})
//
// n = layers() weight layers; s_k is the identity, or sign() for a layer whose input is binarised
// (the discrete-unit network of Lee et al. 2015, section 3.3: sign(h) = +1 for h > 0, else -1).
// Indices here are 0-based; outputs (HDF5 names W1, b1, ...) count layers from 1 like the paper.
// The loss is the mini-batch mean of the softmax cross-entropy, as in Lee et al.'s code.
#include <cstdint>
#include <vector>

#include <Eigen/Core>

namespace settle::mlp {

template <class T>
using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
template <class T>
using Vec = Eigen::Matrix<T, Eigen::Dynamic, 1>;

struct NetworkShape {
    std::vector<int> sizes;          // units per layer, input first, classes last
    std::vector<bool> sign_input;    // per weight layer: is its input sign(h)?
    int layers() const { return static_cast<int>(sizes.size()) - 1; }
};

enum class Init { orthogonal, uniform };

template <class T>
struct Activations {
    std::vector<Mat<T>> h;       // h[0] = x, h[1..n-1] hidden (tanh), h[n] = softmax probabilities
    std::vector<Mat<T>> signed_; // signed_[k] = sign(h[k]) where layer k binarises its input
    Mat<T> logits;
    // What weight layer k reads.
    const Mat<T>& input(int k) const { return signed_[static_cast<std::size_t>(k)].size() ? signed_[static_cast<std::size_t>(k)] : h[static_cast<std::size_t>(k)]; }
};

// Parameter-shaped storage: gradients, update directions, optimiser state.
template <class T>
struct Params {
    std::vector<Mat<T>> W;
    std::vector<Vec<T>> b;
};

template <class T>
class Mlp {
public:
    explicit Mlp(NetworkShape shape);

    const NetworkShape& shape() const { return shape_; }
    int layers() const { return shape_.layers(); }
    bool sign_input(int k) const { return shape_.sign_input[static_cast<std::size_t>(k)]; }

    // Orthogonal: the nearest (semi-)orthogonal matrix to a uniform one (Lee et al.'s rand_ortho);
    // uniform: U(-r, r) with r = sqrt(6 / (fan_in + fan_out)). Biases start at 0.
    void initialise(std::uint64_t seed, Init init);

    // Forward pass; a.h[n] are the class probabilities.
    void forward(const Mat<T>& x, Activations<T>& a) const;
    // Hidden layer k applied to an arbitrary h: out = tanh(W_k s_k(h) + b_k) (k < layers() - 1).
    void layer_output(int k, const Mat<T>& h, Mat<T>& out) const;

    Params<T> zeros_like() const;

    Params<T> p;  // p.W[k]: sizes[k+1] x sizes[k]; p.b[k]: sizes[k+1]

private:
    NetworkShape shape_;
};

// sign(h): +1 where h > 0, else -1 (as in Lee et al.'s code).
template <class T>
Mat<T> binarise(const Mat<T>& h) {
    return (h.array() > T(0)).select(Mat<T>::Constant(h.rows(), h.cols(), T(1)), Mat<T>::Constant(h.rows(), h.cols(), T(-1)));
}

// In-place column softmax of logits into probabilities.
template <class T>
void softmax_columns(const Mat<T>& logits, Mat<T>& probs);

// Mini-batch mean cross-entropy; adds the number of misclassified examples to *errors if given.
template <class T>
double cross_entropy(const Mat<T>& probs, const std::vector<int>& labels, std::size_t* errors = nullptr);

// dLoss/dlogits = (p - onehot(y)) / B.
template <class T>
void cross_entropy_grad(const Mat<T>& probs, const std::vector<int>& labels, Mat<T>& dlogits);

// Uniform random matrix U(-r, r) from a counter-based stream, and the orthogonal initialiser.
template <class T>
Mat<T> uniform_matrix(int rows, int cols, double r, std::uint64_t seed, std::uint32_t purpose, std::uint32_t index);
// U V^T for A = U S V^T (thin SVD): the semi-orthogonal matrix nearest to A. In its own
// translation unit (orthogonal.cpp): Eigen's SVD is by far the costliest template to compile.
Eigen::MatrixXd nearest_semi_orthogonal(const Eigen::MatrixXd& a);
template <class T>
Mat<T> orthogonal_matrix(int rows, int cols, std::uint64_t seed, std::uint32_t purpose, std::uint32_t index);

// Angle in degrees between two same-shaped arrays (NaN if either is zero).
template <class T>
double angle_deg(const Mat<T>& a, const Mat<T>& b);

}  // namespace settle::mlp
