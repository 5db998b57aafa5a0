#include "neurons/urbanczik_senn_neuron.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <stdexcept>

#include <boost/numeric/odeint.hpp>

#include "sim/error.hpp"
#include "sim/random.hpp"

namespace settle {

namespace {
// A somatic synaptic conductance that has decayed below this fraction of the leak is set to 0,
// which lets the closed-form solution take over; the error is far below Odeint's tolerance.
constexpr double negligible_conductance = 1e-13;
}  // namespace

double exp_difference_response(double l1, double l2, double s) {
    const double d = l1 - l2;
    if (std::abs(d) * s > 1e-3) return (std::exp(-l2 * s) - std::exp(-l1 * s)) / d;
    // Near-degenerate: exp(-l2 s) - exp(-l1 s) = exp(-l1 s) expm1(d s).
    const double ds = d * s;
    return std::exp(-l1 * s) * s * (ds == 0.0 ? 1.0 : std::expm1(ds) / ds);
}

void UrbanczikSennParameters::validate() const {
    auto positive = [](double v, const char* name) {
        if (!(v > 0.0)) throw std::invalid_argument(std::string(name) + " must be > 0, got " + std::to_string(v));
    };
    positive(C_m_s, "C_m_s");
    positive(g_L_s, "g_L_s");
    positive(C_m_d, "C_m_d");
    positive(g_L_d, "g_L_d");
    positive(tau_syn_d, "tau_syn_d");
    positive(tau_syn_ex, "tau_syn_ex");
    positive(tau_syn_in, "tau_syn_in");
    positive(phi_max, "phi_max");
    positive(rate_slope, "rate_slope");
    positive(ode_abs_tol, "ode_abs_tol");
    positive(ode_rel_tol, "ode_rel_tol");
    if (!(g_sp >= 0.0)) throw std::invalid_argument("g_sp must be >= 0, got " + std::to_string(g_sp));
    // Background inputs are drawn one by one inside a node's advance: at most one per microsecond,
    // so an advance stays short (and a run interruptible) whatever the silence it crosses.
    if (!(background_rate_hz >= 0.0 && background_rate_hz <= 1e6))
        throw std::invalid_argument("background_rate_hz must be in [0, 1e6], got " + std::to_string(background_rate_hz));
    if (!(t_ref >= 0.0)) throw std::invalid_argument("t_ref must be >= 0, got " + std::to_string(t_ref));
    if (!std::isfinite(beta)) throw std::invalid_argument("beta must be finite");
    if (std::abs(tau_L() - tau_syn_d) < 1e-9)
        throw std::invalid_argument("tau_syn_d must differ from tau_L = C_m_d / g_L_d (" + std::to_string(tau_L()) +
                                    " ms)");
}

UrbanczikSennParameters UrbanczikSennParameters::nest() { return {}; }

UrbanczikSennParameters UrbanczikSennParameters::paper() {
    UrbanczikSennParameters p;
    p.C_m_s = 1.0;
    p.g_L_s = 0.1;
    p.E_L = 0.0;
    p.E_ex = 14.0 / 3.0;
    p.E_in = -1.0 / 3.0;
    p.g_sp = 2.0;
    p.C_m_d = 30.0;
    p.g_L_d = 3.0;
    p.tau_syn_d = 3.0;
    p.phi_max = 0.15;
    p.rate_slope = 0.5;
    p.beta = 5.0;
    p.theta = 1.0;
    p.t_ref = 0.0;
    p.U_init = 0.0;
    return p;
}

const std::vector<ParameterInfo<UrbanczikSennParameters>>& UrbanczikSennParameters::table() {
    using P = UrbanczikSennParameters;
    static const std::vector<ParameterInfo<P>> t = {
        {"C_m_s", "pF", "somatic capacitance", &P::C_m_s},
        {"g_L_s", "nS", "somatic leak conductance", &P::g_L_s},
        {"E_L", "mV", "resting potential", &P::E_L},
        {"E_ex", "mV", "excitatory reversal potential", &P::E_ex},
        {"E_in", "mV", "inhibitory reversal potential", &P::E_in},
        {"g_sp", "nS", "dendrite-to-soma coupling (g_D)", &P::g_sp},
        {"C_m_d", "pF", "dendritic capacitance", &P::C_m_d},
        {"g_L_d", "nS", "dendritic leak conductance (tau_L = C_m_d / g_L_d)", &P::g_L_d},
        {"tau_syn_d", "ms", "dendritic synaptic current time constant (tau_s)", &P::tau_syn_d},
        {"tau_syn_ex", "ms", "somatic excitatory conductance decay", &P::tau_syn_ex},
        {"tau_syn_in", "ms", "somatic inhibitory conductance decay", &P::tau_syn_in},
        {"phi_max", "1/ms", "maximal firing rate", &P::phi_max},
        {"rate_slope", "1", "k in phi = phi_max / (1 + k exp(beta (theta - U)))", &P::rate_slope},
        {"beta", "1/mV", "steepness of phi", &P::beta},
        {"theta", "mV", "half-activation potential of phi", &P::theta},
        {"t_ref", "ms", "dead time after a spike", &P::t_ref},
        {"U_init", "mV", "initial somatic potential", &P::U_init},
        {"ode_abs_tol", "mV", "Odeint absolute tolerance", &P::ode_abs_tol},
        {"ode_rel_tol", "1", "Odeint relative tolerance", &P::ode_rel_tol},
        {"background_rate_hz", "Hz", "rate of the neuron-local Poisson background input", &P::background_rate_hz},
        {"background_weight", "pA", "dendritic weight of each background input spike", &P::background_weight},
    };
    return t;
}

UrbanczikSennPopulation::UrbanczikSennPopulation(std::string name, std::size_t size, UrbanczikSennParameters params,
                                                 std::shared_ptr<const ConductanceSignal> teacher_exc,
                                                 std::shared_ptr<const ConductanceSignal> teacher_inh)
    : Population(std::move(name), size),
      p_(params),
      teacher_exc_(std::move(teacher_exc)),
      teacher_inh_(std::move(teacher_inh)) {
    p_.validate();
    psp_scale_ = p_.psp_scale();
}

void UrbanczikSennPopulation::initialize(std::uint64_t seed, time_ms t_start) {
    seed_ = seed;
    nodes_.assign(size(), Node{});
    for (node_index i = 0; i < size(); ++i) {
        Node& n = nodes_[i];
        n.t = t_start;
        n.U = p_.U_init;
        CounterRng rng(seed, key(), i, StreamKind::emission);
        n.next_candidate = t_start + rng.exponential(p_.phi_max);
        n.rng_counter = rng.counter();
        if (p_.background_rate_hz > 0.0) {
            CounterRng bg(seed, key(), i, StreamKind::background);
            n.next_background = t_start + bg.exponential(1e-3 * p_.background_rate_hz);
            n.background_counter = bg.counter();
        }
    }
}

double UrbanczikSennPopulation::rate(double u) const {
    return p_.phi_max / (1.0 + p_.rate_slope * std::exp(p_.beta * (p_.theta - u)));
}

double UrbanczikSennPopulation::log_rate_derivative(double u) const {
    return p_.beta / (1.0 + std::exp(-p_.beta * (p_.theta - u)) / p_.rate_slope);
}

double UrbanczikSennPopulation::prediction(double v_w) const {
    return (p_.g_L_s * p_.E_L + p_.g_sp * v_w) / (p_.g_L_s + p_.g_sp);
}

void UrbanczikSennPopulation::advance_exact(Node& n, time_ms t1, double g_E, double g_I) const {
    const double s = t1 - n.t;
    const double G = p_.g_L_s + p_.g_sp + g_E + g_I;
    const double a = G / p_.C_m_s;
    const double U_inf = ((p_.g_L_s + p_.g_sp) * p_.E_L + g_E * p_.E_ex + g_I * p_.E_in) / G;
    const double b = p_.g_sp * psp_scale_ / p_.C_m_s;
    const double l_L = 1.0 / p_.tau_L();
    const double l_s = 1.0 / p_.tau_syn_d;
    const double e_a = std::exp(-a * s), e_L = std::exp(-l_L * s), e_s = std::exp(-l_s * s);
    // (e_l - e_a) / (a - l), switching to the cancellation-free form when a is close to l.
    auto response = [&](double l, double e_l) {
        return std::abs(a - l) * s > 1e-3 ? (e_l - e_a) / (a - l) : exp_difference_response(a, l, s);
    };
    n.U = U_inf + (n.U - U_inf) * e_a + b * n.a_L * response(l_L, e_L) - b * n.a_s * response(l_s, e_s);
    n.a_L *= e_L;
    n.a_s *= e_s;
}

namespace {
// Odeint steps allowed in one input-free segment (tens are needed at sane inputs).
constexpr std::size_t max_ode_steps = 1'000'000;
}  // namespace

void UrbanczikSennPopulation::advance_ode(Node& n, node_index index, time_ms t1) const {
    namespace odeint = boost::numeric::odeint;
    using State = std::array<double, 1>;
    const time_ms t0 = n.t;
    const double l_L = 1.0 / p_.tau_L(), l_s = 1.0 / p_.tau_syn_d;
    const double l_ex = 1.0 / p_.tau_syn_ex, l_in = 1.0 / p_.tau_syn_in;
    const double a_L = n.a_L, a_s = n.a_s, g_ex0 = n.g_ex, g_in0 = n.g_in;
    auto rhs = [&](const State& x, State& dxdt, double t) {
        const double s = t - t0;
        const double v_w = p_.E_L + psp_scale_ * (a_L * std::exp(-l_L * s) - a_s * std::exp(-l_s * s));
        const double g_E = g_ex0 * std::exp(-l_ex * s) + teacher_exc(index, t);
        const double g_I = g_in0 * std::exp(-l_in * s) + teacher_inh(index, t);
        const double u = x[0];
        dxdt[0] = (-p_.g_L_s * (u - p_.E_L) + p_.g_sp * (v_w - u) + g_E * (p_.E_ex - u) + g_I * (p_.E_in - u)) /
                  p_.C_m_s;
    };
    State x{n.U};
    auto stepper = odeint::make_controlled(p_.ode_abs_tol, p_.ode_rel_tol, odeint::runge_kutta_dopri5<State>());
    const double span = t1 - t0;
    // Invariant: time advances. A soma driven far out of range (e.g. a weight of 1e50 pA) makes
    // the error-controlled stepper shrink its step without end; a segment needs tens of steps at
    // sane inputs, so a cap of max_ode_steps turns that hang into an error naming the population.
    std::size_t steps = 0;
    auto count_steps = [&](const State& state, double t) {
        if (++steps > max_ode_steps || !std::isfinite(state[0]))
            throw InputError("population '" + name() + "', node " + std::to_string(index) + ": the somatic potential " +
                             (std::isfinite(state[0]) ? "cannot be integrated" : "is not finite") + " at t = " +
                             std::to_string(t) + " ms (U = " + std::to_string(state[0]) +
                             " mV): its inputs are far out of range; check the weights and conductances");
    };
    odeint::integrate_adaptive(stepper, rhs, x, t0, t1, std::min(span, 0.05), count_steps);
    const double s = span;
    n.U = x[0];
    n.a_L = a_L * std::exp(-l_L * s);
    n.a_s = a_s * std::exp(-l_s * s);
    n.g_ex = g_ex0 * std::exp(-l_ex * s);
    n.g_in = g_in0 * std::exp(-l_in * s);
    if (n.g_ex < negligible_conductance * p_.g_L_s) n.g_ex = 0.0;
    if (n.g_in < negligible_conductance * p_.g_L_s) n.g_in = 0.0;
}

void UrbanczikSennPopulation::add_dendrite_listener(DendriteListener* listener) {
    if (std::find(listeners_.begin(), listeners_.end(), listener) == listeners_.end()) listeners_.push_back(listener);
}

void UrbanczikSennPopulation::remove_dendrite_listener(DendriteListener* listener) {
    listeners_.erase(std::remove(listeners_.begin(), listeners_.end(), listener), listeners_.end());
}

void UrbanczikSennPopulation::advance(Node& n, node_index index, time_ms t1) {
    // Background arrivals split the advance, so that listeners always see input-free segments.
    with_background(n, index, t1, [&](Node& m, time_ms t) { advance_free(m, index, t); });
}

void UrbanczikSennPopulation::advance_free(Node& n, node_index index, time_ms t1) {
    if (n.t < t1)
        for (DendriteListener* l : listeners_) l->on_dendrite_segment(index, n.t, t1, n.a_L, n.a_s);
    evolve(n, index, t1, &exact_segments_, &ode_segments_);
}

void UrbanczikSennPopulation::evolve(Node& n, node_index index, time_ms t1, std::uint64_t* exact,
                                     std::uint64_t* ode) const {
    while (n.t < t1) {
        const time_ms t0 = n.t;
        time_ms end = t1;
        bool constant = n.g_ex == 0.0 && n.g_in == 0.0;
        for (const ConductanceSignal* sig : {teacher_exc_.get(), teacher_inh_.get()}) {
            if (!sig) continue;
            end = std::min(end, sig->next_breakpoint(index, t0));
            constant = constant && sig->constant_after(index, t0);
        }
        if (constant) {
            advance_exact(n, end, teacher_exc(index, t0), teacher_inh(index, t0));
            if (exact) ++*exact;
        } else {
            advance_ode(n, index, end);
            if (ode) ++*ode;
        }
        if (!std::isfinite(n.U) || !std::isfinite(n.a_L - n.a_s))
            throw InputError("population '" + name() + "', node " + std::to_string(index) +
                             ": the state is not finite at t = " + std::to_string(end) +
                             " ms: its inputs are far out of range; check the weights and conductances");
        n.t = end;
    }
}

UrbanczikSennPopulation::SomaticPeek UrbanczikSennPopulation::peek_soma(node_index node, time_ms t) const {
    SomaticPeek out;
    peek_soma(node, &t, 1, &out);
    return out;
}

void UrbanczikSennPopulation::peek_soma(node_index node, const time_ms* t, std::size_t count, SomaticPeek* out) const {
    Node n = nodes_[node];
    for (std::size_t i = 0; i < count; ++i) {
        evolve(n, node, t[i], nullptr, nullptr);
        out[i] = {n.U, derivative_of(n, node, t[i])};
    }
}

double UrbanczikSennPopulation::derivative_of(const Node& n, node_index node, time_ms t) const {
    const double g_E = n.g_ex + teacher_exc(node, t);
    const double g_I = n.g_in + teacher_inh(node, t);
    return (-p_.g_L_s * (n.U - p_.E_L) + p_.g_sp * (v_w_of(n) - n.U) + g_E * (p_.E_ex - n.U) +
            g_I * (p_.E_in - n.U)) /
           p_.C_m_s;
}

void UrbanczikSennPopulation::receive(node_index node, time_ms t, double weight, int receptor) {
    Node& n = nodes_[node];
    advance(n, node, t);
    switch (receptor) {
    case dendrite:
        n.a_L += weight;
        n.a_s += weight;
        break;
    case soma_exc:
        n.g_ex += weight;
        break;
    case soma_inh:
        n.g_in += weight;
        break;
    default:
        throw std::logic_error("urbanczik_senn: unknown receptor " + std::to_string(receptor));
    }
}

bool UrbanczikSennPopulation::resolve_candidate(node_index node, time_ms t) {
    Node& n = nodes_[node];
    advance(n, node, t);
    CounterRng rng(seed_, key(), node, StreamKind::emission, n.rng_counter);
    const double u = rng.uniform();
    const bool spike = (t - n.last_spike >= p_.t_ref) && u * p_.phi_max < rate(n.U);
    if (spike) n.last_spike = t;
    n.next_candidate = t + rng.exponential(p_.phi_max);
    n.rng_counter = rng.counter();
    return spike;
}

std::vector<StateVariable> UrbanczikSennPopulation::state_variables() const {
    return {{"U", "mV", U}, {"V_w", "mV", V_w}, {"V_star", "mV", V_star}, {"phi", "1/ms", phi}};
}

UrbanczikSennPopulation::Node UrbanczikSennPopulation::state_at(node_index index, time_ms t) const {
    Node n = nodes_[index];
    // The same background arrivals as advance(), drawn from the same counters, on the copy.
    with_background(n, index, t, [&](Node& m, time_ms until) { evolve(m, index, until, nullptr, nullptr); });
    return n;
}

double UrbanczikSennPopulation::read(node_index node, int element_id, time_ms t) {
    // Invariant: reading never changes the node. The state is evolved on a copy, so recording,
    // probes and `settle plot` leave every later value bitwise as it would be without them (an
    // advance split at the read time would round differently, and the dendrite listeners, i.e.
    // the plasticity rules, would see the segment split).
    const Node n = state_at(node, t);
    switch (element_id) {
    case U:
        return n.U;
    case V_w:
        return v_w_of(n);
    case V_star:
        return prediction(v_w_of(n));
    case phi:
        return rate(n.U);
    default:
        return Population::read(node, element_id, t);
    }
}

double UrbanczikSennPopulation::dendritic_potential(node_index node, time_ms t) {
    Node& n = nodes_[node];
    advance(n, node, t);
    return v_w_of(n);
}

double UrbanczikSennPopulation::somatic_potential(node_index node, time_ms t) {
    Node& n = nodes_[node];
    advance(n, node, t);
    return n.U;
}

double UrbanczikSennPopulation::somatic_derivative(node_index node, time_ms t) {
    Node& n = nodes_[node];
    advance(n, node, t);
    return derivative_of(n, node, t);
}

void UrbanczikSennPopulation::advance_all(time_ms t) {
    for (node_index i = 0; i < size(); ++i) advance(nodes_[i], i, t);
}

void UrbanczikSennPopulation::set_teacher(time_ms t, std::shared_ptr<const ConductanceSignal> exc,
                                          std::shared_ptr<const ConductanceSignal> inh) {
    // Invariant: the signals are only ever asked about times >= a node's own time, which is t for
    // every node from here on; so the new signals' values before t never matter.
    advance_all(t);
    if (exc) teacher_exc_ = std::move(exc);
    if (inh) teacher_inh_ = std::move(inh);
}

}  // namespace settle
