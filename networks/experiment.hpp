#pragma once
// Experiments: what `settle run` can do with a config. The top-level key `experiment` picks one
// (default "network"). A factory reads and validates the keys it owns (no file is touched);
// run() then does the work, writes the output file and returns the JSON summary.
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "networks/config_reader.hpp"
#include "sim/results.hpp"
#include "sim/simulator.hpp"
#include "sim/sonata_writer.hpp"

namespace settle {

struct ExperimentContext {
    std::uint64_t seed = 1;
    std::string out_path;
    bool force = false;
    bool quiet = false;
    double flush_interval_s = 5.0;
    std::string config_toml;  // resolved configuration, stored in the output file
    const std::atomic<bool>* stop = nullptr;  // Ctrl-C
};

class Experiment {
public:
    virtual ~Experiment() = default;
    // One line for `settle validate`.
    virtual std::string describe() const = 0;
    // Loads and checks every input file the run will read (data sets, ...), keeping what it
    // loaded for run(). Called by `settle run` before the output file is created, and by
    // `settle validate`, so that a bad data file never leaves an output file behind. An error is
    // an InputError naming the file.
    virtual void prepare() {}
    // Runs, writes ctx.out_path, returns the summary (the CLI prints it as the last stdout line).
    virtual nlohmann::json run(const ExperimentContext& ctx) = 0;
};

using ExperimentFactory = std::function<std::unique_ptr<Experiment>(ConfigTable& root, std::uint64_t seed)>;

// Name -> factory. Experiments register here (networks/experiment.cpp).
const std::map<std::string, ExperimentFactory>& experiment_registry();

// Shared by experiments that simulate a network: runs `sim` to t_stop with a progress bar,
// streaming to `writer`. Returns the stats and the wall time.
struct TimedRun {
    RunStats stats;
    double wall_seconds = 0.0;
};
TimedRun run_with_progress(Simulator& sim, time_ms t_start, time_ms t_stop, SonataWriter& writer, const ExperimentContext& ctx,
                           RunObserver* extra = nullptr);

// Builds the standard summary, writes the clean-end metadata into the file and returns the summary.
// Without a network (experiments that drive their own), `population_names` name stats.spikes.
nlohmann::json finish_output(SonataWriter& writer, const Network* network, const RunStats& stats,
                             const InMemoryResults& results, double wall_seconds, const ExperimentContext& ctx,
                             nlohmann::json extra = nlohmann::json::object(),
                             const std::vector<std::string>& population_names = {});

}  // namespace settle
