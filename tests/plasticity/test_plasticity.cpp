// Plasticity rules against independent brute-force integrations (Boost.Odeint on the recorded
// spikes), learning rate zero, bounds, and short forms of the two plasticity experiments.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <sstream>

#include <boost/numeric/odeint.hpp>
#include <catch2/catch.hpp>

#include "networks/config_reader.hpp"
#include "networks/experiment.hpp"
#include "neurons/spike_train_source.hpp"
#include "neurons/urbanczik_senn_neuron.hpp"
#include "plasticity/dendritic_prediction_rule.hpp"

using namespace settle;

namespace {

struct NullObserver final : RunObserver {
    std::vector<std::pair<node_index, time_ms>> post;
    void on_spike(std::size_t p, node_index n, time_ms t) override {
        if (p == 1) post.push_back({n, t});
    }
    void on_sample(std::size_t, std::uint64_t, time_ms, const std::vector<double>&) override {}
};

// Forwards to a rule and logs the weight each delivered spike used, and the post spikes seen.
class LoggingRule final : public PlasticityRule {
public:
    explicit LoggingRule(std::unique_ptr<PlasticityRule> inner) : inner_(std::move(inner)) {}
    std::string name() const override { return inner_->name(); }
    void attach(Projection& p, Population& s, Population& t) override {
        proj_ = &p;
        inner_->attach(p, s, t);
    }
    void on_delivery(std::size_t c, time_ms t) override {
        inner_->on_delivery(c, t);
        deliveries.push_back({t, c, proj_->weight(c)});
    }
    void on_post_spike(node_index n, time_ms t) override {
        inner_->on_post_spike(n, t);
        posts.push_back(t);
    }
    void update_all(time_ms t) override { inner_->update_all(t); }
    struct Delivery {
        time_ms t;
        std::size_t c;
        double w;
    };
    std::vector<Delivery> deliveries;
    std::vector<time_ms> posts;
    PlasticityRule* inner() const { return inner_.get(); }

private:
    std::unique_ptr<PlasticityRule> inner_;
    Projection* proj_ = nullptr;
};

// Random spike trains with a long silence and bursts of simultaneous spikes.
std::vector<std::vector<time_ms>> test_trains(std::size_t n, std::uint32_t seed) {
    std::mt19937_64 g(seed);
    std::exponential_distribution<double> isi(0.02);  // 20 Hz
    std::vector<std::vector<time_ms>> trains(n);
    for (std::size_t i = 0; i < n; ++i) {
        for (double t = isi(g); t < 2500.0; t += isi(g)) trains[i].push_back(t);
        trains[i].push_back(1500.0);  // a burst: every source at the same instant
        trains[i].push_back(1500.0);  // and twice within a source
    }
    trains[0].push_back(9000.0);   // source 0 after 6.5 s of silence
    trains[1].push_back(16000.0);  // source 1 after 13.5 s of the whole neuron's silence
    trains[2].push_back(16000.0);
    return trains;
}

// The trains run_dp uses; each spike reaches the neuron once, before the runs' 17 s end.
std::size_t input_spikes() {
    std::size_t n = 0;
    for (const auto& train : test_trains(6, 7)) n += train.size();
    return n;
}

struct DpRun {
    std::vector<LoggingRule::Delivery> deliveries;
    std::vector<time_ms> posts;
    std::vector<double> w0, final_w;
    double eta_eff = 0.0;
};

DpRun run_dp(const DendriticPredictionParameters& p, double w_init, std::uint64_t seed, double t_stop) {
    const auto trains = test_trains(6, 7);
    Network net;
    net.add_population(SpikeTrainSource::explicit_times("in", trains));
    net.add_population(std::make_unique<UrbanczikSennPopulation>("n", 1, UrbanczikSennParameters::nest()));
    std::vector<Connection> cons;
    for (node_index i = 0; i < 6; ++i) cons.push_back({i, 0, w_init + 40.0 * i, 0.5});
    auto proj = std::make_unique<Projection>("in->n", 0, 1, UrbanczikSennPopulation::dendrite, cons, 6);
    auto rule = std::make_unique<LoggingRule>(std::make_unique<DendriticPredictionRule>(p));
    LoggingRule* log = rule.get();
    proj->set_rule(std::move(rule));
    net.add_projection(std::move(proj));
    DpRun out;
    for (std::size_t c = 0; c < 6; ++c) out.w0.push_back(net.projection(0).weight(c));
    Simulator sim(net, seed);
    NullObserver obs;
    sim.run(0.0, t_stop, obs);
    out.deliveries = log->deliveries;
    out.posts = log->posts;
    out.final_w = net.projection(0).weights();
    out.eta_eff = static_cast<DendriticPredictionRule*>(log->inner())->effective_eta();
    return out;
}

}  // namespace

TEST_CASE("dendritic prediction: event-based weights equal a brute-force Odeint integration", "[plasticity]") {
    DendriticPredictionParameters p;
    p.eta = 0.07;
    p.tau_Delta = GENERATE(100.0, 0.0);
    p.w_min = -1e5;
    p.w_max = 1e5;
    const double t_stop = 17000.0;
    const DpRun run = run_dp(p, 250.0, 3, t_stop);
    REQUIRE(run.posts.size() > 50);

    const UrbanczikSennParameters m = UrbanczikSennParameters::nest();
    UrbanczikSennPopulation model("model", 1, m);
    const double ps = m.psp_scale(), tL = m.tau_L(), ts = m.tau_syn_d;
    auto kernel = [&](double s) { return s <= 0.0 ? 0.0 : ps * (std::exp(-s / tL) - std::exp(-s / ts)); };
    // Delivered inputs so far (time, connection, weight).
    std::vector<LoggingRule::Delivery> past;
    auto v_star = [&](double t) {
        double v = m.E_L;
        for (auto it = past.rbegin(); it != past.rend() && t - it->t < 600.0; ++it) v += it->w * kernel(t - it->t);
        return model.prediction(v);
    };
    auto psp = [&](std::size_t c, double t) {
        double x = 0.0;
        for (auto it = past.rbegin(); it != past.rend() && t - it->t < 600.0; ++it)
            if (it->c == c) x += kernel(t - it->t);
        return x;
    };
    const bool filter = p.tau_Delta > 0.0;
    using State = std::vector<double>;  // I_c, E_c
    State x(12, 0.0);
    auto rhs = [&](const State& s, State& ds, double t) {
        const double vs = v_star(t);
        const double g = -model.rate(vs) * model.log_rate_derivative(vs);
        for (std::size_t c = 0; c < 6; ++c) {
            const double pi = g * psp(c, t);
            ds[c] = pi;
            ds[6 + c] = (filter ? -s[6 + c] / p.tau_Delta : 0.0) + (filter ? pi : 0.0);
        }
    };
    namespace odeint = boost::numeric::odeint;
    auto stepper = odeint::make_controlled(1e-14, 1e-12, odeint::runge_kutta_dopri5<State>());
    // Events in the kernel's order: deliveries before post spikes at equal times.
    struct Ev {
        double t;
        int kind;  // 0 delivery, 1 post
        std::size_t i;
    };
    std::vector<Ev> evs;
    for (std::size_t i = 0; i < run.deliveries.size(); ++i) evs.push_back({run.deliveries[i].t, 0, i});
    for (std::size_t i = 0; i < run.posts.size(); ++i) evs.push_back({run.posts[i], 1, i});
    std::stable_sort(evs.begin(), evs.end(), [](const Ev& a, const Ev& b) { return a.t < b.t || (a.t == b.t && a.kind < b.kind); });
    double t = 0.0, max_change = 0.0, max_err = 0.0;
    std::size_t compared = 0;
    auto w_ref = [&](std::size_t c) {
        return std::clamp(run.w0[c] + run.eta_eff * (x[c] - (filter ? x[6 + c] : 0.0)), p.w_min, p.w_max);
    };
    for (const Ev& e : evs) {
        if (e.t > t) odeint::integrate_adaptive(stepper, rhs, x, t, e.t, 0.01);
        t = e.t;
        if (e.kind == 0) {
            const auto& d = run.deliveries[e.i];
            const double ref = w_ref(d.c);
            max_change = std::max(max_change, std::abs(ref - run.w0[d.c]));
            max_err = std::max(max_err, std::abs(d.w - ref));
            ++compared;
            past.push_back(d);
        } else {
            const double vs = v_star(t);
            const double hv = model.log_rate_derivative(vs);
            for (std::size_t c = 0; c < 6; ++c) {
                const double pi = hv * psp(c, t);
                x[c] += pi;
                if (filter) x[6 + c] += pi;
            }
        }
    }
    odeint::integrate_adaptive(stepper, rhs, x, t, t_stop, 0.01);
    for (std::size_t c = 0; c < 6; ++c, ++compared) max_err = std::max(max_err, std::abs(run.final_w[c] - w_ref(c)));
    // Every input spike was delivered and compared, and the final weights.
    REQUIRE(run.deliveries.size() == input_spikes());
    REQUIRE(compared == run.deliveries.size() + 6);
    INFO("tau_Delta " << p.tau_Delta << ": max |w - w_ref| " << max_err << " pA, largest change " << max_change << " pA");
    REQUIRE(max_change > 1.0);
    REQUIRE(max_err / max_change < 1e-6);
}

TEST_CASE("dendritic prediction: learning rate zero leaves weights unchanged bit for bit", "[plasticity]") {
    DendriticPredictionParameters p;
    p.eta = 0.0;
    p.w_max = 1000.0;
    const DpRun run = run_dp(p, 250.0, 3, 17000.0);
    REQUIRE(run.deliveries.size() == input_spikes());
    for (const auto& d : run.deliveries) REQUIRE(d.w == run.w0[d.c]);
    for (std::size_t c = 0; c < 6; ++c) REQUIRE(run.final_w[c] == run.w0[c]);
}

TEST_CASE("dendritic prediction: weights stay within their bounds", "[plasticity]") {
    DendriticPredictionParameters p;
    p.eta = 5.0;
    p.w_min = 200.0;
    p.w_max = 300.0;
    const DpRun run = run_dp(p, 210.0, 3, 17000.0);
    REQUIRE(run.deliveries.size() == input_spikes());
    bool hit_low = false, hit_high = false;
    for (const auto& d : run.deliveries) {
        REQUIRE(d.w >= 200.0);
        REQUIRE(d.w <= 300.0);
        hit_low = hit_low || d.w == 200.0;
        hit_high = hit_high || d.w == 300.0;
    }
    REQUIRE((hit_low || hit_high));
}

namespace {
nlohmann::json run_experiment(const std::string& toml_text, std::uint64_t seed) {
    std::istringstream in(toml_text);
    toml_value root_value = toml::parse(in, "test.toml");
    ConfigTable root(root_value, "");
    const std::string kind = root.get_string("experiment", "network");
    auto exp = experiment_registry().at(kind)(root, seed);
    root.finish();
    ExperimentContext ctx;
    ctx.seed = seed;
    ctx.out_path = "test_plasticity_" + kind + ".h5";
    ctx.force = true;
    ctx.quiet = true;
    auto summary = exp->run(ctx);
    std::remove(ctx.out_path.c_str());
    return summary;
}
}  // namespace

TEST_CASE("stdp_window: pre x d/dt post window shape, pair STDP equals its closed form", "[plasticity][experiment]") {
    const auto s = run_experiment(R"(
experiment = "stdp_window"
[protocol]
repetitions = 5
[pre_post_derivative]
tau_pre = 20.0
tau_post = 10.0
)", 1);
    const auto& m = s["metrics"];
    const auto dt = m["window_dt_ms"].get<std::vector<double>>();
    const auto dw = m["window_dw"].get<std::vector<double>>();
    REQUIRE(dt.size() == 101);
    REQUIRE(dw.size() == dt.size());
    const double peak = *std::max_element(dw.begin(), dw.end());
    const auto ip = static_cast<std::size_t>(std::max_element(dw.begin(), dw.end()) - dw.begin());
    const double trough = *std::min_element(dw.begin(), dw.end());
    CHECK(dt[ip] >= 0.0);
    CHECK(dt[ip] <= 40.0);
    for (std::size_t i = 0; i < dt.size(); ++i) {
        if (dt[i] > 0.0) CHECK(dw[i] > 0.0);
        if (dt[i] < 0.0) CHECK(dw[i] < 0.0);
    }
    // docs/results.md: both tails below 1 % of the peak at |dt| = 100 ms (measured: 0.67 % on the
    // potentiation side, e^-5 of the 20 ms pre trace, and 0.006 % on the depression side).
    CHECK(std::abs(dw.back()) < 0.01 * peak);
    CHECK(std::abs(dw.front()) < 0.01 * std::abs(trough));
    // docs/results.md: pair STDP matches its exponential window to 2e-15 (a few ulps).
    CHECK(m["pair_stdp_max_rel_error"].get<double>() < 1e-14);
    CHECK(m["window_max_rel_error"].get<double>() < 1e-12);
}

TEST_CASE("urbanczik_senn: the learning curve falls over 5 seeds as documented, and not without learning",
          "[plasticity][experiment]") {
    const int seeds = 5;
    auto mean = [](const std::vector<double>& v, std::size_t a, std::size_t b) {
        double s = 0.0;
        for (std::size_t i = a; i < b; ++i) s += v[i];
        return s / static_cast<double>(b - a);
    };
    // Per seed: the mean error of the first and of the last 10 pattern repetitions, and of the
    // learning-off control (all 100).
    std::vector<double> first, last, off;
    for (int seed = 1; seed <= seeds; ++seed) {
        const auto s = run_experiment(R"(experiment = "urbanczik_senn")", static_cast<std::uint64_t>(seed));
        const auto lc = s["metrics"]["learning_curve_mV"].get<std::vector<double>>();
        const auto lc0 = s["metrics"]["learning_curve_mV_no_plasticity"].get<std::vector<double>>();
        REQUIRE(lc.size() == 100);
        REQUIRE(lc0.size() == 100);
        first.push_back(mean(lc, 0, 10));
        last.push_back(mean(lc, 90, 100));
        off.push_back(mean(lc0, 0, 100));
        // Learning off: input pattern, weights and teacher repeat exactly, so the curve is flat
        // (equal to rounding: measured 1e-14 relative), neither falling nor rising.
        CHECK(std::abs(mean(lc0, 90, 100) - mean(lc0, 0, 10)) <= 1e-9 * mean(lc0, 0, 10));
    }
    // docs/results.md and README: over seeds 1-5, 7.33 mV -> 4.65 mV (ratio 0.63), 11.05 mV with
    // learning off. Each documented mean must come out within two standard errors of the seed
    // mean (computed here from the 5 seeds), so the test fails when the numbers stop describing
    // the code.
    auto check_documented = [&](const char* what, const std::vector<double>& v, double documented) {
        const double m = mean(v, 0, v.size());
        double ss = 0.0;
        for (double x : v) ss += (x - m) * (x - m);
        const double standard_error = std::sqrt(ss / static_cast<double>(v.size() - 1) / static_cast<double>(v.size()));
        INFO(what << ": mean over seeds " << m << " mV, documented " << documented << " mV, standard error "
                  << standard_error << " mV");
        CHECK(std::abs(m - documented) <= 2.0 * standard_error);
    };
    check_documented("first 10 repetitions", first, 7.33);
    check_documented("last 10 repetitions", last, 4.65);
    check_documented("learning off", off, 11.05);
    std::vector<double> ratio;
    for (int i = 0; i < seeds; ++i) ratio.push_back(last[static_cast<std::size_t>(i)] / first[static_cast<std::size_t>(i)]);
    const double r = mean(ratio, 0, ratio.size());
    INFO("last / first per seed, mean " << r);
    CHECK(r <= 0.70);  // it falls by about a third (0.63); the 5 seeds' ratios lie in a few hundredths
}
