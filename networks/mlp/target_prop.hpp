#pragma once
// Target propagation with learned inverses (Bengio 2014, arXiv:1407.7906; the "TP" baseline of
// Lee, Zhang, Fischer, Bengio 2015).
//
//   t_{n-1} = h_{n-1} - eta_hat dLoss/dh_{n-1}        top hidden target (Loss: mini-batch mean)
//   t_k     = g_k(t_{k+1})                             k = n-2 .. 1
//   each hidden weight layer descends mean_batch |f_k(h_k) - t_{k+1}|^2; the softmax layer its gradient
//
// with inverses g_k = tanh(V_k h + c_k) trained each epoch on noisy activity (inverses.hpp).
// Without DTP's difference correction, an imperfect inverse makes t_k differ from h_k even when
// the top target equals h_{n-1}, so the lower layers chase the inverses' errors.
#include "networks/mlp/inverses.hpp"

namespace settle::mlp {

struct TargetPropConfig {
    double target_step = 0.327736332653;  // eta_hat (Lee et al.'s DTP value)
    InverseConfig inverse;
};

// What TP and DTP share: the inverses, the top target, the layer-local target gradients. The
// two differ only in how a target travels down (`difference`), so each is a thin class.
template <class T>
class TargetPropagationBase : public Algorithm<T> {
public:
    void begin_epoch(const Mlp<T>& net, int epoch, std::size_t n_batches, const BatchFn<T>& batch) override;
    BatchResult compute(const Mlp<T>& net, const Mat<T>& x, const std::vector<int>& y, Params<T>& g) override;
    std::vector<std::pair<std::string, double>> epoch_diagnostics() const override {
        return {{"inverse_reconstruction_error", reconstruction_}};
    }
    void write_arrays(ResultSink& sink) const override { inverses_.write_arrays(sink); }
    Inverses<T>& inverses() { return inverses_; }
    const std::vector<Mat<T>>& targets() const { return t_; }

protected:
    TargetPropagationBase(const Mlp<T>& net, TargetPropConfig config, std::uint64_t seed, bool difference);

private:
    TargetPropConfig config_;
    bool difference_;
    Inverses<T> inverses_;
    Activations<T> a_;
    std::vector<Mat<T>> t_;
    double reconstruction_ = 0.0;
};

template <class T>
class TargetProp final : public TargetPropagationBase<T> {
public:
    TargetProp(const Mlp<T>& net, TargetPropConfig config, std::uint64_t seed)
        : TargetPropagationBase<T>(net, config, seed, /*difference=*/false) {}
    std::string name() const override { return "tp"; }
};

}  // namespace settle::mlp
