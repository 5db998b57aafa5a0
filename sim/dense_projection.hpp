#pragma once
// A dense projection: all-to-all synapses from one population to a receptor of another, with a
// contiguous weight matrix, replicated over the populations' replicas.
//
// Why a second projection kind: in a layered learning circuit every unit of a layer reaches
// every unit of the next. With CSR storage a spike is a scatter over index arrays and one
// virtual call plus one lazy advance per target; here it is one call to the target population,
// which adds a scaled column of the matrix into per-unit accumulators (DenseTarget), a loop the
// compiler vectorises.
//
// Replicas: source and target have the same number of replicas (independent copies of the
// circuit that share the weights, e.g. parallel input streams); a spike of replica r reaches
// replica r of the target only, through the one matrix.
//
// Ties: several projections may hold the same DenseMatrix, some of them `transposed` (their
// weight from source m to target j is M(m, j)). A feedback projection tied to the transpose of a
// learning forward projection stays its exact transpose, bitwise, while the forward one learns.
//
// Channels: a source unit may emit on several channels at one candidate (Population::Emission);
// the projection weighs channel c by channel_gain[c] (0: that channel does not project), and a
// candidate on which the channels' gains cancel delivers nothing. The input a target unit sees
// is then sum_m M_jm tr_m(t), with tr_m the source's filtered spike train
//     tau dtr_m/dt = -tr_m + sum over spikes of (sum of the gains of the channels that spiked),
// tau the target receptor's time constant (DenseTarget::input_time_constant). The filtering
// itself happens in the target; the projection keeps tr (its "presynaptic traces") only when a
// plasticity rule or a tie needs them.
//
// Source offset: a source whose decoded signal is affine in its trace (the circuit's linear
// output unit: a = lo + (hi - lo) tr) projects o + tr_m, o = set_source_offset(). The constant
// part o sum_m M_jm of target j's input is a constant input of the target (DenseTarget::
// add_constant): added once, when the projection is first bound (before the populations are
// initialised), and kept equal to o times the row sum through every matrix change after it. So a
// target's constant input (a two_channel_unit's bias) includes it. Rules use o + tr as the
// presynaptic signal (source_offset()).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/population.hpp"
#include "sim/types.hpp"

namespace settle {

// Column-major rows x cols matrix of weights.
struct DenseMatrix {
    DenseMatrix(std::size_t rows_, std::size_t cols_) : rows(rows_), cols(cols_), w(rows_ * cols_, 0.0) {}
    std::size_t rows, cols;
    std::vector<double> w;
    double& operator()(std::size_t i, std::size_t j) { return w[j * rows + i]; }
    double operator()(std::size_t i, std::size_t j) const { return w[j * rows + i]; }
};

// Implemented by populations that accept dense projections. Inputs are filtered spike trains:
// an input `amount` delivered at t adds amount * exp(-(t' - t) / tau) to the receptor's input at
// every t' >= t (tau = input_time_constant(receptor)); a constant adds amount for every t' >= t.
class DenseTarget {
public:
    virtual ~DenseTarget() = default;
    // Unit i of `replica` receives gain * column[i * stride] on `receptor` at t (i < units()).
    virtual void add_column(int receptor, std::uint32_t replica, time_ms t, const double* column,
                            std::ptrdiff_t stride, double gain) = 0;
    // The same for a column of a weight matrix that stays unchanged until the target's next
    // commit_inputs() (the kernel guarantees it: a dense matrix changes only at global events).
    // The target may then defer the adds and apply several columns in one pass over its
    // accumulators, with the same result bit for bit; reads in between must include them.
    // A target that holds its filtered inputs relative to a reference time t_ref may say so: it
    // returns the factor e^((t - t_ref) / tau) it used and t_ref (a projection keeping traces in
    // the same frame then needs no exponential of its own); {0, 0} otherwise.
    struct Growth {
        double factor = 0.0;
        time_ms reference = 0.0;
    };
    virtual Growth add_matrix_column(int receptor, std::uint32_t replica, time_ms t, const double* column,
                                     std::ptrdiff_t stride, double gain) {
        add_column(receptor, replica, t, column, stride, gain);
        return {};
    }
    // Applies the deferred adds of add_matrix_column. The kernel calls it before every global
    // event and before advance() returns.
    virtual void commit_inputs() {}
    // One unit of one replica receives `amount` at t.
    virtual void add_input(int receptor, std::uint32_t replica, node_index unit, time_ms t, double amount) = 0;
    // A constant input of `unit`, the same in every replica (a bias), changes by `amount` at t.
    virtual void add_constant(int receptor, node_index unit, time_ms t, double amount) = 0;
    virtual double input_time_constant(int receptor) const = 0;
    // The receptor's whole input (filtered inputs plus constant) of one unit of one replica at t;
    // reading it changes nothing.
    virtual double receptor_input(int receptor, std::uint32_t replica, node_index unit, time_ms t) const = 0;
};

class DenseProjection;

// A plasticity rule on a dense projection (plasticity/ holds them; the kernel knows none).
class DensePlasticityRule {
public:
    virtual ~DensePlasticityRule() = default;
    virtual std::string name() const = 0;
    // Once, before the first run: the projection it sits on and the other projections that hold
    // the same matrix (whose targets must see every weight change too).
    virtual void attach(DenseProjection& own, std::vector<DenseProjection*> tied) = 0;
    // The target's `unit` of `replica` emitted at t on the channels of `channel_mask`.
    virtual void on_post_emission(node_index unit, std::uint32_t replica, std::uint32_t channel_mask, time_ms t) = 0;
    // Rules that sample a continuous quantity at the target's emission candidates (a Poisson
    // clock of the target's candidate rate per unit, independent of its state) say so here; the
    // kernel then calls on_post_candidate at every candidate of the target, whether or not it
    // emitted (before on_post_emission when it did).
    virtual bool samples_candidates() const { return false; }
    virtual void on_post_candidate(node_index /*unit*/, std::uint32_t /*replica*/, time_ms /*t*/) {}
    // A replica sync point (Simulator::set_sync_interval): apply what the replicas buffered
    // since the last one. Between sync points a rule must not change anything another replica
    // reads, so that replicas are independent there (and may later run on other threads or
    // ranks) and the result does not depend on how their events interleave.
    virtual void synchronize(time_ms /*t*/) {}
};

class DenseProjection {
public:
    // matrix: target units x source units (or, transposed, source units x target units).
    DenseProjection(std::string name, std::size_t source_population, std::size_t target_population, int receptor,
                    std::shared_ptr<DenseMatrix> matrix, bool transposed, std::vector<double> channel_gain);

    const std::string& name() const { return name_; }
    std::size_t source_population() const { return source_population_; }
    std::size_t target_population() const { return target_population_; }
    int receptor() const { return receptor_; }
    bool transposed() const { return transposed_; }
    const std::shared_ptr<DenseMatrix>& matrix() const { return matrix_; }
    const std::vector<double>& channel_gain() const { return channel_gain_; }
    std::size_t source_units() const { return transposed_ ? matrix_->rows : matrix_->cols; }
    std::size_t target_units() const { return transposed_ ? matrix_->cols : matrix_->rows; }
    // Weight from source unit m to target unit j.
    double weight(std::size_t m, std::size_t j) const { return transposed_ ? (*matrix_)(m, j) : (*matrix_)(j, m); }

    // Checks sizes and channels against the two populations and the target's receptor; called
    // by the simulator before the first run.
    void bind(Population& source, Population& target);
    // Before the first bind (default 0, finite).
    void set_source_offset(double offset);
    double source_offset() const { return offset_; }
    // Whether the offset's constant part is in the target yet (from the first bind on).
    bool source_offset_applied() const { return offset_applied_; }
    Population& target() const { return *target_; }
    DenseTarget& dense_target() const { return *dense_target_; }

    // Keep the presynaptic traces tr (a rule or a tie needs them).
    void keep_traces();
    bool has_traces() const { return !traces_.empty(); }
    // tr^r_m(t) = trace_ref(r)[m] * trace_decay(r, t).
    const double* trace_ref(std::uint32_t replica) const { return &traces_[replica * n_src_]; }
    double trace_decay(std::uint32_t replica, time_ms t) const;
    double trace(std::uint32_t replica, std::size_t m, time_ms t) const {
        return trace_ref(replica)[m] * trace_decay(replica, t);
    }
    // v . tr^r(t) for a vector v over source units.
    double dot_trace(const double* v, std::uint32_t replica, time_ms t) const;
    std::uint32_t replicas() const { return replicas_; }

    // The source emitted (kernel): one column into the target, traces updated. Returns the
    // number of synaptic events (target units reached, 0 if the channels' gains cancel).
    std::size_t deliver(const Population::Emission& e, time_ms t);
    // The matrix entries from source unit m changed by delta[j * stride] (j over target units) at
    // t: every replica's target input follows (uses the traces).
    void on_source_row_change(std::size_t m, const double* delta, std::ptrdiff_t stride, time_ms t);
    // The matrix entries into target unit j changed by delta[m] (m over source units).
    void on_target_row_change(std::size_t j, const double* delta, time_ms t);
    void rebase(std::uint32_t replica, time_ms t);

    void set_rule(std::unique_ptr<DensePlasticityRule> rule) { rule_ = std::move(rule); }
    DensePlasticityRule* rule() const { return rule_.get(); }

private:
    std::string name_;
    std::size_t source_population_, target_population_;
    int receptor_;
    std::shared_ptr<DenseMatrix> matrix_;
    bool transposed_;
    std::vector<double> channel_gain_;
    double offset_ = 0.0;
    bool offset_applied_ = false;  // the constant o sum_m M_jm is in the target (once, at the first bind)
    Population* target_ = nullptr;
    DenseTarget* dense_target_ = nullptr;
    double tau_ = 0.0;
    std::uint32_t replicas_ = 1;
    std::size_t n_src_ = 0;
    // Traces relative to a per-replica reference time (rebase()): tr^r = traces_[r] exp(-(t - ref) / tau).
    std::vector<double> traces_, ref_ms_;
    std::unique_ptr<DensePlasticityRule> rule_;
};

}  // namespace settle
