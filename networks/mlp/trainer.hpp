#pragma once
// The training loop behind run_mlp_experiment, on data already in memory (tests use it with
// synthetic data), and the factory for the four algorithms.
#include <memory>

#include "networks/mlp/algorithm.hpp"
#include "networks/mlp/dataset.hpp"
#include "networks/mlp/experiment.hpp"

namespace settle::mlp {

NetworkShape network_shape(const MlpExperiment& e);

template <class T>
std::unique_ptr<Algorithm<T>> make_algorithm(const MlpExperiment& e, const Mlp<T>& net, std::uint64_t seed);

// Trains on `data` (network sizes must match its features and classes) and emits the results.
template <class T>
void train_mlp(const MlpExperiment& e, const DataSplits& data, std::uint64_t seed, ResultSink& sink,
               const std::function<void(const EpochReport&)>& on_epoch, const std::function<bool()>& should_stop);

// Fraction of misclassified examples, in batches of `batch`.
template <class T>
double classification_error(const Mlp<T>& net, const Dataset& d, int batch);

}  // namespace settle::mlp
