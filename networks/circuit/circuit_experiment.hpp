#pragma once
// `experiment = "circuit"`: the settle-and-delta-rule circuit on a task (docs/science.md,
// section 4; docs/config.md, "Circuit"; examples/circuit_*.toml).
#include <cstdint>
#include <memory>

#include "networks/experiment.hpp"

namespace settle {

std::unique_ptr<Experiment> make_circuit_experiment(ConfigTable& root, std::uint64_t seed);

}  // namespace settle
