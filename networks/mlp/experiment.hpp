#pragma once
// `experiment = "mlp"`: the rate-based reference learners (back-prop, feedback alignment, target
// propagation, difference target propagation; Lee et al. 2015; docs/science.md, section 3) on a
// tanh MLP, trained on Fashion-MNIST (or any IDX image/label files) from a TOML config.
//
// Config (see examples/fmnist_*.toml and docs in networks/mlp/README.md):
//   epochs = 100                          top level, or in [train] (exactly one of the two)
//   [train]     batch_size, threads, shuffle, angle_every, eval_batch_size
//   [network]   layers, sign_layers, init, dtype ("float32" | "float64")
//   [data]      dir, train_images, train_labels, test_images, test_labels, validation_size,
//               train_limit, test_limit
//   [algorithm] name ("bp" | "fa" | "tp" | "dtp"), learning_rate, rmsprop_decay, rmsprop_momentum,
//               rmsprop_epsilon; tp/dtp: target_step, inverse_learning_rate, noise_std,
//               noise_decay_epochs, inverse_init; fa: feedback_scale
//
// Results (ResultSink): metric_series train_loss, train_error, validation_error, test_error,
// epoch_seconds (per epoch; errors and accuracies are fractions in [0, 1]; train_loss and
// train_error are averages over the epoch's mini-batches before each update); metrics
// test_accuracy, validation_accuracy (after the last epoch run); for fa/tp/dtp metric_series
// update_angle_deg (per weight layer, W1 first: angle between the algorithm's update direction for
// W_l and the back-prop gradient on the same mini-batch, averaged over the last epoch's sampled
// mini-batches) and array curves/update_angle_deg (epochs x layers); for tp/dtp metric_series
// inverse_reconstruction_error (per epoch); arrays weights/W<l> (sizes[l] x sizes[l-1]),
// weights/b<l> (sizes[l] x 1), and inverse/V<l>, inverse/c<l> (tp, dtp) or feedback/B<l> (fa).
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "networks/config_reader.hpp"
#include "networks/mlp/spec.hpp"
#include "sim/results.hpp"

namespace settle::mlp {

struct MlpExperiment {
    // [train]
    int epochs = 100;
    int batch_size = 100;
    int threads = 1;           // OpenMP/Eigen threads; results are reproducible for a fixed count
    bool shuffle = true;       // new mini-batch order each epoch (from the seed)
    int angle_every = 1;       // compare with back-prop on every n-th mini-batch (0: never)
    int eval_batch_size = 1000;
    // [network]
    std::vector<int> sizes = {784, 240, 240, 240, 240, 240, 240, 240, 10};
    std::vector<int> sign_layers;  // hidden layers (1-based) whose output the next layer reads as sign(h)
    std::string init = "orthogonal";
    std::string dtype = "float32";
    // [data]
    DataSpec data;
    // [algorithm]
    std::string algorithm = "dtp";
    RmsPropConfig forward;             // forward weights
    RmsPropConfig inverse;             // tp, dtp: inverse weights
    double target_step = 0.327736332653;   // tp, dtp: eta_hat
    double noise_std = 0.359829566008;     // tp, dtp: sigma of the corruption noise
    double noise_decay_epochs = 0.0;       // tp, dtp: sigma / (1 + epoch / this); 0: constant
    std::string inverse_init = "orthogonal";
    double feedback_scale = 1.0;           // fa
};

// Reads the keys this experiment owns (top-level `epochs`, [train], [network], [data],
// [algorithm]) and checks them; ConfigError names the key and value. No file is touched.
MlpExperiment parse_mlp_experiment(settle::ConfigTable& root);

struct EpochReport {
    int epoch;   // 1-based
    int epochs;  // planned
    double train_loss;
    double train_error;       // fractions in [0, 1]
    double validation_error;
    double test_error;
    double seconds;           // wall time of this epoch (training and evaluation)
};

// Loads the data (FileError with the install command if Fashion-MNIST is missing), trains,
// reports each epoch, and emits the results to `sink`. should_stop() is polled after each epoch;
// when it returns true the run ends and the results so far are emitted.
void run_mlp_experiment(const MlpExperiment& experiment, std::uint64_t seed, settle::ResultSink& sink,
                        const std::function<void(const EpochReport&)>& on_epoch,
                        const std::function<bool()>& should_stop);

struct DataSplits;  // dataset.hpp (Eigen types; opaque here, as this header is used by settle_networks)
// Loads and checks the data files (FileError naming the file and the install command).
std::shared_ptr<const DataSplits> load_mlp_data(const MlpExperiment& experiment);
// The same run on data from load_mlp_data().
void run_mlp_experiment(const MlpExperiment& experiment, const DataSplits& data, std::uint64_t seed,
                        settle::ResultSink& sink, const std::function<void(const EpochReport&)>& on_epoch,
                        const std::function<bool()>& should_stop);

}  // namespace settle::mlp
