// The circuit on the event-driven kernel (engine = "event", event_circuit.hpp): its config keys,
// short forms of tasks 1 and 2 against the stepped engine's acceptance in the same test run,
// symmetric feedback staying W^T bitwise while W learns, and learned feedback reconstructing the
// layer below without a teacher.
#include <catch2/catch.hpp>

#include "circuit_test_support.hpp"
#include "networks/circuit/event_circuit.hpp"
#include "networks/circuit/tasks.hpp"

using namespace settle;
using namespace settle::circuit;
using namespace settle::circuit::testing;

TEST_CASE("event engine config: its keys, every nudge and feedback kind, and bad values named", "[circuit][event]") {
    const CircuitConfig c = parse("[circuit]\nmode = 'spiking'\nengine = 'event'\n");
    CHECK(c.engine == Engine::event);
    CHECK(c.sync_interval_ms == 0.5);
    CHECK(parse("[circuit]\nmode = 'spiking'\n").engine == Engine::stepped);
    CHECK_THROWS_WITH(parse("[circuit]\nengine = 'event'\n"), Catch::Contains("engine") && Catch::Contains("spiking"));
    CHECK(parse("[circuit]\nmode = 'spiking'\nengine = 'event'\nnudge = 'lateral'\n[record]\nspikes = 'all'\n")
              .record.spikes == std::vector<std::string>{"input", "layer1", "layer2", "interneuron1"});
    CHECK(parse("[circuit]\nmode = 'spiking'\nengine = 'event'\nfeedback = 'learned'\n[record]\nspikes = 'all'\n")
              .record.spikes == std::vector<std::string>{"input", "layer1", "layer2", "feedback1"});
    // tau_s = tau runs (the unit's closed form has its own shape then), except with learned
    // feedback, whose soma coupling needs them to differ.
    CHECK(parse("[circuit]\nmode = 'spiking'\nengine = 'event'\nsynapse_tau_ms = 5.0\n").synapse_tau_ms == 5.0);
    CHECK_THROWS_WITH(parse("[circuit]\nmode = 'spiking'\nengine = 'event'\nfeedback = 'learned'\nsynapse_tau_ms = 5.0\n"),
                      Catch::Contains("synapse_tau_ms") && Catch::Contains("learned"));
    CHECK_THROWS_WITH(parse("[circuit]\nmode = 'spiking'\nengine = 'evnt'\n"), Catch::Contains("engine"));
    CHECK_THROWS_WITH(parse("[circuit]\nmode = 'spiking'\nengine = 'event'\nsync_interval_ms = 0.0\n"),
                      Catch::Contains("sync_interval_ms"));
    // [record]
    const CircuitConfig r = parse("[circuit]\nmode = 'spiking'\nengine = 'event'\n[record]\nspikes = 'all'\n"
                                  "[[record.report]]\npopulation = 'layer2'\n");
    CHECK(r.record.spikes == std::vector<std::string>{"input", "layer1", "layer2"});
    REQUIRE(r.record.reports.size() == 1);
    CHECK(r.record.reports[0].variables == std::vector<std::string>{"U", "Vbar", "Vstar"});
    CHECK_THROWS_WITH(parse("[circuit]\nmode = 'spiking'\nengine = 'event'\n[record]\nspikes = ['layer9']\n"),
                      Catch::Contains("layer9"));
    CHECK_THROWS_WITH(parse("[circuit]\nmode = 'spiking'\nengine = 'event'\n[record]\nwindow_presentations = 0\n"),
                      Catch::Contains("window_presentations"));
    CHECK_THROWS_WITH(parse("[circuit]\nmode = 'spiking'\nengine = 'event'\n[[record.report]]\npopulation = 'layer1'\n"
                            "variables = ['V']\n"),
                      Catch::Contains("variables") && Catch::Contains("Vbar"));
    CHECK_THROWS_WITH(parse("[circuit]\nmode = 'spiking'\n[record]\nspikes = 'all'\n"), Catch::Contains("engine"));
}

TEST_CASE("event engine, task 2 short: the moons are learned as well as by the stepped loop",
          "[circuit][event][spiking]") {
    // 2,000 presentations (seed 1): measured 91.5 % (event) and 90.5 % (stepped) on 200 test
    // points, from 17 % / 16 % initially. Both engines run here; the event engine must learn (>= 85 %)
    // and come within 4 points of the stepped loop (the sd of either over seeds is about 2 points
    // at this length).
    auto moons = [](Engine e) {
        CircuitConfig c = parse("[task]\nkind = 'two_moons'\nn_train = 1000\nn_test = 200\n[circuit]\nmode = 'spiking'\n");
        c.engine = e;
        c.control_output_only = c.control_frozen = false;
        return short_run(c, 2000);
    };
    const Run event = moons(Engine::event), stepped = moons(Engine::stepped);
    CHECK(event("test_accuracy_initial") < 0.6);
    CHECK(event("test_accuracy") >= 0.85);
    CHECK(event("test_accuracy") >= stepped("test_accuracy") - 0.04);
    CHECK(event("train_weight_updates") > 1000.0);
}

TEST_CASE("event engine: symmetric feedback stays W^T bitwise while W learns", "[circuit][event][spiking]") {
    CircuitConfig c = parse("[task]\nkind = 'two_moons'\nn_train = 200\n[circuit]\nmode = 'spiking'\n"
                            "engine = 'event'\nfeedback = 'symmetric'\nhidden = [8, 6]\nstreams = 4\n");
    const Dataset data = make_dataset(c.task, 1);
    EventCircuit circuit(c, 1);
    const Weights before = circuit.weights();
    circuit.train(data, 60, 1, [](std::int64_t) { return true; });
    const Weights after = circuit.weights();
    CHECK((after.W[1] - before.W[1]).cwiseAbs().maxCoeff() > 1e-4);  // W2 learned
    CHECK((after.W[0] - before.W[0]).cwiseAbs().maxCoeff() > 1e-6);  // so did W1, through the nudge
    const Eigen::MatrixXd fb = circuit.feedback_matrix(0);
    const Eigen::MatrixXd wt = after.W[1].transpose();
    CHECK(fb == wt);  // bitwise: the feedback projection holds W2 itself, transposed
}

TEST_CASE("event engine, learned feedback: without teacher Q_l learns to reconstruct U_l and no forward weight "
          "changes",
          "[circuit][event][spiking][learned]") {
    // As the stepped loop's test (test_spiking_circuit.cpp): 4-6-5-3, 3 streams, eta_feedback
    // 0.05, uniform inputs, about 20 s per stream; here through the clock-free schedule with the
    // teacher's conductance 0, so the forward rules never see a disagreement.
    CircuitConfig cfg = tiny(Feedback::learned);
    cfg.mode = Mode::spiking;
    cfg.engine = Engine::event;
    cfg.eta_feedback = 0.05;
    cfg.g_teacher = 0.0;
    EventCircuit c(cfg, 2);
    CounterRng rng(4, 2, 0, StreamKind::data);
    const Eigen::MatrixXd probe = uniform(rng, 4, 200);
    Dataset data;
    data.x_train = uniform(rng, 4, 500);
    data.y_train = Eigen::MatrixXd::Zero(3, 500);
    const std::vector<double> before = c.reconstruction_error(probe);
    REQUIRE(before.size() == 2);
    // The same initial Q_l and c_l = 0 as the rate mode's, before any run.
    CircuitConfig rate_cfg = cfg;
    rate_cfg.mode = Mode::rate;
    rate_cfg.engine = Engine::stepped;
    const std::vector<double> rate_before = RateCircuit(rate_cfg, 2).reconstruction_error(probe);
    for (std::size_t l = 0; l < 2; ++l) CHECK(before[l] == Approx(rate_before[l]).epsilon(1e-12));
    const Weights w0 = c.weights();
    const Eigen::MatrixXd q0 = c.feedback_matrix(0);
    const EventCircuit::State st = c.train(data, 600, 1, [](std::int64_t) { return true; });
    INFO("simulated " << st.t << " ms per stream");
    REQUIRE(st.t > 15000.0);
    const std::vector<double> after = c.reconstruction_error(probe);
    for (std::size_t l = 0; l < 2; ++l) {
        INFO("layer " << l + 1 << ": reconstruction error " << before[l] << " -> " << after[l]);
        CHECK(after[l] < 0.5 * before[l]);
    }
    CHECK((c.feedback_matrix(0) - q0).cwiseAbs().maxCoeff() > 1e-3);  // Q_1 learned
    for (std::size_t l = 0; l < w0.W.size(); ++l) {  // bitwise: no teacher, no forward change
        CHECK(c.weights().W[l] == w0.W[l]);
        CHECK(c.weights().b[l] == w0.b[l]);
    }
}

TEST_CASE("event engine, temporal-derivative test: symmetric feedback moves the last hidden layer along -dLoss/dr, "
          "the shuffled control straddles 0",
          "[circuit][event][spiking]") {
    // The stepped loop's test (test_spiking_circuit.cpp) on the kernel: the same configuration and
    // claims. Measured (seed 1): last hidden layer 0.738 +- 0.034, first 0.091 +- 0.034.
    const CircuitConfig cfg = derivative_test_config("event");
    const Dataset data = make_dataset(cfg.task, 1);
    EventCircuit c(cfg, 1);
    check_derivative_cell(c.temporal_derivative_test(data.x_test, data.y_test, {derivative_test_g},
                                                     {derivative_test_delay_ms}, derivative_test_settle_ms,
                                                     derivative_test_trials, 1));
}

TEST_CASE("event engine, temporal-derivative test with the lateral nudge: a trial's copies share every random number",
          "[circuit][event][spiking]") {
    // With teacher strength 0 the teacher-on copy of a trial must equal its teacher-off copy
    // spike for spike, interneurons included, so every paired difference is exactly 0.
    CircuitConfig cfg = parse("[task]\nkind = 'teacher_student'\nn_test = 6\n[circuit]\nmode = 'spiking'\n"
                              "engine = 'event'\nnudge = 'lateral'\nhidden = [12]\n");
    const Dataset data = make_dataset(cfg.task, 1);
    EventCircuit c(cfg, 1);
    const auto cells = c.temporal_derivative_test(data.x_test, data.y_test, {0.0}, {10.0}, 50.0, 3, 1);
    REQUIRE(cells.size() == 1);
    for (std::size_t l = 0; l < cells[0].cos_mean.size(); ++l) {
        CHECK(cells[0].cos_mean[l] == 0.0);
        CHECK(cells[0].cos_ci95[l] == 0.0);
    }
}
