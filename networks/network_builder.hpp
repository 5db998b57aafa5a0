#pragma once
// Builds a Network and its recording plan from a configuration table (docs/config.md).
// All validation happens here, before any file is created: a config that builds runs.
#include <memory>
#include <string>
#include <vector>

#include "networks/config_reader.hpp"
#include "sim/simulator.hpp"
#include "sim/sonata_writer.hpp"

namespace settle {

struct RecordingPlan {
    std::vector<std::string> spike_populations;  // by population index, "" when not recorded
    std::vector<StateProbe> probes;
    std::vector<ReportSpec> reports;  // one per probe
};

struct BuiltNetwork {
    std::unique_ptr<Network> network = std::make_unique<Network>();
    RecordingPlan recording;
    time_ms duration_ms = 0.0;
};

// Reads [simulation], [[population]], [[projection]] and [record] from `root` (which must
// still be finish()ed by the caller, who owns the other top-level keys).
BuiltNetwork build_network(ConfigTable& root, std::uint64_t seed);

// Names of the models build_network knows, for docs and error messages.
std::vector<std::string> known_models();

}  // namespace settle
