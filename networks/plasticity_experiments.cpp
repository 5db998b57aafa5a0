// The two plasticity experiments (docs/config.md, "Plasticity"; docs/science.md, sections 1 and 2):
//  - urbanczik_senn: Urbanczik & Senn (2014) Fig. 1 as NEST's urbanczik_synapse_example runs it;
//    metric: RMS of V*_w - U_M per pattern repetition (the learning curve), with and without
//    learning in the same command.
//  - stdp_window: spike pairs swept over t_post - t_pre under the pre x d/dt post rule and under
//    pair STDP; output: the windows dw(dt), the pair-STDP one checked against its closed form.
#include "networks/plasticity_experiments.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

#include "neurons/conductance_signal.hpp"
#include "neurons/spike_train_source.hpp"
#include "neurons/urbanczik_senn_neuron.hpp"
#include "plasticity/dendritic_prediction_rule.hpp"
#include "plasticity/pair_stdp_rule.hpp"
#include "plasticity/pre_post_derivative_rule.hpp"

namespace settle {

namespace {

struct NullObserver final : RunObserver {
    void on_spike(std::size_t, node_index, time_ms) override {}
    void on_sample(std::size_t, std::uint64_t, time_ms, const std::vector<double>&) override {}
};

double mean(const std::vector<double>& v, std::size_t from, std::size_t to) {
    to = std::min(to, v.size());
    if (from >= to) return NAN;
    return std::accumulate(v.begin() + static_cast<long>(from), v.begin() + static_cast<long>(to), 0.0) /
           static_cast<double>(to - from);
}

// ---------------------------------------------------------------------------------------------
class UrbanczikSennExperiment final : public Experiment {
public:
    UrbanczikSennExperiment(ConfigTable& root, std::uint64_t) {
        auto pr = root.table("protocol");
        if (pr) {
            ConfigTable& t = *pr;
            n_inputs_ = static_cast<std::size_t>(require_positive(t, "n_inputs", static_cast<double>(t.get_int("n_inputs", 200))));
            rate_hz_ = require_non_negative(t, "rate_hz", t.get_double("rate_hz", rate_hz_));
            pattern_ms_ = require_positive(t, "pattern_ms", t.get_double("pattern_ms", pattern_ms_));
            // The frozen pattern is drawn in full before the run: rate x period spikes per input.
            require_fits_in_memory(t, "rate_hz", rate_hz_ * 1e-3 * pattern_ms_ * static_cast<double>(n_inputs_), 16.0,
                                   "pattern spikes");
            repetitions_ = static_cast<std::size_t>(require_positive(t, "repetitions", static_cast<double>(t.get_int("repetitions", 100))));
            lead_ = static_cast<std::size_t>(require_non_negative(t, "lead_repetitions", static_cast<double>(t.get_int("lead_repetitions", 2))));
            tail_ = static_cast<std::size_t>(require_non_negative(t, "tail_repetitions", static_cast<double>(t.get_int("tail_repetitions", 2))));
            exc_mean_ = t.get_double("exc_increment_mean_nS", exc_mean_);
            exc_amp_ = t.get_double("exc_increment_amplitude_nS", exc_amp_);
            exc_period_ = require_positive(t, "exc_period_ms", t.get_double("exc_period_ms", exc_period_));
            inh_ = require_non_negative(t, "inh_increment_nS", t.get_double("inh_increment_nS", inh_));
            inc_dt_ = require_positive(t, "increment_interval_ms", t.get_double("increment_interval_ms", inc_dt_));
            inc_tau_ = require_positive(t, "increment_tau_ms", t.get_double("increment_tau_ms", inc_tau_));
            delay_ = require_non_negative(t, "delay_ms", t.get_double("delay_ms", delay_));
            w_init_ = t.get_double("w_init", w_init_);
            sample_dt_ = require_positive(t, "sample_dt_ms", t.get_double("sample_dt_ms", sample_dt_));
            control_ = t.get_bool("control", control_);
            if (exc_mean_ < std::abs(exc_amp_)) t.fail("exc_increment_amplitude_nS", "conductance must stay >= 0");
            t.finish();
        }
        if (auto pl = root.table("plasticity")) {
            ConfigTable& t = *pl;
            rule_.eta = t.get_double("eta", 0.17);
            rule_.tau_Delta = t.get_double("tau_Delta", 100.0);
            rule_.w_min = t.get_double("w_min", 0.0);
            rule_.w_max = t.get_double("w_max", 1350.0);
            rule_.nest_convention = t.get_choice("convention", "nest", {"nest", "plain"}) == "nest";
            rule_.quad_rel_tol = t.get_double("quad_rel_tol", rule_.quad_rel_tol);
            try {
                rule_.validate(neuron_.tau_L());
            } catch (const std::invalid_argument& e) {
                t.fail("eta", e.what());
            }
            t.finish();
        } else {
            rule_.eta = 0.17;
            rule_.w_max = 1350.0;
        }
        if (auto np = root.table("neuron")) {
            for (const auto& info : UrbanczikSennParameters::table())
                neuron_.*(info.field) = np->get_double(info.name, neuron_.*(info.field));
            np->finish();
            try {
                neuron_.validate();
            } catch (const std::invalid_argument& e) {
                np->fail("C_m_s", e.what());
            }
        }
    }

    std::string describe() const override {
        return "Urbanczik-Senn Fig. 1: " + std::to_string(n_inputs_) + " inputs, " + std::to_string(repetitions_) +
               " teacher repetitions of " + std::to_string(pattern_ms_) + " ms, eta " + std::to_string(rule_.eta) +
               (control_ ? ", with learning-off control" : "");
    }

    struct Built {
        std::unique_ptr<Network> net = std::make_unique<Network>();
        std::shared_ptr<const ConductanceSignal> g_E, g_I;
        DendriticPredictionRule* rule = nullptr;
    };

    Built build(double eta) const {
        Built b;
        const double total = static_cast<double>(lead_ + repetitions_ + tail_);
        SpikeRepetition rep{0.0, pattern_ms_, static_cast<std::uint64_t>(total)};
        b.net->add_population(SpikeTrainSource::frozen_poisson("inputs", n_inputs_, rate_hz_, rep));
        // NEST's example: increments every inc_dt decaying with inc_tau, i.e. a conductance of
        // increment / (1 - exp(-inc_dt / inc_tau)) right after each increment; modelled continuous.
        const double f = 1.0 / (-std::expm1(-inc_dt_ / inc_tau_));
        const double t0 = static_cast<double>(lead_) * pattern_ms_, t1 = t0 + static_cast<double>(repetitions_) * pattern_ms_;
        // NEST's sinusoid is sin(2 pi t / period) in absolute time.
        const double phase = 2.0 * M_PI * std::fmod(t0, exc_period_) / exc_period_;
        b.g_E = std::make_shared<SinusoidConductance>(f * exc_mean_, f * exc_amp_, exc_period_, phase, t0, t1);
        b.g_I = std::make_shared<SinusoidConductance>(f * inh_, 0.0, exc_period_, 0.0, t0, t1);
        b.net->add_population(std::make_unique<UrbanczikSennPopulation>("neuron", 1, neuron_, b.g_E, b.g_I));
        std::vector<Connection> cons;
        for (node_index i = 0; i < n_inputs_; ++i) cons.push_back({i, 0, w_init_, delay_});
        auto proj = std::make_unique<Projection>("inputs->neuron", 0, 1, UrbanczikSennPopulation::dendrite, std::move(cons), n_inputs_);
        DendriticPredictionParameters p = rule_;
        p.eta = eta;
        auto rule = std::make_unique<DendriticPredictionRule>(p);
        b.rule = rule.get();
        proj->set_rule(std::move(rule));
        b.net->add_projection(std::move(proj));
        return b;
    }

    // Per repetition RMS of V*_w - U_M over the teacher window, from V* samples.
    class CurveObserver final : public RunObserver {
    public:
        CurveObserver(const UrbanczikSennExperiment& x, const Built& b) : x_(x), b_(b) {
            sum_.assign(x.repetitions_, 0.0);
            count_.assign(x.repetitions_, 0);
            const std::size_t per = static_cast<std::size_t>(std::llround(x.pattern_ms_ / x.sample_dt_));
            first_v_.reserve(per);
        }
        void on_spike(std::size_t, node_index, time_ms) override {}
        void on_sample(std::size_t, std::uint64_t, time_ms t, const std::vector<double>& row) override {
            const double t0 = static_cast<double>(x_.lead_) * x_.pattern_ms_;
            const double rel = t - t0;
            if (rel < 0.0) return;
            const auto r = static_cast<std::size_t>(std::floor(rel / x_.pattern_ms_ + 1e-9));
            if (r >= x_.repetitions_) return;
            const double gE = b_.g_E->value(0, t), gI = b_.g_I->value(0, t);
            const double um = (gE * x_.neuron_.E_ex + gI * x_.neuron_.E_in) / (gE + gI);
            const double d = row[0] - um;
            sum_[r] += d * d;
            ++count_[r];
            if (r == 0) {
                first_v_.push_back(row[0]);
                u_m_.push_back(um);
            }
            if (r + 1 == x_.repetitions_) last_v_.push_back(row[0]);
        }
        std::vector<double> curve() const {
            std::vector<double> c(sum_.size());
            for (std::size_t i = 0; i < c.size(); ++i) c[i] = count_[i] ? std::sqrt(sum_[i] / static_cast<double>(count_[i])) : NAN;
            return c;
        }
        std::vector<double> first_v_, last_v_, u_m_;

    private:
        const UrbanczikSennExperiment& x_;
        const Built& b_;
        std::vector<double> sum_;
        std::vector<std::size_t> count_;
    };

    StateProbe probe() const {
        StateProbe pr;
        pr.population = 1;
        pr.nodes = {0};
        pr.element_ids = {UrbanczikSennPopulation::V_star};
        pr.dt = sample_dt_;
        pr.start = static_cast<double>(lead_) * pattern_ms_;
        return pr;
    }

    nlohmann::json run(const ExperimentContext& ctx) override {
        const double duration = static_cast<double>(lead_ + repetitions_ + tail_) * pattern_ms_;
        Built b = build(rule_.eta);
        Simulator sim(*b.net, ctx.seed);
        // The inputs' spikes are written too (about 45,000 for the default 104 repetitions), so a
        // raster shows the frozen pattern the neuron learns to answer.
        sim.record_spikes(0);
        sim.record_spikes(1);
        sim.add_probe(probe());
        ReportSpec spec{"neuron", {0}, {UrbanczikSennPopulation::V_star}, {"V_star"}, {"mV"}, probe().start, sample_dt_};
        SonataWriter writer(ctx.out_path, ctx.force, {"inputs", "neuron"}, {spec}, RunMetadata{ctx.config_toml, ctx.seed, duration},
                            ctx.flush_interval_s);
        CurveObserver curve(*this, b);
        TimedRun r = run_with_progress(sim, 0.0, duration, writer, ctx, &curve);

        InMemoryResults results;
        const auto lc = curve.curve();
        results.metric_series("learning_curve_mV", lc);
        results.metric("first10_mean_mV", mean(lc, 0, 10));
        results.metric("last10_mean_mV", mean(lc, lc.size() >= 10 ? lc.size() - 10 : 0, lc.size()));
        results.metric("last10_over_first10", mean(lc, lc.size() >= 10 ? lc.size() - 10 : 0, lc.size()) / mean(lc, 0, 10));
        results.metric("effective_eta", b.rule->effective_eta());
        results.metric("synapse_updates", static_cast<double>(b.rule->synapse_updates()));
        results.array("V_star_first_repetition_mV", 1, curve.first_v_.size(), curve.first_v_);
        results.array("V_star_last_repetition_mV", 1, curve.last_v_.size(), curve.last_v_);
        results.array("U_M_mV", 1, curve.u_m_.size(), curve.u_m_);
        if (control_ && !r.stats.interrupted) {
            Built c = build(0.0);
            Simulator csim(*c.net, ctx.seed);
            csim.add_probe(probe());
            CurveObserver ccurve(*this, c);
            const auto t_start = std::chrono::steady_clock::now();
            csim.run(0.0, duration, ccurve, ctx.stop);
            r.wall_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
            const auto lc0 = ccurve.curve();
            results.metric_series("learning_curve_mV_no_plasticity", lc0);
            results.metric("first10_mean_mV_no_plasticity", mean(lc0, 0, 10));
            results.metric("last10_mean_mV_no_plasticity", mean(lc0, lc0.size() >= 10 ? lc0.size() - 10 : 0, lc0.size()));
        }
        nlohmann::json extra;
        extra["experiment"] = "urbanczik_senn";
        return finish_output(writer, b.net.get(), r.stats, results, r.wall_seconds, ctx, extra);
    }

private:
    friend class CurveObserver;
    std::size_t n_inputs_ = 200;
    double rate_hz_ = 10.0, pattern_ms_ = 200.0;
    std::size_t repetitions_ = 100, lead_ = 2, tail_ = 2;
    double exc_mean_ = 5.4, exc_amp_ = 4.8, exc_period_ = 100.0, inh_ = 18.0;
    double inc_dt_ = 0.1, inc_tau_ = 3.0, delay_ = 0.1, w_init_ = 90.0, sample_dt_ = 0.1;
    bool control_ = true;
    DendriticPredictionParameters rule_;
    UrbanczikSennParameters neuron_ = UrbanczikSennParameters::nest();
};

// ---------------------------------------------------------------------------------------------
// A population that spikes at given times and accepts (ignores) any input: the "post" side of a
// spike-pairing protocol, whose spikes are imposed.
class ImposedSpikes final : public Population {
public:
    ImposedSpikes(std::string name, std::vector<std::vector<time_ms>> times)
        : Population(std::move(name), times.size()), times_(std::move(times)), cursor_(times_.size(), 0) {
        for (auto& v : times_) std::sort(v.begin(), v.end());
    }
    std::string model() const override { return "imposed_spikes"; }
    void initialize(std::uint64_t, time_ms) override { std::fill(cursor_.begin(), cursor_.end(), 0); }
    std::vector<std::string> receptors() const override { return {"none"}; }
    void receive(node_index, time_ms, double, int) override {}
    time_ms next_candidate(node_index n) const override {
        return cursor_[n] < times_[n].size() ? times_[n][cursor_[n]] : never;
    }
    bool resolve_candidate(node_index n, time_ms) override {
        ++cursor_[n];
        return true;
    }

private:
    std::vector<std::vector<time_ms>> times_;
    std::vector<std::size_t> cursor_;
};

class StdpWindowExperiment final : public Experiment {
public:
    StdpWindowExperiment(ConfigTable& root, std::uint64_t) {
        if (auto pr = root.table("protocol")) {
            ConfigTable& t = *pr;
            dt_min_ = t.get_double("dt_min_ms", dt_min_);
            dt_max_ = t.get_double("dt_max_ms", dt_max_);
            dt_step_ = require_positive(t, "dt_step_ms", t.get_double("dt_step_ms", dt_step_));
            repetitions_ = static_cast<std::size_t>(require_positive(t, "repetitions", static_cast<double>(t.get_int("repetitions", 20))));
            period_ = require_positive(t, "pairing_interval_ms", t.get_double("pairing_interval_ms", period_));
            if (!(dt_max_ >= dt_min_)) t.fail("dt_max_ms", "must be >= dt_min_ms");
            if (!(period_ > 2.0 * std::max(std::abs(dt_min_), std::abs(dt_max_))))
                t.fail("pairing_interval_ms", "must exceed twice the largest |dt|");
            t.finish();
        }
        if (auto pp = root.table("pre_post_derivative")) {
            ConfigTable& t = *pp;
            ppd_.eta = t.get_double("eta", ppd_.eta);
            ppd_.tau_pre = require_positive(t, "tau_pre", t.get_double("tau_pre", ppd_.tau_pre));
            ppd_.tau_post = require_positive(t, "tau_post", t.get_double("tau_post", ppd_.tau_post));
            t.finish();
        }
        if (auto ps = root.table("pair_stdp")) {
            ConfigTable& t = *ps;
            stdp_.eta = t.get_double("eta", stdp_.eta);
            stdp_.A_plus = require_non_negative(t, "A_plus", t.get_double("A_plus", stdp_.A_plus));
            stdp_.A_minus = require_non_negative(t, "A_minus", t.get_double("A_minus", stdp_.A_minus));
            stdp_.tau_plus = require_positive(t, "tau_plus", t.get_double("tau_plus", stdp_.tau_plus));
            stdp_.tau_minus = require_positive(t, "tau_minus", t.get_double("tau_minus", stdp_.tau_minus));
            t.finish();
        }
        ppd_.pre = PrePostDerivativeParameters::Pre::trace;
        ppd_.post = PrePostDerivativeParameters::Post::trace;
        stdp_.w_min = -1e300;
        stdp_.w_max = 1e300;
        // Everything the rules check at construction is checked here, named, before any file exists.
        try {
            ppd_.validate();
        } catch (const std::invalid_argument& e) {
            root.fail("pre_post_derivative", e.what());
        }
        try {
            stdp_.validate();
        } catch (const std::invalid_argument& e) {
            root.fail("pair_stdp", e.what());
        }
        const auto n = static_cast<std::size_t>(std::floor((dt_max_ - dt_min_) / dt_step_ + 1e-9)) + 1;
        for (std::size_t i = 0; i < n; ++i) dts_.push_back(dt_min_ + static_cast<double>(i) * dt_step_);
    }

    std::string describe() const override {
        return "STDP window: " + std::to_string(dts_.size()) + " values of t_post - t_pre, " + std::to_string(repetitions_) +
               " pairings each";
    }

    // Closed-form pair kernels (see the rules' headers).
    double pair_stdp_kernel(double d) const {
        return d >= 0.0 ? stdp_.eta * stdp_.A_plus * std::exp(-d / stdp_.tau_plus)
                        : -stdp_.eta * stdp_.A_minus * std::exp(d / stdp_.tau_minus);
    }
    double pre_post_kernel(double d) const {
        const double tx = ppd_.tau_pre, ty = ppd_.tau_post, c = ppd_.eta / (tx * ty * (tx + ty));
        return d >= 0.0 ? c * ty * std::exp(-d / tx) : -c * tx * std::exp(d / ty);
    }

    nlohmann::json run(const ExperimentContext& ctx) override {
        const double offset = std::max(std::abs(dt_min_), std::abs(dt_max_)) + 10.0;
        std::vector<std::vector<time_ms>> pre(dts_.size()), post(dts_.size());
        for (std::size_t i = 0; i < dts_.size(); ++i)
            for (std::size_t k = 0; k < repetitions_; ++k) {
                const double c = offset + static_cast<double>(k) * period_;
                pre[i].push_back(c);
                post[i].push_back(c + dts_[i]);
            }
        const double duration = offset + static_cast<double>(repetitions_) * period_;
        Network net;
        net.add_population(SpikeTrainSource::explicit_times("pre", pre));
        net.add_population(std::make_unique<ImposedSpikes>("post", post));
        auto one_to_one = [&] {
            std::vector<Connection> cons;
            for (node_index i = 0; i < dts_.size(); ++i) cons.push_back({i, i, 0.0, 0.0});
            return cons;
        };
        auto p1 = std::make_unique<Projection>("pre_post_derivative", 0, 1, 0, one_to_one(), dts_.size());
        p1->set_rule(std::make_unique<PrePostDerivativeRule>(ppd_));
        auto p2 = std::make_unique<Projection>("pair_stdp", 0, 1, 0, one_to_one(), dts_.size());
        p2->set_rule(std::make_unique<PairStdpRule>(stdp_));
        net.add_projection(std::move(p1));
        net.add_projection(std::move(p2));
        Simulator sim(net, ctx.seed);
        sim.record_spikes(0);
        sim.record_spikes(1);
        SonataWriter writer(ctx.out_path, ctx.force, {"pre", "post"}, {}, RunMetadata{ctx.config_toml, ctx.seed, duration},
                            ctx.flush_interval_s);
        const TimedRun r = run_with_progress(sim, 0.0, duration, writer, ctx);

        // Windows per pairing, and their closed forms summed over every pre/post pair of the run.
        const double R = static_cast<double>(repetitions_);
        std::vector<double> dw(dts_.size()), dw_pair(dts_.size()), dw_ana(dts_.size()), dw_pair_ana(dts_.size());
        double err_ppd = 0.0, err_pair = 0.0, scale_ppd = 0.0, scale_pair = 0.0;
        for (std::size_t i = 0; i < dts_.size(); ++i) {
            dw[i] = net.projection(0).weight(i) / R;
            dw_pair[i] = net.projection(1).weight(i) / R;
            double a = 0.0, b = 0.0;
            for (double tp : pre[i])
                for (double tq : post[i]) {
                    a += pre_post_kernel(tq - tp);
                    b += pair_stdp_kernel(tq - tp);
                }
            dw_ana[i] = a / R;
            dw_pair_ana[i] = b / R;
            scale_ppd = std::max(scale_ppd, std::abs(dw_ana[i]));
            scale_pair = std::max(scale_pair, std::abs(dw_pair_ana[i]));
        }
        for (std::size_t i = 0; i < dts_.size(); ++i) {
            err_ppd = std::max(err_ppd, std::abs(dw[i] - dw_ana[i]) / scale_ppd);
            err_pair = std::max(err_pair, std::abs(dw_pair[i] - dw_pair_ana[i]) / scale_pair);
        }
        const auto peak = std::max_element(dw.begin(), dw.end()) - dw.begin();
        const auto trough = std::min_element(dw.begin(), dw.end()) - dw.begin();
        InMemoryResults results;
        results.metric_series("window_dt_ms", dts_);
        results.metric_series("window_dw", dw);
        results.metric_series("window_dw_analytic", dw_ana);
        results.metric_series("window_dw_pair_stdp", dw_pair);
        results.metric_series("window_dw_pair_stdp_analytic", dw_pair_ana);
        results.metric("window_max_rel_error", err_ppd);
        results.metric("pair_stdp_max_rel_error", err_pair);
        results.metric("peak_dt_ms", dts_[static_cast<std::size_t>(peak)]);
        results.metric("peak_dw", dw[static_cast<std::size_t>(peak)]);
        results.metric("trough_dt_ms", dts_[static_cast<std::size_t>(trough)]);
        results.metric("trough_dw", dw[static_cast<std::size_t>(trough)]);
        results.metric("dw_at_dt_max_over_peak", dw.back() / dw[static_cast<std::size_t>(peak)]);
        results.metric("dw_at_dt_min_over_trough", dw.front() / dw[static_cast<std::size_t>(trough)]);
        nlohmann::json extra;
        extra["experiment"] = "stdp_window";
        return finish_output(writer, &net, r.stats, results, r.wall_seconds, ctx, extra);
    }

private:
    double dt_min_ = -100.0, dt_max_ = 100.0, dt_step_ = 2.0, period_ = 500.0;
    std::size_t repetitions_ = 20;
    std::vector<double> dts_;
    PrePostDerivativeParameters ppd_;
    PairStdpParameters stdp_;
};

}  // namespace

std::unique_ptr<Experiment> make_urbanczik_senn_experiment(ConfigTable& root, std::uint64_t seed) {
    return std::make_unique<UrbanczikSennExperiment>(root, seed);
}

std::unique_ptr<Experiment> make_stdp_window_experiment(ConfigTable& root, std::uint64_t seed) {
    return std::make_unique<StdpWindowExperiment>(root, seed);
}

}  // namespace settle
