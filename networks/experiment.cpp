#include "networks/experiment.hpp"

#include <chrono>

#include "networks/circuit/circuit_experiment.hpp"
#include "networks/circuit/network_drive.hpp"
#include "networks/circuit/stop_flag.hpp"
#include "networks/network_builder.hpp"
#include "networks/plasticity_experiments.hpp"
#include "networks/progress_bar.hpp"
#ifdef SETTLE_HAVE_MLP
#include "networks/mlp_experiment_adapter.hpp"
#endif

namespace settle {

namespace {

// Forwards to the writer (and an optional extra observer) and drives the progress bar.
class ProgressObserver final : public RunObserver {
public:
    ProgressObserver(SonataWriter& writer, ProgressBar& bar, RunObserver* extra) : writer_(writer), bar_(bar), extra_(extra) {}
    void on_spike(std::size_t p, node_index n, time_ms t) override {
        writer_.on_spike(p, n, t);
        if (extra_) extra_->on_spike(p, n, t);
    }
    void on_sample(std::size_t k, std::uint64_t s, time_ms t, const std::vector<double>& row) override {
        writer_.on_sample(k, s, t, row);
        if (extra_) extra_->on_sample(k, s, t, row);
    }
    void on_progress(time_ms t, std::uint64_t events) override {
        writer_.on_progress(t, events);
        if (extra_) extra_->on_progress(t, events);
        bar_.update(t, events);
    }

private:
    SonataWriter& writer_;
    ProgressBar& bar_;
    RunObserver* extra_;
};

// The plain network experiment: build from [[population]]/[[projection]]/[record], run, record.
class NetworkExperiment final : public Experiment {
public:
    NetworkExperiment(ConfigTable& root, std::uint64_t seed) : built_(build_network(root, seed)) {
        if (root.has("drive")) drive_ = std::make_unique<circuit::NetworkDrive>(root, *built_.network, seed);
    }

    std::string describe() const override {
        std::size_t synapses = 0;
        const Network& net = *built_.network;
        for (std::size_t i = 0; i < net.projection_count(); ++i) synapses += net.projection(i).size();
        for (std::size_t i = 0; i < net.dense_projection_count(); ++i)
            synapses += net.dense_projection(i).source_units() * net.dense_projection(i).target_units();
        return std::to_string(net.population_count()) + " populations, " +
               std::to_string(net.projection_count() + net.dense_projection_count()) + " projections, " +
               std::to_string(synapses) + " synapses, " + std::to_string(built_.duration_ms) + " ms";
    }

    nlohmann::json run(const ExperimentContext& ctx) override {
        Network& net = *built_.network;
        Simulator sim(net, ctx.seed);
        if (built_.sync_interval_ms > 0.0) sim.set_sync_interval(built_.sync_interval_ms);
        for (std::size_t p = 0; p < net.population_count(); ++p)
            if (!built_.recording.spike_populations[p].empty()) sim.record_spikes(p);
        for (const auto& probe : built_.recording.probes) sim.add_probe(probe);
        const double duration = drive_ ? drive_->end_ms() : built_.duration_ms;
        SonataWriter writer(ctx.out_path, ctx.force, built_.recording.spike_populations, built_.recording.reports,
                            RunMetadata{ctx.config_toml, ctx.seed, duration}, ctx.flush_interval_s);
        if (!drive_) {
            const TimedRun r = run_with_progress(sim, 0.0, built_.duration_ms, writer, ctx);
            return finish_output(writer, &net, r.stats, InMemoryResults{}, r.wall_seconds, ctx);
        }
        // Driven by a task's presentations: the bar counts presentations.
        ProgressBar bar(!ctx.quiet, static_cast<double>(drive_->presentations()), "presentations");
        ProgressBar no_time_bar(false, 0.0, "ms");  // the observer's bar counts ms: off here
        ProgressObserver observer(writer, no_time_bar, nullptr);
        const auto t0 = std::chrono::steady_clock::now();
        InMemoryResults results;
        bool interrupted = false;
        std::int64_t done = 0;
        try {
            done = drive_->run(sim, observer, ctx.stop, [&](std::int64_t d) { bar.update(static_cast<double>(d), sim.stats().events); });
        } catch (const circuit::Interrupted&) {
            interrupted = true;
            sim.finish();
        }
        bar.finish();
        RunStats stats = sim.stats();
        stats.simulated_ms = sim.now();
        stats.interrupted = interrupted;
        results.scalars["presentations"] = static_cast<double>(done);
        const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        return finish_output(writer, &net, stats, results, wall, ctx);
    }

private:
    BuiltNetwork built_;
    std::unique_ptr<circuit::NetworkDrive> drive_;
};

}  // namespace

TimedRun run_with_progress(Simulator& sim, time_ms t_start, time_ms t_stop, SonataWriter& writer,
                           const ExperimentContext& ctx, RunObserver* extra) {
    ProgressBar bar(!ctx.quiet, t_stop, "ms");
    ProgressObserver observer(writer, bar, extra);
    const auto t0 = std::chrono::steady_clock::now();
    TimedRun r;
    r.stats = sim.run(t_start, t_stop, observer, ctx.stop);
    r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    bar.finish();
    return r;
}

nlohmann::json finish_output(SonataWriter& writer, const Network* network, const RunStats& stats,
                             const InMemoryResults& results, double wall_seconds, const ExperimentContext& ctx,
                             nlohmann::json extra, const std::vector<std::string>& population_names) {
    nlohmann::json summary;
    summary["status"] = stats.interrupted ? "interrupted" : "finished";
    summary["out"] = ctx.out_path;
    summary["seed"] = ctx.seed;
    summary["wall_seconds"] = wall_seconds;
    std::vector<std::string> names = population_names;
    if (network) {
        names.clear();
        for (std::size_t p = 0; p < network->population_count(); ++p) names.push_back(network->population(p).name());
    }
    if (!names.empty()) {
        summary["simulated_ms"] = stats.simulated_ms;
        summary["events"] = stats.events;
        summary["events_per_second"] = wall_seconds > 0 ? static_cast<double>(stats.events) / wall_seconds : 0.0;
        summary["spikes"] = nlohmann::json::object();
        for (std::size_t p = 0; p < names.size(); ++p) summary["spikes"][names[p]] = stats.spikes.at(p);
    }
    if (network)
        for (std::size_t p = 0; p < network->projection_count(); ++p) {
            const Projection& proj = network->projection(p);
            if (!proj.rule()) continue;
            std::vector<std::uint64_t> src(proj.size()), tgt(proj.size());
            for (std::size_t c = 0; c < proj.size(); ++c) {
                src[c] = proj.source_of(c);
                tgt[c] = proj.target_of(c);
            }
            writer.add_final_weights(proj.name(), std::move(src), std::move(tgt), proj.weights());
        }
    for (auto& [k, v] : extra.items()) summary[k] = v;
    nlohmann::json metrics = nlohmann::json::object();
    for (const auto& [k, v] : results.scalars) metrics[k] = v;
    for (const auto& [k, v] : results.series) metrics[k] = v;
    summary["metrics"] = metrics;
    writer.finish(stats, names, results, summary.dump(), wall_seconds);
    return summary;
}

const std::map<std::string, ExperimentFactory>& experiment_registry() {
    static const std::map<std::string, ExperimentFactory> registry = [] {
        std::map<std::string, ExperimentFactory> r;
        r["network"] = [](ConfigTable& root, std::uint64_t seed) -> std::unique_ptr<Experiment> {
            return std::make_unique<NetworkExperiment>(root, seed);
        };
        r["urbanczik_senn"] = make_urbanczik_senn_experiment;
        r["stdp_window"] = make_stdp_window_experiment;
        r["circuit"] = make_circuit_experiment;
#ifdef SETTLE_HAVE_MLP
        r["mlp"] = make_mlp_experiment;
#endif
        return r;
    }();
    return registry;
}

}  // namespace settle
