#include "networks/circuit/circuit_experiment.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "networks/circuit/circuit_run.hpp"

namespace settle {

namespace {

class CircuitExperiment final : public Experiment {
public:
    explicit CircuitExperiment(circuit::CircuitConfig c) : config_(std::move(c)) {}

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
        SonataWriter writer(ctx.out_path, ctx.force, {}, {}, RunMetadata{ctx.config_toml, ctx.seed, 0.0},
                            ctx.flush_interval_s);
        InMemoryResults results;
        const bool tty = !ctx.quiet && isatty(STDERR_FILENO);
        const auto t0 = std::chrono::steady_clock::now();
        const bool finished = circuit::run_circuit_experiment(
            config_, ctx.seed, results,
            [&](const circuit::CircuitProgress& p) {
                if (ctx.quiet) return;
                std::fprintf(stderr, "%s%-12s %lld/%lld presentations  test error %.4g  %.1f s%s", tty ? "\r" : "",
                             p.run.c_str(), static_cast<long long>(p.presentations), static_cast<long long>(p.total),
                             p.test_error, p.seconds, tty ? "   " : "\n");
                if (tty && p.presentations == p.total) std::fprintf(stderr, "\n");
            },
            [&] { return ctx.stop && ctx.stop->load(); });
        const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        RunStats stats;
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
        return finish_output(writer, nullptr, stats, results, wall, ctx, extra);
    }

private:
    circuit::CircuitConfig config_;
};

}  // namespace

std::unique_ptr<Experiment> make_circuit_experiment(ConfigTable& root, std::uint64_t) {
    return std::make_unique<CircuitExperiment>(circuit::parse_circuit_config(root));
}

}  // namespace settle
