// Config reading: every kind of bad input is an error naming the key and the value.
#include <sstream>

#include <catch2/catch.hpp>

#include "networks/config_reader.hpp"
#include "networks/network_builder.hpp"

using namespace settle;

namespace {

toml_value parse(const std::string& text) {
    std::istringstream in(text);
    return toml::parse(in, "test.toml");
}

const char* base = R"(
[simulation]
duration_ms = 100.0
[[population]]
name = "inputs"
model = "poisson_source"
size = 10
rate_hz = 5.0
[[population]]
name = "neuron"
model = "urbanczik_senn"
size = 2
[[projection]]
source = "inputs"
target = "neuron"
weight = 10.0
delay_ms = 1.0
)";

std::string build_error(const std::string& text) {
    auto doc = parse(text);
    ConfigTable root(doc, "");
    try {
        build_network(root, 1);
        root.finish();
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("a valid config builds", "[config]") {
    auto doc = parse(base);
    ConfigTable root(doc, "");
    const auto built = build_network(root, 1);
    root.finish();
    CHECK(built.network->population_count() == 2);
    CHECK(built.network->projection(0).size() == 20);
}

TEST_CASE("misspelled keys get a suggestion", "[config]") {
    const auto msg = build_error(std::string(base) + "[record]\nspikez = \"all\"\n");
    CHECK_THAT(msg, Catch::Contains("record.spikez") && Catch::Contains("did you mean 'spikes'"));
    const auto msg2 = build_error(std::string(base) + "[[population]]\nname = \"x\"\nmodel = \"urbanczik_sen\"\nsize = 1\n");
    CHECK_THAT(msg2, Catch::Contains("population.x.model") && Catch::Contains("did you mean 'urbanczik_senn'"));
    auto doc = parse("seeed = 3\n" + std::string(base));
    ConfigTable root(doc, "");
    root.get_int("seed", 1);
    build_network(root, 1);
    CHECK_THROWS_WITH(root.finish(), Catch::Contains("seeed") && Catch::Contains("did you mean 'seed'"));
}

TEST_CASE("wrong types and out-of-range values are named", "[config]") {
    std::string t = base;
    CHECK_THAT(build_error(t.replace(t.find("size = 10"), 9, "size = \"ten\"")), Catch::Contains("population.inputs.size") && Catch::Contains("\"ten\""));
    t = base;
    CHECK_THAT(build_error(t.replace(t.find("delay_ms = 1.0"), 14, "delay_ms = -1.0")), Catch::Contains("delay_ms") && Catch::Contains("-1"));
    t = base;
    CHECK_THAT(build_error(t.replace(t.find("duration_ms = 100.0"), 19, "duration_ms = -5")), Catch::Contains("simulation.duration_ms"));
    t = base;
    CHECK_THAT(build_error(t + "connect = { rule = \"fixed_probability\", p = 1.5 }\n"), Catch::Contains("connect.p") && Catch::Contains("[0, 1]"));
    t = base;
    CHECK_THAT(build_error(t.replace(t.find("target = \"neuron\""), 17, "target = \"neuorn\"")), Catch::Contains("did you mean 'neuron'"));
    t = base;
    CHECK_THAT(build_error(t + "[[population]]\nname = \"n2\"\nmodel = \"urbanczik_senn\"\nsize = 1\nparams = { t_ref = -1.0 }\n"), Catch::Contains("t_ref"));
    t = base;
    CHECK_THAT(build_error(t + "[[population]]\nname = \"n2\"\nmodel = \"urbanczik_senn\"\nsize = 1\nparams = { tau_l = 1.0 }\n"), Catch::Contains("params.tau_l"));
}

TEST_CASE("command-line overrides address tables and named array elements", "[config]") {
    auto doc = parse(base);
    apply_override(doc, "simulation.duration_ms=250");
    apply_override(doc, "population.inputs.rate_hz=7.5");
    apply_override(doc, "population.1.size=3");
    CHECK(doc.at("simulation").at("duration_ms").as_integer() == 250);
    CHECK(doc.at("population").as_array()[0].at("rate_hz").as_floating() == 7.5);
    CHECK(doc.at("population").as_array()[1].at("size").as_integer() == 3);
    CHECK_THROWS_WITH(apply_override(doc, "population.inputz.size=3"), Catch::Contains("did you mean 'inputs'"));
    CHECK_THROWS_AS(apply_override(doc, "novalue"), ConfigError);
}
