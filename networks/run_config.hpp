#pragma once
// The front end of `settle run` as a library: reading a config file with its overrides and seed,
// building its experiment (every key checked before anything runs), and running it into an
// output file. The settle command and the Python API's settle.run_config share it, so both run a
// config the same way.
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "networks/config_reader.hpp"
#include "networks/experiment.hpp"

namespace settle {

struct RunRequest {
    std::string config_path;
    std::string out_path;
    std::vector<std::string> overrides;
    long long seed = -1;
    bool force = false;
    bool quiet = false;
    bool json = false;
};

struct LoadedConfig {
    toml_value doc;
    std::uint64_t seed = 1;
    std::string experiment;
    double flush_interval_s = 5.0;
};

// The config file with its overrides and --seed applied.
LoadedConfig load_config(const RunRequest& opt);
// Reads the keys the front end owns (seed, name, experiment, [output]); the experiment reads the rest.
void read_common(ConfigTable& root, LoadedConfig& c);
std::string format_toml(const toml_value& doc);
// Checks that the output can be created before any work is done (FileError otherwise).
void check_output_path(const std::string& path, bool force);
// Reads the config, applies the overrides and builds its experiment: every key is read and
// checked here, before anything runs or any file is created.
std::unique_ptr<Experiment> build_experiment(const RunRequest& opt, LoadedConfig& cfg);
// Runs a built experiment into opt.out_path (checked first). Invariant kept: an input error
// (exit 2) leaves no output file; one found after the file exists removes the file this run made.
nlohmann::json execute_experiment(Experiment& experiment, const LoadedConfig& cfg, const RunRequest& opt,
                                  const std::atomic<bool>* stop);

}  // namespace settle
