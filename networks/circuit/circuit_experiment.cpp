#include "networks/circuit/circuit_experiment.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "networks/circuit/circuit_run.hpp"

namespace settle {

namespace {

class CircuitExperiment final : public Experiment {
public:
    CircuitExperiment(circuit::CircuitConfig c, std::uint64_t seed) : config_(std::move(c)), seed_(seed) {}
    void prepare() override { data_ = circuit::load_circuit_data(config_, seed_); }

    std::string describe() const override {
        std::string layers;
        for (int n : config_.sizes()) {
            if (!layers.empty()) layers += '-';
            layers += std::to_string(n);
        }
        return "circuit " + layers + " (" + circuit::to_string(config_.mode) + " mode, " +
               circuit::to_string(config_.nudge) + " nudge, " + circuit::to_string(config_.feedback) + " feedback, " +
               std::to_string(config_.streams) + " streams) on " + circuit::to_string(config_.task.kind) + ", " +
               std::to_string(config_.presentations) + " presentations";
    }

    nlohmann::json run(const ExperimentContext& ctx) override {
        // Spike populations and reports of the main training run, by its population indices (0
        // input, l layer l: event_circuit.hpp), created before the run (SWMR).
        std::vector<std::string> spike_names;
        const std::vector<std::string> names = config_.population_names();
        std::vector<ReportSpec> reports;
        const std::vector<int> sizes = config_.population_units();
        if (config_.engine == circuit::Engine::event) {
            spike_names.assign(names.size(), "");
            for (const std::string& n : config_.record.spikes)
                spike_names[static_cast<std::size_t>(std::find(names.begin(), names.end(), n) - names.begin())] = n;
            for (const circuit::CircuitReportConfig& rc : config_.record.reports) {
                ReportSpec spec;
                spec.population = rc.population;
                const bool input = rc.population == "input";
                const std::size_t l = static_cast<std::size_t>(std::find(names.begin(), names.end(), rc.population) - names.begin());
                for (auto n : rc.nodes) spec.nodes.push_back(static_cast<node_index>(n));
                if (spec.nodes.empty())
                    for (int u = 0; u < sizes[l]; ++u) spec.nodes.push_back(static_cast<node_index>(u));
                for (const std::string& v : rc.variables) {
                    spec.element_names.push_back(v);
                    spec.element_units.push_back(input ? "Hz" : "1");
                    spec.element_ids.push_back(input ? 4 : v == "U" ? 0 : v == "Vbar" ? 1 : 2);
                }
                spec.dt = rc.dt_ms;
                spec.start = 0.0;  // the window's start is known once the schedules are drawn
                reports.push_back(spec);
            }
        }
        SonataWriter writer(ctx.out_path, ctx.force, spike_names, reports, RunMetadata{ctx.config_toml, ctx.seed, 0.0},
                            ctx.flush_interval_s);
        circuit::CircuitRecorder recorder;
        recorder.observer = &writer;
        InMemoryResults results;
        const bool tty = !ctx.quiet && isatty(STDERR_FILENO);
        const auto t0 = std::chrono::steady_clock::now();
        const bool finished = circuit::run_circuit_experiment(
            config_, ctx.seed, results,
            [&](const circuit::CircuitProgress& p) {
                if (ctx.quiet) return;
                // The controls are evaluated once, at their end: no test error before it.
                char error[48] = "";
                if (std::isfinite(p.test_error)) std::snprintf(error, sizeof error, "  test error %.4g", p.test_error);
                std::fprintf(stderr, "%s%-12s %lld/%lld presentations%s  %.1f s%s", tty ? "\r" : "", p.run.c_str(),
                             static_cast<long long>(p.presentations), static_cast<long long>(p.total), error, p.seconds,
                             tty ? "                 " : "\n");
                if (tty && p.presentations == p.total) std::fprintf(stderr, "\n");
            },
            ctx.stop, &recorder, data_.get());
        const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        RunStats stats = recorder.stats;
        stats.interrupted = !finished;
        nlohmann::json extra;
        extra["experiment"] = "circuit";
        extra["mode"] = circuit::to_string(config_.mode);
        extra["nudge"] = circuit::to_string(config_.nudge);
        extra["feedback"] = circuit::to_string(config_.feedback);
        extra["task"] = circuit::to_string(config_.task.kind);
        extra["layers"] = config_.sizes();
        extra["streams"] = config_.streams;
        extra["presentations"] = config_.presentations;
        extra["engine"] = circuit::to_string(config_.engine);
        return finish_output(writer, nullptr, stats, results, wall, ctx, extra, recorder.population_names);
    }

private:
    circuit::CircuitConfig config_;
    std::uint64_t seed_;
    std::shared_ptr<const circuit::Dataset> data_;  // loaded by prepare(); null: run() loads it
};

}  // namespace

std::unique_ptr<Experiment> make_circuit_experiment(ConfigTable& root, std::uint64_t seed) {
    return std::make_unique<CircuitExperiment>(circuit::parse_circuit_config(root), seed);
}

}  // namespace settle
