#pragma once
// Difference target propagation (Lee, Zhang, Fischer, Bengio 2015, "Difference Target
// Propagation", ECML-PKDD, arXiv:1412.7525), as the paper and its code define it:
//
//   t_{n-1} = h_{n-1} - eta_hat dLoss/dh_{n-1}          top hidden target (Loss: mini-batch mean
//                                                       cross-entropy, so eta_hat / B per example)
//   t_k     = h_k - g_k(h_{k+1}) + g_k(t_{k+1})          k = n-2 .. 1
//   hidden weight layer k descends mean_batch |f_k(h_k) - t_{k+1}|^2 (layer-local MSE);
//   the softmax layer descends the cross-entropy gradient
//
// The difference term makes t_k = h_k when t_{k+1} = h_{k+1}, whatever the inverse, and t_k an
// exact preimage of t_{k+1} when g_k inverts f_k exactly. Inverses g_k = tanh(V_k h + c_k) are
// trained each epoch, before the forward weights, on noisy activity (inverses.hpp). RMSprop
// throughout; the paper's hyper-parameters are the defaults (eta_hat 0.3277, lr_f 0.01489,
// lr_b 0.005011, sigma 0.3598, batch 100). Unlike the published code, which leaves two
// parameter blocks untrained, every layer learns here.
#include "networks/mlp/inverses.hpp"
#include "networks/mlp/target_prop.hpp"

namespace settle::mlp {

template <class T>
class DifferenceTargetProp final : public TargetPropagationBase<T> {
public:
    DifferenceTargetProp(const Mlp<T>& net, TargetPropConfig config, std::uint64_t seed)
        : TargetPropagationBase<T>(net, config, seed, /*difference=*/true) {}
    std::string name() const override { return "dtp"; }
};

}  // namespace settle::mlp
