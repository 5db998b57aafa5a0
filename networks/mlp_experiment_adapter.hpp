#pragma once
// `experiment = "mlp"`: the rate-based reference learners (networks/mlp) behind settle run.
#include "networks/experiment.hpp"

namespace settle {
std::unique_ptr<Experiment> make_mlp_experiment(ConfigTable& root, std::uint64_t seed);
}
