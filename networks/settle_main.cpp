// settle: the command-line front end.
//   settle run CONFIG.toml [--out FILE.h5] [--seed N] [--set key=value]... [--force] [--quiet] [--json]
//   settle validate CONFIG.toml [--set key=value]...
//   settle keys CONFIG.toml [--set key=value]... [--json]
//   settle info FILE.h5
//   settle plot FILE.h5 [--out DIR] [--what LIST]
// Exit codes: 0 finished, 2 bad input (config, options, files; no output file), 128 + signal
// interrupted by SIGINT, SIGTERM or SIGHUP (the file holds what was simulated), 3 the output file
// could not be written (disk full, ...: the file holds what was flushed, marked incomplete),
// 1 internal error.
// `settle run` ends with a short summary for people when stdout is a terminal, and with the
// one-line JSON summary otherwise (pipes, files, scripts) or with --json.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <limits>
#include <set>
#include <sstream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "networks/circuit/circuit_config.hpp"
#include "networks/circuit/circuit_run.hpp"
#include "networks/config_reader.hpp"
#include "networks/experiment.hpp"
#include "networks/run_config.hpp"
#include "settle/version.hpp"
#include "sim/error.hpp"
#include "sim/hdf5_file.hpp"
#include "sim/output_lock.hpp"
#include "sim/sonata_writer.hpp"

namespace fs = std::filesystem;
using namespace settle;

namespace {

using RunOptions = RunRequest;

// SIGINT (Ctrl-C), SIGTERM (timeout, job schedulers, mpirun) and SIGHUP (a closed terminal) stop
// a run the same way: the experiment sees the flag at its next check, flushes, marks the file
// "interrupted", and settle exits with 128 + the signal's number.
std::atomic<bool> stop_requested{false};
std::atomic<int> stop_signal{0};
static_assert(std::atomic<int>::is_always_lock_free, "set from a signal handler");

extern "C" void on_stop_signal(int sig) {
    stop_signal.store(sig);
    stop_requested.store(true);
    std::signal(sig, SIG_DFL);  // a second one ends the process at once
}

// 12345678 -> "12,345,678": counts a person reads at a glance.
std::string group_thousands(std::uint64_t n) {
    const std::string digits = std::to_string(n);
    std::string grouped;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) grouped += ',';
        grouped += digits[i];
    }
    return grouped;
}

std::string format_number(double x) {
    std::ostringstream os;
    os << std::setprecision(6) << x;
    return os.str();
}

// The end of a run for a person at a terminal: status, simulated and wall time, spikes per
// population, the experiment's scalar metrics and where the file is. Array metrics (learning
// curves, tables) are named only; they are in the file and in the JSON.
void print_human_summary(std::ostream& os, const nlohmann::json& summary) {
    const std::string status = summary.value("status", "?");
    os << "settle: " << status;
    if (summary.contains("experiment")) os << " (" << summary["experiment"].get<std::string>() << ")";
    if (summary.contains("simulated_ms")) os << ", " << format_number(summary["simulated_ms"].get<double>()) << " ms simulated";
    if (summary.contains("wall_seconds")) os << " in " << format_number(summary["wall_seconds"].get<double>()) << " s wall";
    if (summary.contains("events") && summary["events"].is_number_unsigned())
        os << ", " << group_thousands(summary["events"].get<std::uint64_t>()) << " events";
    os << "\n";
    if (summary.contains("spikes") && summary["spikes"].is_object() && !summary["spikes"].empty()) {
        os << "  spikes:";
        for (const auto& [population, count] : summary["spikes"].items())
            os << "  " << population << " " << (count.is_number_unsigned() ? group_thousands(count.get<std::uint64_t>()) : count.dump());
        os << "\n";
    }
    // The experiment's own descriptors (task, mode, layer sizes, ...), on one line.
    static const std::set<std::string> shown_elsewhere = {"status", "experiment", "simulated_ms", "wall_seconds", "events",
                                                          "events_per_second", "spikes", "metrics", "out"};
    std::string run_line;
    for (const auto& [key, value] : summary.items()) {
        if (shown_elsewhere.count(key) != 0 || value.is_object()) continue;
        run_line += "  " + key + " " + (value.is_string() ? value.get<std::string>() : value.is_number_float() ? format_number(value.get<double>()) : value.dump());
    }
    if (!run_line.empty()) os << "  run:" << run_line << "\n";
    if (summary.contains("metrics") && summary["metrics"].is_object() && !summary["metrics"].empty()) {
        std::size_t width = 0;
        for (const auto& [name, value] : summary["metrics"].items())
            if (value.is_number()) width = std::max(width, name.size());
        std::vector<std::string> arrays;
        bool header = false;
        for (const auto& [name, value] : summary["metrics"].items()) {
            if (!value.is_number()) {
                arrays.push_back(name);
                continue;
            }
            if (!header) os << "  metrics:\n";
            header = true;
            os << "    " << std::left << std::setw(static_cast<int>(width)) << name << "  " << format_number(value.get<double>()) << "\n";
        }
        if (!arrays.empty()) {
            os << "  in the file too:";
            for (const auto& name : arrays) os << " " << name;
            os << "\n";
        }
    }
    if (summary.contains("out")) {
        const std::string out = summary["out"].get<std::string>();
        os << "  output: " << out << "   (settle info " << out << "; settle plot " << out << ")\n";
    }
}

int run_command(const RunOptions& opt, bool validate_only) {
    LoadedConfig cfg;
    const std::unique_ptr<Experiment> experiment = build_experiment(opt, cfg);
    if (validate_only) {
        std::cout << opt.config_path << ": ok (" << cfg.experiment << ": " << experiment->describe() << ")\n";
        return 0;
    }
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) std::signal(sig, on_stop_signal);
    const nlohmann::json summary = execute_experiment(*experiment, cfg, opt, &stop_requested);
    const bool interrupted = summary.value("status", "") == "interrupted";
    if (interrupted) std::cerr << "settle: interrupted; what was simulated is kept in " << opt.out_path << "\n";
    if (opt.json || isatty(STDOUT_FILENO) == 0)
        std::cout << summary.dump() << std::endl;
    else
        print_human_summary(std::cout, summary);
    if (interrupted) return 128 + (stop_signal.load() != 0 ? stop_signal.load() : SIGINT);
    return 0;
}

// Writes a spiking circuit config out longhand: the plain network config (populations, dense
// projections, rules, [drive]) that runs the same training spikes.
int expand_command(const RunOptions& opt) {
    LoadedConfig cfg = load_config(opt);
    ConfigTable root(cfg.doc, "");
    read_common(root, cfg);
    if (cfg.experiment != "circuit") throw ConfigError("experiment", "expand writes out a circuit (experiment = \"circuit\"), not '" + cfg.experiment + "'");
    const circuit::CircuitConfig c = circuit::parse_circuit_config(root);
    root.finish();
    if (c.mode != circuit::Mode::spiking) throw ConfigError("circuit.mode", "expand writes out the spiking circuit: set circuit.mode = \"spiking\"");
    std::string text = circuit::circuit_longhand(c, cfg.seed);
    // The command that wrote it, so that the file can be made again (and checked: a test does).
    std::string command = "# settle expand " + opt.config_path;
    for (const std::string& o : opt.overrides) command += " --set " + (o.find_first_of(" []\"") == std::string::npos ? o : "'" + o + "'");
    if (opt.seed >= 0) command += " --seed " + std::to_string(opt.seed);
    text = command + "\n" + text;
    if (opt.out_path.empty()) {
        std::cout << text;
        return 0;
    }
    check_output_path(opt.out_path, opt.force);
    std::ofstream out(opt.out_path);
    out << text;
    out.close();
    if (!out) throw FileError(opt.out_path, "cannot write the longhand config");
    return 0;
}

// Every key the config's experiment reads, with its value and the code's default, in reading
// order (a key read twice is listed once). The defaults come from the readers themselves.
int keys_command(const RunOptions& opt) {
    ScopedKeyLog key_log;
    LoadedConfig cfg;
    build_experiment(opt, cfg);
    std::set<std::string> listed;
    std::vector<KeyRecord> records;
    for (const auto& r : key_log.records)
        if (listed.insert(r.path).second) records.push_back(r);
    if (opt.json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& r : records)
            out.push_back({{"key", r.path}, {"value", r.value}, {"default", r.fallback}, {"set", r.set}, {"unit", r.unit},
                           {"meaning", r.meaning}});
        std::cout << out.dump() << std::endl;
        return 0;
    }
    std::size_t width = 0;
    for (const auto& r : records) width = std::max(width, r.path.size() + 3 + r.value.size());
    for (const auto& r : records) {
        const std::string assignment = r.path + " = " + r.value;
        std::cout << std::left << std::setw(static_cast<int>(width)) << assignment << "  # "
                  << (r.fallback.empty() ? "required" : (r.set ? "default " + r.fallback : "default"))
                  << (r.unit.empty() ? "" : ", " + r.unit) << (r.meaning.empty() ? "" : ": " + r.meaning) << "\n";
    }
    return 0;
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
            // Experiments that drive their own schedule (circuits) have no duration set in advance.
            const double duration = h5::read_attr_f64(meta.get(), "duration_ms");
            std::cout << "  complete: " << h5::read_attr_string(meta.get(), "stop_reason") << " at "
                      << h5::read_attr_f64(meta.get(), "simulated_ms")
                      << (duration > 0.0 ? " of " + format_number(duration) : std::string()) << " ms, "
                      << h5::read_attr_u64(meta.get(), "events") << " events in "
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
            // The time span [start, stop, dt] is written at every flush; rows past it never were.
            const std::vector<double> span = h5::read_f64_dataset(g.get(), "mapping/time");
            std::uint64_t rows = shape.at(0);
            if (span.size() >= 3 && span[2] > 0.0 && span[1] >= span[0])
                rows = std::min<std::uint64_t>(rows, static_cast<std::uint64_t>(std::llround((span[1] - span[0]) / span[2])));
            std::cout << "    " << pop << ": " << rows << " samples x " << shape.at(1) << " columns (" << nodes.at(0)
                      << " nodes)" << (rows < shape.at(0) ? " (later rows were never written)" : "") << "\n";
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

    // The options of every command that reads a config: the file, --set and (where it matters) --seed.
    auto config_options = [](CLI::App* command, RunOptions& opt, bool seed) {
        command->add_option("config", opt.config_path, "config file (TOML)")->required();
        command->add_option("--set", opt.overrides, "override a config key: key.path=value (repeatable)");
        if (seed)
            command->add_option("--seed", opt.seed, "master seed (overrides the config's `seed`)")
                ->check(CLI::Range(0LL, std::numeric_limits<long long>::max()));
    };
    RunOptions run_opt;
    auto* run = app.add_subcommand("run", "run an experiment described by a TOML config");
    config_options(run, run_opt, true);
    run->add_option("--out,-o", run_opt.out_path, "output HDF5 file (default: <config name>.h5 here)");
    run->add_flag("--force", run_opt.force, "overwrite an existing output file");
    run->add_flag("--quiet,-q", run_opt.quiet, "no progress output on stderr");
    run->add_flag("--json", run_opt.json,
                  "end with the one-line JSON summary even on a terminal (the default when stdout is not a terminal)");

    RunOptions val_opt;
    auto* validate = app.add_subcommand("validate", "check a config without running it");
    config_options(validate, val_opt, false);

    RunOptions keys_opt;
    auto* keys = app.add_subcommand("keys", "list every key a config's experiment reads, with its value and default");
    config_options(keys, keys_opt, false);
    keys->add_flag("--json", keys_opt.json, "one JSON array of {key, value, default, set, unit, meaning}");

    RunOptions expand_opt;
    auto* expand = app.add_subcommand("expand", "write a spiking circuit config out longhand as a plain network config");
    config_options(expand, expand_opt, true);
    expand->add_option("--out,-o", expand_opt.out_path, "write the TOML here (default: standard output)");
    expand->add_flag("--force", expand_opt.force, "overwrite an existing output file");

    std::string info_path;
    auto* info = app.add_subcommand("info", "print a readable summary of a result file");
    info->add_option("file", info_path, "HDF5 file written by settle")->required();

    auto* plot = app.add_subcommand("plot", "write figures for a result file (runs python3 -m settle_analysis plot)");
    plot->allow_extras();
    plot->prefix_command();

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app.exit(e);  // --help
        // The exit-code contract: one line naming the option and value, exit 2.
        std::cerr << "settle: error: " << e.what() << " (settle --help lists the options)\n";
        return 2;
    }
    try {
        if (*run) {
            if (run_opt.out_path.empty()) run_opt.out_path = fs::path(run_opt.config_path).stem().string() + ".h5";
            return run_command(run_opt, false);
        }
        if (*validate) return run_command(val_opt, true);
        if (*keys) return keys_command(keys_opt);
        if (*expand) return expand_command(expand_opt);
        if (*info) return info_command(info_path);
        if (*plot) return plot_command(plot->remaining());
    } catch (const InputError& e) {
        std::cerr << "settle: error: " << e.what() << "\n";
        return 2;
    } catch (const OutputError& e) {
        std::cerr << "settle: error: " << e.what() << std::endl;
        // HDF5 could not close a file it cannot write; its exit handler would try again and crash
        // (HDF5 1.10). What could be saved is on disk, so end without the library's exit handlers.
        std::cout.flush();
        std::_Exit(3);
    } catch (const std::exception& e) {
        std::cerr << "settle: internal error: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
