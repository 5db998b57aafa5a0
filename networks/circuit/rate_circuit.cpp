#include "networks/circuit/rate_circuit.hpp"

#include <algorithm>
#include <cmath>

#include "networks/circuit/circuit_statistics.hpp"
#include "networks/circuit/membrane.hpp"
#include "sim/random.hpp"

namespace settle::circuit {

namespace {

Eigen::MatrixXd normal_matrix(CounterRng& rng, int rows, int cols, double std) {
    Eigen::MatrixXd m(rows, cols);
    for (int j = 0; j < cols; ++j)
        for (int i = 0; i < rows; ++i) m(i, j) = std * rng.normal();
    return m;
}

}  // namespace

Weights initial_weights(const CircuitConfig& config, std::uint64_t seed) {
    const std::vector<int> n = config.sizes();
    const int L = static_cast<int>(n.size()) - 1;
    Weights w;
    for (int i = 0; i < L; ++i) {
        CounterRng rng(seed, stable_key("circuit.W" + std::to_string(i + 1)), 0, StreamKind::weights);
        const double scale = i == L - 1 ? config.w_init_out : config.w_init_hidden;
        w.W.push_back(normal_matrix(rng, n[static_cast<std::size_t>(i + 1)], n[static_cast<std::size_t>(i)],
                                    scale / std::sqrt(n[static_cast<std::size_t>(i)])));
        w.b.push_back(Eigen::VectorXd::Zero(n[static_cast<std::size_t>(i + 1)]));
    }
    return w;
}

std::vector<Eigen::MatrixXd> initial_feedback(const CircuitConfig& config, std::uint64_t seed) {
    const std::vector<int> n = config.sizes();
    const int L = static_cast<int>(n.size()) - 1;
    std::vector<Eigen::MatrixXd> B;
    for (int i = 0; i + 1 < L; ++i) {
        CounterRng rng(seed, stable_key("circuit.B" + std::to_string(i + 1)), 0, StreamKind::weights);
        const int rows = n[static_cast<std::size_t>(i + 1)], cols = n[static_cast<std::size_t>(i + 2)];
        B.push_back(normal_matrix(rng, rows, cols, config.feedback_scale / std::sqrt(rows)));
    }
    return B;
}

RateCircuit::RateCircuit(const CircuitConfig& config, std::uint64_t seed)
    : config_(config),
      w_(initial_weights(config, seed)),
      B_(initial_feedback(config, seed)),
      eta_hidden_(config.eta_hidden),
      eta_out_(config.eta_out),
      eta_feedback_(config.eta_feedback) {
    for (const auto& B : B_) {
        c_.push_back(Eigen::VectorXd::Zero(B.rows()));
        P_.push_back(Eigen::MatrixXd::Zero(B.rows(), B.rows()));
        d_.push_back(Eigen::VectorXd::Zero(B.rows()));
    }
}

RateCircuit::State RateCircuit::rest(Eigen::Index columns) const {
    State s;
    for (const auto& W : w_.W) {
        s.U.push_back(Eigen::MatrixXd::Zero(W.rows(), columns));
        s.Vbar.push_back(Eigen::MatrixXd::Zero(W.rows(), columns));
    }
    if (config_.nudge == Nudge::lateral)
        for (const auto& B : B_) s.UI.push_back(Eigen::MatrixXd::Zero(B.rows(), columns));
    if (config_.feedback == Feedback::learned)
        for (const auto& B : B_) {
            s.UB.push_back(Eigen::MatrixXd::Zero(B.rows(), columns));
            s.VbarB.push_back(Eigen::MatrixXd::Zero(B.rows(), columns));
        }
    return s;
}

Eigen::MatrixXd RateCircuit::feedback_matrix(int i) const {
    if (config_.feedback == Feedback::symmetric) return w_.W[static_cast<std::size_t>(i + 1)].transpose();
    return B_[static_cast<std::size_t>(i)];
}

std::vector<Eigen::MatrixXd> RateCircuit::hidden_nudges(const State& s) const {
    std::vector<Eigen::MatrixXd> I;
    const double k = config_.k();
    for (int i = 0; i + 1 < w_.layers(); ++i) {
        const auto j = static_cast<std::size_t>(i + 1);
        if (config_.nudge == Nudge::lateral) {
            const Eigen::MatrixXd r = activation(w_, i + 1, s.U[j]);
            I.push_back(config_.lambda * (k * (feedback_matrix(i) * r) - s.UI[static_cast<std::size_t>(i)]));
            continue;
        }
        const Eigen::MatrixXd e = activation(w_, i + 1, s.U[j]) - activation(w_, i + 1, s.Vbar[j]);
        I.push_back(config_.lambda * k * (feedback_matrix(i) * e));
    }
    return I;
}

void RateCircuit::step(State& s, const Eigen::MatrixXd& x, const Eigen::MatrixXd& y, const Eigen::RowVectorXd& gate,
                       double h, bool learn, std::vector<Eigen::MatrixXd>* accumulate) {
    stop_.check();
    const int L = w_.layers();
    const double k = config_.k(), tau = config_.tau_ms;
    const auto Ls = static_cast<std::size_t>(L);
    // Everything from the start-of-step state.
    std::vector<Eigen::MatrixXd> r(Ls), eb(Ls), Vs(Ls), I(Ls - 1);
    for (std::size_t i = 0; i < Ls; ++i) {
        r[i] = activation(w_, static_cast<int>(i), s.U[i]);
        eb[i] = r[i] - activation(w_, static_cast<int>(i), s.Vbar[i]);  // phi(U) - phi(Vbar)
    }
    for (std::size_t i = 0; i < Ls; ++i) Vs[i] = k * ((w_.W[i] * (i == 0 ? x : r[i - 1])).colwise() + w_.b[i]);
    const double lk = config_.lambda * k;
    // Lateral nudge: k G r_{l+1} (somatic rates only) minus the interneurons' prediction U_I.
    std::vector<Eigen::MatrixXd> eI;
    for (std::size_t i = 0; i + 1 < Ls; ++i) {
        if (config_.nudge == Nudge::lateral) {
            const Eigen::MatrixXd& G = config_.feedback == Feedback::symmetric ? Eigen::MatrixXd(w_.W[i + 1].transpose()) : B_[i];
            eI.push_back(k * (G * r[i + 1]) - s.UI[i]);
            I[i] = config_.lambda * eI.back();
        } else if (config_.feedback == Feedback::symmetric) {
            I[i].noalias() = lk * (w_.W[i + 1].transpose() * eb[i + 1]);
        } else {
            I[i].noalias() = lk * (B_[i] * eb[i + 1]);
        }
    }
    // The rule's error phi(U) - phi(reference).
    std::vector<Eigen::MatrixXd> e_inst;
    if (config_.rule_reference == RuleReference::instantaneous)
        for (std::size_t i = 0; i < Ls; ++i) e_inst.push_back(r[i] - activation(w_, static_cast<int>(i), Vs[i]));
    const std::vector<Eigen::MatrixXd>& e = e_inst.empty() ? eb : e_inst;

    const double c0 = -std::expm1(-h / tau);
    for (std::size_t i = 0; i + 1 < Ls; ++i) {
        relax(s.U[i], Vs[i] + I[i], c0);
        relax(s.Vbar[i], Vs[i], c0);
    }
    // Output: tau dU/dt = -(1 + g m) U + V* + g m y.
    relax_output(s.U[Ls - 1], Vs[Ls - 1], y, gate, config_.g_teacher, h, tau);
    relax(s.Vbar[Ls - 1], Vs[Ls - 1], c0);
    s.t += h;

    // Learned feedback populations: B_l soma nudged toward U_l (start-of-step values), Q_l learns.
    std::vector<Eigen::MatrixXd> eB;
    if (config_.feedback == Feedback::learned) {
        const double gB = config_.g_feedback, aB = 1.0 + gB, cB = -std::expm1(-h * aB / tau);
        for (std::size_t i = 0; i + 1 < Ls; ++i) {
            eB.push_back(s.UB[i] - s.VbarB[i]);
            const Eigen::MatrixXd VsB = k * ((B_[i] * r[i + 1]).colwise() + c_[i]);
            s.UB[i].array() += cB * ((VsB.array() + gB * s.U[i].array()) / aB - s.UB[i].array());
            relax(s.VbarB[i], VsB, c0);
        }
    }

    // Interneurons: tau dU_I/dt = -U_I + k (P_l r_l + d_l), one per feedback neuron.
    for (std::size_t i = 0; i < eI.size(); ++i) relax(s.UI[i], k * ((P_[i] * r[i]).colwise() + d_[i]), c0);

    if (accumulate) {
        accumulate->resize(Ls);
        for (std::size_t i = 0; i < Ls; ++i) {
            const Eigen::MatrixXd dW = h * e[i] * (i == 0 ? x : r[i - 1]).transpose();
            if ((*accumulate)[i].size() == 0) (*accumulate)[i] = Eigen::MatrixXd::Zero(dW.rows(), dW.cols());
            (*accumulate)[i] += dW;
        }
    }
    if (!learn) return;
    const double per_column = h / static_cast<double>(x.cols());
    for (std::size_t i = 0; i < Ls; ++i) {
        const double eta = eta_scale_ * (i + 1 == Ls ? eta_out_ : eta_hidden_);
        if (eta == 0.0) continue;
        w_.W[i].noalias() += (eta * per_column) * e[i] * (i == 0 ? x : r[i - 1]).transpose();
        w_.b[i] += (eta * per_column) * e[i].rowwise().sum();
    }
    if (config_.eta_interneuron != 0.0)
        for (std::size_t i = 0; i < eI.size(); ++i) {
            P_[i].noalias() += (config_.eta_interneuron * per_column) * eI[i] * r[i].transpose();
            d_[i] += (config_.eta_interneuron * per_column) * eI[i].rowwise().sum();
        }
    if (eta_feedback_ != 0.0)
        for (std::size_t i = 0; i < eB.size(); ++i) {
            B_[i].noalias() += (eta_feedback_ * per_column) * eB[i] * r[i + 1].transpose();
            c_[i] += (eta_feedback_ * per_column) * eB[i].rowwise().sum();
        }
}

std::vector<double> feedback_reconstruction_error(const Weights& w, double k, const std::vector<Eigen::MatrixXd>& Q,
                                                  const std::vector<Eigen::VectorXd>& c, const Eigen::MatrixXd& x) {
    std::vector<double> out;
    const StaticPass p = static_forward(w, k, x);
    for (std::size_t i = 0; i < Q.size(); ++i) {
        const Eigen::MatrixXd rec = k * ((Q[i] * p.r[i + 1]).colwise() + c[i]);
        out.push_back((rec - p.U[i]).array().square().mean());
    }
    return out;
}

std::vector<double> RateCircuit::reconstruction_error(const Eigen::MatrixXd& x) const {
    if (config_.feedback != Feedback::learned) return {};
    return feedback_reconstruction_error(w_, config_.k(), B_, c_, x);
}

std::vector<Eigen::MatrixXd> RateCircuit::derivatives(const State& s, const Eigen::MatrixXd& x,
                                                      const Eigen::MatrixXd& y, const Eigen::RowVectorXd& gate) const {
    const int L = w_.layers();
    const auto Ls = static_cast<std::size_t>(L);
    const double k = config_.k(), tau = config_.tau_ms;
    const std::vector<Eigen::MatrixXd> I = hidden_nudges(s);
    std::vector<Eigen::MatrixXd> dU(Ls);
    for (std::size_t i = 0; i < Ls; ++i) {
        const Eigen::MatrixXd pre = i == 0 ? x : activation(w_, static_cast<int>(i - 1), s.U[i - 1]);
        const Eigen::MatrixXd Vs = k * ((w_.W[i] * pre).colwise() + w_.b[i]);
        if (i + 1 < Ls) {
            dU[i] = (Vs + I[i] - s.U[i]) / tau;
        } else {
            const Eigen::RowVectorXd gm = config_.g_teacher * gate;
            dU[i] = (Vs - s.U[i] + ((y - s.U[i]).array().rowwise() * gm.array()).matrix()) / tau;
        }
    }
    return dU;
}

Eigen::MatrixXd RateCircuit::test_outputs(const Eigen::MatrixXd& x) {
    // Blocks of columns keep the step's temporaries in cache (and out of mmap/munmap churn: whole
    // 10,000-image test sets cost more in page faults than in arithmetic); columns are independent.
    constexpr Eigen::Index block = 256;
    Eigen::MatrixXd out(w_.W.back().rows(), x.cols());
    const auto steps = static_cast<long>(std::ceil(config_.test_settle_ms / config_.dt_ms - 1e-9));
    for (Eigen::Index first = 0; first < x.cols(); first += block) {
        const Eigen::Index n = std::min(block, x.cols() - first);
        const Eigen::MatrixXd xb = x.middleCols(first, n);
        State s = rest(n);
        const Eigen::MatrixXd y = Eigen::MatrixXd::Zero(w_.W.back().rows(), n);
        const Eigen::RowVectorXd gate = Eigen::RowVectorXd::Zero(n);
        for (long k = 0; k < steps; ++k) step(s, xb, y, gate, config_.dt_ms, false);
        out.middleCols(first, n) = s.U.back();
    }
    return out;
}

Alignment measure_alignment(RateCircuit& c, const Eigen::MatrixXd& x, const Eigen::MatrixXd& y, double settle_ms,
                            double window_ms) {
    const CircuitConfig& cfg = c.config();
    RateCircuit::State s = c.rest(x.cols());
    Eigen::RowVectorXd gate = Eigen::RowVectorXd::Zero(x.cols());
    const double dt = cfg.dt_ms;
    for (long n = 0, N = std::lround(settle_ms / dt); n < N; ++n) c.step(s, x, y, gate, dt, false);
    const int L = c.weights().layers();
    std::vector<Eigen::MatrixXd> r0;
    for (int i = 0; i + 1 < L; ++i) r0.push_back(activation(c.weights(), i, s.U[static_cast<std::size_t>(i)]));
    gate.setOnes();
    std::vector<Eigen::MatrixXd> acc;
    for (long n = 0, N = std::max(1L, std::lround(window_ms / dt)); n < N; ++n) c.step(s, x, y, gate, dt, false, &acc);
    const Gradients g = backprop(c.weights(), cfg.k(), x, y);
    Alignment a;
    for (int i = 0; i < L; ++i) {
        const auto si = static_cast<std::size_t>(i);
        const Eigen::Map<const Eigen::VectorXd> u(acc[si].data(), acc[si].size()), v(g.dW[si].data(), g.dW[si].size());
        a.cos_dW.push_back(cosine(u, -v));
    }
    for (int i = 0; i + 1 < L; ++i) {
        const auto si = static_cast<std::size_t>(i);
        const Eigen::MatrixXd dr = activation(c.weights(), i, s.U[si]) - r0[si];
        std::vector<double> cs;
        for (Eigen::Index j = 0; j < x.cols(); ++j) cs.push_back(cosine(dr.col(j), g.neg_dL_dr[si].col(j)));
        double m, ci;
        mean_ci(cs, m, ci);
        a.cos_dr_mean.push_back(m);
        a.cos_dr_ci95.push_back(ci);
    }
    return a;
}

namespace {

// Settles, switches the teacher on, waits delay_ms; returns d rate/dt of every hidden layer.
std::vector<Eigen::MatrixXd> rate_derivatives_after_onset(RateCircuit& c, const Eigen::MatrixXd& x,
                                                          const Eigen::MatrixXd& y, double delay_ms, double settle_ms,
                                                          Eigen::MatrixXd* settled_output_prediction) {
    const double dt = c.config().dt_ms;
    RateCircuit::State s = c.rest(x.cols());
    Eigen::RowVectorXd gate = Eigen::RowVectorXd::Zero(x.cols());
    for (long n = 0, N = std::lround(settle_ms / dt); n < N; ++n) c.step(s, x, y, gate, dt, false);
    if (settled_output_prediction) *settled_output_prediction = s.Vbar.back();
    gate.setOnes();
    for (double t = 0.0; t < delay_ms - 1e-12;) {
        const double h = std::min(dt, delay_ms - t);
        c.step(s, x, y, gate, h, false);
        t += h;
    }
    const std::vector<Eigen::MatrixXd> dU = c.derivatives(s, x, y, gate);
    std::vector<Eigen::MatrixXd> dr;
    for (int i = 0; i + 1 < c.weights().layers(); ++i) {
        const auto si = static_cast<std::size_t>(i);
        dr.push_back((activation_derivative(c.weights(), i, s.U[si]).array() * dU[si].array()).matrix());
    }
    return dr;
}

}  // namespace

Eigen::MatrixXd shuffled_teacher_targets(const Eigen::MatrixXd& y, const Eigen::MatrixXd& settled_prediction,
                                         std::uint64_t seed) {
    CounterRng rng(seed, stable_key("circuit.derivative_test.shuffle"), 0, StreamKind::data);
    Eigen::MatrixXd y_shuffled(y.rows(), y.cols());
    for (Eigen::Index j = 0; j < y.cols(); ++j) {
        std::vector<Eigen::Index> p(static_cast<std::size_t>(y.rows()));
        for (Eigen::Index i = 0; i < y.rows(); ++i) p[static_cast<std::size_t>(i)] = i;
        // Sattolo's algorithm: a uniformly random cyclic permutation, so no output keeps its own
        // error signal (a plain shuffle leaves one output in place on average, which biases the
        // control's cosine by about 1/n_out).
        for (std::size_t i = p.size(); i > 1; --i) std::swap(p[i - 1], p[rng.below(i - 1)]);
        for (Eigen::Index i = 0; i < y.rows(); ++i) {
            const Eigen::Index q = p[static_cast<std::size_t>(i)];
            y_shuffled(i, j) = settled_prediction(i, j) + (y(q, j) - settled_prediction(q, j));
        }
    }
    return y_shuffled;
}

DerivativeCell temporal_derivative_test(RateCircuit& c, const Eigen::MatrixXd& x, const Eigen::MatrixXd& y, double g,
                                        double delay_ms, double settle_ms, std::uint64_t seed) {
    const double g_saved = c.config().g_teacher;
    c.set_teacher(g);
    DerivativeCell cell;
    cell.g = g;
    cell.delay_ms = delay_ms;
    const Gradients grad = backprop(c.weights(), c.config().k(), x, y);
    Eigen::MatrixXd V_out;
    const std::vector<Eigen::MatrixXd> dr = rate_derivatives_after_onset(c, x, y, delay_ms, settle_ms, &V_out);
    const Eigen::MatrixXd y_shuffled = shuffled_teacher_targets(y, V_out, seed);
    const std::vector<Eigen::MatrixXd> dr_shuffled = rate_derivatives_after_onset(c, x, y_shuffled, delay_ms, settle_ms, nullptr);
    for (std::size_t l = 0; l < dr.size(); ++l) {
        std::vector<double> cs, angles, shuffled;
        for (Eigen::Index j = 0; j < x.cols(); ++j) {
            const double q = cosine(dr[l].col(j), grad.neg_dL_dr[l].col(j));
            cs.push_back(q);
            angles.push_back(std::acos(std::clamp(q, -1.0, 1.0)) * 180.0 / M_PI);
            shuffled.push_back(cosine(dr_shuffled[l].col(j), grad.neg_dL_dr[l].col(j)));
        }
        double m, ci;
        mean_ci(cs, m, ci);
        cell.cos_mean.push_back(m);
        cell.cos_ci95.push_back(ci);
        mean_ci(angles, m, ci);
        cell.angle_deg_mean.push_back(m);
        mean_ci(shuffled, m, ci);
        cell.shuffled_cos_mean.push_back(m);
        cell.shuffled_cos_ci95.push_back(ci);
    }
    c.set_teacher(g_saved);
    return cell;
}

}  // namespace settle::circuit
