#pragma once
// `experiment = "circuit"`: the settle-and-delta-rule circuit on a task (issue 6; docs/config.md,
// "Circuit"; examples/circuit_*.toml).
#include <cstdint>
#include <memory>

#include "networks/experiment.hpp"

namespace settle {

std::unique_ptr<Experiment> make_circuit_experiment(ConfigTable& root, std::uint64_t seed);

}  // namespace settle
