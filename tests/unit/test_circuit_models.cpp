// The learning circuit's models against closed forms: pooled_poisson_source fires each unit as a
// Poisson process of rate x_j rate_max (units with x = 0 never), across rate changes; a
// two_channel_unit at rest with a constant bias fires at r_max p(k b) on both channels, which
// agree spike for spike; a two_channel_unit coupled to another one's soma (the learned-feedback
// unit) equals a brute-force Odeint integration of both, through inputs, bias changes and rebases.
#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include <boost/numeric/odeint.hpp>
#include <catch2/catch.hpp>

#include "neurons/pooled_poisson_source.hpp"
#include "neurons/two_channel_unit.hpp"
#include "recording_observer.hpp"

using namespace settle;

TEST_CASE("pooled_poisson_source: unit j fires at x_j rate_max, x = 0 never, through rate changes",
          "[unit][circuit]") {
    constexpr std::uint32_t R = 2;
    const std::vector<double> x1 = {0.0, 0.1, 0.5, 1.0, 0.25}, x2 = {0.8, 0.0, 0.05, 0.3, 0.6};
    Network net;
    auto src = std::make_unique<PooledPoissonSource>("input", 5, R, 200.0);
    PooledPoissonSource* input = src.get();
    for (std::uint32_t r = 0; r < R; ++r) input->set_rates(r, 0.0, r == 0 ? x1 : x2);
    net.add_population(std::move(src));
    Simulator sim(net, 11);
    sim.record_spikes(0);
    testing::RecordingObserver rec;
    const double T = 200000.0;  // ms per phase
    sim.start(0.0);
    sim.advance(T, rec);
    // Swap the two replicas' rates at T.
    input->set_rates(0, T, x2);
    input->set_rates(1, T, x1);
    sim.reschedule(0, 0);
    sim.reschedule(0, 1);
    sim.advance(2 * T, rec);
    std::vector<double> counts(2 * R * 5, 0.0);  // [phase][node]
    for (const auto& s : rec.spikes) counts[(s.t > T ? 10 : 0) + s.node] += 1.0;
    for (int phase = 0; phase < 2; ++phase)
        for (std::uint32_t r = 0; r < R; ++r)
            for (std::size_t j = 0; j < 5; ++j) {
                const std::vector<double>& x = (r == 0) == (phase == 0) ? x1 : x2;
                const double expected = x[j] * 0.2 * T;
                const double n = counts[phase * 10 + r * 5 + j];
                if (x[j] == 0.0) {
                    CHECK(n == 0.0);
                } else {
                    INFO("phase " << phase << " replica " << r << " unit " << j);
                    CHECK(std::abs(n - expected) < 5.0 * std::sqrt(expected));  // Poisson: sd = sqrt(mean)
                }
            }
    // Inter-spike intervals of the pooled stream are exponential: their coefficient of variation is 1.
    std::vector<double> isi;
    double last = -1.0;
    for (const auto& s : rec.spikes)
        if (s.t <= T && s.node < 5) {
            if (last >= 0.0) isi.push_back(s.t - last);
            last = s.t;
        }
    double m = 0.0, v = 0.0;
    for (double d : isi) m += d;
    m /= static_cast<double>(isi.size());
    for (double d : isi) v += (d - m) * (d - m);
    const double cv = std::sqrt(v / static_cast<double>(isi.size() - 1)) / m;
    CHECK(std::abs(cv - 1.0) < 5.0 / std::sqrt(static_cast<double>(isi.size())));
}

TEST_CASE("two_channel_unit: at rest with a constant bias both channels fire at r_max p(k b), spike for spike",
          "[unit][circuit]") {
    TwoChannelUnitParameters p;
    p.rate_max_hz = 400.0;
    p.k = 0.9;
    Network net;
    auto pop = std::make_unique<TwoChannelUnitPopulation>("layer", 3, 1, p);
    const std::vector<double> b = {-1.0, 0.0, 2.0};
    pop->set_bias(b);
    TwoChannelUnitPopulation* unit = pop.get();
    net.add_population(std::move(pop));
    Simulator sim(net, 5);
    sim.record_spikes(0);
    testing::RecordingObserver rec;
    sim.start(0.0);
    // U = Vbar relax to k b with tau = 5 ms; count from 100 ms (20 tau) on.
    const double t0 = 100.0, T = 100000.0;
    sim.advance(t0, rec);
    const std::size_t skip = rec.spikes.size();
    sim.advance(t0 + T, rec);
    std::vector<double> somatic(3, 0.0), prediction(3, 0.0);
    for (std::size_t i = skip; i < rec.spikes.size(); ++i) {
        const auto& s = rec.spikes[i];
        (s.node < 3 ? somatic : prediction)[s.node % 3] += 1.0;
    }
    for (std::size_t i = 0; i < 3; ++i) {
        const double expected = 0.4 * T / (1.0 + std::exp(-p.k * b[i]));
        INFO("unit " << i);
        CHECK(std::abs(somatic[i] - expected) < 5.0 * std::sqrt(expected));
        CHECK(prediction[i] == somatic[i]);
        const auto v = unit->potentials(0, static_cast<node_index>(i), t0 + T);
        CHECK(v.U == v.Vbar);
        CHECK(v.U == Approx(p.k * b[i]).epsilon(1e-12));
    }
}

TEST_CASE("two_channel_unit soma coupling: U follows tau dU/dt = -U + V* + g (U_src - U) exactly, Odeint brute force",
          "[unit][circuit][exact]") {
    // Source: 2 units without teacher, dendritic and nudge inputs. Follower: coupled with g = 1.5,
    // its own dendritic inputs, a bias change. Two replicas with different inputs and rebase times,
    // the follower's rebases at other times than the source's (the general case of the coupling).
    constexpr std::size_t n = 2;
    constexpr std::uint32_t R = 2;
    constexpr double g = 1.5;
    TwoChannelUnitParameters p;
    p.tau_ms = 5.0;
    p.synapse_tau_ms = 20.0;
    p.k = 0.9;
    TwoChannelUnitParameters pf = p;
    pf.emission = TwoChannelUnitParameters::Emission::linear;
    TwoChannelUnitPopulation src("src", n, R, p), fol("fol", n, R, pf);
    src.set_bias({0.3, -0.4});
    fol.set_bias({-0.2, 0.5});
    fol.couple_soma_to(src, g);
    CHECK_THROWS_WITH(src.set_teacher(0, 0.0, 1.0, {0.0, 0.0}), Catch::Contains("coupled"));
    CHECK_THROWS_WITH(fol.set_teacher(0, 0.0, 1.0, {0.0, 0.0}), Catch::Contains("coupling"));
    fol.initialize(3, 0.0);  // before its source: the source's initialize() brings it up to date
    src.initialize(3, 0.0);

    struct Input {
        double t;
        int who;  // 0 src dendrite, 1 src nudge, 2 follower dendrite, 3 src bias, 4 rebase src, 5 rebase follower
        std::uint32_t replica;
        std::size_t unit;
        double amount;
    };
    std::vector<Input> inputs;
    for (int i = 0; i < 120; ++i) {
        const double t = 1.0 + 2.3 * i + 0.4 * std::sin(1.3 * i);
        inputs.push_back({t, i % 3, static_cast<std::uint32_t>(i % 2), static_cast<std::size_t>((i / 2) % n),
                          0.8 * std::cos(0.7 * i)});
    }
    inputs.push_back({90.5, 3, 0, 1, 0.6});
    for (double t = 37.0; t < 280.0; t += 61.0) inputs.push_back({t, 4, 0, 0, 0.0});
    for (double t = 52.0; t < 280.0; t += 47.0) inputs.push_back({t, 5, 1, 0, 0.0});
    for (double t = 80.0; t < 280.0; t += 70.0) inputs.push_back({t, 5, 0, 0, 0.0});
    std::stable_sort(inputs.begin(), inputs.end(), [](const Input& a, const Input& b) { return a.t < b.t; });

    // Brute force per replica and unit: I_d, I_n of the source, I_d of the follower, U_src,
    // Vbar_src, U_fol, Vbar_fol; biases as parameters.
    using state_type = std::vector<double>;
    constexpr std::size_t per = 7;
    state_type x(R * n * per, 0.0);
    std::vector<double> b_src = {0.3, -0.4}, b_fol = {-0.2, 0.5};
    auto rhs = [&](const state_type& z, state_type& d, double) {
        for (std::size_t q = 0; q < R * n; ++q) {
            const std::size_t i = q % n;
            const double* s = &z[q * per];
            double* ds = &d[q * per];
            for (std::size_t m = 0; m < 3; ++m) ds[m] = -s[m] / p.synapse_tau_ms;
            const double vs_src = p.k * (s[0] + b_src[i]), vs_fol = p.k * (s[2] + b_fol[i]);
            ds[3] = (-s[3] + vs_src + s[1]) / p.tau_ms;
            ds[4] = (-s[4] + vs_src) / p.tau_ms;
            ds[5] = (-s[5] + vs_fol + g * (s[3] - s[5])) / p.tau_ms;
            ds[6] = (-s[6] + vs_fol) / p.tau_ms;
        }
    };
    namespace ode = boost::numeric::odeint;
    auto stepper = ode::make_controlled(1e-13, 1e-13, ode::runge_kutta_dopri5<state_type>());
    double now = 0.0, worst = 0.0, largest = 0.0;
    std::size_t compared = 0;
    auto compare_at = [&](double t) {
        if (t > now) ode::integrate_adaptive(stepper, rhs, x, now, t, 1e-3);
        now = t;
        for (std::uint32_t r = 0; r < R; ++r)
            for (std::size_t i = 0; i < n; ++i) {
                const double* s = &x[(r * n + i) * per];
                const auto v = fol.potentials(r, static_cast<node_index>(i), t);
                const auto u = src.potentials(r, static_cast<node_index>(i), t);
                for (const auto& [got, want] : {std::pair{v.U, s[5]}, std::pair{v.Vbar, s[6]}, std::pair{u.U, s[3]}}) {
                    worst = std::max(worst, std::abs(got - want));
                    largest = std::max(largest, std::abs(want));
                    ++compared;
                }
            }
    };
    std::size_t next = 0;
    for (double t = 0.25; t < 300.0; t += 0.5) {
        for (; next < inputs.size() && inputs[next].t <= t; ++next) {
            const Input& in = inputs[next];
            compare_at(in.t);
            double* s = &x[(in.replica * n + in.unit) * per];
            switch (in.who) {
            case 0: src.add_input(TwoChannelUnitPopulation::dendrite, in.replica, in.unit, in.t, in.amount); s[0] += in.amount; break;
            case 1: src.add_input(TwoChannelUnitPopulation::nudge, in.replica, in.unit, in.t, in.amount); s[1] += in.amount; break;
            case 2: fol.add_input(TwoChannelUnitPopulation::dendrite, in.replica, in.unit, in.t, in.amount); s[2] += in.amount; break;
            case 3: src.add_constant(TwoChannelUnitPopulation::dendrite, in.unit, in.t, in.amount); b_src[in.unit] += in.amount; break;
            case 4: src.rebase(in.replica, in.t); break;
            default: fol.rebase(in.replica, in.t); break;
            }
        }
        compare_at(t);
    }
    INFO("compared " << compared << " values, largest |U| " << largest << ", worst error " << worst);
    // U, Vbar of the follower and U of the source, every unit and replica: at each of the 600
    // sample times and just before each input.
    REQUIRE(compared == (600 + inputs.size()) * R * n * 3);
    REQUIRE(largest > 0.3);
    CHECK(worst < 1e-9 * largest);
    // The coupling acts: the follower's U and Vbar differ (its prediction is not nudged).
    const auto v = fol.potentials(0, 0, 299.75);
    CHECK(std::abs(v.U - v.Vbar) > 1e-3);
}

TEST_CASE("two_channel_unit: deferred matrix columns give the same coefficients, bit for bit, as immediate adds",
          "[unit][circuit]") {
    // Two populations receive the same columns at the same times, one through add_column (applied
    // at once) and one through add_matrix_column (deferred up to a commit). Reads between the adds,
    // a bias change, a rebase, a teacher switch and nudge inputs force every path that must take the
    // pending columns into account. Any difference in a single bit would show.
    constexpr std::size_t n = 13, cols = 7;  // 13 units: one register block of 8 and a scalar tail
    constexpr std::uint32_t R = 2;
    std::vector<double> W(n * cols);
    for (std::size_t i = 0; i < W.size(); ++i) W[i] = std::sin(1.7 * static_cast<double>(i) + 0.3);
    TwoChannelUnitParameters p;
    TwoChannelUnitPopulation now("now", n, R, p), later("later", n, R, p);
    for (auto* pop : {&now, &later}) pop->initialize(5, 0.0);
    std::size_t compared = 0;
    auto same = [&](double t) {
        for (std::uint32_t r = 0; r < R; ++r)
            for (node_index j = 0; j < n; ++j) {
                const auto a = now.potentials(r, j, t), b = later.potentials(r, j, t);
                INFO("replica " << r << " unit " << j << " at " << t << " ms");
                REQUIRE(a.U == b.U);
                REQUIRE(a.Vbar == b.Vbar);
                REQUIRE(a.Vstar == b.Vstar);
                REQUIRE(now.receptor_input(TwoChannelUnitPopulation::dendrite, r, j, t) ==
                        later.receptor_input(TwoChannelUnitPopulation::dendrite, r, j, t));
                ++compared;
            }
    };
    double t = 0.0;
    for (int k = 0; k < 60; ++k) {
        t += 0.37;
        const std::uint32_t r = static_cast<std::uint32_t>(k % R);
        const double* column = &W[static_cast<std::size_t>(k % cols) * n];
        now.add_column(TwoChannelUnitPopulation::dendrite, r, t, column, 1, 1.0 + 0.1 * k);
        later.add_matrix_column(TwoChannelUnitPopulation::dendrite, r, t, column, 1, 1.0 + 0.1 * k);
        if (k % 3 == 0) same(t + 0.1);  // reads with columns pending
        if (k == 20)
            for (auto* pop : {&now, &later}) pop->add_constant(TwoChannelUnitPopulation::dendrite, 4, t, 0.5);
        if (k == 30)
            for (auto* pop : {&now, &later}) pop->rebase(1, t);
        if (k == 40)  // a teacher on replica 0: its columns are applied at once from here on
            for (auto* pop : {&now, &later}) pop->set_teacher(0, t, 0.3, std::vector<double>(n, 0.7));
        if (k % 7 == 0)
            for (auto* pop : {&now, &later}) pop->add_input(TwoChannelUnitPopulation::nudge, r, 2, t, -0.2);
    }
    same(t + 0.2);
    later.commit_inputs();
    same(t + 0.3);
    CHECK(compared == 22 * R * n);
}

TEST_CASE("two_channel_unit, tau_s equal to tau or not: U, Vbar and V* equal a brute-force Odeint integration",
          "[unit][circuit]") {
    // Inputs on both receptors, a bias change, a teacher switched on and off in one replica, and
    // rebases: the closed form (with its own shape for tau_s = tau) against the ODEs
    //   tau_s dI/dt = -I (+ inputs),  tau dVbar/dt = -Vbar + k (I_d + b),
    //   tau dU/dt = -U + k (I_d + b) + I_n + g (y - U).
    const double tau_s = GENERATE(5.0, 20.0);
    INFO("tau_s " << tau_s << " ms, tau 5 ms");
    constexpr std::size_t n = 3;
    constexpr std::uint32_t R = 2;
    TwoChannelUnitParameters p;
    p.tau_ms = 5.0;
    p.synapse_tau_ms = tau_s;
    p.k = 0.9;
    TwoChannelUnitPopulation pop("u", n, R, p);
    pop.set_bias({0.2, -0.1, 0.4});
    pop.initialize(3, 0.0);
    const std::vector<double> column = {1.3, -0.7, 0.5}, y = {0.8, -0.5, 1.1};
    const double g_teacher = 0.7;
    // Brute-force state per replica: I_d, I_n, Vbar, U for each unit; biases shared; the rest state
    // is U = Vbar = 0 with the biases switched on at 0 (as initialize() has it).
    using State = std::vector<double>;
    std::vector<double> b = {0.2, -0.1, 0.4};
    std::vector<State> z(R, State(4 * n, 0.0));
    std::vector<double> g(R, 0.0);
    auto integrate = [&](double t0, double t1) {
        if (t1 <= t0) return;
        for (std::uint32_t r = 0; r < R; ++r) {
            auto rhs = [&](const State& x, State& dx, double) {
                for (std::size_t i = 0; i < n; ++i) {
                    const double Id = x[i], In = x[n + i], Vb = x[2 * n + i], U = x[3 * n + i];
                    dx[i] = -Id / tau_s;
                    dx[n + i] = -In / tau_s;
                    dx[2 * n + i] = (-Vb + p.k * (Id + b[i])) / p.tau_ms;
                    dx[3 * n + i] = (-U + p.k * (Id + b[i]) + In + g[r] * (y[i] - U)) / p.tau_ms;
                }
            };
            boost::numeric::odeint::integrate_adaptive(
                boost::numeric::odeint::make_controlled<boost::numeric::odeint::runge_kutta_dopri5<State>>(1e-13, 1e-13),
                rhs, z[r], t0, t1, 0.01);
        }
    };
    double t = 0.0, largest = 0.0, worst = 0.0;
    std::size_t compared = 0, samples = 0;
    auto advance_to = [&](double t1) {
        // Compare every 0.25 ms on the way.
        while (t + 0.25 <= t1) {
            integrate(t, t + 0.25);
            t += 0.25;
            ++samples;
            for (std::uint32_t r = 0; r < R; ++r)
                for (std::size_t i = 0; i < n; ++i) {
                    const auto v = pop.potentials(r, static_cast<node_index>(i), t);
                    const double Vstar = p.k * (z[r][i] + b[i]);
                    for (auto [model, ref] : {std::pair{v.U, z[r][3 * n + i]}, std::pair{v.Vbar, z[r][2 * n + i]},
                                              std::pair{v.Vstar, Vstar}}) {
                        worst = std::max(worst, std::abs(model - ref));
                        largest = std::max(largest, std::abs(ref));
                        ++compared;
                    }
                }
        }
        integrate(t, t1);
        t = t1;
    };
    for (int step = 1; step <= 24; ++step) {
        advance_to(5.0 * step - 0.3);
        const std::uint32_t r = static_cast<std::uint32_t>(step % R);
        const double gain = 0.8 + 0.05 * step;
        pop.add_column(TwoChannelUnitPopulation::dendrite, r, t, column.data(), 1, gain);
        for (std::size_t i = 0; i < n; ++i) z[r][i] += gain * column[i];
        if (step % 3 == 0) {
            pop.add_input(TwoChannelUnitPopulation::nudge, r, 1, t, -0.6);
            z[r][n + 1] += -0.6;
        }
        if (step == 7) {
            pop.add_constant(TwoChannelUnitPopulation::dendrite, 2, t, 0.3);
            b[2] += 0.3;
        }
        if (step == 6 || step == 15) {
            const double on = step == 6 ? g_teacher : 0.0;
            pop.set_teacher(0, t, on, y);
            g[0] = on;
        }
        if (step % 8 == 0)
            for (std::uint32_t q = 0; q < R; ++q) pop.rebase(q, t);
    }
    advance_to(125.0);
    INFO("compared " << compared << " values, largest " << largest << ", worst error " << worst);
    REQUIRE(samples > 480);  // every 0.25 ms up to 125 ms, restarting after each of the 24 events
    REQUIRE(compared == samples * R * n * 3);
    REQUIRE(largest > 0.5);
    CHECK(worst < 1e-9 * largest);
}
