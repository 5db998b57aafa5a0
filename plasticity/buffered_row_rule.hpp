#pragma once
// What the dense circuit rules share: per-replica buffers of weight-row changes, applied at the
// kernel's replica sync points (Simulator::set_sync_interval).
//
// Contract (why replicas can later run on other threads or ranks without changing a result):
// between two sync points a replica only writes its own buffer and the matrix stays as it was;
// at a sync point the buffers are summed in replica order (row by row, rows in increasing order)
// into the matrix and the target's biases, and each changed row's effect reaches every replica's
// target (delta . (o + tr^r(t))) and the targets of every projection tied to the matrix, through
// their traces. So the result does not depend on how the replicas' events interleave.
//
// A row change buffered at t is a * (o + tr(t)) over the presynaptic units (o + tr: the
// projection's presynaptic signal, DenseProjection's source offset plus its trace) and a for
// the bias, when the rule learns one.
#include <cstdint>
#include <vector>

#include "sim/dense_projection.hpp"

namespace settle {

class BufferedRowRule : public DensePlasticityRule {
public:
    void attach(DenseProjection& own, std::vector<DenseProjection*> tied) override;
    void synchronize(time_ms t) override;
    // Row changes buffered so far.
    std::uint64_t updates() const { return updates_; }

protected:
    explicit BufferedRowRule(bool learn_bias) : learn_bias_(learn_bias) {}
    // Buffers replica q's change of row `unit` at t with factor a (see above).
    void buffer_row(node_index unit, std::uint32_t q, double a, time_ms t);
    DenseProjection& own() const { return *own_; }

private:
    bool learn_bias_;
    DenseProjection* own_ = nullptr;
    std::vector<DenseProjection*> tied_;
    std::size_t n_pre_ = 0, n_post_ = 0;
    // Per replica: buffered row changes (row-major n_post x n_pre), bias changes, touched rows.
    struct Buffer {
        std::vector<double> dW, db;
        std::vector<char> touched;
    };
    std::vector<Buffer> buffers_;
    std::vector<char> any_touched_;
    std::vector<double> row_;
    std::uint64_t updates_ = 0;
};

}  // namespace settle
