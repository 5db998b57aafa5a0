// settle: the command-line front end.
//   settle run CONFIG.toml [--out FILE.h5] [--seed N] [--set key=value]... [--force] [--quiet]
//   settle validate CONFIG.toml [--set key=value]...
//   settle info FILE.h5
//   settle plot FILE.h5 [--out DIR] [--what LIST]
// Exit codes: 0 success, 2 bad input (config, options, files), 1 internal error.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "networks/config_reader.hpp"
#include "networks/network_builder.hpp"
#include "networks/progress_bar.hpp"
#include "settle/version.hpp"
#include "sim/error.hpp"
#include "sim/hdf5_file.hpp"
#include "sim/sonata_writer.hpp"
#ifdef SETTLE_HAVE_MLP
#include "networks/mlp/experiment.hpp"
#endif

namespace fs = std::filesystem;
using namespace settle;

namespace {

std::atomic<bool> stop_requested{false};

extern "C" void on_interrupt(int) {
    stop_requested.store(true);
    std::signal(SIGINT, SIG_DFL);  // a second Ctrl-C ends the process at once
}

struct RunOptions {
    std::string config_path;
    std::string out_path;
    std::vector<std::string> overrides;
    long long seed = -1;
    bool force = false;
    bool quiet = false;
};

struct LoadedConfig {
    toml_value doc;
    std::uint64_t seed = 1;
    std::string experiment;
    double flush_interval_s = 5.0;
};

LoadedConfig load_config(const RunOptions& opt) {
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
    c.experiment = root.get_choice("experiment", "network", {"network", "mlp"});
    if (auto out = root.table("output")) {
        c.flush_interval_s = require_positive(*out, "flush_interval_s", out->get_double("flush_interval_s", 5.0));
        out->finish();
    }
    if (!root.has("seed")) c.doc.as_table()["seed"] = toml_value(static_cast<std::int64_t>(c.seed));
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

class RunProgress final : public RunObserver {
public:
    RunProgress(SonataWriter& writer, ProgressBar& bar) : writer_(writer), bar_(bar) {}
    void on_spike(std::size_t p, node_index n, time_ms t) override { writer_.on_spike(p, n, t); }
    void on_sample(std::size_t k, std::uint64_t s, time_ms t, const std::vector<double>& row) override {
        writer_.on_sample(k, s, t, row);
    }
    void on_progress(time_ms t, std::uint64_t events) override {
        writer_.on_progress(t, events);
        bar_.update(t, events);
    }

private:
    SonataWriter& writer_;
    ProgressBar& bar_;
};

nlohmann::json metrics_json(const InMemoryResults& results) {
    nlohmann::json m = nlohmann::json::object();
    for (const auto& [k, v] : results.scalars) m[k] = v;
    for (const auto& [k, v] : results.series) m[k] = v;
    return m;
}

int run_network(const RunOptions& opt, LoadedConfig& cfg, ConfigTable& root) {
    BuiltNetwork built = build_network(root, cfg.seed);
    root.finish();
    check_output_path(opt.out_path, opt.force);
    Network& net = *built.network;

    Simulator sim(net, cfg.seed);
    for (std::size_t p = 0; p < net.population_count(); ++p)
        if (!built.recording.spike_populations[p].empty()) sim.record_spikes(p);
    for (const auto& probe : built.recording.probes) sim.add_probe(probe);

    RunMetadata meta{format_toml(cfg.doc), cfg.seed, built.duration_ms};
    SonataWriter writer(opt.out_path, opt.force, built.recording.spike_populations, built.recording.reports, meta,
                        cfg.flush_interval_s);
    ProgressBar bar(!opt.quiet, built.duration_ms, "ms");
    RunProgress observer(writer, bar);
    const auto t0 = std::chrono::steady_clock::now();
    const RunStats stats = sim.run(0.0, built.duration_ms, observer, &stop_requested);
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    bar.finish();

    InMemoryResults results;
    nlohmann::json summary;
    summary["status"] = stats.interrupted ? "interrupted" : "finished";
    summary["out"] = opt.out_path;
    summary["seed"] = cfg.seed;
    summary["simulated_ms"] = stats.simulated_ms;
    summary["wall_seconds"] = wall;
    summary["events"] = stats.events;
    summary["events_per_second"] = wall > 0 ? static_cast<double>(stats.events) / wall : 0.0;
    std::vector<std::string> names;
    for (std::size_t p = 0; p < net.population_count(); ++p) {
        names.push_back(net.population(p).name());
        summary["spikes"][names.back()] = stats.spikes[p];
    }
    summary["metrics"] = metrics_json(results);
    const std::string line = summary.dump();
    writer.finish(stats, names, results, line, wall);
    if (stats.interrupted) std::cerr << "settle: interrupted at " << stats.simulated_ms << " ms; output kept in " << opt.out_path << "\n";
    std::cout << line << std::endl;
    return 0;
}

#ifdef SETTLE_HAVE_MLP
int run_mlp(const RunOptions& opt, LoadedConfig& cfg, ConfigTable& root) {
    const mlp::MlpExperiment experiment = mlp::parse_mlp_experiment(root);
    root.finish();
    check_output_path(opt.out_path, opt.force);
    RunMetadata meta{format_toml(cfg.doc), cfg.seed, 0.0};
    SonataWriter writer(opt.out_path, opt.force, {}, {}, meta, cfg.flush_interval_s);
    InMemoryResults results;
    const auto t0 = std::chrono::steady_clock::now();
    int epochs_done = 0, epochs_total = 0;
    const bool tty = !opt.quiet && isatty(STDERR_FILENO);
    mlp::run_mlp_experiment(
        experiment, cfg.seed, results,
        [&](const mlp::EpochReport& r) {
            epochs_done = r.epoch;
            epochs_total = r.epochs;
            if (!opt.quiet)
                std::fprintf(stderr, "%sepoch %d/%d  loss %.4f  train err %.2f%%  valid err %.2f%%  test err %.2f%%  %.1f s%s",
                             tty ? "\r" : "", r.epoch, r.epochs, r.train_loss, 100 * r.train_error,
                             100 * r.validation_error, 100 * r.test_error, r.seconds, tty ? "   " : "\n");
        },
        [] { return stop_requested.load(); });
    if (!opt.quiet && tty) std::fprintf(stderr, "\n");
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    RunStats stats;
    stats.interrupted = stop_requested.load();
    nlohmann::json summary;
    summary["status"] = stats.interrupted ? "interrupted" : "finished";
    summary["out"] = opt.out_path;
    summary["seed"] = cfg.seed;
    summary["epochs"] = epochs_done;
    summary["epochs_planned"] = epochs_total;
    summary["wall_seconds"] = wall;
    summary["metrics"] = metrics_json(results);
    const std::string line = summary.dump();
    writer.finish(stats, {}, results, line, wall);
    std::cout << line << std::endl;
    return 0;
}
#endif

int run_command(const RunOptions& opt, bool validate_only) {
    LoadedConfig cfg = load_config(opt);
    ConfigTable root(cfg.doc, "");
    read_common(root, cfg);
    if (validate_only) {
        if (cfg.experiment == "network") {
            BuiltNetwork built = build_network(root, cfg.seed);
            root.finish();
            std::size_t synapses = 0;
            for (std::size_t i = 0; i < built.network->projection_count(); ++i) synapses += built.network->projection(i).size();
            std::cout << opt.config_path << ": ok (" << built.network->population_count() << " populations, "
                      << built.network->projection_count() << " projections, " << synapses << " synapses, "
                      << built.duration_ms << " ms)\n";
        } else {
#ifdef SETTLE_HAVE_MLP
            mlp::parse_mlp_experiment(root);
            root.finish();
            std::cout << opt.config_path << ": ok (mlp experiment)\n";
#endif
        }
        return 0;
    }
    std::signal(SIGINT, on_interrupt);
    if (cfg.experiment == "network") return run_network(opt, cfg, root);
#ifdef SETTLE_HAVE_MLP
    if (cfg.experiment == "mlp") return run_mlp(opt, cfg, root);
#endif
    throw ConfigError("experiment", "'" + cfg.experiment + "' is not available in this build");
}

int info_command(const std::string& path) {
    h5::Handle file = h5::open_file_for_reading(path);
    const hid_t root = file.get();
    if (!h5::has_attr(root, "magic")) throw FileError(path, "not a SONATA file (no 'magic' attribute)");
    std::cout << path << "\n";
    if (h5::exists(root, "settle")) {
        h5::Handle meta = h5::open_group(root, "settle");
        const bool complete = h5::has_attr(meta.get(), "complete");
        std::cout << "  written by settle " << h5::read_attr_string(meta.get(), "settle_version") << " ("
                  << h5::read_attr_string(meta.get(), "git_revision") << "), seed " << h5::read_attr_u64(meta.get(), "seed")
                  << "\n";
        if (complete) {
            std::cout << "  complete: " << h5::read_attr_string(meta.get(), "stop_reason") << " at "
                      << h5::read_attr_f64(meta.get(), "simulated_ms") << " of " << h5::read_attr_f64(meta.get(), "duration_ms")
                      << " ms, " << h5::read_attr_u64(meta.get(), "events") << " events in "
                      << h5::read_attr_f64(meta.get(), "wall_seconds") << " s wall\n";
        } else {
            std::cout << "  INCOMPLETE: the run did not end cleanly; the data go up to its last flush\n";
        }
        if (h5::exists(meta.get(), "metrics")) {
            h5::Handle m = h5::open_group(meta.get(), "metrics");
            std::cout << "  metrics:";
            for (const auto& name : h5::children(m.get())) {
                const auto shape = h5::dataset_shape(m.get(), name);
                std::cout << " " << name << (shape.empty() || shape[0] == 1 ? "" : "[" + std::to_string(shape[0]) + "]");
            }
            std::cout << "\n";
        }
    }
    if (h5::exists(root, "spikes")) {
        h5::Handle spikes = h5::open_group(root, "spikes");
        std::cout << "  spikes:\n";
        for (const auto& pop : h5::children(spikes.get())) {
            h5::Handle g = h5::open_group(spikes.get(), pop);
            const auto shape = h5::dataset_shape(g.get(), "timestamps");
            std::cout << "    " << pop << ": " << (shape.empty() ? 0 : shape[0]) << " spikes\n";
        }
    }
    if (h5::exists(root, "report")) {
        h5::Handle reports = h5::open_group(root, "report");
        std::cout << "  reports:\n";
        for (const auto& pop : h5::children(reports.get())) {
            h5::Handle g = h5::open_group(reports.get(), pop);
            const auto shape = h5::dataset_shape(g.get(), "data");
            const auto nodes = h5::dataset_shape(g.get(), "mapping/node_ids");
            std::cout << "    " << pop << ": " << shape.at(0) << " samples x " << shape.at(1) << " columns ("
                      << nodes.at(0) << " nodes)\n";
        }
    }
    return 0;
}

int plot_command(const std::vector<std::string>& args) {
    const std::string analysis_dir = SETTLE_ANALYSIS_DIR;
    const char* old = std::getenv("PYTHONPATH");
    const std::string pythonpath = analysis_dir + (old && *old ? ":" + std::string(old) : "");
    setenv("PYTHONPATH", pythonpath.c_str(), 1);
    std::vector<std::string> argv_s = {SETTLE_PYTHON, "-m", "settle_analysis", "plot"};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& s : argv_s) argv.push_back(s.data());
    argv.push_back(nullptr);
    execv(SETTLE_PYTHON, argv.data());
    throw FileError(SETTLE_PYTHON, "cannot run the Python interpreter for plotting (install python3-matplotlib python3-h5py)");
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"settle: event-driven simulator of spiking two-compartment neurons"};
    app.set_version_flag("--version", std::string(settle::version) + " (" + settle::git_revision + ")");
    app.require_subcommand(1);

    RunOptions run_opt;
    auto* run = app.add_subcommand("run", "run an experiment described by a TOML config");
    run->add_option("config", run_opt.config_path, "config file (TOML)")->required();
    run->add_option("--out,-o", run_opt.out_path, "output HDF5 file (default: <config name>.h5 here)");
    run->add_option("--seed", run_opt.seed, "master seed (overrides the config's `seed`)")->check(CLI::NonNegativeNumber);
    run->add_option("--set", run_opt.overrides, "override a config key: key.path=value (repeatable)");
    run->add_flag("--force", run_opt.force, "overwrite an existing output file");
    run->add_flag("--quiet,-q", run_opt.quiet, "no progress output on stderr");

    RunOptions val_opt;
    auto* validate = app.add_subcommand("validate", "check a config without running it");
    validate->add_option("config", val_opt.config_path, "config file (TOML)")->required();
    validate->add_option("--set", val_opt.overrides, "override a config key: key.path=value (repeatable)");

    std::string info_path;
    auto* info = app.add_subcommand("info", "print a readable summary of a result file");
    info->add_option("file", info_path, "HDF5 file written by settle")->required();

    auto* plot = app.add_subcommand("plot", "write figures for a result file (runs python3 -m settle_analysis plot)");
    plot->allow_extras();
    plot->prefix_command();

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e);
        return code == 0 ? 0 : 2;
    }
    try {
        if (*run) {
            if (run_opt.out_path.empty()) run_opt.out_path = fs::path(run_opt.config_path).stem().string() + ".h5";
            return run_command(run_opt, false);
        }
        if (*validate) return run_command(val_opt, true);
        if (*info) return info_command(info_path);
        if (*plot) return plot_command(plot->remaining());
    } catch (const InputError& e) {
        std::cerr << "settle: error: " << e.what() << "\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "settle: internal error: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
