// The clock-free settle-and-delta-rule circuit, spiking mode (networks/circuit/spiking_circuit.hpp;
// docs/science.md, "Spiking mode"): emission and traces against their analytic statistics, the
// rule's expected update against the rate rule, exact silence of the error channel without
// teacher, short task 1.
#include <catch2/catch.hpp>

#include <cmath>
#include <type_traits>

#include <Eigen/Core>

#include "networks/circuit/presentation_schedule.hpp"
#include "networks/circuit/spiking_circuit.hpp"
#include "sim/random.hpp"
#include "tests/circuit/circuit_test_support.hpp"

using namespace settle;
using namespace settle::circuit;
using namespace settle::circuit::testing;

namespace {

CircuitConfig tiny_spiking(Feedback fb) {
    CircuitConfig c = tiny(fb);
    c.mode = Mode::spiking;
    return c;
}

double logistic(double u) { return 1.0 / (1.0 + std::exp(-u)); }

}  // namespace

TEST_CASE("spiking: input traces have mean x and variance x / (2 r_in tau_s)", "[circuit][spiking]") {
    CircuitConfig cfg = tiny_spiking(Feedback::random);
    SpikingCircuit c(cfg, 1);
    const Eigen::Index S = 20000;
    Eigen::MatrixXd x(4, S);
    const double xs[4] = {0.0, 0.1, 0.5, 1.0};
    for (int i = 0; i < 4; ++i) x.row(i).setConstant(xs[i]);
    const Eigen::MatrixXd y = Eigen::MatrixXd::Zero(3, S);
    const Eigen::RowVectorXd gate = Eigen::RowVectorXd::Zero(S);
    SpikingCircuit::State s = c.rest(S);
    for (int n = 0; n < 400; ++n) c.step(s, x, y, gate, cfg.dt_ms, false);  // 10 tau_s
    const double r_tau = cfg.input_rate_hz * 1e-3 * cfg.synapse_tau_ms;
    for (int i = 0; i < 4; ++i) {
        const double mean = s.s_in.row(i).mean();
        const double var = (s.s_in.row(i).array() - mean).square().sum() / static_cast<double>(S - 1);
        const double expected_var = xs[i] / (2.0 * r_tau);
        // The stationary mean is reached up to exp(-10) of x; 5 standard errors of the mean.
        CHECK(std::abs(mean - xs[i]) <= 5.0 * std::sqrt(expected_var / static_cast<double>(S)) + 1e-4 * xs[i]);
        if (xs[i] > 0.0) CHECK(var == Approx(expected_var).epsilon(0.05));  // sd of the estimate ~1.2 %
        else CHECK(var == 0.0);
    }
}

TEST_CASE("spiking: emission rate is r_max p(U) for hidden (logistic) and output (linear, clamped) units",
          "[circuit][spiking]") {
    CircuitConfig cfg = tiny_spiking(Feedback::random);
    SpikingCircuit c(cfg, 2);
    // Silence the synapses so every potential is the deterministic k b.
    for (auto& W : c.weights().W) W.setZero();
    c.weights().b[0] << -2.0, -1.0, 0.0, 0.5, 1.0, 3.0;
    c.weights().b[1].setConstant(0.3);
    c.weights().b[2] << -4.0, 0.0, 2.0;  // output: below the range, middle, inside
    const Eigen::Index S = 4000;
    const Eigen::MatrixXd x = Eigen::MatrixXd::Constant(4, S, 0.5), y = Eigen::MatrixXd::Zero(3, S);
    const Eigen::RowVectorXd gate = Eigen::RowVectorXd::Zero(S);
    SpikingCircuit::State s = c.rest(S);
    for (int n = 0; n < 200; ++n) c.step(s, x, y, gate, cfg.dt_ms, false);  // 20 tau: U = k b to 2e-9
    s.reset_counts();
    const int steps = 200;
    for (int n = 0; n < steps; ++n) c.step(s, x, y, gate, cfg.dt_ms, false);
    const double T = steps * cfg.dt_ms, rmax = cfg.rate_max_hz * 1e-3, k = cfg.k();
    auto check_layer = [&](int layer, const Eigen::VectorXd& b, bool output) {
        for (Eigen::Index i = 0; i < b.size(); ++i) {
            const double U = k * b(i);
            const double p = output ? std::clamp((U - cfg.output_lo) / cfg.output_span(), 0.0, 1.0) : logistic(U);
            const double mean = rmax * p * T;  // Poisson count per column
            const double observed = s.countU[static_cast<std::size_t>(layer)].row(i).mean();
            CHECK(std::abs(observed - mean) <= 5.0 * std::sqrt(mean / static_cast<double>(S)) + 1e-12);
            // Without a teacher both channels carry the same spikes.
            CHECK(s.countU[static_cast<std::size_t>(layer)].row(i) == s.countV[static_cast<std::size_t>(layer)].row(i));
        }
    };
    check_layer(0, c.weights().b[0], false);
    check_layer(1, c.weights().b[1], false);
    check_layer(2, c.weights().b[2], true);
}

TEST_CASE("spiking, no teacher: the channels never disagree, the twin nudge is exactly zero and no weight changes "
          "while inputs switch",
          "[circuit][spiking]") {
    for (Feedback fb : {Feedback::random, Feedback::symmetric, Feedback::learned}) {
        CircuitConfig cfg = tiny_spiking(fb);
        cfg.eta_hidden = cfg.eta_out = 0.5;  // large: any error event would show
        SpikingCircuit c(cfg, 3);
        const Weights w0 = c.weights();
        CounterRng rng(3, 7, 0, StreamKind::data);
        const Eigen::Index S = 3;
        Eigen::MatrixXd x = uniform(rng, 4, 3), y = uniform(rng, 3, 3);
        std::vector<PresentationSchedule> sched;
        std::vector<Presentation> cur;
        for (Eigen::Index j = 0; j < S; ++j) {
            sched.emplace_back(cfg.schedule, 1, 5, static_cast<std::uint32_t>(j));
            cur.push_back(sched.back().next());
        }
        const Eigen::RowVectorXd gate = Eigen::RowVectorXd::Zero(S);
        SpikingCircuit::State s = c.rest(S);
        double spikes = 0.0;
        for (long n = 0; n * cfg.dt_ms < 2000.0; ++n) {
            const double t = static_cast<double>(n) * cfg.dt_ms;
            for (Eigen::Index j = 0; j < S; ++j)
                while (t >= cur[static_cast<std::size_t>(j)].end_ms) {
                    cur[static_cast<std::size_t>(j)] = sched[static_cast<std::size_t>(j)].next();
                    x.col(j) = uniform(rng, 4, 1);
                }
            c.step(s, x, y, gate, cfg.dt_ms, true);
            for (std::size_t l = 0; l < s.U.size(); ++l) {
                REQUIRE(s.sU[l] == s.sV[l]);  // bitwise: the feedback difference is exactly zero
                REQUIRE(s.U[l] == s.Vbar[l]);
            }
        }
        for (std::size_t l = 0; l < s.U.size(); ++l) spikes += s.countU[l].sum();
        CHECK(spikes > 1000.0);  // the circuit was active
        for (std::size_t l = 0; l < w0.W.size(); ++l) {
            CHECK(c.weights().W[l] == w0.W[l]);
            CHECK(c.weights().b[l] == w0.b[l]);
        }
    }
}

TEMPLATE_TEST_CASE("learned feedback: without teacher Q_l learns to reconstruct U_l and no forward weight changes",
                   "[circuit][learned]", RateCircuit, SpikingCircuit) {
    CircuitConfig cfg = tiny(Feedback::learned);
    if (std::is_same_v<TestType, SpikingCircuit>) cfg.mode = Mode::spiking;  // from layer l+1's spikes
    cfg.eta_feedback = 0.05;
    TestType c(cfg, 2);
    CounterRng rng(4, 2, 0, StreamKind::data);
    const Eigen::MatrixXd probe = uniform(rng, 4, 200);
    const std::vector<double> before = c.reconstruction_error(probe);
    REQUIRE(before.size() == 2);
    const Weights w0 = c.weights();
    learn_without_teacher(c, rng, 20000.0);
    const std::vector<double> after = c.reconstruction_error(probe);
    for (std::size_t l = 0; l < 2; ++l) CHECK(after[l] < 0.5 * before[l]);
    for (std::size_t l = 0; l < w0.W.size(); ++l) {  // bitwise: no teacher, no forward change
        CHECK(c.weights().W[l] == w0.W[l]);
        CHECK(c.weights().b[l] == w0.b[l]);
    }
}

TEST_CASE("spiking, lateral nudge: interneurons learn from spikes to cancel the feedback without teacher, the "
          "spike noise remains",
          "[circuit][spiking][lateral]") {
    // eta_interneuron small: the rule's error carries the spike noise, and P's stochastic
    // fluctuation grows with eta (at 0.05 / 0.1 the frozen residual is about 0.3 / 0.5 of the
    // feedback; docs/results.md, "What limits the spiking mode").
    CircuitConfig cfg = tiny_lateral(0.02);
    cfg.mode = Mode::spiking;
    SpikingCircuit c(cfg, 2);
    CounterRng rng(4, 3, 0, StreamKind::data);
    const Eigen::Index P = 20;
    const Eigen::MatrixXd probe = uniform(rng, 4, static_cast<int>(P)), y0 = Eigen::MatrixXd::Zero(3, P);
    // Every hidden neuron's nudge on fixed probe inputs, frozen, after 150 ms of settling: its time
    // average m over 1 s, that average's standard error se from ten 100 ms block means (the trace
    // noise is correlated over tau_s = 20 ms, so the blocks are nearly independent), and the
    // instantaneous standard deviation sd around m. The systematic nudge, noise removed, is
    // sqrt(mean(m^2) - mean(se^2)).
    struct Nudge {
        double systematic = 0.0, se_rms = 0.0, sd_rms = 0.0;
    };
    auto measure = [&] {
        SpikingCircuit::State s = c.rest(P, "probe");
        const Eigen::RowVectorXd gate = Eigen::RowVectorXd::Zero(P);
        for (int n = 0; n < 300; ++n) c.step(s, probe, y0, gate, cfg.dt_ms, false);
        constexpr int blocks = 10, per_block = 200;
        const std::size_t layers = c.hidden_nudges(s).size();
        std::vector<std::vector<Eigen::MatrixXd>> block_mean(blocks, std::vector<Eigen::MatrixXd>(layers));
        std::vector<Eigen::MatrixXd> sum_sq(layers);
        for (int b = 0; b < blocks; ++b)
            for (int n = 0; n < per_block; ++n) {
                c.step(s, probe, y0, gate, cfg.dt_ms, false);
                const std::vector<Eigen::MatrixXd> I = c.hidden_nudges(s);
                for (std::size_t l = 0; l < layers; ++l) {
                    if (n == 0) block_mean[b][l] = Eigen::MatrixXd::Zero(I[l].rows(), P);
                    if (sum_sq[l].size() == 0) sum_sq[l] = Eigen::MatrixXd::Zero(I[l].rows(), P);
                    block_mean[b][l] += I[l] / per_block;
                    sum_sq[l] += I[l].cwiseAbs2();
                }
            }
        Nudge out;
        double count = 0.0, mean_sq = 0.0;
        for (std::size_t l = 0; l < layers; ++l) {
            Eigen::MatrixXd mean = Eigen::MatrixXd::Zero(sum_sq[l].rows(), P), var_blocks = mean;
            for (int b = 0; b < blocks; ++b) mean += block_mean[b][l] / blocks;
            for (int b = 0; b < blocks; ++b) var_blocks += (block_mean[b][l] - mean).cwiseAbs2() / (blocks - 1);
            mean_sq += mean.cwiseAbs2().sum();
            out.se_rms += (var_blocks / blocks).sum();
            out.sd_rms += (sum_sq[l] / (blocks * per_block) - mean.cwiseAbs2()).sum();
            count += static_cast<double>(mean.size());
        }
        out.se_rms = std::sqrt(out.se_rms / count);
        out.sd_rms = std::sqrt(out.sd_rms / count);
        out.systematic = std::sqrt(std::max(0.0, mean_sq / count - out.se_rms * out.se_rms));
        return out;
    };
    const Nudge before = measure();
    learn_without_teacher(c, rng, 240000.0);
    const Nudge after = measure();
    INFO("before: systematic " << before.systematic << ", se " << before.se_rms << ", sd " << before.sd_rms);
    INFO("after:  systematic " << after.systematic << ", se " << after.se_rms << ", sd " << after.sd_rms);
    // The 1 s average resolves the systematic nudge: its noise is well below the feedback.
    REQUIRE(after.se_rms < 0.25 * before.systematic);
    CHECK(after.systematic < 0.2 * before.systematic);
    // What no prediction from F_l can cancel: the fluctuation of the spike trains stays.
    CHECK(after.sd_rms > 0.5 * before.sd_rms);
}

TEST_CASE("spiking rule: the expected output-weight change equals the rate rule eta (U - Vbar) r_pre",
          "[circuit][spiking]") {
    CircuitConfig cfg = tiny_spiking(Feedback::random);
    cfg.hidden = {6};
    cfg.g_teacher = 1.0;
    cfg.lambda = 0.0;  // no feedback nudge: the hidden traces stay stationary while the teacher is on
    const double eta = 1e-9;  // weights stay ~0: potentials remain deterministic
    cfg.eta_hidden = 0.0;
    cfg.eta_out = eta;
    SpikingCircuit c(cfg, 4);
    for (auto& W : c.weights().W) W.setZero();
    c.weights().b[0] << -1.0, -0.5, 0.0, 0.5, 1.0, 2.0;
    c.weights().b[1].setZero();
    const Eigen::Index S = 20000;
    const Eigen::MatrixXd x = Eigen::MatrixXd::Constant(4, S, 0.5);
    Eigen::MatrixXd y(3, S);
    y.colwise() = Eigen::Vector3d(1.0, -0.5, 2.0);
    SpikingCircuit::State s = c.rest(S);
    const Eigen::RowVectorXd off = Eigen::RowVectorXd::Zero(S), on = Eigen::RowVectorXd::Ones(S);
    for (int n = 0; n < 400; ++n) c.step(s, x, y, off, cfg.dt_ms, false);  // hidden traces stationary
    const Eigen::MatrixXd W0 = c.weights().W[1];
    const Eigen::VectorXd b0 = c.weights().b[1];
    // Teacher on for 20 ms: U_L relaxes toward g y / (1 + g); Vbar_L stays 0 (V* = 0).
    const int steps = 40;
    const double h = cfg.dt_ms, tau = cfg.tau_ms, g = cfg.g_teacher, rmax = cfg.rate_max_hz * 1e-3;
    Eigen::Vector3d U = Eigen::Vector3d::Zero(), integral = Eigen::Vector3d::Zero();
    Eigen::Vector3d abs_integral = Eigen::Vector3d::Zero();
    Eigen::MatrixXd abs_U(3, steps);  // start-of-step |U| per step
    for (int n = 0; n < steps; ++n) {
        integral += h * U;  // the acceptance uses the start-of-step potential
        abs_integral += h * U.cwiseAbs();
        for (int i = 0; i < 3; ++i) abs_U(i, n) = std::abs(U(i));
        U += -std::expm1(-h * (1 + g) / tau) * (g * Eigen::Vector3d(1.0, -0.5, 2.0) / (1 + g) - U);
        c.step(s, x, y, on, h, true);
    }
    const double k = cfg.k(), r_tau = rmax * cfg.synapse_tau_ms, span = cfg.output_span();
    for (int i = 0; i < 3; ++i) {
        // Events per column: a Poisson process of intensity r_max |p(U) - p(0)|, independent of
        // the hidden traces (W = 0); each moves W_ij by eta span / (r_max S) s_j(t_k). The columns
        // are independent; within a column the events see one trace, whose covariance is
        // p / (2 r tau_s) exp(-|t - t'| / tau_s), so Var(sum_k s(t_k)) = E[N] E[s^2] + the
        // double integral of the intensities against that covariance.
        const double events = rmax * abs_integral(i) / span;
        double pairs = 0.0;  // sum over step pairs of intensity x intensity x correlation
        for (int n = 0; n < steps; ++n)
            for (int m = 0; m < steps; ++m)
                pairs += (rmax * h * abs_U(i, n) / span) * (rmax * h * abs_U(i, m) / span) *
                         std::exp(-std::abs(n - m) * h / cfg.synapse_tau_ms);
        for (int j = 0; j < 6; ++j) {
            const double p = logistic(k * c.weights().b[0](j));
            const double expected = eta * integral(i) * p;
            const double var_s = p / (2.0 * r_tau);
            const double var_sum = events * (p * p + var_s) + pairs * var_s;
            const double sd = eta * span / rmax * std::sqrt(var_sum / static_cast<double>(S));
            CHECK(std::abs((c.weights().W[1](i, j) - W0(i, j)) - expected) <= 5.0 * sd);
        }
        const double sd_b = eta * span / rmax * std::sqrt(events / static_cast<double>(S));
        CHECK(std::abs((c.weights().b[1](i) - b0(i)) - eta * integral(i)) <= 5.0 * sd_b);
    }
}

TEST_CASE("spiking temporal-derivative test: symmetric feedback moves the last hidden layer along -dLoss/dr, the "
          "shuffled control straddles 0",
          "[circuit][spiking]") {
    const CircuitConfig cfg = derivative_test_config("stepped");
    const Dataset data = make_dataset(cfg.task, 1);
    SpikingCircuit c(cfg, 1);
    check_derivative_cell(spiking_temporal_derivative_test(c, data.x_test, data.y_test, {derivative_test_g},
                                                           {derivative_test_delay_ms}, derivative_test_settle_ms,
                                                           derivative_test_trials, 1));
    CHECK(c.config().g_teacher == cfg.g_teacher);
}

TEST_CASE("task 1 short, spiking: teacher-student regression learns and beats output-only, frozen stays put",
          "[circuit][spiking]") {
    // A 200 ms readout window (default 500) keeps the test passes short.
    CircuitConfig c = parse("[task]\nkind = 'teacher_student'\n[circuit]\nmode = 'spiking'\n[training]\n"
                            "test_window_ms = 200.0\ncontrol_frozen = false\n");
    const Run r = short_run(c, 4800);
    CHECK(r("test_error_final") < 0.7 * r("test_error_initial"));
    CHECK(r("test_error_final") < 0.9 * r("test_error_output_only"));
    // Speed metrics: 4,800 presentations of U(150, 250) ms each (spiking defaults) are 960 s of
    // simulated time (sd 2.0 s; the streams' unfinished presentations add at most 16 x 250 ms).
    CHECK(r("train_simulated_seconds") == Approx(960.0).margin(15.0));
    CHECK(r("train_synaptic_events") > r("train_input_spikes") * 50.0);  // every input spike reaches 50 hidden units
    // All plasticity off stays put exactly, so a short run shows it as well as a long one (and
    // keeps this test inside the sanitizers' time budget).
    c.control_frozen = true;
    c.control_output_only = false;
    const Run frozen = short_run(c, 480);
    CHECK(frozen("test_error_frozen") == frozen("test_error_initial"));
    CHECK(frozen("test_error_final") < frozen("test_error_initial"));  // while the circuit itself learned
}

TEST_CASE("task 1 full, spiking: MSE <= 35 % of initial and below output-only", "[.][long]") {
    // Both engines (seed 1: event 11.9 %, stepped 11.9 % of initial; docs/results.md for seeds 1-5).
    for (const char* engine : {"stepped", "event"}) {
        INFO("engine " << engine);
        const Run r = short_run(
            parse(std::string("[task]\nkind = 'teacher_student'\n[circuit]\nmode = 'spiking'\nengine = '") + engine + "'\n"),
            48000);
        CHECK(r("test_error_final") <= 0.35 * r("test_error_initial"));
        CHECK(r("test_error_final") < r("test_error_output_only"));
        CHECK(r("test_error_frozen") == r("test_error_initial"));
    }
}

TEST_CASE("task 1 full, spiking, lateral nudge: MSE <= 35 % of initial and below output-only", "[.][long]") {
    // Seed 1: 0.283 = 25 % of initial, output-only 0.528 (lambda 0.3 with eta_hidden x 3: the
    // lateral nudge's spike noise biases the hidden rule by lambda^2, docs/results.md, "What limits the spiking mode").
    CircuitConfig c = parse("[task]\nkind = 'teacher_student'\n[circuit]\nmode = 'spiking'\nnudge = 'lateral'\n"
                            "lambda = 0.3\neta_hidden = 6e-3\n");
    c.control_frozen = false;
    const Run r = short_run(c, 48000);
    CHECK(r("test_error_final") <= 0.35 * r("test_error_initial"));
    CHECK(r("test_error_final") < r("test_error_output_only"));
}

TEST_CASE("task 2 full, spiking: two moons >= 92 % with random and with symmetric feedback", "[.][long]") {
    // Seed 1, spiking defaults (1,600 Hz, onsets 80-100 ms): 94.2 % (random), 96.3 % (symmetric) stepped.
    // The event engine with random feedback too (seed 1: 94.0 %; docs/results.md for seeds 1-5).
    for (const char* fb : {"random", "symmetric", "random event"}) {
        const std::string f(fb);
        const bool event = f.find(" event") != std::string::npos;
        INFO(f);
        CircuitConfig c = parse("[task]\nkind = 'two_moons'\n[circuit]\nmode = 'spiking'\nfeedback = '" +
                                f.substr(0, f.find(' ')) + "'\nengine = '" + (event ? "event" : "stepped") + "'\n");
        c.control_frozen = false;
        const Run r = short_run(c, 48000);
        CHECK(r("test_accuracy") >= 0.92);
    }
}

TEST_CASE("task 2 narrow (10-8-2), spiking: hidden learning beats the output-only control", "[.][long]") {
    // Seed 1, 96,000 presentations, eta annealed to 1/10: 94.4 % vs 89.4 % measured.
    CircuitConfig c = parse("[task]\nkind = 'two_moons'\n[circuit]\nmode = 'spiking'\nhidden = [8]\n"
                            "[training]\neta_final_fraction = 0.1\n");
    c.control_frozen = false;
    const Run r = short_run(c, 96000);
    CHECK(r("test_accuracy") >= 0.92);
    CHECK(r("test_accuracy") - r("test_accuracy_output_only") >= 0.03);
}
