// Determinism of the learning circuit on the kernel (tiny_dense_circuit.hpp): the same seed gives
// byte-identical spikes and weights; recording, probing, splitting a run, the loop's order over
// replicas and an unrelated population change nothing; without a teacher the two channels are
// bitwise identical and no weight changes.
#include <algorithm>
#include <tuple>
#include <vector>

#include <catch2/catch.hpp>

#include "tiny_dense_circuit.hpp"

using namespace settle;
using settle::testing::TinyDenseCircuit;

namespace {

struct Spike {
    std::size_t population;
    node_index node;
    time_ms t;
    bool operator==(const Spike&) const = default;
};

struct Recorder final : RunObserver {
    std::vector<Spike> spikes;
    std::size_t samples = 0;
    void on_spike(std::size_t p, node_index n, time_ms t) override { spikes.push_back({p, n, t}); }
    void on_sample(std::size_t, std::uint64_t, time_ms, const std::vector<double>&) override { ++samples; }
};

struct Options {
    std::uint64_t seed = 3;
    bool teacher = true;
    bool record = true;
    bool probes = false;
    bool replica_mode = true;
    bool unrelated_population = false;
    std::vector<time_ms> extra_splits;  // advance() stops where the driver does nothing
};

struct Outcome {
    std::vector<Spike> spikes;
    std::vector<double> W1, W2, b1, b2;
    std::vector<std::uint64_t> spike_counts;
    std::uint64_t updates = 0;
};

const std::vector<std::vector<double>> rates = {{0.7, 0.3, 0.5}, {0.4, 0.6, 0.9}, {0.2, 0.8, 0.1}};

Outcome run(const Options& o) {
    constexpr std::uint32_t R = 3;
    TinyDenseCircuit c(R, rates);
    if (o.unrelated_population) {
        auto other = std::make_unique<PooledPoissonSource>("unrelated", 5, R, 2000.0);
        for (std::uint32_t r = 0; r < R; ++r) other->set_rates(r, 0.0, {0.5, 0.5, 0.5, 0.5, 0.5});
        c.net.add_population(std::move(other));
    }
    Simulator sim(c.net, o.seed);
    sim.set_sync_interval(0.5);
    sim.allow_replica_mode(o.replica_mode);
    if (o.record)
        for (std::size_t p = 0; p < 3; ++p) sim.record_spikes(p);
    if (o.probes) {
        StateProbe probe;
        probe.population = 1;
        for (node_index n = 0; n < c.hidden->size(); ++n) probe.nodes.push_back(n);
        probe.element_ids = {TwoChannelUnitPopulation::element_U, TwoChannelUnitPopulation::element_Vstar};
        probe.dt = 0.1;
        sim.add_probe(probe);
    }
    Recorder rec;
    // Driver actions at fixed times: (time, action); 0 teacher on, 1 input change, 2 teacher off, 3 rebase.
    std::vector<std::pair<time_ms, int>> actions = {{30.0, 0}, {40.0, 3}, {60.0, 1}, {90.0, 3}, {100.0, 2}, {120.0, 3}};
    for (time_ms t : o.extra_splits) actions.push_back({t, -1});
    std::sort(actions.begin(), actions.end());
    sim.start(0.0);
    for (const auto& [t, what] : actions) {
        sim.advance(t, rec);
        for (std::uint32_t r = 0; r < R; ++r) {
            if (what == 0 && o.teacher) c.output->set_teacher(r, t, 1.5, {1.0, -1.0 + 0.5 * r});
            if (what == 2 && o.teacher) c.output->set_teacher(r, t, 0.0, {0.0, 0.0});
            if (what == 1) {
                c.input->set_rates(r, t, rates[(r + 1) % rates.size()]);
                sim.reschedule(0, r);
            }
            if (what == 3) sim.rebase(r);
        }
    }
    sim.advance(150.0, rec);
    sim.finish();
    Outcome out;
    out.spikes = rec.spikes;
    out.W1 = c.M1->w;
    out.W2 = c.M2->w;
    out.b1 = c.hidden->bias();
    out.b2 = c.output->bias();
    out.spike_counts = sim.stats().spikes;
    out.spike_counts.resize(3);
    for (std::size_t d = 0; d < 2; ++d)
        out.updates += dynamic_cast<LagCompensatedRule&>(*c.net.dense_projection(d).rule()).updates();
    return out;
}

void require_same(const Outcome& a, const Outcome& b, bool compare_spikes = true) {
    if (compare_spikes) {
        REQUIRE(a.spikes.size() == b.spikes.size());
        CHECK(a.spikes == b.spikes);
    }
    CHECK(a.spike_counts == b.spike_counts);
    CHECK(a.W1 == b.W1);  // bitwise
    CHECK(a.W2 == b.W2);
    CHECK(a.b1 == b.b1);
    CHECK(a.b2 == b.b2);
}

}  // namespace

TEST_CASE("dense circuit: same seed gives identical spikes and weights, another seed others",
          "[plasticity][circuit][determinism]") {
    const Outcome a = run({}), b = run({});
    REQUIRE(a.spikes.size() > 1000);
    REQUIRE(a.updates > 20);  // the teacher makes the channels disagree: weights learn
    require_same(a, b);
    Options other;
    other.seed = 4;
    const Outcome c = run(other);
    CHECK(c.spikes != a.spikes);
    CHECK(c.W2 != a.W2);
}

TEST_CASE("dense circuit: recording, probing, split runs, loop order and an unrelated population change nothing",
          "[plasticity][circuit][determinism]") {
    const Outcome reference = run({});
    Options quiet;
    quiet.record = false;
    const Outcome unrecorded = run(quiet);
    CHECK(unrecorded.spikes.empty());
    require_same(reference, unrecorded, false);

    Options probed;
    probed.probes = true;
    require_same(reference, run(probed));

    Options split;  // run(a) then run(b) equals run(a + b)
    split.extra_splits = {12.25, 75.0, 75.0, 133.3};
    require_same(reference, run(split));

    Options interleaved;
    interleaved.replica_mode = false;
    require_same(reference, run(interleaved));

    Options unrelated;
    unrelated.unrelated_population = true;
    require_same(reference, run(unrelated));
}

TEST_CASE("dense circuit: without a teacher the channels are bitwise identical and no weight changes",
          "[plasticity][circuit][determinism]") {
    Options o;
    o.teacher = false;
    const Outcome out = run(o);
    TinyDenseCircuit initial(3, rates);
    CHECK(out.updates == 0);
    CHECK(out.W1 == initial.W1);
    CHECK(out.W2 == initial.W2);
    CHECK(out.b1 == initial.b1);
    CHECK(out.b2 == initial.b2);
    // Every somatic spike of a layer has its prediction spike at the same instant, and vice versa.
    std::size_t layer_spikes = 0;
    for (std::size_t p = 1; p <= 2; ++p) {
        const std::size_t n = p == 1 ? TinyDenseCircuit::n1 : TinyDenseCircuit::n2;
        std::vector<std::tuple<time_ms, std::size_t, std::size_t>> somatic, prediction;
        for (const Spike& s : out.spikes) {
            if (s.population != p) continue;
            const std::size_t unit = s.node % n, rc = s.node / n;
            (rc % 2 == 0 ? somatic : prediction).emplace_back(s.t, rc / 2, unit);
        }
        layer_spikes += somatic.size();
        CHECK(somatic == prediction);
    }
    CHECK(layer_spikes > 500);
}
