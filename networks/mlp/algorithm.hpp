#pragma once
// What the four learning algorithms share: one mini-batch in, a parameter-shaped update direction
// out. Each algorithm returns a "gradient" g (the optimiser moves along -g); for back-prop it is
// dLoss/dtheta, for the others the gradient of their own layer-local losses. Comparing g with the
// back-prop gradient on the same mini-batch gives the per-layer update angles.
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "networks/mlp/mlp.hpp"
#include "sim/results.hpp"

namespace settle::mlp {

struct BatchResult {
    double loss = 0.0;       // mini-batch mean cross-entropy before the update
    std::size_t errors = 0;  // misclassified examples in the mini-batch
};

// Fills mini-batch i (of the epoch's n) into x and y.
template <class T>
using BatchFn = std::function<void(std::size_t i, Mat<T>& x, std::vector<int>& y)>;

template <class T>
class Algorithm {
public:
    virtual ~Algorithm() = default;
    virtual std::string name() const = 0;
    // Work done at the start of each epoch (1-based), before the forward weights learn: target
    // propagation trains its inverses here on every mini-batch of the epoch.
    virtual void begin_epoch(const Mlp<T>& net, int epoch, std::size_t n_batches, const BatchFn<T>& batch) {
        (void)net, (void)epoch, (void)n_batches, (void)batch;
    }
    // The update direction for one mini-batch (same shapes as net.p), and the batch's loss.
    virtual BatchResult compute(const Mlp<T>& net, const Mat<T>& x, const std::vector<int>& y, Params<T>& g) = 0;
    // Whether the update angle to back-prop means anything (not for back-prop itself).
    virtual bool reports_angles() const { return true; }
    // Per-epoch diagnostics (name -> value), e.g. the inverses' reconstruction error.
    virtual std::vector<std::pair<std::string, double>> epoch_diagnostics() const { return {}; }
    // Extra final arrays (inverse or feedback weights).
    virtual void write_arrays(ResultSink& sink) const { (void)sink; }
};

// A matrix as a row-major array for ResultSink.
template <class T>
void emit_matrix(ResultSink& sink, const std::string& name, const Mat<T>& m) {
    std::vector<double> v(static_cast<std::size_t>(m.size()));
    std::size_t i = 0;
    for (Eigen::Index r = 0; r < m.rows(); ++r)
        for (Eigen::Index c = 0; c < m.cols(); ++c) v[i++] = static_cast<double>(m(r, c));
    sink.array(name, static_cast<std::size_t>(m.rows()), static_cast<std::size_t>(m.cols()), v);
}

}  // namespace settle::mlp
