// pre x d/dt post (every rho combination) and pair STDP (additive/multiplicative, all-to-all/
// nearest) against a brute-force Boost.Odeint integration of the whole system (soma, dendrite,
// traces, weights) on the spikes the simulator produced: random trains with long silences and
// bursts of simultaneous spikes, a teacher conductance that switches (kinks in U').
#include <algorithm>
#include <cmath>
#include <functional>
#include <random>

#include <boost/numeric/odeint.hpp>
#include <catch2/catch.hpp>

#include "neurons/conductance_signal.hpp"
#include "neurons/spike_train_source.hpp"
#include "neurons/urbanczik_senn_neuron.hpp"
#include "plasticity/pair_stdp_rule.hpp"
#include "plasticity/pre_post_derivative_rule.hpp"
#include "sim/simulator.hpp"

using namespace settle;

namespace {

constexpr std::size_t n_syn = 6;
constexpr double t_stop = 17000.0;
const std::vector<time_ms> teacher_times = {0.0, 3000.0, 8000.0};
const std::vector<double> teacher_values = {0.0, 40.0, 10.0};  // nS, excitatory

struct Quiet final : RunObserver {
    void on_spike(std::size_t, node_index, time_ms) override {}
    void on_sample(std::size_t, std::uint64_t, time_ms, const std::vector<double>&) override {}
};

struct Delivery {
    time_ms t;
    std::size_t c;
    double w;  // the weight this spike used (after the rule's update)
};

class Logging final : public PlasticityRule {
public:
    explicit Logging(std::unique_ptr<PlasticityRule> inner) : inner_(std::move(inner)) {}
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
    std::vector<Delivery> deliveries;
    std::vector<time_ms> posts;

private:
    std::unique_ptr<PlasticityRule> inner_;
    Projection* proj_ = nullptr;
};

// Random trains (20 Hz) with a burst of simultaneous spikes (all sources, twice each) at 1.5 s,
// source 0 silent for 6.5 s and the whole input silent for 13.5 s before the last spikes.
std::vector<std::vector<time_ms>> trains(std::uint32_t seed) {
    std::mt19937_64 g(seed);
    std::exponential_distribution<double> isi(0.02);
    std::vector<std::vector<time_ms>> out(n_syn);
    for (std::size_t i = 0; i < n_syn; ++i) {
        for (double t = isi(g); t < 2500.0; t += isi(g)) out[i].push_back(t);
        out[i].push_back(1500.0);
        out[i].push_back(1500.0);
    }
    out[0].push_back(9000.0);
    out[1].push_back(16000.0);
    out[2].push_back(16000.0);
    return out;
}

struct Run {
    std::vector<Delivery> deliveries;
    std::vector<time_ms> posts;
    std::vector<double> w0, final_w;
};

Run simulate(std::unique_ptr<PlasticityRule> rule, std::uint64_t seed) {
    Network net;
    net.add_population(SpikeTrainSource::explicit_times("in", trains(11)));
    auto teacher = std::make_shared<PiecewiseConductance>(teacher_times, std::vector<std::vector<double>>{teacher_values});
    net.add_population(std::make_unique<UrbanczikSennPopulation>("n", 1, UrbanczikSennParameters::nest(), teacher, nullptr));
    std::vector<Connection> cons;
    for (node_index i = 0; i < n_syn; ++i) cons.push_back({i, 0, 400.0 + 60.0 * i, 0.5});
    auto proj = std::make_unique<Projection>("in->n", 0, 1, UrbanczikSennPopulation::dendrite, cons, n_syn);
    auto log = std::make_unique<Logging>(std::move(rule));
    Logging* l = log.get();
    proj->set_rule(std::move(log));
    net.add_projection(std::move(proj));
    Run r;
    for (std::size_t c = 0; c < n_syn; ++c) r.w0.push_back(net.projection(0).weight(c));
    Simulator sim(net, seed);
    Quiet q;
    sim.run(0.0, t_stop, q);
    r.deliveries = l->deliveries;
    r.posts = l->posts;
    r.final_w = net.projection(0).weights();
    return r;
}

// The reference: state [U, a_L, a_s, y, x_0.., w_0..]; `drift` adds the rule's continuous dw/dt,
// `on_delivery` / `on_post` apply its jumps (to w, x, y) in the kernel's order (deliveries before
// post spikes at equal times). Returns max |w - w_ref| over every delivered spike and the final
// weights, relative to the largest change of any reference weight.
using State = std::vector<double>;
enum : std::size_t { iU = 0, iaL = 1, ias = 2, iy = 3, ix = 4, iw = 4 + n_syn };

struct Reference {
    double tau_x = 20.0, tau_y = 20.0;  // trace time constants of the rule
    std::function<void(const State&, State&, double /*dU/dt*/)> drift;
    std::function<void(State&, std::size_t c, double /*dU/dt*/)> on_delivery;
    std::function<void(State&)> on_post;
};

struct Comparison {
    double max_err = 0.0, max_change = 0.0;
    std::size_t compared = 0;  // weights compared: one per delivery, and the final ones
};

// Every input spike reaches the neuron once (one connection per source, all before t_stop).
std::size_t input_spikes() {
    std::size_t n = 0;
    for (const auto& train : trains(11)) n += train.size();
    return n;
}

Comparison compare(const Run& run, const Reference& ref) {
    const UrbanczikSennParameters m = UrbanczikSennParameters::nest();
    const double ps = m.psp_scale(), lL = 1.0 / m.tau_L(), ls = 1.0 / m.tau_syn_d;
    auto g_E = [](double t) {
        std::size_t k = 0;
        while (k + 1 < teacher_times.size() && t >= teacher_times[k + 1]) ++k;
        return teacher_values[k];
    };
    auto dU = [&](const State& s, double t) {
        const double v_w = m.E_L + ps * (s[iaL] - s[ias]);
        return (-m.g_L_s * (s[iU] - m.E_L) + m.g_sp * (v_w - s[iU]) + g_E(t) * (m.E_ex - s[iU])) / m.C_m_s;
    };
    auto rhs = [&](const State& s, State& ds, double t) {
        std::fill(ds.begin(), ds.end(), 0.0);
        const double du = dU(s, t);
        ds[iU] = du;
        ds[iaL] = -lL * s[iaL];
        ds[ias] = -ls * s[ias];
        ds[iy] = -s[iy] / ref.tau_y;
        for (std::size_t c = 0; c < n_syn; ++c) ds[ix + c] = -s[ix + c] / ref.tau_x;
        ref.drift(s, ds, du);
    };
    State s(4 + 2 * n_syn, 0.0);
    s[iU] = m.U_init;
    for (std::size_t c = 0; c < n_syn; ++c) s[iw + c] = run.w0[c];

    struct Ev {
        double t;
        int kind;  // 0 delivery, 1 post, 2 teacher switch (integration boundary only)
        std::size_t i;
    };
    std::vector<Ev> evs;
    for (std::size_t i = 0; i < run.deliveries.size(); ++i) evs.push_back({run.deliveries[i].t, 0, i});
    for (std::size_t i = 0; i < run.posts.size(); ++i) evs.push_back({run.posts[i], 1, i});
    for (double t : teacher_times) evs.push_back({t, 2, 0});
    std::stable_sort(evs.begin(), evs.end(), [](const Ev& a, const Ev& b) { return a.t < b.t || (a.t == b.t && a.kind < b.kind); });

    namespace odeint = boost::numeric::odeint;
    auto stepper = odeint::make_controlled(1e-13, 1e-12, odeint::runge_kutta_dopri5<State>());
    Comparison out;
    auto track = [&](std::size_t c, double w) {
        out.max_change = std::max(out.max_change, std::abs(s[iw + c] - run.w0[c]));
        out.max_err = std::max(out.max_err, std::abs(w - s[iw + c]));
        ++out.compared;
    };
    double t = 0.0;
    for (const Ev& e : evs) {
        if (e.t > t) odeint::integrate_adaptive(stepper, rhs, s, t, e.t, 0.01);
        t = e.t;
        if (e.kind == 0) {
            const Delivery& d = run.deliveries[e.i];
            ref.on_delivery(s, d.c, dU(s, t));
            track(d.c, d.w);
            s[iaL] += d.w;
            s[ias] += d.w;
        } else if (e.kind == 1) {
            ref.on_post(s);
        }
    }
    odeint::integrate_adaptive(stepper, rhs, s, t, t_stop, 0.01);
    for (std::size_t c = 0; c < n_syn; ++c) track(c, run.final_w[c]);
    return out;
}

}  // namespace

TEST_CASE("pre x d/dt post: every rho combination equals a brute-force Odeint integration", "[plasticity]") {
    using P = PrePostDerivativeParameters;
    const auto combo = GENERATE(std::make_pair(P::Pre::spikes, P::Post::rate), std::make_pair(P::Pre::spikes, P::Post::trace),
                                std::make_pair(P::Pre::trace, P::Post::trace), std::make_pair(P::Pre::trace, P::Post::rate));
    P p;
    p.pre = combo.first;
    p.post = combo.second;
    p.tau_pre = 15.0;
    p.tau_post = 25.0;
    // A learning rate giving changes of tens to hundreds of pA on weights of 400-700 pA.
    const bool rate = p.post == P::Post::rate;
    p.eta = 2e3;
    const UrbanczikSennParameters m = UrbanczikSennParameters::nest();
    UrbanczikSennPopulation model("model", 1, m);
    const Run run = simulate(std::make_unique<PrePostDerivativeRule>(p), 5);
    REQUIRE(run.posts.size() > 50);

    Reference ref;
    ref.tau_x = p.tau_pre;
    ref.tau_y = p.tau_post;
    // d rho_post/dt without its impulses: phi'(U) U' (rate) or -y / tau_post^2 (trace).
    auto post_dot = [&](const State& s, double du) {
        return rate ? model.rate(s[iU]) * model.log_rate_derivative(s[iU]) * du : -s[iy] / (p.tau_post * p.tau_post);
    };
    ref.drift = [&](const State& s, State& ds, double du) {
        if (p.pre != P::Pre::trace) return;
        const double pd = post_dot(s, du);
        for (std::size_t c = 0; c < n_syn; ++c) ds[iw + c] = p.eta * s[ix + c] / p.tau_pre * pd;
    };
    ref.on_delivery = [&](State& s, std::size_t c, double du) {
        if (p.pre == P::Pre::spikes) s[iw + c] += p.eta * post_dot(s, du);
        s[ix + c] += 1.0;
    };
    ref.on_post = [&](State& s) {
        if (!rate && p.pre == P::Pre::trace)
            for (std::size_t c = 0; c < n_syn; ++c) s[iw + c] += p.eta * s[ix + c] / p.tau_pre / p.tau_post;
        s[iy] += 1.0;
    };
    const Comparison cmp = compare(run, ref);
    INFO("pre " << (p.pre == P::Pre::trace ? "trace" : "spikes") << ", post " << (rate ? "rate" : "trace") << ": max |w - w_ref| "
                << cmp.max_err << " pA, largest change " << cmp.max_change << " pA, " << run.posts.size() << " post spikes");
    REQUIRE(run.deliveries.size() == input_spikes());
    REQUIRE(cmp.compared == run.deliveries.size() + n_syn);
    REQUIRE(cmp.max_change > 1.0);
    REQUIRE(cmp.max_err / cmp.max_change < 1e-6);
}

TEST_CASE("pair STDP: additive or multiplicative with all-to-all or nearest pairing equals a brute-force Odeint integration", "[plasticity]") {
    PairStdpParameters p;
    p.multiplicative = GENERATE(false, true);
    p.nearest = GENERATE(false, true);
    p.A_plus = p.multiplicative ? 0.02 : 8.0;  // pA (additive), per pA of headroom (multiplicative)
    p.A_minus = p.multiplicative ? 0.021 : 8.4;
    p.w_min = 300.0;
    p.w_max = 800.0;
    const Run run = simulate(std::make_unique<PairStdpRule>(p), 5);
    REQUIRE(run.posts.size() > 50);

    Reference ref;
    ref.tau_x = p.tau_plus;
    ref.tau_y = p.tau_minus;
    ref.drift = [](const State&, State&, double) {};
    ref.on_delivery = [&](State& s, std::size_t c, double) {
        double& w = s[iw + c];
        if (p.multiplicative) w -= p.eta * p.A_minus * (w - p.w_min) * s[iy];
        else w = std::clamp(w - p.eta * p.A_minus * s[iy], p.w_min, p.w_max);
        s[ix + c] = p.nearest ? 1.0 : s[ix + c] + 1.0;
    };
    ref.on_post = [&](State& s) {
        for (std::size_t c = 0; c < n_syn; ++c) {
            double& w = s[iw + c];
            if (p.multiplicative) w += p.eta * p.A_plus * (p.w_max - w) * s[ix + c];
            else w = std::clamp(w + p.eta * p.A_plus * s[ix + c], p.w_min, p.w_max);
        }
        s[iy] = p.nearest ? 1.0 : s[iy] + 1.0;
    };
    const Comparison cmp = compare(run, ref);
    INFO((p.multiplicative ? "multiplicative" : "additive") << ", " << (p.nearest ? "nearest" : "all-to-all") << ": max |w - w_ref| "
                                                            << cmp.max_err << ", largest change " << cmp.max_change);
    REQUIRE(run.deliveries.size() == input_spikes());
    REQUIRE(cmp.compared == run.deliveries.size() + n_syn);
    REQUIRE(cmp.max_change > 1.0);
    REQUIRE(cmp.max_err / cmp.max_change < 1e-6);
}
