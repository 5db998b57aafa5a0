#pragma once
// Experiments of the plasticity rules (networks/plasticity_experiments.cpp).
#include <memory>

#include "networks/experiment.hpp"

namespace settle {

std::unique_ptr<Experiment> make_urbanczik_senn_experiment(ConfigTable& root, std::uint64_t seed);
std::unique_ptr<Experiment> make_stdp_window_experiment(ConfigTable& root, std::uint64_t seed);

}  // namespace settle
