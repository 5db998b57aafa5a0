// The event-driven learning circuit against a brute-force Boost.Odeint integration of the same
// equations: a 3-4-2 circuit (pooled_poisson_source -> two_channel_unit -> two_channel_unit) with
// the lag-compensated rule on both forward projections, symmetric feedback tied to W2's transpose
// (the twin nudge), 2 replicas, teacher switches and input changes at different times per replica,
// and several rebases. The brute force integrates every trace, dendrite, soma and prediction as
// ODEs between the spikes the simulator produced, and applies the rule itself (from its own
// traces) at each emission whose channels disagree, buffered per replica until the next sync
// point: so it checks the models' closed forms, the dense delivery, the sync points, the tie and
// the rule at once. The same with learned feedback: a feedback population coupled to the hidden
// layer's soma, its matrix Q (with the output's decoding offset) learning by the same rule and
// carrying the nudge.
#include <algorithm>
#include <cmath>
#include <map>
#include <utility>
#include <memory>
#include <vector>

#include <boost/numeric/odeint.hpp>
#include <catch2/catch.hpp>

#include "tiny_dense_circuit.hpp"

using namespace settle;

namespace {

using C = testing::TinyDenseCircuit;
constexpr std::size_t n0 = C::n0, n1 = C::n1, n2 = C::n2, R = 2;
constexpr double tau = C::tau, tau_s = C::tau_s, k = C::k, lambda = C::lambda, lo = C::lo, hi = C::hi;
constexpr double r_in_hz = C::r_in_hz, r_hz = C::r_hz, eta_hidden = C::eta_hidden, eta_out = C::eta_out;
constexpr double flo = C::flo, fhi = C::fhi, g_feedback = C::g_feedback, eta_feedback = C::eta_feedback;
constexpr double g_teacher = 1.5;
constexpr double t_end = 320.0;
// Replica sync points every 0.5 ms: they coincide with the driver's actions (whole ms) and the
// samples (0.5 + k ms), so the order at equal times is checked too.
constexpr double sync_ms = 0.5;

struct Recorder final : RunObserver {
    struct Spike {
        std::size_t population;
        node_index node;
        time_ms t;
    };
    std::vector<Spike> spikes;
    std::vector<time_ms> sample_times;
    std::vector<std::vector<double>> rows;
    void on_spike(std::size_t p, node_index n, time_ms t) override { spikes.push_back({p, n, t}); }
    void on_sample(std::size_t, std::uint64_t, time_ms t, const std::vector<double>& row) override {
        sample_times.push_back(t);
        rows.push_back(row);
    }
};

// Driver actions at fixed times, the same for the simulator and the brute force.
struct Action {
    time_ms t;
    std::uint32_t replica;
    enum Kind { teacher_on, teacher_off, input, rebase } kind;
    std::vector<double> values;  // targets or input rates
};

std::vector<Action> schedule() {
    return {
        {40.0, 0, Action::rebase, {}},
        {50.0, 0, Action::teacher_on, {1.5, -1.0}},
        {70.0, 1, Action::rebase, {}},
        {80.0, 1, Action::teacher_on, {-0.5, 1.2}},
        {100.0, 0, Action::input, {0.1, 0.9, 0.6}},
        {130.0, 0, Action::rebase, {}},
        {150.0, 0, Action::teacher_off, {1.5, -1.0}},
        {180.0, 1, Action::input, {0.8, 0.2, 0.5}},
        {200.0, 1, Action::rebase, {}},
        {210.0, 0, Action::teacher_on, {-1.0, 0.5}},
        {250.0, 1, Action::teacher_off, {-0.5, 1.2}},
        {260.0, 0, Action::rebase, {}},
        {290.0, 1, Action::rebase, {}},
    };
}

const std::vector<std::vector<double>> initial_rates = {{0.7, 0.3, 0.5}, {0.4, 0.6, 0.9}};

// Brute-force state of one replica: input traces, layer-1 somatic traces, layer-2 somatic and
// prediction traces, Vbar1, U1, Vbar2, U2, and (learned feedback) the feedback units' Vbar, U.
constexpr std::size_t o_in = 0, o_s1 = o_in + n0, o_u2 = o_s1 + n1, o_v2 = o_u2 + n2, o_vb1 = o_v2 + n2,
                      o_U1 = o_vb1 + n1, o_vb2 = o_U1 + n1, o_U2 = o_vb2 + n2, o_vbB = o_U2 + n2, o_UB = o_vbB + n1,
                      per_replica = o_UB + n1;

void check_against_brute_force(bool learned) {
    testing::TinyDenseCircuit c(R, initial_rates, learned);
    Network& net = c.net;
    PooledPoissonSource* input = c.input;
    TwoChannelUnitPopulation* hidden = c.hidden;
    TwoChannelUnitPopulation* output = c.output;
    TwoChannelUnitPopulation* feedback = c.feedback;
    const std::vector<double> W1 = c.W1, W2 = c.W2, b1 = c.b1, b2 = c.b2, Q = c.Q;
    const std::shared_ptr<DenseMatrix> M1 = c.M1, M2 = c.M2, MQ = c.MQ;
    const std::size_t n_pop = learned ? 4 : 3;
    const double r = r_hz * 1e-3, r_in = r_in_hz * 1e-3, slope = hi - lo;

    Simulator sim(net, 7);
    sim.set_sync_interval(sync_ms);
    sim.record_spikes(0);
    sim.record_spikes(1);
    sim.record_spikes(2);
    if (learned) sim.record_spikes(3);
    const double dt_sample = 1.0;
    for (std::size_t pop = 1; pop < n_pop; ++pop) {
        StateProbe probe;
        probe.population = pop;
        const std::size_t n = pop == 2 ? n2 : n1;
        for (std::uint32_t q = 0; q < R; ++q)
            for (std::size_t i = 0; i < n; ++i) probe.nodes.push_back(static_cast<node_index>((q * 2) * n + i));
        probe.element_ids = {TwoChannelUnitPopulation::element_U, TwoChannelUnitPopulation::element_Vbar,
                             TwoChannelUnitPopulation::element_Vstar};
        probe.start = 0.5;
        probe.dt = dt_sample;
        sim.add_probe(probe);
    }
    Recorder rec;
    sim.start(0.0);
    std::vector<std::vector<double>> y(R, std::vector<double>(n2, 0.0));
    for (const Action& a : schedule()) {
        sim.advance(a.t, rec);
        switch (a.kind) {
        case Action::teacher_on: output->set_teacher(a.replica, a.t, g_teacher, a.values); break;
        case Action::teacher_off: output->set_teacher(a.replica, a.t, 0.0, a.values); break;
        case Action::input:
            input->set_rates(a.replica, a.t, a.values);
            sim.reschedule(0, a.replica);
            break;
        case Action::rebase: sim.rebase(a.replica); break;
        }
    }
    sim.advance(t_end, rec);
    sim.finish();

    // The run must exercise what it claims to: both channels' disagreements (weight changes) in
    // both layers and replicas, and spikes of every population.
    std::map<std::size_t, std::size_t> spikes_of;
    for (const auto& s : rec.spikes) ++spikes_of[s.population];
    REQUIRE(spikes_of[0] > 200);
    REQUIRE(spikes_of[1] > 500);
    REQUIRE(spikes_of[2] > 200);
    if (learned) REQUIRE(spikes_of[3] > 200);

    // --- Brute force. Group the recorded spikes into emissions (population, replica, unit, t, mask).
    struct Emission {
        time_ms t;
        std::size_t population;
        std::uint32_t replica;
        std::size_t unit;
        std::uint32_t mask;
    };
    std::vector<Emission> emissions;
    for (const auto& s : rec.spikes) {
        const std::size_t n = s.population == 0 ? n0 : s.population == 2 ? n2 : n1;
        const std::size_t channels = s.population == 0 ? 1 : 2;
        const std::size_t unit = s.node % n, rc = s.node / n;
        const auto replica = static_cast<std::uint32_t>(rc / channels);
        const std::uint32_t bit = 1u << (rc % channels);
        if (!emissions.empty() && emissions.back().t == s.t && emissions.back().population == s.population &&
            emissions.back().replica == replica && emissions.back().unit == unit)
            emissions.back().mask |= bit;
        else
            emissions.push_back({s.t, s.population, replica, unit, bit});
    }

    using state_type = std::vector<double>;
    state_type x(R * per_replica, 0.0);  // at rest: every potential and trace 0
    std::vector<double> bW1 = W1, bW2 = W2, bb1 = b1, bb2 = b2, bQ = Q, bc(n1, 0.0);
    std::vector<double> g(R, 0.0);
    auto w1 = [&](std::size_t i, std::size_t j) -> double& { return bW1[j * n1 + i]; };
    auto w2 = [&](std::size_t i, std::size_t j) -> double& { return bW2[j * n2 + i]; };
    auto q = [&](std::size_t i, std::size_t m) -> double& { return bQ[m * n1 + i]; };
    // The feedback units' dendrite: k (Q (lo + slope s^U_2) + c).
    auto feedback_dendrite = [&](const double* z, std::size_t i) {
        double v = bc[i];
        for (std::size_t m = 0; m < n2; ++m) v += q(i, m) * (lo + slope * z[o_u2 + m]);
        return k * v;
    };
    auto rhs = [&](const state_type& s, state_type& d, double) {
        for (std::size_t qi = 0; qi < R; ++qi) {
            const double* z = &s[qi * per_replica];
            double* dz = &d[qi * per_replica];
            for (std::size_t m = 0; m < o_vb1; ++m) dz[m] = -z[m] / tau_s;
            for (std::size_t i = 0; i < n1; ++i) {
                double vs = bb1[i];
                for (std::size_t j = 0; j < n0; ++j) vs += w1(i, j) * z[o_in + j];
                vs *= k;
                double nudge = 0.0;
                for (std::size_t m = 0; m < n2; ++m) nudge += (learned ? q(i, m) : w2(m, i)) * (z[o_u2 + m] - z[o_v2 + m]);
                nudge *= lambda * k * slope;
                dz[o_vb1 + i] = (-z[o_vb1 + i] + vs) / tau;
                dz[o_U1 + i] = (-z[o_U1 + i] + vs + nudge) / tau;
            }
            for (std::size_t i = 0; i < n2; ++i) {
                double vs = bb2[i];
                for (std::size_t j = 0; j < n1; ++j) vs += w2(i, j) * z[o_s1 + j];
                vs *= k;
                dz[o_vb2 + i] = (-z[o_vb2 + i] + vs) / tau;
                dz[o_U2 + i] = (-z[o_U2 + i] + vs + g[qi] * (y[qi][i] - z[o_U2 + i])) / tau;
            }
            for (std::size_t i = 0; i < n1; ++i) {
                if (!learned) {
                    dz[o_vbB + i] = dz[o_UB + i] = 0.0;
                    continue;
                }
                const double vs = feedback_dendrite(z, i);
                dz[o_vbB + i] = (-z[o_vbB + i] + vs) / tau;
                dz[o_UB + i] = (-z[o_UB + i] + vs + g_feedback * (z[o_U1 + i] - z[o_UB + i])) / tau;
            }
        }
    };
    namespace ode = boost::numeric::odeint;
    auto stepper = ode::make_controlled(1e-13, 1e-13, ode::runge_kutta_dopri5<state_type>());
    double t_now = 0.0;
    auto integrate_to = [&](double t) {
        if (t > t_now) ode::integrate_adaptive(stepper, rhs, x, t_now, t, 1e-3);
        t_now = t;
    };
    // One timeline in the kernel's order at equal times: emissions (candidates), samples, sync
    // points, then the driver's actions (taken after advance(t) returned).
    struct Point {
        time_ms t;
        int order;  // 0 emission, 1 sample, 2 sync, 3 action
        std::size_t index;
    };
    std::vector<Point> timeline;
    for (std::size_t i = 0; i < emissions.size(); ++i) timeline.push_back({emissions[i].t, 0, i});
    for (std::size_t i = 0; i < rec.sample_times.size(); i += n_pop - 1) timeline.push_back({rec.sample_times[i], 1, i});
    for (std::size_t k = 1; static_cast<double>(k) * sync_ms <= t_end; ++k)
        timeline.push_back({static_cast<double>(k) * sync_ms, 2, k});
    const std::vector<Action> actions = schedule();
    for (std::size_t i = 0; i < actions.size(); ++i) timeline.push_back({actions[i].t, 3, i});
    std::stable_sort(timeline.begin(), timeline.end(),
                     [](const Point& p, const Point& q) { return p.t < q.t || (p.t == q.t && p.order < q.order); });

    // Each replica's row changes wait in its buffer until the next sync point (the rule's contract).
    std::vector<std::vector<double>> dW1(R, std::vector<double>(n1 * n0, 0.0)), dW2(R, std::vector<double>(n2 * n1, 0.0));
    std::vector<std::vector<double>> db1(R, std::vector<double>(n1, 0.0)), db2(R, std::vector<double>(n2, 0.0));
    std::vector<std::vector<double>> dQ(R, std::vector<double>(n1 * n2, 0.0)), dc(R, std::vector<double>(n1, 0.0));
    std::vector<std::vector<double>> brute_rows;
    std::size_t weight_changes = 0;
    for (const Point& p : timeline) {
        integrate_to(p.t);
        if (p.order == 1) {
            // Rows: population 1 nodes x (U, Vbar, V*), then population 2 likewise, then the
            // feedback population (one probe each, in population order).
            std::vector<double> row1, row2, row3;
            for (std::size_t qi = 0; qi < R; ++qi) {
                const double* z = &x[qi * per_replica];
                for (std::size_t i = 0; i < n1; ++i) {
                    double vs = bb1[i];
                    for (std::size_t j = 0; j < n0; ++j) vs += w1(i, j) * z[o_in + j];
                    row1.insert(row1.end(), {z[o_U1 + i], z[o_vb1 + i], k * vs});
                }
                for (std::size_t i = 0; i < n2; ++i) {
                    double vs = bb2[i];
                    for (std::size_t j = 0; j < n1; ++j) vs += w2(i, j) * z[o_s1 + j];
                    row2.insert(row2.end(), {z[o_U2 + i], z[o_vb2 + i], k * vs});
                }
                if (learned)
                    for (std::size_t i = 0; i < n1; ++i)
                        row3.insert(row3.end(), {z[o_UB + i], z[o_vbB + i], feedback_dendrite(z, i)});
            }
            brute_rows.push_back(row1);
            brute_rows.push_back(row2);
            if (learned) brute_rows.push_back(row3);
        } else if (p.order == 2) {
            for (std::size_t qi = 0; qi < R; ++qi) {
                for (std::size_t i = 0; i < W1.size(); ++i) bW1[i] += std::exchange(dW1[qi][i], 0.0);
                for (std::size_t i = 0; i < W2.size(); ++i) bW2[i] += std::exchange(dW2[qi][i], 0.0);
                for (std::size_t i = 0; i < n1; ++i) bb1[i] += std::exchange(db1[qi][i], 0.0);
                for (std::size_t i = 0; i < n2; ++i) bb2[i] += std::exchange(db2[qi][i], 0.0);
                for (std::size_t i = 0; i < bQ.size(); ++i) bQ[i] += std::exchange(dQ[qi][i], 0.0);
                for (std::size_t i = 0; i < n1; ++i) bc[i] += std::exchange(dc[qi][i], 0.0);
            }
        } else if (p.order == 3) {
            const Action& a = actions[p.index];
            if (a.kind == Action::teacher_on || a.kind == Action::teacher_off) {
                g[a.replica] = a.kind == Action::teacher_on ? g_teacher : 0.0;
                y[a.replica] = a.values;
            }
        } else {
            const Emission& e = emissions[p.index];
            double* z = &x[e.replica * per_replica];
            // The rule, from the brute force's own traces, before this emission's trace jumps
            // (they do not enter its own row change).
            const double sign = e.mask == 1 ? 1.0 : e.mask == 2 ? -1.0 : 0.0;
            if (e.population == 3 && sign != 0.0) {
                ++weight_changes;
                const double a = sign * eta_feedback * (fhi - flo) / (r * static_cast<double>(R));
                for (std::size_t m = 0; m < n2; ++m) dQ[e.replica][m * n1 + e.unit] += a * (lo + slope * z[o_u2 + m]);
                dc[e.replica][e.unit] += a;
            } else if (e.population > 0 && sign != 0.0) {
                ++weight_changes;
                const bool out = e.population == 2;
                const double a = sign * (out ? eta_out * slope : eta_hidden) / (r * static_cast<double>(R));
                if (out) {
                    for (std::size_t j = 0; j < n1; ++j) dW2[e.replica][j * n2 + e.unit] += a * z[o_s1 + j];
                    db2[e.replica][e.unit] += a;
                } else {
                    for (std::size_t j = 0; j < n0; ++j) dW1[e.replica][j * n1 + e.unit] += a * z[o_in + j];
                    db1[e.replica][e.unit] += a;
                }
            }
            if (e.population == 0) z[o_in + e.unit] += 1.0 / (r_in * tau_s);
            if (e.population == 1 && (e.mask & 1u)) z[o_s1 + e.unit] += 1.0 / (r * tau_s);
            if (e.population == 2 && (e.mask & 1u)) z[o_u2 + e.unit] += 1.0 / (r * tau_s);
            if (e.population == 2 && (e.mask & 2u)) z[o_v2 + e.unit] += 1.0 / (r * tau_s);
        }
    }
    integrate_to(t_end);
    REQUIRE(weight_changes > 50);
    REQUIRE(brute_rows.size() == rec.rows.size());
    // Samples at 0.5, 1.5, ..., 319.5 ms, one row per probed population each.
    const std::size_t samples = static_cast<std::size_t>(t_end / dt_sample);
    REQUIRE(rec.rows.size() == samples * (n_pop - 1));

    double max_U = 0.0, worst = 0.0;
    std::size_t compared = 0;
    for (std::size_t i = 0; i < rec.rows.size(); ++i) {
        REQUIRE(rec.rows[i].size() == brute_rows[i].size());
        for (std::size_t c = 0; c < rec.rows[i].size(); ++c) {
            max_U = std::max(max_U, std::abs(brute_rows[i][c]));
            worst = std::max(worst, std::abs(rec.rows[i][c] - brute_rows[i][c]));
            ++compared;
        }
    }
    INFO("compared " << compared << " values, max |potential| " << max_U << ", worst error " << worst << ", "
                     << weight_changes << " weight-row changes");
    // U, Vbar and V* of every probed unit of both replicas, in every sample.
    REQUIRE(compared == samples * 3 * R * (n1 + n2 + (learned ? n1 : 0)));
    CHECK(worst < 1e-9 * max_U);
    // The weights, too (the tie: B1 is W2's transpose by construction, bitwise).
    double worst_w = 0.0;
    for (std::size_t i = 0; i < W1.size(); ++i) worst_w = std::max(worst_w, std::abs(M1->w[i] - bW1[i]));
    for (std::size_t i = 0; i < W2.size(); ++i) worst_w = std::max(worst_w, std::abs(M2->w[i] - bW2[i]));
    for (std::size_t i = 0; i < n1; ++i) worst_w = std::max(worst_w, std::abs(hidden->bias()[i] - bb1[i]));
    for (std::size_t i = 0; i < n2; ++i) worst_w = std::max(worst_w, std::abs(output->bias()[i] - bb2[i]));
    if (learned) {
        for (std::size_t i = 0; i < bQ.size(); ++i) worst_w = std::max(worst_w, std::abs(MQ->w[i] - bQ[i]));
        // The feedback population's constant input is c plus the source offset times Q's row sums.
        for (std::size_t i = 0; i < n1; ++i) {
            double row_sum = 0.0;
            for (std::size_t m = 0; m < n2; ++m) row_sum += MQ->w[m * n1 + i];
            worst_w = std::max(worst_w, std::abs(feedback->bias()[i] - lo * row_sum - bc[i]));
        }
    }
    INFO("worst weight error " << worst_w);
    CHECK(worst_w < 1e-9);
    // Learning happened: weights moved well beyond that tolerance.
    double moved = 0.0;
    for (std::size_t i = 0; i < W2.size(); ++i) moved = std::max(moved, std::abs(M2->w[i] - W2[i]));
    CHECK(moved > 1e-3);
    if (learned) {
        double moved_q = 0.0;
        for (std::size_t i = 0; i < Q.size(); ++i) moved_q = std::max(moved_q, std::abs(MQ->w[i] - Q[i]));
        CHECK(moved_q > 1e-3);
    }
}

}  // namespace

TEST_CASE("lag_compensated circuit: event-driven U, Vbar, V* and weights equal a brute-force Odeint integration",
          "[plasticity][circuit]") {
    check_against_brute_force(false);
}

TEST_CASE("learned feedback on the kernel: U, Vbar, V* of every layer and the feedback units, and W, Q, biases, "
          "equal a brute-force Odeint integration",
          "[plasticity][circuit]") {
    check_against_brute_force(true);
}
