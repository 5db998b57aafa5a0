// The clock-free settle-and-delta-rule circuit, rate mode (networks/circuit; docs/science.md,
// section 4).
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <sstream>

#include <Eigen/Core>

#include "networks/circuit/circuit_config.hpp"
#include "networks/circuit/circuit_training.hpp"
#include "networks/circuit/circuit_run.hpp"
#include "networks/circuit/presentation_schedule.hpp"
#include "networks/circuit/rate_circuit.hpp"
#include "networks/circuit/tasks.hpp"
#include "sim/error.hpp"
#include "tests/circuit/circuit_test_support.hpp"
#include "sim/random.hpp"

using namespace settle;
using namespace settle::circuit;
using namespace settle::circuit::testing;

namespace {


// Presents random inputs on a clock-free schedule (per column), teacher never on, plasticity on
// with a large eta; checks the hidden nudges after every step. Returns the largest |nudge| seen.
double run_without_teacher(RateCircuit& c, double duration_ms) {
    CounterRng rng(3, 7, 0, StreamKind::data);
    const auto S = static_cast<Eigen::Index>(c.config().streams);
    const int n_in = c.config().task.n_in, n_out = c.config().task.n_out;
    Eigen::MatrixXd x = uniform(rng, n_in, static_cast<int>(S)), y = uniform(rng, n_out, static_cast<int>(S));
    std::vector<PresentationSchedule> sched;
    std::vector<Presentation> cur;
    for (Eigen::Index s = 0; s < S; ++s) {
        sched.emplace_back(c.config().schedule, 1, 5, static_cast<std::uint32_t>(s));
        cur.push_back(sched.back().next());
    }
    const Eigen::RowVectorXd gate = Eigen::RowVectorXd::Zero(S);
    RateCircuit::State st = c.rest(S);
    double worst = 0.0;
    for (long n = 0; n * c.config().dt_ms < duration_ms; ++n) {
        const double t = static_cast<double>(n) * c.config().dt_ms;
        for (Eigen::Index s = 0; s < S; ++s)
            while (t >= cur[static_cast<std::size_t>(s)].end_ms) {
                cur[static_cast<std::size_t>(s)] = sched[static_cast<std::size_t>(s)].next();
                x.col(s) = uniform(rng, n_in, 1);  // inputs switch at random times
            }
        c.step(st, x, y, gate, c.config().dt_ms, true);
        for (const auto& I : c.hidden_nudges(st)) worst = std::max(worst, I.cwiseAbs().maxCoeff());
    }
    return worst;
}

}  // namespace

TEST_CASE("circuit config: defaults per task, strict keys, unimplemented modes rejected", "[circuit]") {
    const CircuitConfig ts = parse("[task]\nkind = 'teacher_student'\n");
    CHECK(ts.sizes() == std::vector<int>{30, 50, 10});
    CHECK(ts.feedback == Feedback::random);
    CHECK(ts.g_teacher == 1.0);
    const CircuitConfig moons = parse("[task]\nkind = 'two_moons'\n[circuit]\nfeedback = 'symmetric'\n");
    CHECK(moons.sizes() == std::vector<int>{10, 30, 2});
    CHECK(moons.g_teacher == 0.2);
    CHECK(moons.eta_hidden == 1e-2);
    CHECK_THROWS_AS(parse("[circuit]\nlamda = 1.0\n"), ConfigError);
    CHECK(parse("[circuit]\nmode = 'spiking'\nnudge = 'lateral'\n").nudge == Nudge::lateral);
    CHECK_THROWS_WITH(parse("[circuit]\ninterneuron_range = [0.5, 0.5]\n"), Catch::Contains("interneuron_range"));
    CHECK_THROWS_WITH(parse("[circuit]\ninterneuron_range = [-1.0]\n"), Catch::Contains("interneuron_range"));
    CHECK(parse("[circuit]\nmode = 'spiking'\nfeedback = 'learned'\n").feedback == Feedback::learned);
    CHECK_THROWS_WITH(parse("[circuit]\nfeedback_range = [2.0, -2.0]\n"), Catch::Contains("feedback_range"));
    CHECK_THROWS_AS(parse("[circuit]\noutput_range = [1.0, 0.0]\n"), ConfigError);
    // Spiking mode: later teacher onsets (4-5 tau_s) and a longer test settling by default; keys
    // still override.
    const CircuitConfig spk = parse("[circuit]\nmode = 'spiking'\nsynapse_tau_ms = 10.0\n");
    CHECK(spk.mode == Mode::spiking);
    CHECK(spk.schedule.onset_min_ms == 40.0);
    CHECK(spk.schedule.onset_max_ms == 50.0);
    CHECK(spk.schedule.duration_min_ms == 100.0);
    CHECK(spk.schedule.duration_max_ms == 200.0);
    CHECK(spk.test_settle_ms == 150.0);
    CHECK(spk.eta_interneuron == 3e-4);  // the interneurons' error is noisy in spiking mode
    CHECK(parse("").eta_interneuron == 1e-2);
    CHECK(parse("[circuit]\nmode = 'spiking'\neta_interneuron = 0.02\n").eta_interneuron == 0.02);
    CHECK(parse("[circuit]\nmode = 'spiking'\n[schedule]\nonset_min_ms = 30.0\n").schedule.onset_min_ms == 30.0);
    CHECK(parse("").schedule.onset_max_ms == 50.0);
    CHECK_THROWS_AS(parse("[schedule]\nonset_max_ms = 80.0\n"), ConfigError);
}

TEST_CASE("circuit wiring: layer, feedback and nudge shapes", "[circuit]") {
    for (Feedback fb : {Feedback::random, Feedback::symmetric}) {
        RateCircuit c(tiny(fb), 1);
        const Weights& w = c.weights();
        REQUIRE(w.layers() == 3);
        const std::vector<int> n{4, 6, 5, 3};
        for (int i = 0; i < 3; ++i) {
            CHECK(w.W[static_cast<std::size_t>(i)].rows() == n[static_cast<std::size_t>(i + 1)]);
            CHECK(w.W[static_cast<std::size_t>(i)].cols() == n[static_cast<std::size_t>(i)]);
            CHECK(w.b[static_cast<std::size_t>(i)].size() == n[static_cast<std::size_t>(i + 1)]);
        }
        // Feedback to hidden layer l comes from layer l + 1 (the output feeds hidden layer 2).
        for (int i = 0; i < 2; ++i) {
            const Eigen::MatrixXd G = c.feedback_matrix(i);
            CHECK(G.rows() == n[static_cast<std::size_t>(i + 1)]);
            CHECK(G.cols() == n[static_cast<std::size_t>(i + 2)]);
            if (fb == Feedback::symmetric) CHECK(G == w.W[static_cast<std::size_t>(i + 1)].transpose());
            else CHECK((G - w.W[static_cast<std::size_t>(i + 1)].transpose()).norm() > 0.1);
        }
        const RateCircuit::State s = c.rest(3);
        const auto I = c.hidden_nudges(s);
        REQUIRE(I.size() == 2);
        CHECK(I[0].rows() == 6);
        CHECK(I[1].rows() == 5);
    }
    // Same seed, same weights; the controls of an experiment start from the same circuit.
    CHECK(RateCircuit(tiny(Feedback::random), 4).weights().W[0] == RateCircuit(tiny(Feedback::random), 4).weights().W[0]);
}

TEST_CASE("clock-free schedule: back to back, random durations and teacher onsets within bounds", "[circuit]") {
    ScheduleConfig sc;
    PresentationSchedule s(sc, 10, 1, 0);
    double t = 0.0, dmin = 1e9, dmax = 0.0;
    for (int i = 0; i < 2000; ++i) {
        const Presentation p = s.next();
        CHECK(p.start_ms == t);
        CHECK(p.sample < 10);
        const double d = p.end_ms - p.start_ms, o = p.teacher_ms - p.start_ms;
        CHECK(d >= 50.0);
        CHECK(d <= 150.0);
        CHECK(o >= 20.0);
        CHECK(o <= 50.0);
        dmin = std::min(dmin, d);
        dmax = std::max(dmax, d);
        t = p.end_ms;
    }
    CHECK(dmin < 55.0);
    CHECK(dmax > 145.0);
}

TEST_CASE("no teacher: the twin nudge is exactly zero and the lag-compensated rule leaves weights unchanged",
          "[circuit]") {
    for (Feedback fb : {Feedback::random, Feedback::symmetric, Feedback::learned}) {
        CircuitConfig cfg = tiny(fb);
        cfg.eta_hidden = cfg.eta_out = 0.5;  // large: any error would show
        RateCircuit c(cfg, 2);
        const Weights before = c.weights();
        CHECK(run_without_teacher(c, 3000.0) == 0.0);
        for (int i = 0; i < 3; ++i) {
            CHECK(c.weights().W[static_cast<std::size_t>(i)] == before.W[static_cast<std::size_t>(i)]);
            CHECK(c.weights().b[static_cast<std::size_t>(i)] == before.b[static_cast<std::size_t>(i)]);
        }
    }
    // The test has teeth: comparing with the instantaneous V* (the single-neuron rule) changes
    // the weights with no teacher at all, because U lags V* after every input switch.
    CircuitConfig cfg = tiny(Feedback::random);
    cfg.eta_hidden = cfg.eta_out = 0.5;
    cfg.rule_reference = RuleReference::instantaneous;
    RateCircuit c(cfg, 2);
    const Weights before = c.weights();
    run_without_teacher(c, 3000.0);
    CHECK((c.weights().W[0] - before.W[0]).norm() > 1e-3);
}

TEST_CASE("lateral nudge: interneurons learn to cancel the feedback without teacher (small residual)", "[circuit]") {
    const CircuitConfig cfg = tiny_lateral(0.05);
    RateCircuit c(cfg, 2);
    CounterRng rng(4, 3, 0, StreamKind::data);
    const Eigen::MatrixXd x = uniform(rng, 4, 100), y = Eigen::MatrixXd::Zero(3, 100);
    auto settled_nudge = [&] {
        RateCircuit::State s = c.rest(x.cols());
        const Eigen::RowVectorXd gate = Eigen::RowVectorXd::Zero(x.cols());
        for (int n = 0; n < 400; ++n) c.step(s, x, y, gate, cfg.dt_ms, false);
        double m = 0.0;
        for (const auto& I : c.hidden_nudges(s)) m += I.cwiseAbs().mean();
        return m;
    };
    const double before = settled_nudge();
    run_without_teacher(c, 30000.0);
    const double after = settled_nudge();
    CHECK(before > 0.0);
    CHECK(after < 0.2 * before);
}

TEST_CASE("rate mode, symmetric feedback: hidden updates follow back-prop on a tiny network", "[circuit]") {
    CircuitConfig cfg = tiny(Feedback::symmetric);
    cfg.g_teacher = 0.05;  // weak teacher
    cfg.dt_ms = 0.05;
    RateCircuit c(cfg, 3);
    CounterRng rng(9, 1, 0, StreamKind::data);
    const Eigen::MatrixXd x = uniform(rng, 4, 40), y = uniform(rng, 3, 40);
    // Settle 10 tau, then 2 tau with the teacher on: the rule's accumulated weight change and the
    // hidden rate changes against back-prop through the static network with the same weights.
    const Alignment a = measure_alignment(c, x, y, 10 * cfg.tau_ms, 2 * cfg.tau_ms);
    REQUIRE(a.cos_dW.size() == 3);
    for (double cs : a.cos_dW) CHECK(cs > 0.99);
    REQUIRE(a.cos_dr_mean.size() == 2);
    for (double cs : a.cos_dr_mean) CHECK(cs > 0.95);
}


TEST_CASE("task 1 short: teacher-student regression learns, beats output-only, frozen stays put", "[circuit]") {
    const Run r = short_run(parse("[task]\nkind = 'teacher_student'\n"), 9600);
    CHECK(r("test_error_final") < 0.5 * r("test_error_initial"));
    CHECK(r("test_error_final") < 0.8 * r("test_error_output_only"));
    CHECK(r("test_error_frozen") == r("test_error_initial"));
    // The settled circuit is the static network with the same weights.
    // docs/results.md: the settled circuit equals the static network to 0.002 (measured 0.0015).
    CHECK(r("circuit_static_max_abs_difference") < 0.002);
    CHECK(std::abs(r("test_error_static") - r("test_error_final")) < 0.01 * r("test_error_final"));
}

TEST_CASE("rate mode: results do not depend on the step size (first-order convergence as dt shrinks)", "[circuit]") {
    // The rate mode is the circuit's mean-field reference, integrated with exponential Euler and
    // schedule events applied at the next step boundary, so its error is O(dt). Measured (task 1,
    // 4,800 presentations): final MSE 0.46859 / 0.46808 / 0.46782 / 0.46772 at dt 0.5 / 0.25 /
    // 0.125 / 0.0625 ms, i.e. 0.16 % between 0.5 and 0.125. The bound below is 3x that.
    auto final_mse = [](double dt_ms) {
        CircuitConfig c = parse("[task]\nkind = 'teacher_student'\n");
        c.dt_ms = dt_ms;
        c.control_output_only = false;
        c.control_frozen = false;
        return short_run(c, 4800)("test_error_final");
    };
    const double coarse = final_mse(0.5), middle = final_mse(0.25), fine = final_mse(0.125);
    INFO("final MSE at dt 0.5 / 0.25 / 0.125 ms: " << coarse << " / " << middle << " / " << fine);
    CHECK(std::abs(coarse - fine) < 0.005 * fine);
    CHECK(std::abs(middle - fine) < std::abs(coarse - fine));  // converges as the step shrinks
}

TEST_CASE("task 2 short: two moons", "[circuit]") {
    const Run r = short_run(parse("[task]\nkind = 'two_moons'\n"), 9600);
    CHECK(r("test_accuracy") > 0.9);
    CHECK(r("test_error_frozen") == r("test_error_initial"));
}

TEST_CASE("temporal-derivative test, rate mode, symmetric feedback: cosine with back-prop above 0.99 in both hidden "
          "layers, the shuffled control straddles 0",
          "[circuit]") {
    CircuitConfig cfg = parse("[task]\nkind = 'teacher_student'\n[circuit]\nfeedback = 'symmetric'\nhidden = [40, 40]\n");
    cfg.task.n_test = 100;
    const Dataset data = make_dataset(cfg.task, 1);
    RateCircuit c(cfg, 1);
    for (double delay : {1.0, 5.0, 10.0}) {  // readouts within two somatic time constants
        const DerivativeCell cell = temporal_derivative_test(c, data.x_test, data.y_test, 0.02, delay, 150.0, 1);
        REQUIRE(cell.cos_mean.size() == 2);
        for (std::size_t l = 0; l < 2; ++l) {
            INFO("delay " << delay << " ms, layer " << l + 1 << ": " << cell.cos_mean[l] << " +- " << cell.cos_ci95[l]);
            CHECK(cell.cos_mean[l] > 0.99);  // README: "> 0.99" (measured 0.997-1.000 on 200 inputs)
            CHECK(cell.shuffled_cos_mean[l] - cell.shuffled_cos_ci95[l] < 0.0);
            CHECK(cell.shuffled_cos_mean[l] + cell.shuffled_cos_ci95[l] > 0.0);
        }
    }
    CHECK(c.config().g_teacher == cfg.g_teacher);  // restored
}

// Full-length acceptance runs (tasks 1, 2 and 4 of docs/science.md, "Tasks", in rate mode): hidden
// from the default run by the "." tag, registered as one ctest with label `long`
// (tests/circuit/CMakeLists.txt).
TEST_CASE("task 1 full: MSE <= 20 % of initial and <= 0.8 x output-only, all off stays, fixed vs random durations "
          "within 15 %",
          "[.][long]") {
    const CircuitConfig c = parse("[task]\nkind = 'teacher_student'\n");
    const Run r = short_run(c, 48000);
    CHECK(r("test_error_final") <= 0.2 * r("test_error_initial"));
    CHECK(r("test_error_final") <= 0.8 * r("test_error_output_only"));
    CHECK(r("test_error_frozen") == r("test_error_initial"));
    CircuitConfig fixed = c;
    fixed.schedule.duration_min_ms = fixed.schedule.duration_max_ms = 100.0;
    fixed.control_output_only = fixed.control_frozen = false;
    const Run f = short_run(fixed, 48000);
    CHECK(std::abs(f("test_error_final") - r("test_error_final")) <= 0.15 * r("test_error_final"));
}

TEST_CASE("task 2 full: two moons >= 95 % with random and with symmetric feedback", "[.][long]") {
    for (const char* fb : {"random", "symmetric"}) {
        CircuitConfig c = parse(std::string("[task]\nkind = 'two_moons'\n[circuit]\nfeedback = '") + fb + "'\n");
        c.control_frozen = false;
        const Run r = short_run(c, 48000);
        CHECK(r("test_accuracy") >= 0.95);
    }
}

TEST_CASE("fashion_mnist task: sizes from the config, 2x2 downsampling, missing files name the package", "[circuit]") {
    const CircuitConfig full = parse("[task]\nkind = 'fashion_mnist'\n");
    CHECK(full.sizes() == std::vector<int>{784, 256, 10});
    CHECK(full.output_lo == -0.5);
    CHECK(full.output_hi == 1.5);
    CircuitConfig half = parse("[task]\nkind = 'fashion_mnist'\ndownsample = 2\nn_train = 50\nn_test = 20\n");
    CHECK(half.task.n_in == 196);
    CHECK_THROWS_AS(parse("[task]\nkind = 'fashion_mnist'\ndownsample = 3\n"), ConfigError);
    TaskConfig missing = half.task;
    missing.data_dir = "/nonexistent/settle-test";
    try {
        make_dataset(missing, 1);
        FAIL("no error for a missing data directory");
    } catch (const FileError& e) {
        CHECK(std::string(e.what()).find("dataset-fashion-mnist") != std::string::npos);
    }
    // Set-up installs the data (dataset-fashion-mnist): a missing file is a broken set-up, and
    // the loading half below must not pass by being skipped.
    INFO("Fashion-MNIST expected in " << half.task.data_dir << " (package dataset-fashion-mnist)");
    REQUIRE(std::ifstream(half.task.data_dir + "/train-images-idx3-ubyte.gz").good());
    const Dataset d = make_dataset(half.task, 1);
    REQUIRE(d.x_train.rows() == 196);
    REQUIRE(d.x_train.cols() == 50);
    REQUIRE(d.x_test.cols() == 20);
    CHECK(d.classification);
    CHECK(d.x_train.minCoeff() >= 0.0);
    CHECK(d.x_train.maxCoeff() <= 1.0);
    CHECK((d.y_train.colwise().sum().array() == 1.0).all());
    // A 2x2 average of the full-resolution image.
    CircuitConfig fullsmall = full;
    fullsmall.task.n_train = 1;
    fullsmall.task.n_test = 1;
    const Dataset f = make_dataset(fullsmall.task, 1);
    const double block = (f.x_train(0, 0) + f.x_train(1, 0) + f.x_train(28, 0) + f.x_train(29, 0)) / 4.0;
    const double block2 = (f.x_train(14 * 28 + 6, 0) + f.x_train(14 * 28 + 7, 0) + f.x_train(15 * 28 + 6, 0) +
                           f.x_train(15 * 28 + 7, 0)) / 4.0;
    REQUIRE(block2 > 0.0);  // a blank block would agree with any averaging
    CHECK(d.x_train(0, 0) == Approx(block));
    CHECK(d.x_train(7 * 14 + 3, 0) == Approx(block2));
    CHECK(d.label_train[0] == f.label_train[0]);
}

TEST_CASE("task 2 narrow (10-8-2): the circuit learns features the output-only control lacks", "[.][long]") {
    // With 30 hidden units random features already solve the moons (docs/results.md, "The circuit in rate mode"); with 8 they
    // do not, so hidden learning shows. Seed 1, 96,000 presentations: 99.0 % vs 93.9 % measured.
    CircuitConfig c = parse("[task]\nkind = 'two_moons'\n[circuit]\nhidden = [8]\n");
    c.control_frozen = false;
    const Run r = short_run(c, 96000);
    CHECK(r("test_accuracy") >= 0.95);
    CHECK(r("test_accuracy") - r("test_accuracy_output_only") >= 0.03);
}

TEST_CASE("eta_final_fraction anneals the feedforward learning rates geometrically over training", "[circuit]") {
    // Weight movement in the second half of training relative to the first: about
    // sqrt(fraction) with annealing (the gradients change little between halves), about 1
    // without.
    auto halves_ratio = [](double fraction) {
        CircuitConfig c = tiny(Feedback::random);
        c.eta_final_fraction = fraction;
        c.presentations = 600;
        c.checkpoints = 2;
        const Dataset data = make_dataset(c.task, 1);
        RateCircuit circuit(c, 1);
        std::vector<Weights> snapshots{circuit.weights()};
        train(circuit, data, c.presentations, 1, [&](std::int64_t) {
            snapshots.push_back(circuit.weights());
            return true;
        });
        REQUIRE(snapshots.size() == 3);
        double first = 0.0, second = 0.0;
        for (std::size_t i = 0; i < snapshots[0].W.size(); ++i) {
            first += (snapshots[1].W[i] - snapshots[0].W[i]).norm();
            second += (snapshots[2].W[i] - snapshots[1].W[i]).norm();
        }
        return second / first;
    };
    const double constant = halves_ratio(1.0), annealed = halves_ratio(1e-4);
    CHECK(constant > 0.3);
    CHECK(annealed < 0.1 * constant);  // sqrt(1e-4) = 0.01 x constant up to the gradients' change
    CHECK(annealed > 0.001 * constant);
    CHECK_THROWS_WITH(parse("[training]\neta_final_fraction = 0\n"), Catch::Contains("eta_final_fraction"));
}
