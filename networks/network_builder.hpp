#pragma once
// Builds a Network and its recording plan from a configuration table (docs/config.md).
// All validation happens here, before any file is created: a config that builds runs.
#include <cstdint>
#include <functional>
#include <map>
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
    time_ms sync_interval_ms = 0.0;  // replica sync points (Simulator::set_sync_interval); 0: none
};

// Reads [simulation], [[population]], [[projection]] and [record] from `root` (which must
// still be finish()ed by the caller, who owns the other top-level keys).
// duration_required = false: [simulation] duration_ms is neither required nor read (a driver
// that runs the network in steps of its own, like the Python API's Simulator.run, says how long).
BuiltNetwork build_network(ConfigTable& root, std::uint64_t seed, bool duration_required = true);

// The registries: a model or rule name in a config -> the function that reads its keys and builds
// it. A new model or rule is one entry (docs/architecture.md, "Adding a neuron model"); tests may
// add entries of their own.
struct ModelFactory {
    std::string summary;
    // Reads the model's keys from its [[population]] table `t` (the population's `name` and `size`,
    // -1 when absent, are already read) and returns the population. Bad values: t.fail(key, why).
    std::function<std::unique_ptr<Population>(ConfigTable& t, const std::string& name, std::int64_t size)> build;
};
struct RuleFactory {
    std::string summary;
    // Reads the rule's keys from a projection's `plasticity` table `t` (its `rule` already read).
    // A rule has one of the two: `build` for sparse projections, `build_dense` for dense ones
    // (kind = "dense"; `net` holds every population, for rules that read another one).
    std::function<std::unique_ptr<PlasticityRule>(ConfigTable& t, Population& target, const std::string& receptor)> build;
    std::function<std::unique_ptr<DensePlasticityRule>(ConfigTable& t, Network& net, const DenseProjection& projection)>
        build_dense;
};
std::map<std::string, ModelFactory>& model_registry();
std::map<std::string, RuleFactory>& rule_registry();

// Names of the models build_network knows, for docs and error messages.
std::vector<std::string> known_models();

}  // namespace settle
