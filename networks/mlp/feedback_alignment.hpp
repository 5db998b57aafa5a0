#pragma once
// Feedback alignment (Lillicrap, Cownden, Tweed, Akerman 2016, Nat. Commun. 7:13276).
//
// Back-prop's sweep with W_k^T replaced by a fixed random matrix B_k (drawn once, never learned):
//
//   e_k = B_k delta_{k+1},   delta_k = e_k * (1 - h_k^2),   dW_k = delta_{k+1} s_k(h_k)^T
//
// The top layer's update is the true gradient; the forward weights come to align with B.
// B_k is U(-r, r) with r = sqrt(6 / (fan_in + fan_out)), times `feedback_scale`.
#include "networks/mlp/algorithm.hpp"

namespace settle::mlp {

template <class T>
class FeedbackAlignment final : public Algorithm<T> {
public:
    FeedbackAlignment(const Mlp<T>& net, std::uint64_t seed, double feedback_scale = 1.0);
    std::string name() const override { return "fa"; }
    BatchResult compute(const Mlp<T>& net, const Mat<T>& x, const std::vector<int>& y, Params<T>& g) override;
    void write_arrays(ResultSink& sink) const override;
    // B[k] (sizes[k] x sizes[k+1], k >= 1) stands in for W_k^T; B[0] is unused.
    const std::vector<Mat<T>>& feedback() const { return B_; }
    std::vector<Mat<T>>& feedback() { return B_; }

private:
    std::vector<Mat<T>> B_;
    Activations<T> a_;
};

}  // namespace settle::mlp
