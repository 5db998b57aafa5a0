#include "neurons/two_channel_unit.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif

namespace settle {

namespace {
// a + b c and a - b c as every coefficient update computes them: one rounding where the build has
// FMA, two otherwise. Written out (not left to the compiler's contraction) because the deferred
// column adds must reproduce the immediate ones bit for bit, and a vectoriser may split a product
// from its sum in one loop and not in another.
inline double plus_product(double a, double b, double c) {
#if defined(__FMA__)
    return std::fma(b, c, a);
#else
    return a + b * c;
#endif
}
inline double minus_product(double a, double b, double c) {
#if defined(__FMA__)
    return std::fma(-b, c, a);
#else
    return a - b * c;
#endif
}
}  // namespace

const std::vector<ParameterInfo<TwoChannelUnitParameters>>& TwoChannelUnitParameters::table() {
    using P = TwoChannelUnitParameters;
    static const std::vector<ParameterInfo<P>> t = {
        {"tau_ms", "ms", "somatic time constant (the lag-matched prediction's too)", &P::tau_ms},
        {"synapse_tau_ms", "ms", "low-pass time constant of the dendritic and nudge inputs", &P::synapse_tau_ms},
        {"k", "1", "dendritic coupling g_D / (g_L + g_D): V* = k (I_d + b)", &P::k},
        {"rate_max_hz", "Hz", "candidate (maximum) rate of each unit", &P::rate_max_hz},
        {"lo", "1", "linear emission: the potential at which the rate is 0", &P::lo},
        {"hi", "1", "linear emission: the potential at which the rate is rate_max_hz", &P::hi},
    };
    return t;
}

TwoChannelUnitPopulation::TwoChannelUnitPopulation(std::string name, std::size_t units, std::uint32_t replicas,
                                                   TwoChannelUnitParameters p, std::uint32_t first_replica)
    : Population(std::move(name), 2 * units * replicas),
      p_(p),
      n_(units),
      replicas_(replicas),
      first_replica_(first_replica) {
    auto bad = [&](const std::string& what) {
        throw std::invalid_argument("population '" + this->name() + "' (two_channel_unit): " + what);
    };
    if (units == 0 || replicas == 0) bad("needs at least one unit and one replica");
    if (!(p_.tau_ms > 0.0 && std::isfinite(p_.tau_ms))) bad("tau_ms must be finite and > 0");
    if (!(p_.synapse_tau_ms > 0.0 && std::isfinite(p_.synapse_tau_ms))) bad("synapse_tau_ms must be finite and > 0");
    if (!(p_.rate_max_hz > 0.0 && std::isfinite(p_.rate_max_hz))) bad("rate_max_hz must be finite and > 0");
    if (!std::isfinite(p_.k)) bad("k must be finite");
    if (p_.emission == TwoChannelUnitParameters::Emission::linear && !(p_.hi > p_.lo && std::isfinite(p_.hi - p_.lo)))
        bad("linear emission needs finite lo < hi");
    rmax_per_ms_ = p_.rate_max_hz * 1e-3;
    equal_taus_ = p_.synapse_tau_ms == p_.tau_ms;
    C_ = equal_taus_ ? 0.0 : p_.synapse_tau_ms / (p_.synapse_tau_ms - p_.tau_ms);
    const double ratio = p_.synapse_tau_ms / p_.tau_ms;
    if (ratio >= 1.0 && ratio <= 64.0 && ratio == std::floor(ratio) && p_.tau_ms * ratio == p_.synapse_tau_ms)
        ratio_power_ = static_cast<unsigned>(ratio);
    bias_.assign(n_, 0.0);
    kb_.assign(n_, 0.0);
    nudge_constant_.assign(n_, 0.0);
    const std::size_t m = n_ * replicas_;
    for (auto* v : {&A_, &Vp_, &B_, &Np_, &Nf_, &y_, &yE_, &yEs_, &somatic_count_}) v->assign(m, 0.0);
    rep_.resize(replicas_);
    pending_.resize(std::size_t{replicas_} * max_pending);
    pending_count_.assign(replicas_, 0);
}

void TwoChannelUnitPopulation::set_replica_keys(std::vector<std::uint32_t> keys) {
    if (keys.size() != replicas_) throw std::invalid_argument("population '" + name() + "': one key per replica");
    replica_keys_ = std::move(keys);
}

void TwoChannelUnitPopulation::set_bias(std::vector<double> b) {
    if (b.size() != n_) throw std::invalid_argument("population '" + name() + "': one bias per unit");
    for (double v : b)
        if (!std::isfinite(v)) throw std::invalid_argument("population '" + name() + "': non-finite bias");
    bias_ = std::move(b);
    for (std::size_t i = 0; i < n_; ++i) kb_[i] = p_.k * bias_[i];
}

void TwoChannelUnitPopulation::couple_soma_to(TwoChannelUnitPopulation& source, double g) {
    auto bad = [&](const std::string& what) {
        throw std::invalid_argument("population '" + name() + "' coupled to '" + source.name() + "': " + what);
    };
    if (&source == this) bad("a population cannot follow itself");
    if (soma_source_) bad("already coupled");
    if (!(g > 0.0 && std::isfinite(g))) bad("the coupling conductance must be finite and > 0");
    if (source.n_ != n_ || source.replicas_ != replicas_) bad("needs the same units and replicas");
    if (source.p_.tau_ms != p_.tau_ms || source.p_.synapse_tau_ms != p_.synapse_tau_ms)
        bad("needs the same tau_ms and synapse_tau_ms");
    if (equal_taus_) bad("needs synapse_tau_ms different from tau_ms (the target would not be a sum of exponentials)");
    soma_source_ = &source;
    coupling_g_ = g;
    source.coupled_.push_back(this);
}

void TwoChannelUnitPopulation::soma_coefficients(std::uint32_t replica, std::size_t unit, double& c0, double& cE,
                                                 double& cEs) const {
    // Without a teacher (set_teacher refuses one here): U = k b + n_c + (Vp + Np) E + C (A + B) Es.
    const std::size_t idx = std::size_t{replica} * n_ + unit;
    c0 = kb_[unit] + nudge_constant_[unit];
    cE = Vp_[idx] + Np_[idx];
    cEs = C_ * (A_[idx] + B_[idx]);
}

void TwoChannelUnitPopulation::follow_source(std::uint32_t replica, time_ms t, std::size_t first, std::size_t count) {
    const Replica& rep = rep_[replica];
    const double D = t - rep.t0, g = rep.g, a = 1.0 + g, K = 1.0 / (a - p_.tau_ms / p_.synapse_tau_ms);
    const Factors f = decay(replica, t);
    const double fa = std::exp(a * D / p_.tau_ms);
    // The source's coefficients are relative to its own reference time; the same one after the
    // kernel's rebases (then both factors are exactly 1).
    const double shift = rep.t0 - soma_source_->rep_[replica].t0;
    const double fE = shift == 0.0 ? 1.0 : std::exp(-shift / p_.tau_ms);
    const double fEs = shift == 0.0 ? 1.0 : std::exp(-shift / p_.synapse_tau_ms);
    for (std::size_t i = first; i < first + count; ++i) {
        const std::size_t idx = std::size_t{replica} * n_ + i;
        double c0, cE, cEs;
        soma_source_->soma_coefficients(replica, i, c0, cE, cEs);
        cE *= fE;
        cEs *= fEs;
        // N's particular part is linear in the target's coefficients; Nf takes back its jump.
        const double jump = g / a * (c0 - y_[idx]) + (cE - yE_[idx]) * f.E + g * K * (cEs - yEs_[idx]) * f.Es;
        Nf_[idx] -= jump * fa;
        y_[idx] = c0;
        yE_[idx] = cE;
        yEs_[idx] = cEs;
    }
}

void TwoChannelUnitPopulation::notify_coupled(std::uint32_t replica, time_ms t, std::size_t first, std::size_t count) {
    for (TwoChannelUnitPopulation* c : coupled_) c->follow_source(replica, t, first, count);
}

void TwoChannelUnitPopulation::initialize(std::uint64_t seed, time_ms t_start) {
    // At rest: U = Vbar = 0, no input, no teacher.
    std::fill(pending_count_.begin(), pending_count_.end(), 0u);
    for (auto* v : {&A_, &B_, &Np_, &Nf_, &y_, &yE_, &yEs_, &somatic_count_}) std::fill(v->begin(), v->end(), 0.0);
    // N(t_start) = Np + n_c = 0 without a teacher.
    for (std::uint32_t r = 0; r < replicas_; ++r)
        for (std::size_t i = 0; i < n_; ++i) {
            Vp_[r * n_ + i] = -kb_[i];
            Np_[r * n_ + i] = -nudge_constant_[i];
        }
    const double rate = rmax_per_ms_ * static_cast<double>(n_);
    for (std::uint32_t r = 0; r < replicas_; ++r) {
        Replica& rep = rep_[r];
        rep.t0 = t_start;
        rep.g = 0.0;
        rep.rng = CounterRng(seed, key(), replica_keys_.empty() ? first_replica_ + r : replica_keys_[r], StreamKind::emission);
        rep.next = t_start + rep.rng.exponential(rate);
    }
    if (soma_source_) {
        // The coupling is on from rest: N(t_start) = 0 with the target 0 (Nf = -(k b + n_c) / a, see
        // the particular part), then the source's U as the target, N kept continuous.
        for (std::uint32_t r = 0; r < replicas_; ++r) {
            rep_[r].g = coupling_g_;
            for (std::size_t i = 0; i < n_; ++i)
                Nf_[std::size_t{r} * n_ + i] = -(kb_[i] + nudge_constant_[i]) / (1.0 + coupling_g_);
            follow_source(r, t_start, 0, n_);
        }
    }
    // Populations coupled to this one and initialised before it take its rest state.
    for (std::uint32_t r = 0; r < replicas_; ++r) notify_coupled(r, t_start, 0, n_);
}

void TwoChannelUnitPopulation::not_rebased(std::uint32_t replica, time_ms t) const {
    const Replica& rep = rep_[replica];
    throw std::logic_error("population '" + name() + "': replica " + std::to_string(replica) + " was not rebased for " +
                               std::to_string(t - rep.t0) + " ms (see two_channel_unit.hpp)");
}

TwoChannelUnitPopulation::InputGrowth TwoChannelUnitPopulation::input_growth(std::uint32_t replica, time_ms t) const {
    const double D = t - rep_[replica].t0, fs = std::exp(D / p_.synapse_tau_ms);
    return {D, fs, tau_factor(fs, D / p_.tau_ms)};
}

double TwoChannelUnitPopulation::tau_part_step(double scale, double gain, double D, double f) const {
    // Written as the products were before equal time constants existed (same rounding).
    return equal_taus_ ? scale * gain * (D / p_.tau_ms) * f : C_ * scale * gain * f;
}

double TwoChannelUnitPopulation::tau_factor(double synaptic_factor, double D_over_tau) const {
    if (ratio_power_ == 0) return std::exp(D_over_tau);
    double result = 1.0, base = synaptic_factor;
    for (unsigned m = ratio_power_; m > 0; m >>= 1) {
        if (m & 1u) result *= base;
        base *= base;
    }
    return result;
}

TwoChannelUnitPopulation::Factors TwoChannelUnitPopulation::decay(std::uint32_t replica, time_ms t) const {
    const Replica& rep = rep_[replica];
    const double D = t - rep.t0;
    const double Es = std::exp(-D / p_.synapse_tau_ms);
    return {tau_factor(Es, -D / p_.tau_ms), Es, rep.g > 0.0 ? std::exp(-(1.0 + rep.g) * D / p_.tau_ms) : 0.0};
}

TwoChannelUnitPopulation::Potentials TwoChannelUnitPopulation::potentials(std::uint32_t replica, node_index unit,
                                                                          time_ms t) const {
    const std::size_t idx = std::size_t{replica} * n_ + unit;
    const Factors f = decay(replica, t);
    double A, Vp;
    dendritic_coefficients(replica, unit, A, Vp);
    const double g = rep_[replica].g;
    double Vbar, N;
    if (equal_taus_) {  // the tau_s part is (D / tau) e^(-D/tau) (see the header)
        const double shape = (t - rep_[replica].t0) / p_.tau_ms * f.E;
        Vbar = kb_[unit] + Vp * f.E + A * shape;
        if (g == 0.0) {
            N = Np_[idx] * f.E + B_[idx] * shape + nudge_constant_[unit];
        } else {
            const double a = 1.0 + g, K = 1.0 / g;
            N = Nf_[idx] * f.Ea + (g * (y_[idx] - kb_[unit]) + nudge_constant_[unit]) / a - Vp * f.E +
                (B_[idx] + A) * K * f.E - A * shape;
        }
    } else {
        Vbar = kb_[unit] + Vp * f.E + C_ * A * f.Es;
        if (g == 0.0) {
            N = Np_[idx] * f.E + C_ * B_[idx] * f.Es + nudge_constant_[unit];
        } else {
            const double a = 1.0 + g, K = 1.0 / (a - p_.tau_ms / p_.synapse_tau_ms);
            N = Nf_[idx] * f.Ea + (g * (y_[idx] - kb_[unit]) + nudge_constant_[unit]) / a + (yE_[idx] - Vp) * f.E +
                (B_[idx] + g * (yEs_[idx] - C_ * A)) * K * f.Es;
        }
    }
    return {Vbar + N, Vbar, kb_[unit] + A * f.Es};
}

double TwoChannelUnitPopulation::acceptance(double U) const {
    if (p_.emission == TwoChannelUnitParameters::Emission::logistic) return 1.0 / (1.0 + std::exp(-U));
    return std::clamp((U - p_.lo) / (p_.hi - p_.lo), 0.0, 1.0);
}

Population::Emission TwoChannelUnitPopulation::resolve_stream(std::size_t stream, time_ms t) {
    const auto r = static_cast<std::uint32_t>(stream);
    Replica& rep = rep_[r];
    check_rebased(r, t);
    // One 53-bit uniform gives both the unit (its integer part times n) and the acceptance draw
    // (the fraction, uniform on [0, 1) given the unit, with 53 - log2(n) bits).
    const double scaled = rep.rng.uniform() * static_cast<double>(n_);
    const double whole = std::floor(scaled);
    const auto unit = static_cast<node_index>(std::min(whole, static_cast<double>(n_ - 1)));
    const double u = scaled - whole;
    const Potentials v = potentials(r, unit, t);
    bool somatic, prediction;
    if (p_.emission == TwoChannelUnitParameters::Emission::logistic) {
        // u < 1 / (1 + e^-U)  <=>  U > logit(u) = log(u / (1 - u)): one log serves both channels.
        const double threshold = std::log(u / (1.0 - u));
        somatic = v.U > threshold;
        prediction = v.Vbar > threshold;
    } else {
        somatic = u < acceptance(v.U);
        prediction = u < acceptance(v.Vbar);
    }
    // Equal potentials give equal channels (the comparisons above are the same then).
    if (v.U == v.Vbar) prediction = somatic;
    if (somatic) somatic_count_[std::size_t{r} * n_ + unit] += 1.0;
    rep.next = t + rep.rng.exponential(rmax_per_ms_ * static_cast<double>(n_));
    return {unit, r, (somatic ? 1u : 0u) | (prediction ? 2u : 0u)};
}

double TwoChannelUnitPopulation::read(node_index node, int element_id, time_ms t) {
    if (node >= size()) throw std::out_of_range("population '" + name() + "': node id out of range");
    const auto unit = static_cast<node_index>(node % n_);
    const auto replica = static_cast<std::uint32_t>(node / (2 * n_));
    const Potentials v = potentials(replica, unit, t);
    switch (element_id) {
    case element_U: return v.U;
    case element_Vbar: return v.Vbar;
    case element_Vstar: return v.Vstar;
    default: return Population::read(node, element_id, t);
    }
}

void TwoChannelUnitPopulation::add_column(int receptor, std::uint32_t replica, time_ms t, const double* column,
                                          std::ptrdiff_t stride, double gain) {
    add_span(receptor, replica, t, column, stride, gain, 0, n_);
}

DenseTarget::Growth TwoChannelUnitPopulation::add_matrix_column(int receptor, std::uint32_t replica, time_ms t,
                                                                const double* column, std::ptrdiff_t stride,
                                                                double gain) {
    const Replica& rep = rep_[replica];
    if (receptor != dendrite || stride != 1 || rep.g != 0.0 || soma_source_ || !coupled_.empty())
        return {add_span(receptor, replica, t, column, stride, gain, 0, n_), rep.t0};
    check_rebased(replica, t);
    // The factors of add_span's dendritic branch, from the same helpers.
    const InputGrowth in = input_growth(replica, t);
    std::uint32_t& count = pending_count_[replica];
    pending_[std::size_t{replica} * max_pending + count] = {column, p_.k * gain * in.fs,
                                                            tau_part_step(p_.k, gain, in.D, in.f)};
    if (++count == max_pending) commit_replica(replica);
    return {in.fs, rep.t0};
}

void TwoChannelUnitPopulation::commit_inputs() {
    for (std::uint32_t r = 0; r < replicas_; ++r) commit_replica(r);
}

void TwoChannelUnitPopulation::commit_replica(std::uint32_t replica) {
    const std::uint32_t count = pending_count_[replica];
    if (count == 0) return;
    const PendingColumn* pc = &pending_[std::size_t{replica} * max_pending];
    double* A = &A_[std::size_t{replica} * n_];
    double* Vp = &Vp_[std::size_t{replica} * n_];
    // Blocks of units held in registers while the columns are added in arrival order: per unit
    // the same operations as add_span's loop (one fused multiply-add each where the build
    // contracts, as there), with one load and store of A and Vp per block instead of per column.
    std::size_t i = 0;
#if defined(__AVX2__) && defined(__FMA__)
    for (; i + 8 <= n_; i += 8) {
        __m256d a0 = _mm256_loadu_pd(A + i), a1 = _mm256_loadu_pd(A + i + 4);
        __m256d v0 = _mm256_loadu_pd(Vp + i), v1 = _mm256_loadu_pd(Vp + i + 4);
        for (std::uint32_t k = 0; k < count; ++k) {
            const double* column = pc[k].column + i;
            const __m256d xs = _mm256_set1_pd(pc[k].xs), xf = _mm256_set1_pd(pc[k].xf);
            const __m256d c0 = _mm256_loadu_pd(column), c1 = _mm256_loadu_pd(column + 4);
            a0 = _mm256_fmadd_pd(c0, xs, a0);
            a1 = _mm256_fmadd_pd(c1, xs, a1);
            v0 = _mm256_fnmadd_pd(c0, xf, v0);
            v1 = _mm256_fnmadd_pd(c1, xf, v1);
        }
        _mm256_storeu_pd(A + i, a0);
        _mm256_storeu_pd(A + i + 4, a1);
        _mm256_storeu_pd(Vp + i, v0);
        _mm256_storeu_pd(Vp + i + 4, v1);
    }
#endif
    for (; i < n_; ++i) {
        double a = A[i], v = Vp[i];
        for (std::uint32_t k = 0; k < count; ++k) {
            a = plus_product(a, pc[k].column[i], pc[k].xs);
            v = minus_product(v, pc[k].column[i], pc[k].xf);
        }
        A[i] = a;
        Vp[i] = v;
    }
    pending_count_[replica] = 0;
}

void TwoChannelUnitPopulation::dendritic_coefficients(std::uint32_t replica, std::size_t unit, double& A,
                                                      double& Vp) const {
    const std::size_t idx = std::size_t{replica} * n_ + unit;
    A = A_[idx];
    Vp = Vp_[idx];
    const PendingColumn* pc = &pending_[std::size_t{replica} * max_pending];
    for (std::uint32_t k = 0, count = pending_count_[replica]; k < count; ++k) {
        A = plus_product(A, pc[k].column[unit], pc[k].xs);
        Vp = minus_product(Vp, pc[k].column[unit], pc[k].xf);
    }
}

void TwoChannelUnitPopulation::add_input(int receptor, std::uint32_t replica, node_index unit, time_ms t,
                                         double amount) {
    if (unit >= n_) throw std::out_of_range("population '" + name() + "': unit out of range");
    add_span(receptor, replica, t, &amount, 1, 1.0, unit, 1);
}

double TwoChannelUnitPopulation::add_span(int receptor, std::uint32_t replica, time_ms t, const double* column,
                                        std::ptrdiff_t stride, double gain, std::size_t first, std::size_t count) {
    check_rebased(replica, t);
    if (receptor == dendrite) commit_replica(replica);  // A and Vp take the deferred columns first
    const Replica& rep = rep_[replica];
    const InputGrowth growth = input_growth(replica, t);
    const double D = growth.D, fs = growth.fs, f = growth.f;
    const std::size_t base = std::size_t{replica} * n_ + first;
    const std::size_t n = count;
    double* B = &B_[base];
    double* Vp = &Vp_[base];
    double* A = &A_[base];
    double* Np = &Np_[base];
    double* Nf = &Nf_[base];
    const double g = rep.g, a = 1.0 + g, K = 1.0 / (a - p_.tau_ms / p_.synapse_tau_ms);
    const double fa = g > 0.0 ? std::exp(a * D / p_.tau_ms) : 0.0;
    if (receptor == dendrite) {
        // A += k x e^(D/tau_s); Vp -= C k x e^(D/tau) keeps Vbar continuous; with the teacher on,
        // Nf -= C k x (1 - g K) e^(a D/tau) keeps N continuous.
        const double xs = p_.k * gain * fs, xf = tau_part_step(p_.k, gain, D, f);
        if (stride == 1) {  // a column of a forward matrix: contiguous, vectorised
            for (std::size_t i = 0; i < n; ++i) {
                A[i] = plus_product(A[i], column[i], xs);
                Vp[i] = minus_product(Vp[i], column[i], xf);
            }
        } else {
            for (std::size_t i = 0; i < n; ++i) {
                const double w = column[static_cast<std::ptrdiff_t>(i) * stride];
                A[i] = plus_product(A[i], w, xs);
                Vp[i] = minus_product(Vp[i], w, xf);
            }
        }
        if (g > 0.0) {
            // C (1 - g K) = K; with tau_s = tau, C is not finite but the product is K = 1/g.
            const double xa = equal_taus_ ? p_.k * gain * K * fa : C_ * p_.k * gain * (1.0 - g * K) * fa;
            for (std::size_t i = 0; i < n; ++i) Nf[i] -= column[static_cast<std::ptrdiff_t>(i) * stride] * xa;
        }
    } else if (receptor == nudge) {
        const double xs = gain * fs;
        for (std::size_t i = 0; i < n; ++i) B[i] += column[static_cast<std::ptrdiff_t>(i) * stride] * xs;
        if (g > 0.0) {
            const double xa = gain * K * fa;
            for (std::size_t i = 0; i < n; ++i) Nf[i] -= column[static_cast<std::ptrdiff_t>(i) * stride] * xa;
        } else {
            const double xf = tau_part_step(1.0, gain, D, f);
            for (std::size_t i = 0; i < n; ++i) Np[i] -= column[static_cast<std::ptrdiff_t>(i) * stride] * xf;
        }
    } else {
        throw std::out_of_range("population '" + name() + "': no receptor " + std::to_string(receptor));
    }
    notify_coupled(replica, t, first, count);
    return fs;
}

double TwoChannelUnitPopulation::receptor_input(int receptor, std::uint32_t replica, node_index unit, time_ms t) const {
    if (unit >= n_ || replica >= replicas_) throw std::out_of_range("population '" + name() + "': unit or replica out of range");
    const std::size_t idx = std::size_t{replica} * n_ + unit;
    const double Es = std::exp(-(t - rep_[replica].t0) / p_.synapse_tau_ms);
    // A holds k times the filtered input (k finite; with k = 0 the dendrite sees nothing).
    if (receptor == dendrite) {
        double A, Vp;
        dendritic_coefficients(replica, unit, A, Vp);
        return (p_.k != 0.0 ? A * Es / p_.k : 0.0) + bias_[unit];
    }
    if (receptor == nudge) return B_[idx] * Es + nudge_constant_[unit];
    throw std::out_of_range("population '" + name() + "': no receptor " + std::to_string(receptor));
}

void TwoChannelUnitPopulation::add_constant(int receptor, node_index unit, time_ms t, double amount) {
    if (unit >= n_) throw std::out_of_range("population '" + name() + "': unit out of range");
    if (receptor != dendrite && receptor != nudge)
        throw std::out_of_range("population '" + name() + "': no receptor " + std::to_string(receptor));
    // The step c of the constant part: k times the bias change for the dendrite (Vbar's and U's
    // target), the nudge constant's change for the nudge (U's only).
    commit_inputs();  // Vp changes below
    const bool dendritic = receptor == dendrite;
    const double c = dendritic ? p_.k * amount : amount;
    if (dendritic) {
        bias_[unit] += amount;
        kb_[unit] += c;
    } else {
        nudge_constant_[unit] += amount;
    }
    // U and Vbar stay continuous. A dendritic step is taken back by Vp (Vp -= c e^(D/tau)); a
    // nudge step without a teacher by Np likewise. With the teacher on, N's particular part moves
    // by c / a in both cases, which Nf takes back.
    for (std::uint32_t r = 0; r < replicas_; ++r) {
        check_rebased(r, t);
        const Replica& rep = rep_[r];
        const double D = t - rep.t0;
        const std::size_t idx = std::size_t{r} * n_ + unit;
        if (dendritic)
            Vp_[idx] -= c * std::exp(D / p_.tau_ms);
        else if (rep.g == 0.0)
            Np_[idx] -= c * std::exp(D / p_.tau_ms);
        if (rep.g > 0.0) {
            const double a = 1.0 + rep.g;
            Nf_[idx] -= c / a * std::exp(a * D / p_.tau_ms);
        }
        notify_coupled(r, t, unit, 1);
    }
}

void TwoChannelUnitPopulation::set_teacher(std::uint32_t replica, time_ms t, double g, const std::vector<double>& y) {
    if (replica >= replicas_) throw std::out_of_range("population '" + name() + "': replica out of range");
    if (!(g >= 0.0 && std::isfinite(g))) throw std::invalid_argument("population '" + name() + "': teacher conductance must be finite and >= 0");
    if (y.size() != n_) throw std::invalid_argument("population '" + name() + "': one teacher target per unit");
    for (double v : y)
        if (!std::isfinite(v)) throw std::invalid_argument("population '" + name() + "': non-finite teacher target");
    if (soma_source_)
        throw std::logic_error("population '" + name() + "': its teacher is the soma coupling to '" + soma_source_->name() + "'");
    if (g > 0.0 && !coupled_.empty())
        throw std::logic_error("population '" + name() + "': populations are coupled to its U, which must stay teacher-free");
    commit_replica(replica);  // the teacher's regime reads A and Vp, and turns deferral off
    Replica& rep = rep_[replica];
    const std::size_t base = std::size_t{replica} * n_;
    if (rep.g == 0.0 && g == 0.0) {  // no conductance before or after: N is unchanged, bitwise
        std::copy(y.begin(), y.end(), y_.begin() + static_cast<std::ptrdiff_t>(base));
        return;
    }
    check_rebased(replica, t);
    const Factors f = decay(replica, t);
    const double D = t - rep.t0;
    std::vector<double> N(n_);
    for (std::size_t i = 0; i < n_; ++i) {
        const Potentials v = potentials(replica, static_cast<node_index>(i), t);
        N[i] = v.U - v.Vbar;
    }
    rep.g = g;
    std::copy(y.begin(), y.end(), y_.begin() + static_cast<std::ptrdiff_t>(base));
    for (std::size_t i = 0; i < n_; ++i) {
        const std::size_t idx = base + i;
        const double shape = D / p_.tau_ms * f.E;  // the tau_s part's shape when tau_s = tau
        if (g == 0.0) {
            const double tau_s_part = equal_taus_ ? B_[idx] * shape : C_ * B_[idx] * f.Es;
            Np_[idx] = (N[i] - tau_s_part - nudge_constant_[i]) * std::exp(D / p_.tau_ms);
            Nf_[idx] = 0.0;
        } else {
            const double a = 1.0 + g, K = equal_taus_ ? 1.0 / g : 1.0 / (a - p_.tau_ms / p_.synapse_tau_ms);
            const double part =
                equal_taus_ ? (g * (y_[idx] - kb_[i]) + nudge_constant_[i]) / a - Vp_[idx] * f.E +
                                  (B_[idx] + A_[idx]) * K * f.E - A_[idx] * shape
                            : (g * (y_[idx] - kb_[i]) + nudge_constant_[i]) / a + (yE_[idx] - Vp_[idx]) * f.E +
                                  (B_[idx] + g * (yEs_[idx] - C_ * A_[idx])) * K * f.Es;
            Nf_[idx] = (N[i] - part) * std::exp(a * D / p_.tau_ms);
        }
    }
}

void TwoChannelUnitPopulation::rebase(std::uint32_t replica, time_ms t) {
    commit_replica(replica);
    Replica& rep = rep_[replica];
    const Factors f = decay(replica, t);
    const std::size_t base = std::size_t{replica} * n_;
    if (equal_taus_) {
        // (D / tau) e^(-D/tau) with D = D' + shift: the tau_s part moves shift / tau of itself
        // into the tau part.
        const double shift = (t - rep.t0) / p_.tau_ms;
        for (std::size_t i = base; i < base + n_; ++i) {
            Vp_[i] = (Vp_[i] + A_[i] * shift) * f.E;
            Np_[i] = (Np_[i] + B_[i] * shift) * f.E;
            A_[i] *= f.E;
            B_[i] *= f.E;
            Nf_[i] *= f.Ea;
        }
        rep.t0 = t;
        return;
    }
    for (std::size_t i = base; i < base + n_; ++i) {
        A_[i] *= f.Es;
        B_[i] *= f.Es;
        Vp_[i] *= f.E;
        Np_[i] *= f.E;
        Nf_[i] *= f.Ea;
        yE_[i] *= f.E;
        yEs_[i] *= f.Es;
    }
    rep.t0 = t;
}

}  // namespace settle
