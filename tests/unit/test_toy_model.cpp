// A toy neuron model added by following docs/architecture.md, "Adding a neuron model": it is
// registered at test time, built from TOML through build_network and run by the Simulator.
// Checks: the membrane against its closed form (superposed exponentials of the known inputs),
// a bad parameter is a ConfigError naming its key, the emission rate at constant V within
// 5 standard errors (counts are Poisson: sigma = sqrt(expected)), and probing changes nothing.
#include <algorithm>
#include <cmath>
#include <sstream>

#include <catch2/catch.hpp>

#include "networks/config_reader.hpp"
#include "networks/network_builder.hpp"
#include "recording_observer.hpp"
#include "toy_leaky_neuron.hpp"

using namespace settle;
using settle::testing::ToyLeakyParameters;
using settle::testing::ToyLeakyPopulation;

namespace {

const std::string toy_model = "toy_leaky";

// Reads the toy's keys from its [[population]] table (defaults: the parameter struct; units and
// meanings from its parameter table, for `settle keys`).
std::unique_ptr<Population> build_toy(ConfigTable& t, const std::string& name, std::int64_t size) {
    if (size <= 0) t.fail("size", "required, must be >= 1");
    ToyLeakyParameters p;
    for (const auto& info : ToyLeakyParameters::table()) {
        p.*(info.field) = t.get_double(info.name, p.*(info.field));
        t.describe(info.name, info.unit, info.meaning);
    }
    if (auto bad = p.problem()) t.fail(bad->parameter, bad->reason);
    return std::make_unique<ToyLeakyPopulation>(name, static_cast<std::size_t>(size), p);
}

// Registers the toy model for the lifetime of the guard (the registry is process-wide).
struct ToyRegistration {
    ToyRegistration() {
        REQUIRE(model_registry().count(toy_model) == 0);
        model_registry()[toy_model] = {"toy leaky integrator with linear Poisson emission (test fixture)", build_toy};
    }
    ~ToyRegistration() { model_registry().erase(toy_model); }
    ToyRegistration(const ToyRegistration&) = delete;
    ToyRegistration& operator=(const ToyRegistration&) = delete;
};

toml_value parse(const std::string& text) {
    std::istringstream in(text);
    return toml::parse(in, "toy.toml");
}

BuiltNetwork build(const std::string& text, std::uint64_t seed = 1) {
    auto doc = parse(text);
    ConfigTable root(doc, "");
    auto built = build_network(root, seed);
    root.finish();
    return built;
}

// Runs a built network as the `network` experiment does: its recorded spikes and probes.
testing::RecordingObserver run(BuiltNetwork& built, std::uint64_t seed) {
    Simulator sim(*built.network, seed);
    for (std::size_t p = 0; p < built.network->population_count(); ++p)
        if (!built.recording.spike_populations[p].empty()) sim.record_spikes(p);
    for (const auto& probe : built.recording.probes) sim.add_probe(probe);
    testing::RecordingObserver obs;
    sim.run(0.0, built.duration_ms, obs);
    return obs;
}

std::string config_error_key(const std::string& text) {
    try {
        build(text);
    } catch (const ConfigError& e) {
        return e.key();
    }
    return "";
}

}  // namespace

TEST_CASE("toy model: registered at test time, built from TOML, follows its closed form", "[toy]") {
    ToyRegistration reg;
    // Two sources: a at 1, 30.5, 30.5 (two inputs at once) and 80.25 ms, delay 0.5 ms, weight 40;
    // b at 12 and 55 ms, no delay, weight -25 (mV ms). Arrivals are multiples of the 0.25 ms
    // sampling step, and deliveries come before samples at equal times, so the samples at the
    // arrivals already see the jumps. The toy emits (r_max_hz = 100) but spikes do not reset V.
    const std::string text = R"(
[simulation]
duration_ms = 200.0
[[population]]
name = "a"
model = "spike_train_source"
times_ms = [[1.0, 30.5, 30.5, 80.25]]
[[population]]
name = "b"
model = "spike_train_source"
times_ms = [[12.0, 55.0]]
[[population]]
name = "toy"
model = "toy_leaky"
size = 1
tau_ms = 8.0
E_L = -65.0
V_init = -60.0
[[projection]]
source = "a"
target = "toy"
weight = 40.0
delay_ms = 0.5
[[projection]]
source = "b"
target = "toy"
receptor = "soma"
weight = -25.0
[record]
spikes = ["toy"]
[[record.report]]
population = "toy"
variables = ["V"]
dt_ms = 0.25
)";
    auto built = build(text);
    REQUIRE(built.network->population(2).model() == toy_model);
    REQUIRE(built.recording.probes.size() == 1);
    const auto obs = run(built, 3);
    REQUIRE(obs.rows.size() == 801);

    struct Input {
        double t, w;
    };
    const std::vector<Input> inputs = {{1.0 + 0.5, 40.0}, {30.5 + 0.5, 40.0}, {30.5 + 0.5, 40.0}, {80.25 + 0.5, 40.0},
                                       {12.0, -25.0},     {55.0, -25.0}};
    const double tau = 8.0, E_L = -65.0, V0 = -60.0;
    double scale = std::abs(V0 - E_L);  // bound on |V - E_L|
    for (const auto& in : inputs) scale += std::abs(in.w) / tau;
    double worst_rel = 0.0, worst_dev = 0.0;
    for (std::size_t k = 0; k < obs.rows.size(); ++k) {
        const double t = obs.sample_times[k];
        double expected = E_L + (V0 - E_L) * std::exp(-t / tau);
        for (const auto& in : inputs)
            if (in.t <= t) expected += in.w / tau * std::exp(-(t - in.t) / tau);
        const double v = obs.rows[k][0];
        worst_rel = std::max(worst_rel, std::abs(v - expected) / std::abs(expected));
        worst_dev = std::max(worst_dev, std::abs((v - E_L) - (expected - E_L)) / scale);
    }
    CHECK(worst_rel < 1e-12);
    CHECK(worst_dev < 1e-12);  // the deviation from rest, relative to its largest possible size
    // The jumps themselves: just after the double input at 31 ms, V rose by 2 * 40 / 8 = 10 mV.
    const std::size_t at31 = 31 * 4;
    REQUIRE(obs.sample_times[at31] == 31.0);
    const double before = E_L + (obs.rows[at31 - 1][0] - E_L) * std::exp(-0.25 / tau);
    CHECK(obs.rows[at31][0] - before == Approx(10.0).epsilon(1e-12));
    CHECK(!obs.of(2).empty());  // it did emit, and that did not disturb V
}

TEST_CASE("toy model: a bad parameter is a ConfigError naming the key", "[toy]") {
    ToyRegistration reg;
    const std::string head = "[simulation]\nduration_ms = 10.0\n[[population]]\nname = \"toy\"\nmodel = \"toy_leaky\"\n";
    CHECK(config_error_key(head + "size = 1\ntau_ms = -1\n") == "population.toy.tau_ms");
    CHECK_THROWS_WITH(build(head + "size = 1\ntau_ms = -1\n"), Catch::Contains("tau_ms") && Catch::Contains("-1"));
    CHECK(config_error_key(head + "size = 1\nV_lo = -40.0\nV_hi = -50.0\n") == "population.toy.V_hi");
    CHECK(config_error_key(head + "size = 1\nr_max_hz = -5.0\n") == "population.toy.r_max_hz");
    CHECK(config_error_key(head + "size = 1\ntau_ms = \"ten\"\n") == "population.toy.tau_ms");
    CHECK(config_error_key(head + "tau_ms = 5.0\n") == "population.toy.size");
    // An unknown key is rejected (with a suggestion), like every model's.
    CHECK_THROWS_WITH(build(head + "size = 1\ntau_m = 5.0\n"), Catch::Contains("population.toy.tau_m") &&
                                                                 Catch::Contains("did you mean 'tau_ms'"));
    // Every key is read, present or not, with its default, unit and meaning (what `settle keys` lists).
    {
        ScopedKeyLog log;
        build(head + "size = 1\ntau_ms = 5.0\n");
        auto find = [&](const std::string& path) {
            auto it = std::find_if(log.records.begin(), log.records.end(), [&](const KeyRecord& r) { return r.path == path; });
            REQUIRE(it != log.records.end());
            return *it;
        };
        const auto tau = find("population.toy.tau_ms");
        CHECK((tau.set && tau.value == "5.0" && tau.fallback == "10.0" && tau.unit == "ms"));
        const auto r_max = find("population.toy.r_max_hz");
        CHECK((!r_max.set && r_max.fallback == "100.0" && r_max.unit == "Hz" && !r_max.meaning.empty()));
    }
    // The parameter struct itself names the bad parameter too.
    ToyLeakyParameters p;
    p.tau_ms = -1.0;
    CHECK_THROWS_WITH(p.validate(), Catch::StartsWith("tau_ms"));
    CHECK_THROWS_AS(ToyLeakyPopulation("x", 1, p), std::invalid_argument);
}

TEST_CASE("toy model: emission at constant V is Poisson at r(V)", "[toy][statistics]") {
    ToyRegistration reg;
    // No input and V = E_L = -65 mV, a quarter of the way from V_lo = -70 to V_hi = -50 mV:
    // r = 0.25 * 80 Hz = 20 Hz. 4 nodes x 250 s: 20,000 expected spikes.
    const std::string text = R"(
[simulation]
duration_ms = 250000.0
[[population]]
name = "toy"
model = "toy_leaky"
size = 4
E_L = -65.0
V_init = -65.0
V_lo = -70.0
V_hi = -50.0
r_max_hz = 80.0
[record]
spikes = "all"
)";
    auto built = build(text);
    const auto obs = run(built, 17);
    const double rate_per_ms = 0.25 * 80.0 * 1e-3;
    const double expected = 4 * rate_per_ms * built.duration_ms;
    const double count = static_cast<double>(obs.spikes.size());
    INFO("spikes " << count << ", expected " << expected);
    CHECK(std::abs(count - expected) < 5.0 * std::sqrt(expected));
    for (node_index n = 0; n < 4; ++n) {
        double c = 0.0;
        for (const auto& s : obs.spikes) c += s.node == n ? 1.0 : 0.0;
        CHECK(std::abs(c - expected / 4) < 5.0 * std::sqrt(expected / 4));
    }
    // The model's own r(V) says the same.
    auto& toy = dynamic_cast<ToyLeakyPopulation&>(built.network->population(0));
    CHECK(toy.rate(-65.0) == Approx(rate_per_ms).epsilon(1e-15));
    CHECK(toy.rate(-80.0) == 0.0);
    CHECK(toy.rate(-40.0) == Approx(80.0e-3).epsilon(1e-15));
}

TEST_CASE("toy model: probing at many times changes no spike and no state", "[toy][determinism]") {
    ToyRegistration reg;
    // Poisson input drives V through the whole linear range, so every acceptance depends on V.
    const std::string net = R"(
[simulation]
duration_ms = 5000.0
[[population]]
name = "in"
model = "poisson_source"
size = 10
rate_hz = 50.0
[[population]]
name = "toy"
model = "toy_leaky"
size = 3
tau_ms = 10.0
E_L = -65.0
V_lo = -62.0
V_hi = -48.0
r_max_hz = 150.0
[[projection]]
source = "in"
target = "toy"
weight = { dist = "uniform", low = 10.0, high = 30.0 }
delay_ms = 1.0
[record]
spikes = ["toy"]
)";
    const std::string probed = net + "[[record.report]]\npopulation = \"toy\"\ndt_ms = 0.05\n";
    auto plain_net = build(net, 5);
    auto probed_net = build(probed, 5);
    const auto plain = run(plain_net, 5);
    const auto with_reads = run(probed_net, 5);
    REQUIRE(plain.rows.empty());
    REQUIRE(with_reads.rows.size() >= 100000);
    const auto spikes = plain.of(1);
    REQUIRE(spikes.size() > 1000);
    CHECK(with_reads.of(1) == spikes);
    // Not even rounding differs: the end states are bitwise equal.
    for (node_index n = 0; n < 3; ++n)
        CHECK(plain_net.network->population(1).read(n, ToyLeakyPopulation::V, 5000.0) ==
              probed_net.network->population(1).read(n, ToyLeakyPopulation::V, 5000.0));

    // Direct reads between split advances (and repeated reads at one time) change nothing either.
    auto split_net = build(net, 5);
    Simulator sim(*split_net.network, 5);
    sim.record_spikes(1);
    testing::RecordingObserver split;
    Population& toy = split_net.network->population(1);
    sim.start(0.0);
    double sum = 0.0;
    for (int k = 1; k <= 500; ++k) {
        const time_ms t = 10.0 * k;
        sim.advance(t - 3.7, split);
        for (node_index n = 0; n < 3; ++n) sum += toy.read(n, ToyLeakyPopulation::V, t - 3.7) + toy.read(n, ToyLeakyPopulation::V, t - 3.7);
        sim.advance(t, split);
    }
    sim.finish();
    CHECK(std::isfinite(sum));
    CHECK(split.of(1) == spikes);
    for (node_index n = 0; n < 3; ++n)
        CHECK(toy.read(n, ToyLeakyPopulation::V, 5000.0) == plain_net.network->population(1).read(n, ToyLeakyPopulation::V, 5000.0));
}
