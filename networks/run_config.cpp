#include "networks/run_config.hpp"

#include <unistd.h>

#include <filesystem>
#include <sstream>

#include "sim/error.hpp"
#include "sim/output_lock.hpp"

namespace settle {

namespace fs = std::filesystem;

LoadedConfig load_config(const RunRequest& opt) {
    LoadedConfig c;
    c.doc = read_toml_file(opt.config_path);
    for (const auto& o : opt.overrides) apply_override(c.doc, o);
    if (opt.seed >= 0) c.doc.as_table()["seed"] = toml_value(static_cast<std::int64_t>(opt.seed));
    return c;
}

// Reads the keys the front end owns. The experiment reads the rest.
void read_common(ConfigTable& root, LoadedConfig& c) {
    const auto seed = root.get_int("seed", 1);
    if (seed < 0) root.fail("seed", "must be >= 0, got " + std::to_string(seed));
    c.seed = static_cast<std::uint64_t>(seed);
    root.get_string("name", "");
    std::vector<std::string> kinds;
    for (const auto& [name, factory] : experiment_registry()) kinds.push_back(name);
    c.experiment = root.get_choice("experiment", "network", kinds);
    if (auto out = root.table("output")) {
        c.flush_interval_s = require_positive(*out, "flush_interval_s", out->get_double("flush_interval_s", 5.0));
        out->finish();
    }
    if (!root.has("seed")) {
        // Store the seed actually used in the resolved config written to the output file.
        c.doc.as_table()["seed"] = toml_value(static_cast<std::int64_t>(c.seed));
        root.ignore("seed");
    }
}

std::string format_toml(const toml_value& doc) {
    std::ostringstream os;
    os << doc;
    return os.str();
}

// Checks that the output can be created before any work is done.
void check_output_path(const std::string& path, bool force) {
    const fs::path p(path);
    if (fs::exists(p) && !force) throw FileError(path, "output file exists (use --force to overwrite)");
    if (fs::is_directory(p)) throw FileError(path, "is a directory");
    const fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
    if (!fs::is_directory(dir)) throw FileError(path, "directory " + dir.string() + " does not exist");
    if (access(dir.c_str(), W_OK) != 0) throw FileError(path, "directory " + dir.string() + " is not writable");
}

// Reads the config, applies the overrides and builds its experiment: every key is read and
// checked here, before anything runs or any file is created.
std::unique_ptr<Experiment> build_experiment(const RunRequest& opt, LoadedConfig& cfg) {
    cfg = load_config(opt);
    ConfigTable root(cfg.doc, "");
    read_common(root, cfg);
    const auto& registry = experiment_registry();
    const auto factory = registry.find(cfg.experiment);
    if (factory == registry.end())
        throw ConfigError("experiment", "'" + cfg.experiment + "' is not available in this build");
    std::unique_ptr<Experiment> experiment = factory->second(root, cfg.seed);
    root.finish();
    experiment->prepare();
    return experiment;
}

nlohmann::json execute_experiment(Experiment& experiment, const LoadedConfig& cfg, const RunRequest& opt,
                                  const std::atomic<bool>* stop) {
    check_output_path(opt.out_path, opt.force);
    ExperimentContext ctx;
    ctx.seed = cfg.seed;
    ctx.out_path = opt.out_path;
    ctx.force = opt.force;
    ctx.quiet = opt.quiet;
    ctx.flush_interval_s = cfg.flush_interval_s;
    ctx.config_toml = format_toml(cfg.doc);
    ctx.stop = stop;
    try {
        return experiment.run(ctx);
    } catch (const InputError&) {
        // prepare() finds the errors that can be found before the file exists; one found later
        // removes the file this run made.
        if (OutputLock::owned_by_this_process(opt.out_path)) {
            std::error_code ignored;
            fs::remove(opt.out_path, ignored);
        }
        throw;
    }
}

}  // namespace settle
