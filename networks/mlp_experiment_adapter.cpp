#include "networks/mlp_experiment_adapter.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "networks/mlp/experiment.hpp"

namespace settle {

namespace {

class MlpExperimentRunner final : public Experiment {
public:
    explicit MlpExperimentRunner(mlp::MlpExperiment e) : experiment_(std::move(e)) {}
    std::string describe() const override { return "mlp experiment"; }
    void prepare() override { data_ = mlp::load_mlp_data(experiment_); }

    nlohmann::json run(const ExperimentContext& ctx) override {
        SonataWriter writer(ctx.out_path, ctx.force, {}, {}, RunMetadata{ctx.config_toml, ctx.seed, 0.0},
                            ctx.flush_interval_s);
        InMemoryResults results;
        int epochs_done = 0, epochs_total = 0;
        const bool tty = !ctx.quiet && isatty(STDERR_FILENO);
        const auto t0 = std::chrono::steady_clock::now();
        if (!data_) prepare();
        mlp::run_mlp_experiment(
            experiment_, *data_, ctx.seed, results,
            [&](const mlp::EpochReport& r) {
                epochs_done = r.epoch;
                epochs_total = r.epochs;
                if (ctx.quiet) return;
                std::fprintf(stderr,
                             "%sepoch %d/%d  loss %.4f  train err %.2f%%  valid err %.2f%%  test err %.2f%%  %.1f s%s",
                             tty ? "\r" : "", r.epoch, r.epochs, r.train_loss, 100 * r.train_error,
                             100 * r.validation_error, 100 * r.test_error, r.seconds, tty ? "   " : "\n");
            },
            [&] { return ctx.stop && ctx.stop->load(); });
        if (tty) std::fprintf(stderr, "\n");
        const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        RunStats stats;
        stats.interrupted = ctx.stop && ctx.stop->load();
        return finish_output(writer, nullptr, stats, results, wall, ctx,
                             {{"epochs", epochs_done}, {"epochs_planned", epochs_total}});
    }

private:
    mlp::MlpExperiment experiment_;
    std::shared_ptr<const mlp::DataSplits> data_;  // loaded by prepare()
};

}  // namespace

std::unique_ptr<Experiment> make_mlp_experiment(ConfigTable& root, std::uint64_t) {
    return std::make_unique<MlpExperimentRunner>(mlp::parse_mlp_experiment(root));
}

}  // namespace settle
