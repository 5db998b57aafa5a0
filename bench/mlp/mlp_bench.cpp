// mlp_bench CONFIG [--seed N] [--set key=value ...] [--json FILE]
// Runs an `experiment = "mlp"` config (the same library call `settle run` makes), prints one line
// per epoch on stderr and the summary (metrics as in settle's JSON summary, without the bulky
// arrays) as one JSON line on stdout, and optionally into FILE.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "networks/config_reader.hpp"
#include "networks/mlp/experiment.hpp"
#include "sim/results.hpp"

int main(int argc, char** argv) {
    std::string config, json_out;
    std::uint64_t seed = 0;
    bool seed_given = false;
    std::vector<std::string> overrides;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--seed" && i + 1 < argc) seed = std::stoull(argv[++i]), seed_given = true;
        else if (a == "--set" && i + 1 < argc) overrides.emplace_back(argv[++i]);
        else if (a == "--json" && i + 1 < argc) json_out = argv[++i];
        else if (config.empty() && a[0] != '-') config = a;
        else {
            std::fprintf(stderr, "usage: mlp_bench CONFIG [--seed N] [--set key=value ...] [--json FILE]\n");
            return 2;
        }
    }
    if (config.empty()) {
        std::fprintf(stderr, "usage: mlp_bench CONFIG [--seed N] [--set key=value ...] [--json FILE]\n");
        return 2;
    }
    try {
        settle::toml_value root_value = settle::read_toml_file(config);
        for (const auto& o : overrides) settle::apply_override(root_value, o);
        settle::ConfigTable root(root_value, "");
        if (!seed_given) seed = static_cast<std::uint64_t>(root.get_int("seed", 1));
        else root.ignore("seed");
        for (const char* k : {"experiment", "output", "name"}) root.ignore(k);
        const auto experiment = settle::mlp::parse_mlp_experiment(root);
        root.finish();
        settle::InMemoryResults results;
        int done = 0;
        settle::mlp::run_mlp_experiment(
            experiment, seed, results,
            [&](const settle::mlp::EpochReport& r) {
                done = r.epoch;
                std::fprintf(stderr, "epoch %d/%d  loss %.4f  train err %.2f%%  valid err %.2f%%  test err %.2f%%  %.2f s\n",
                             r.epoch, r.epochs, r.train_loss, 100 * r.train_error, 100 * r.validation_error,
                             100 * r.test_error, r.seconds);
            },
            [] { return false; });
        nlohmann::json summary;
        summary["config"] = config;
        summary["seed"] = seed;
        summary["overrides"] = overrides;
        summary["epochs"] = done;
        nlohmann::json metrics = nlohmann::json::object();
        for (const auto& [k, v] : results.scalars) metrics[k] = v;
        for (const auto& [k, v] : results.series) metrics[k] = v;
        summary["metrics"] = metrics;
        std::cout << summary.dump() << std::endl;
        if (!json_out.empty()) std::ofstream(json_out) << summary.dump() << "\n";
    } catch (const std::exception& e) {
        std::fprintf(stderr, "mlp_bench: %s\n", e.what());
        return 2;
    }
    return 0;
}
