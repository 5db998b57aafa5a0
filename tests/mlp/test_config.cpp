#include <catch2/catch.hpp>

#include <sstream>

#include "networks/config_reader.hpp"
#include "networks/mlp/experiment.hpp"
#include "sim/error.hpp"

using namespace settle::mlp;
using Catch::Matchers::Contains;

namespace {

MlpExperiment parse(const std::string& text) {
    std::istringstream in(text);
    const settle::toml_value v = toml::parse(in, "test.toml");
    settle::ConfigTable root(v, "");
    for (const char* k : {"experiment", "seed", "output", "name"}) root.ignore(k);
    MlpExperiment e = parse_mlp_experiment(root);
    root.finish();
    return e;
}

}  // namespace

TEST_CASE("mlp config: defaults are the deep network and Lee et al.'s DTP values", "[config]") {
    const MlpExperiment e = parse("experiment = \"mlp\"\nepochs = 3\n[algorithm]\nname = \"dtp\"\n");
    REQUIRE(e.epochs == 3);
    REQUIRE(e.sizes == std::vector<int>{784, 240, 240, 240, 240, 240, 240, 240, 10});
    REQUIRE(e.forward.learning_rate == Approx(0.0148893490317));
    REQUIRE(e.inverse.learning_rate == Approx(0.00501149118237));
    REQUIRE(e.target_step == Approx(0.327736332653));
    REQUIRE(e.noise_std == Approx(0.359829566008));
    REQUIRE(e.forward.momentum == 0.9);
    REQUIRE(e.forward.decay == 0.95);
    REQUIRE(e.forward.epsilon == 0.001);
    REQUIRE(e.batch_size == 100);
    REQUIRE(e.dtype == "float32");
    REQUIRE(parse("[train]\nepochs = 4\n[algorithm]\nname = \"bp\"\n").forward.learning_rate == Approx(0.000804436870084));
}

TEST_CASE("mlp config: every section is read", "[config]") {
    const MlpExperiment e = parse(R"(
[train]
epochs = 2
batch_size = 50
threads = 2
shuffle = false
angle_every = 5
[network]
layers = [784, 500, 500, 10]
sign_layers = [1]
dtype = "float64"
init = "uniform"
[data]
dir = "/data"
validation_size = 5000
train_limit = 1000
[algorithm]
name = "dtp"
target_step = 27.9
noise_std = 0.5
noise_decay_epochs = 50
)");
    // Every key above is set to a value other than its default (name has none), so each check
    // fails if its key is ignored.
    REQUIRE(e.epochs == 2);
    REQUIRE(e.batch_size == 50);
    REQUIRE(e.threads == 2);
    REQUIRE(!e.shuffle);
    REQUIRE(e.angle_every == 5);
    REQUIRE(e.sizes == std::vector<int>{784, 500, 500, 10});
    REQUIRE(e.sign_layers == std::vector<int>{1});
    REQUIRE(e.dtype == "float64");
    REQUIRE(e.init == "uniform");
    REQUIRE(e.data.dir == "/data");
    REQUIRE(e.data.validation_size == 5000);
    REQUIRE(e.data.train_limit == 1000);
    REQUIRE(e.algorithm == "dtp");
    REQUIRE(e.target_step == 27.9);
    REQUIRE(e.noise_std == 0.5);
    REQUIRE(e.noise_decay_epochs == 50);
}

TEST_CASE("mlp config: bad values name the key", "[config]") {
    REQUIRE_THROWS_WITH(parse("[algorithm]\nname = \"bp\"\n"), Contains("epochs") && Contains("missing"));
    REQUIRE_THROWS_WITH(parse("epochs = 1\n[train]\nepochs = 2\n[algorithm]\nname = \"bp\"\n"),
                        Contains("train.epochs") && Contains("both"));
    REQUIRE_THROWS_WITH(parse("epochs = 0\n[algorithm]\nname = \"bp\"\n"), Contains("epochs") && Contains(">= 1"));
    REQUIRE_THROWS_WITH(parse("epochs = 1\n[algorithm]\nname = \"dttp\"\n"),
                        Contains("algorithm.name") && Contains("did you mean 'dtp'"));
    REQUIRE_THROWS_WITH(parse("epochs = 1\n[algorithm]\nname = \"bp\"\ntarget_step = 0.3\n"),
                        Contains("algorithm.target_step") && Contains("only to algorithm tp or dtp"));
    REQUIRE_THROWS_WITH(parse("epochs = 1\n[algorithm]\nname = \"dtp\"\nlearning_rate = -1\n"),
                        Contains("algorithm.learning_rate") && Contains("> 0"));
    REQUIRE_THROWS_WITH(parse("epochs = 1\n[network]\nlayers = [784, 10]\nsign_layers = [1]\n[algorithm]\nname = \"bp\"\n"),
                        Contains("network.sign_layers"));
    REQUIRE_THROWS_WITH(parse("epochs = 1\n[network]\ndtype = \"float16\"\n[algorithm]\nname = \"bp\"\n"),
                        Contains("network.dtype"));
    REQUIRE_THROWS_WITH(parse("epochs = 1\n[train]\nbatchsize = 10\n[algorithm]\nname = \"bp\"\n"),
                        Contains("train.batchsize") && Contains("batch_size"));
    REQUIRE_THROWS_AS(parse("epochs = 1\n"), settle::ConfigError);
}
