#pragma once
// Helpers shared by the circuit tests: config from TOML text, uniform matrices, short runs.
#include <catch2/catch.hpp>

#include <sstream>
#include <string>

#include <Eigen/Core>

#include "networks/circuit/circuit_config.hpp"
#include "networks/circuit/circuit_run.hpp"
#include "sim/random.hpp"
#include "sim/results.hpp"

namespace settle::circuit::testing {

inline CircuitConfig parse(const std::string& text) {
    std::istringstream in(text);
    toml::value root = toml::parse(in, "test.toml");
    ConfigTable t(root, "");
    CircuitConfig c = parse_circuit_config(t);
    t.finish();
    return c;
}

inline Eigen::MatrixXd uniform(CounterRng& rng, int rows, int cols) {
    Eigen::MatrixXd m(rows, cols);
    for (int j = 0; j < cols; ++j)
        for (int i = 0; i < rows; ++i) m(i, j) = rng.uniform();
    return m;
}

// A 4-6-5-3 circuit with 3 streams.
inline CircuitConfig tiny(Feedback fb) {
    CircuitConfig c;
    c.task.n_in = 4;
    c.task.n_out = 3;
    c.hidden = {6, 5};
    c.feedback = fb;
    c.streams = 3;
    return c;
}

struct Run {
    InMemoryResults r;
    double operator()(const std::string& k) const { return r.scalars.at(k); }
};

inline Run short_run(CircuitConfig c, std::int64_t presentations) {
    c.presentations = presentations;
    c.checkpoints = 2;
    Run run;
    REQUIRE(run_circuit_experiment(c, 1, run.r, [](const CircuitProgress&) {}, [] { return false; }));
    return run;
}

}  // namespace settle::circuit::testing
