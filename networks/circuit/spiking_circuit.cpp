#include "networks/circuit/spiking_circuit.hpp"

#include <algorithm>
#include <cmath>

#include "networks/circuit/circuit_statistics.hpp"
#include "networks/circuit/membrane.hpp"

namespace settle::circuit {

void SpikingCircuit::State::reset_counts() {
    for (auto& c : countU) c.setZero();
    for (auto& c : countV) c.setZero();
}

SpikingCircuit::SpikingCircuit(const CircuitConfig& config, std::uint64_t seed)
    : config_(config),
      w_(initial_weights(config, seed)),
      B_(initial_feedback(config, seed)),
      eta_hidden_(config.eta_hidden),
      eta_out_(config.eta_out),
      eta_feedback_(config.eta_feedback),
      seed_(seed) {
    for (const auto& B : B_) {
        c_.push_back(Eigen::VectorXd::Zero(B.rows()));
        if (config_.nudge == Nudge::lateral) {
            P_.push_back(Eigen::MatrixXd::Zero(B.rows(), B.rows()));
            d_.push_back(Eigen::VectorXd::Zero(B.rows()));
        }
    }
}

std::vector<double> SpikingCircuit::reconstruction_error(const Eigen::MatrixXd& x) const {
    if (config_.feedback != Feedback::learned) return {};
    return feedback_reconstruction_error(w_, config_.k(), B_, c_, x);
}

double SpikingCircuit::feedback_acceptance(double U) const {
    return std::clamp((U - config_.feedback_lo) / config_.feedback_span(), 0.0, 1.0);
}

double SpikingCircuit::interneuron_acceptance(double U) const {
    return std::clamp((U - config_.interneuron_lo) / config_.interneuron_span(), 0.0, 1.0);
}

void SpikingCircuit::compute_nudge(const State& s, std::size_t i, Eigen::MatrixXd& I, Eigen::MatrixXd* eI,
                                   Eigen::MatrixXd& work) const {
    const double k = config_.k();
    const bool symmetric = config_.feedback == Feedback::symmetric;
    if (config_.nudge == Nudge::lateral) {
        // k G a(s^U_{l+1}) minus the interneurons' decoded output.
        work = decode(static_cast<int>(i + 1), s.sU[i + 1]);
        if (symmetric)
            I.noalias() = w_.W[i + 1].transpose() * work;
        else
            I.noalias() = B_[i] * work;
        I = k * I - (config_.interneuron_lo + config_.interneuron_span() * s.sI[i].array()).matrix();
        if (eI) *eI = I;
        I *= config_.lambda;
        return;
    }
    // decode is affine, so the difference of the decoded channels is decode's slope times the
    // difference of the traces: exactly zero when the two channels carried the same spikes.
    const double slope = i + 2 == static_cast<std::size_t>(w_.layers()) ? config_.output_span() : 1.0;
    work = slope * (s.sU[i + 1] - s.sV[i + 1]);
    if (symmetric)
        I.noalias() = w_.W[i + 1].transpose() * work;
    else
        I.noalias() = B_[i] * work;
    I *= config_.lambda * k;
}

std::vector<Eigen::MatrixXd> SpikingCircuit::hidden_nudges(const State& s) const {
    std::vector<Eigen::MatrixXd> out(static_cast<std::size_t>(w_.layers() - 1));
    Eigen::MatrixXd work;
    for (std::size_t i = 0; i < out.size(); ++i) compute_nudge(s, i, out[i], nullptr, work);
    return out;
}

Eigen::MatrixXd SpikingCircuit::feedback_matrix(int i) const {
    if (config_.feedback == Feedback::symmetric) return w_.W[static_cast<std::size_t>(i + 1)].transpose();
    return B_[static_cast<std::size_t>(i)];
}

double SpikingCircuit::acceptance(int i, double U) const {
    if (i + 1 < w_.layers()) return 1.0 / (1.0 + std::exp(-U));  // logistic, as the rate mode's phi
    return std::clamp((U - config_.output_lo) / config_.output_span(), 0.0, 1.0);
}

Eigen::MatrixXd SpikingCircuit::decode(int i, const Eigen::MatrixXd& s) const {
    if (i + 1 < w_.layers()) return s;
    return (config_.output_lo + config_.output_span() * s.array()).matrix();
}

SpikingCircuit::State SpikingCircuit::rest(Eigen::Index columns, const std::string& purpose,
                                           Eigen::Index first_column) const {
    State s;
    const std::vector<int> n = config_.sizes();
    const double rmax = rate_max_per_ms();
    s.s_in = Eigen::MatrixXd::Zero(n[0], columns);
    // One emission stream per column for population `kind` (".L", ".B" or ".I") of layer l, at
    // candidate rate r, and every unit's first candidate time.
    auto emission = [&](const char* kind, std::size_t l, double r, std::vector<std::vector<CounterRng>>& rng,
                        std::vector<Eigen::MatrixXd>& next) {
        const int size = n[l];
        std::vector<CounterRng> rngs;
        Eigen::MatrixXd first(size, columns);
        const std::uint32_t key = stable_key("circuit.spikes." + purpose + kind + std::to_string(l));
        for (Eigen::Index j = 0; j < columns; ++j) {
            rngs.emplace_back(seed_, key, static_cast<std::uint32_t>(first_column + j), StreamKind::emission);
            for (Eigen::Index i = 0; i < size; ++i) first(i, j) = rngs.back().exponential(r);
        }
        rng.push_back(std::move(rngs));
        next.push_back(std::move(first));
    };
    for (std::size_t l = 0; l < n.size(); ++l) {
        emission(".L", l, l == 0 ? input_rate_per_ms() : rmax, s.rng, s.next);
        if (l == 0) continue;
        for (auto* m : {&s.U, &s.Vbar, &s.sU, &s.sV, &s.countU, &s.countV}) m->push_back(Eigen::MatrixXd::Zero(n[l], columns));
    }
    if (config_.feedback == Feedback::learned)
        for (std::size_t l = 1; l + 1 < n.size(); ++l) {
            emission(".B", l, rmax, s.rngB, s.nextB);
            for (auto* m : {&s.UB, &s.VbarB}) m->push_back(Eigen::MatrixXd::Zero(n[l], columns));
        }
    if (config_.nudge == Nudge::lateral)
        for (std::size_t l = 1; l + 1 < n.size(); ++l) {
            emission(".I", l, rmax, s.rngI, s.nextI);
            for (auto* m : {&s.UI, &s.sI}) m->push_back(Eigen::MatrixXd::Zero(n[l], columns));
        }
    return s;
}

void SpikingCircuit::step(State& s, const Eigen::MatrixXd& x, const Eigen::MatrixXd& y, const Eigen::RowVectorXd& gate,
                          double h, bool learn) {
    stop_.check();
    const int L = w_.layers();
    const auto Ls = static_cast<std::size_t>(L);
    const double k = config_.k(), tau = config_.tau_ms, rmax = rate_max_per_ms(), tau_s = config_.synapse_tau_ms;
    const double rin = input_rate_per_ms();
    const double t1 = s.t + h;
    const Eigen::Index S = x.cols();
    State::Scratch& w = s.scratch;
    w.pre.resize(Ls);
    w.Vs.resize(Ls);
    w.I.resize(Ls - 1);
    w.incU.resize(Ls);
    w.incV.resize(Ls);
    w.events.clear();

    // Everything from the start-of-step state: decoded presynaptic signals, dendrites, nudges.
    w.pre[0] = s.s_in;
    for (std::size_t i = 1; i < Ls; ++i) w.pre[i] = s.sU[i - 1];  // hidden layers: a(s) = s
    for (std::size_t i = 0; i < Ls; ++i) {
        w.Vs[i].noalias() = w_.W[i] * w.pre[i];
        w.Vs[i] = k * (w.Vs[i].colwise() + w_.b[i]);
    }
    const bool lateral = config_.nudge == Nudge::lateral;
    if (lateral) w.eI.resize(Ls - 1);
    for (std::size_t i = 0; i + 1 < Ls; ++i) compute_nudge(s, i, w.I[i], lateral ? &w.eI[i] : nullptr, w.e);

    // Spikes in [t, t1): thinning of candidates at rate r_max with the start-of-step potentials.
    // A spike at t_k adds exp(-(t1 - t_k) / tau_s) / (r_max tau_s) to its trace at t1: the traces
    // are exact.
    w.inc_in.setZero(s.s_in.rows(), S);
    for (Eigen::Index j = 0; j < S; ++j) {
        CounterRng& rng = s.rng[0][static_cast<std::size_t>(j)];
        for (Eigen::Index n = 0; n < w.inc_in.rows(); ++n) {
            double& next = s.next[0](n, j);
            while (next < t1) {
                if (rng.uniform() < x(n, j)) {
                    w.inc_in(n, j) += std::exp(-(t1 - next) / tau_s);
                    s.input_spikes += 1.0;
                    s.synaptic_events += static_cast<double>(w_.W[0].rows());
                }
                next += rng.exponential(rin);
            }
        }
    }
    for (std::size_t i = 0; i < Ls; ++i) {
        // Targets of one spike of layer i + 1: the next layer (somatic channel) and, for layers
        // above the first hidden one, the feedback to the layer below (twin: both channels;
        // lateral: the somatic channel, to the layer below and to its interneurons, and a hidden
        // layer's somatic spikes also reach its own interneurons).
        const double below = i > 0 ? static_cast<double>(w_.W[i - 1].rows()) : 0.0;
        const double own = static_cast<double>(w_.W[i].rows());
        const double ff_targets = (i + 1 < Ls ? static_cast<double>(w_.W[i + 1].rows()) : 0.0) +
                                  (lateral ? 2.0 * below + (i + 1 < Ls ? own : 0.0) : below);
        const double fb_targets = lateral ? 0.0 : below;
        w.incU[i].setZero(s.U[i].rows(), S);
        w.incV[i].setZero(s.U[i].rows(), S);
        for (Eigen::Index j = 0; j < S; ++j) {
            CounterRng& rng = s.rng[i + 1][static_cast<std::size_t>(j)];
            for (Eigen::Index n = 0; n < w.incU[i].rows(); ++n) {
                double& next = s.next[i + 1](n, j);
                while (next < t1) {
                    const double u = rng.uniform(), decayed = std::exp(-(t1 - next) / tau_s);
                    const double Un = s.U[i](n, j), Vn = s.Vbar[i](n, j);
                    const bool su = u < acceptance(static_cast<int>(i), Un);
                    const bool sv = Un == Vn ? su : u < acceptance(static_cast<int>(i), Vn);
                    if (su) {
                        w.incU[i](n, j) += decayed;
                        s.countU[i](n, j) += 1.0;
                        s.neuron_spikes += 1.0;
                        s.synaptic_events += ff_targets;
                    }
                    if (sv) {
                        w.incV[i](n, j) += decayed;
                        s.countV[i](n, j) += 1.0;
                        s.neuron_spikes += 1.0;
                        s.synaptic_events += fb_targets;
                    }
                    if (learn && su != sv) w.events.push_back({static_cast<int>(i), false, n, j, su ? 1.0 : -1.0});
                    next += rng.exponential(rmax);
                }
            }
        }
    }
    // Learned feedback populations: dendrites from the start-of-step traces of the layer above,
    // spikes by thinning (they reach no other neuron: they drive Q_l's rule), somas coupled to
    // F_l's start-of-step potentials. They only serve learning (the nudge is Q_l applied to the
    // channels' difference), so a frozen circuit skips them.
    if (learn && config_.feedback == Feedback::learned) {
        w.preB.resize(Ls - 1);
        w.VsB.resize(Ls - 1);
        for (std::size_t i = 0; i + 1 < Ls; ++i) {
            w.preB[i] = decode(static_cast<int>(i + 1), s.sU[i + 1]);
            w.VsB[i].noalias() = B_[i] * w.preB[i];
            w.VsB[i] = k * (w.VsB[i].colwise() + c_[i]);
            for (Eigen::Index j = 0; j < S; ++j) {
                CounterRng& rng = s.rngB[i][static_cast<std::size_t>(j)];
                for (Eigen::Index n = 0; n < s.UB[i].rows(); ++n) {
                    double& next = s.nextB[i](n, j);
                    while (next < t1) {
                        const double u = rng.uniform(), Un = s.UB[i](n, j), Vn = s.VbarB[i](n, j);
                        const bool su = u < feedback_acceptance(Un);
                        const bool sv = Un == Vn ? su : u < feedback_acceptance(Vn);
                        s.neuron_spikes += static_cast<double>(su) + static_cast<double>(sv);
                        if (learn && su != sv) w.events.push_back({static_cast<int>(i), true, n, j, su ? 1.0 : -1.0});
                        next += rng.exponential(rmax);
                    }
                }
            }
            const double gB = config_.g_feedback, aB = 1.0 + gB, cB = -std::expm1(-h * aB / tau);
            s.UB[i].array() += cB * ((w.VsB[i].array() + gB * s.U[i].array()) / aB - s.UB[i].array());
            relax(s.VbarB[i], w.VsB[i], -std::expm1(-h / tau));
        }
    }

    // Interneurons (lateral nudge): one spike train each, to their F_l neuron's apical dendrite;
    // potentials from F_l's start-of-step somatic traces.
    if (lateral) {
        w.incI.resize(Ls - 1);
        w.VsI.resize(Ls - 1);
        const double c0 = -std::expm1(-h / tau);
        for (std::size_t i = 0; i + 1 < Ls; ++i) {
            w.incI[i].setZero(s.UI[i].rows(), S);
            for (Eigen::Index j = 0; j < S; ++j) {
                CounterRng& rng = s.rngI[i][static_cast<std::size_t>(j)];
                for (Eigen::Index n = 0; n < s.UI[i].rows(); ++n) {
                    double& next = s.nextI[i](n, j);
                    while (next < t1) {
                        if (rng.uniform() < interneuron_acceptance(s.UI[i](n, j))) {
                            w.incI[i](n, j) += std::exp(-(t1 - next) / tau_s);
                            s.neuron_spikes += 1.0;
                            s.synaptic_events += 1.0;
                        }
                        next += rng.exponential(rmax);
                    }
                }
            }
            w.VsI[i].noalias() = P_[i] * w.pre[i + 1];
            w.VsI[i] = k * (w.VsI[i].colwise() + d_[i]);
            relax(s.UI[i], w.VsI[i], c0);
        }
    }

    // Potentials, as in rate mode.
    const double c0 = -std::expm1(-h / tau);
    for (std::size_t i = 0; i + 1 < Ls; ++i) {
        w.I[i] += w.Vs[i];
        relax(s.U[i], w.I[i], c0);
        relax(s.Vbar[i], w.Vs[i], c0);
    }
    relax_output(s.U[Ls - 1], w.Vs[Ls - 1], y, gate, config_.g_teacher, h, tau);
    relax(s.Vbar[Ls - 1], w.Vs[Ls - 1], c0);

    // Event-driven plasticity: only rows whose two channels disagreed change, by
    // eta c / r_max times the presynaptic signal at the start of the step (mean over columns).
    for (const State::ErrorEvent& ev : w.events) {
        const auto i = static_cast<std::size_t>(ev.layer);
        if (ev.feedback) {  // Q_l, c_l: the same rule, eta_feedback, c = the feedback range
            if (eta_feedback_ == 0.0) continue;
            const double a = ev.sign * eta_feedback_ * config_.feedback_span() / (rmax * static_cast<double>(S));
            B_[i].row(ev.neuron).noalias() += a * w.preB[i].col(ev.column).transpose();
            c_[i](ev.neuron) += a;
            continue;
        }
        const bool out = i + 1 == Ls;
        const double eta = eta_scale_ * (out ? eta_out_ : eta_hidden_);
        if (eta == 0.0) continue;
        const double c = out ? config_.output_span() : 1.0;
        const double a = ev.sign * eta * c / (rmax * static_cast<double>(S));
        w_.W[i].row(ev.neuron).noalias() += a * w.pre[i].col(ev.column).transpose();
        w_.b[i](ev.neuron) += a;
    }

    // Interneuron plasticity: the apical mismatch times F_l's somatic trace, every step.
    if (learn && lateral && config_.eta_interneuron != 0.0)
        for (std::size_t i = 0; i + 1 < Ls; ++i) {
            const double a = config_.eta_interneuron * h / static_cast<double>(S);
            P_[i].noalias() += a * w.eI[i] * w.pre[i + 1].transpose();
            d_[i] += a * w.eI[i].rowwise().sum();
        }

    const double decay = std::exp(-h / tau_s), unit = 1.0 / (rmax * tau_s);
    s.s_in = decay * s.s_in + (1.0 / (rin * tau_s)) * w.inc_in;
    for (std::size_t i = 0; i < Ls; ++i) {
        s.sU[i] = decay * s.sU[i] + unit * w.incU[i];
        s.sV[i] = decay * s.sV[i] + unit * w.incV[i];
    }
    for (std::size_t i = 0; i < s.sI.size(); ++i) s.sI[i] = decay * s.sI[i] + unit * w.incI[i];
    s.t = t1;
}

Eigen::MatrixXd SpikingCircuit::test_outputs(const Eigen::MatrixXd& x) {
    // Blocks of columns (see RateCircuit::test_outputs); the emission streams are keyed by the
    // global column, so the blocking does not change a spike.
    constexpr Eigen::Index block = 256;
    const double dt = config_.dt_ms;
    const auto settle = static_cast<long>(std::ceil(config_.test_settle_ms / dt - 1e-9));
    const auto window = static_cast<long>(std::ceil(config_.test_window_ms / dt - 1e-9));
    const double expected_max = rate_max_per_ms() * static_cast<double>(window) * dt;
    Eigen::MatrixXd out(w_.W.back().rows(), x.cols());
    for (Eigen::Index first = 0; first < x.cols(); first += block) {
        const Eigen::Index n = std::min(block, x.cols() - first);
        const Eigen::MatrixXd xb = x.middleCols(first, n);
        State s = rest(n, "test", first);
        const Eigen::MatrixXd y = Eigen::MatrixXd::Zero(w_.W.back().rows(), n);
        const Eigen::RowVectorXd gate = Eigen::RowVectorXd::Zero(n);
        for (long k = 0; k < settle; ++k) step(s, xb, y, gate, dt, false);
        s.reset_counts();
        for (long k = 0; k < window; ++k) step(s, xb, y, gate, dt, false);
        out.middleCols(first, n) = decode(w_.layers() - 1, s.countU.back() / expected_max);
    }
    return out;
}

DerivativeCell spike_count_derivative_cell(double g, double delay_ms, const Gradients& grad,
                                           const std::vector<Eigen::MatrixXd>& paired,
                                           const std::vector<Eigen::MatrixXd>& shuffled,
                                           const std::vector<Eigen::MatrixXd>& unpaired) {
    auto summarise = [&](const Eigen::MatrixXd& dr, const Eigen::MatrixXd& ref, double& m, double& ci,
                         std::vector<double>* angles) {
        std::vector<double> cs;
        for (Eigen::Index j = 0; j < dr.cols(); ++j) cs.push_back(cosine(dr.col(j), ref.col(j)));
        mean_ci(cs, m, ci);
        if (angles)
            for (double q : cs) angles->push_back(std::acos(std::clamp(q, -1.0, 1.0)) * 180.0 / M_PI);
    };
    DerivativeCell cell;
    cell.g = g;
    cell.delay_ms = delay_ms;
    for (std::size_t l = 0; l < paired.size(); ++l) {
        const Eigen::MatrixXd& ref = grad.neg_dL_dr[l];
        double m, ci;
        std::vector<double> angles;
        summarise(paired[l], ref, m, ci, &angles);
        cell.cos_mean.push_back(m);
        cell.cos_ci95.push_back(ci);
        mean_ci(angles, m, ci);
        cell.angle_deg_mean.push_back(m);
        summarise(shuffled[l], ref, m, ci, nullptr);
        cell.shuffled_cos_mean.push_back(m);
        cell.shuffled_cos_ci95.push_back(ci);
        summarise(unpaired[l], ref, m, ci, nullptr);
        cell.unpaired_cos_mean.push_back(m);
        cell.unpaired_cos_ci95.push_back(ci);
    }
    return cell;
}

std::vector<DerivativeCell> spiking_temporal_derivative_test(SpikingCircuit& c, const Eigen::MatrixXd& x,
                                                             const Eigen::MatrixXd& y, const std::vector<double>& gs,
                                                             const std::vector<double>& delays_ms, double settle_ms,
                                                             int trials, std::uint64_t seed) {
    const double dt = c.config().dt_ms, g_saved = c.config().g_teacher;
    const Eigen::Index n_in = x.cols(), T = trials, cols = n_in * T;
    const int hidden = c.weights().layers() - 1;
    // Column j * T + r: trial r of input j.
    Eigen::MatrixXd X(x.rows(), cols), Y(y.rows(), cols);
    for (Eigen::Index j = 0; j < n_in; ++j)
        for (Eigen::Index r = 0; r < T; ++r) {
            X.col(j * T + r) = x.col(j);
            Y.col(j * T + r) = y.col(j);
        }
    std::vector<long> steps_of_delay;
    long max_steps = 1;
    for (double d : delays_ms) {
        steps_of_delay.push_back(std::max(1L, std::lround(d / dt)));
        max_steps = std::max(max_steps, steps_of_delay.back());
    }
    const auto settle_steps = std::max(std::lround(settle_ms / dt), max_steps);

    // Settle once (no teacher, plasticity frozen), keeping the counts at t_y - d for the unpaired
    // estimate.
    SpikingCircuit::State settled = c.rest(cols, "derivative");
    Eigen::RowVectorXd off = Eigen::RowVectorXd::Zero(cols), on = Eigen::RowVectorXd::Ones(cols);
    std::vector<std::vector<Eigen::MatrixXd>> before(delays_ms.size());  // counts at t_y - d
    for (long n = 0; n < settle_steps; ++n) {
        for (std::size_t q = 0; q < delays_ms.size(); ++q)
            if (n == settle_steps - steps_of_delay[q]) before[q] = settled.countU;
        c.step(settled, X, Y, off, dt, false);
    }
    const std::vector<Eigen::MatrixXd> at_onset = settled.countU;
    const Gradients grad = backprop(c.weights(), c.config().k(), x, y);
    // Shuffled control's targets from each trial's settled output prediction, one permutation per
    // input (the same for its trials).
    Eigen::MatrixXd V_mean = Eigen::MatrixXd::Zero(y.rows(), n_in);
    for (Eigen::Index j = 0; j < n_in; ++j) V_mean.col(j) = settled.Vbar.back().middleCols(j * T, T).rowwise().mean();
    const Eigen::MatrixXd y_shuffled_in = shuffled_teacher_targets(y, V_mean, seed);
    Eigen::MatrixXd Y_shuffled(y.rows(), cols);
    for (Eigen::Index j = 0; j < n_in; ++j)
        for (Eigen::Index r = 0; r < T; ++r)
            Y_shuffled.col(j * T + r) = settled.Vbar.back().col(j * T + r) + (y_shuffled_in.col(j) - V_mean.col(j));

    // Sums each input's trials: n x cols -> n x n_in.
    auto per_input = [&](const Eigen::MatrixXd& m) {
        Eigen::MatrixXd out(m.rows(), n_in);
        for (Eigen::Index j = 0; j < n_in; ++j) out.col(j) = m.middleCols(j * T, T).rowwise().sum();
        return out;
    };
    std::vector<DerivativeCell> cells;
    for (double g : gs) {
        c.set_teacher(g);
        SpikingCircuit::State s_on = settled, s_off = settled, s_sh = settled;
        std::vector<std::vector<Eigen::MatrixXd>> c_on(delays_ms.size()), c_off(c_on), c_sh(c_on);
        for (long n = 1; n <= max_steps; ++n) {
            c.step(s_on, X, Y, on, dt, false);
            c.step(s_off, X, Y, off, dt, false);
            c.step(s_sh, X, Y_shuffled, on, dt, false);
            for (std::size_t q = 0; q < delays_ms.size(); ++q)
                if (n == steps_of_delay[q]) {
                    c_on[q] = s_on.countU;
                    c_off[q] = s_off.countU;
                    c_sh[q] = s_sh.countU;
                }
        }
        for (std::size_t q = 0; q < delays_ms.size(); ++q) {
            std::vector<Eigen::MatrixXd> paired, shuffled, unpaired;
            for (int l = 0; l < hidden; ++l) {
                const auto sl = static_cast<std::size_t>(l);
                paired.push_back(per_input(c_on[q][sl] - c_off[q][sl]));
                shuffled.push_back(per_input(c_sh[q][sl] - c_off[q][sl]));
                unpaired.push_back(per_input((c_on[q][sl] - at_onset[sl]) - (at_onset[sl] - before[q][sl])));
            }
            cells.push_back(spike_count_derivative_cell(g, delays_ms[q], grad, paired, shuffled, unpaired));
        }
    }
    c.set_teacher(g_saved);
    return cells;
}

}  // namespace settle::circuit
