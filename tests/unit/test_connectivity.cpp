// Connection rules, initialisers and the CSR layout.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <catch2/catch.hpp>

#include "sim/connectivity.hpp"
#include "sim/random.hpp"

using namespace settle;

TEST_CASE("one_to_one and all_to_all", "[connectivity]") {
    ConnectionRule r;
    r.kind = ConnectionRule::Kind::one_to_one;
    auto p = make_pairs(r, 5, 5, false, 1, 7);
    REQUIRE(p.size() == 5);
    for (node_index i = 0; i < 5; ++i) CHECK(p[i] == std::pair<node_index, node_index>{i, i});
    CHECK_THROWS(make_pairs(r, 5, 4, false, 1, 7));
    r.kind = ConnectionRule::Kind::all_to_all;
    CHECK(make_pairs(r, 6, 4, false, 1, 7).size() == 24);
    r.allow_autapses = false;
    CHECK(make_pairs(r, 6, 6, true, 1, 7).size() == 30);
}

TEST_CASE("fixed_probability draws each pair with probability p", "[connectivity]") {
    ConnectionRule r;
    r.kind = ConnectionRule::Kind::fixed_probability;
    r.probability = 0.2;
    const auto p = make_pairs(r, 400, 500, false, 3, stable_key("proj"));
    const double n = 400.0 * 500.0, expected = 0.2 * n, sd = std::sqrt(n * 0.2 * 0.8);
    CHECK(std::abs(static_cast<double>(p.size()) - expected) < 5 * sd);
    CHECK(make_pairs(r, 400, 500, false, 3, stable_key("proj")) == p);
}

TEST_CASE("fixed_indegree gives each target exactly k distinct sources", "[connectivity]") {
    ConnectionRule r;
    r.kind = ConnectionRule::Kind::fixed_indegree;
    r.indegree = 30;
    const auto p = make_pairs(r, 50, 20, true, 3, 9);
    r.allow_autapses = false;
    const auto q = make_pairs(r, 50, 20, true, 3, 9);
    std::map<node_index, std::set<node_index>> in;
    for (auto [s, t] : q) {
        CHECK(s != t);
        in[t].insert(s);
    }
    REQUIRE(in.size() == 20);
    for (const auto& [t, sources] : in) CHECK(sources.size() == 30);
    CHECK(p.size() == 600);
    r.indegree = 50;
    CHECK_THROWS(make_pairs(r, 50, 20, true, 3, 9));  // only 49 sources without autapses
}

TEST_CASE("explicit lists are checked", "[connectivity]") {
    ConnectionRule r;
    r.kind = ConnectionRule::Kind::explicit_list;
    r.sources = {0, 1, 2};
    r.targets = {1, 1, 0};
    CHECK(make_pairs(r, 3, 2, false, 1, 1).size() == 3);
    r.targets = {1, 1, 2};
    CHECK_THROWS(make_pairs(r, 3, 2, false, 1, 1));
}

TEST_CASE("value initialisers", "[connectivity]") {
    std::vector<std::pair<node_index, node_index>> pairs;
    for (node_index t = 0; t < 100; ++t)
        for (node_index s = 0; s < 100; ++s) pairs.emplace_back(s, t);
    ValueInit u;
    u.kind = ValueInit::Kind::uniform;
    u.low = 2.0;
    u.high = 3.0;
    const auto v = make_values(u, pairs, 1, 5, false);
    double mean = 0.0;
    for (double x : v) {
        CHECK(x >= 2.0);
        CHECK(x <= 3.0);
        mean += x / static_cast<double>(v.size());
    }
    CHECK(std::abs(mean - 2.5) < 5 * std::sqrt(1.0 / 12.0 / 10000.0));
    // Normal draws: the requested mean and standard deviation within 5 standard errors of the
    // 10,000 draws (sigma / sqrt(N) for the mean, sigma / sqrt(2 N) for the standard deviation),
    // for weights and delays (separate streams).
    for (const bool for_delays : {false, true}) {
        INFO((for_delays ? "delays" : "weights"));
        ValueInit n;
        n.kind = ValueInit::Kind::normal;
        n.mean = 1.0;
        n.std = 0.5;
        const auto free = make_values(n, pairs, 1, 5, for_delays);
        REQUIRE(free.size() == 10000);
        const double N = static_cast<double>(free.size());
        double m = 0.0, ss = 0.0;
        for (double x : free) m += x / N;
        for (double x : free) ss += (x - m) * (x - m);
        const double sd = std::sqrt(ss / (N - 1.0));
        INFO("mean " << m << ", standard deviation " << sd);
        CHECK(std::abs(m - 1.0) < 5 * 0.5 / std::sqrt(N));
        CHECK(std::abs(sd - 0.5) < 5 * 0.5 / std::sqrt(2 * N));
        // Bounds clip (not redraw): the same draws, clamped, with the tails piled at the bounds:
        // P(x < 0) = Phi(-2) = 0.02275, P(x > 1.8) = 1 - Phi(1.6) = 0.05480, each within 5
        // binomial standard errors.
        n.min = 0.0;
        n.max = 1.8;
        const auto clipped = make_values(n, pairs, 1, 5, for_delays);
        REQUIRE(clipped.size() == free.size());
        std::size_t differ = 0, at_min = 0, at_max = 0;
        for (std::size_t i = 0; i < free.size(); ++i) {
            differ += clipped[i] != std::clamp(free[i], 0.0, 1.8);
            at_min += clipped[i] == 0.0;
            at_max += clipped[i] == 1.8;
        }
        CHECK(differ == 0);
        for (const auto& [count, p] : {std::pair{at_min, 0.02275}, std::pair{at_max, 0.05480}}) {
            INFO(count << " of " << N << " at a bound, expected fraction " << p);
            CHECK(std::abs(static_cast<double>(count) / N - p) < 5 * std::sqrt(p * (1 - p) / N));
        }
    }
    ValueInit e;
    e.kind = ValueInit::Kind::explicit_values;
    e.values = {1.0};
    CHECK_THROWS(make_values(e, pairs, 1, 5, false));
}

TEST_CASE("CSR groups connections by source and delay", "[connectivity][projection]") {
    std::vector<Connection> cons = {{1, 0, 1.0, 2.0}, {0, 1, 2.0, 1.0}, {1, 2, 3.0, 0.0}, {1, 1, 4.0, 2.0}, {0, 0, 5.0, 1.0}};
    Projection proj("p", 0, 1, 0, cons, 3);
    CHECK(proj.groups_end(0) - proj.groups_begin(0) == 1);
    CHECK(proj.groups_end(1) - proj.groups_begin(1) == 2);
    CHECK(proj.groups_end(2) == proj.groups_begin(2));
    const auto g = proj.groups_begin(1);
    CHECK(proj.group_delay(g) == 0.0);
    CHECK(proj.group_delay(g + 1) == 2.0);
    CHECK(proj.group_last(g + 1) - proj.group_first(g + 1) == 2);
    CHECK_THROWS(Projection("bad", 0, 1, 0, {{0, 0, 1.0, -1.0}}, 1));
}
