#include "networks/circuit/event_circuit.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "networks/circuit/presentation_driver.hpp"
#include "networks/circuit/presentation_schedule.hpp"
#include "networks/circuit/rate_circuit.hpp"
#include "networks/circuit/spiking_circuit.hpp"

namespace settle::circuit {

namespace {

std::shared_ptr<DenseMatrix> to_dense(const Eigen::MatrixXd& m) {
    auto d = std::make_shared<DenseMatrix>(static_cast<std::size_t>(m.rows()), static_cast<std::size_t>(m.cols()));
    Eigen::Map<Eigen::MatrixXd>(d->w.data(), m.rows(), m.cols()) = m;  // both column-major
    return d;
}

Eigen::MatrixXd to_eigen(const DenseMatrix& d) {
    return Eigen::Map<const Eigen::MatrixXd>(d.w.data(), static_cast<Eigen::Index>(d.rows),
                                             static_cast<Eigen::Index>(d.cols));
}

std::vector<double> column(const Eigen::MatrixXd& m, Eigen::Index j) {
    return std::vector<double>(m.col(j).data(), m.col(j).data() + m.rows());
}

std::string layer_name(const std::string& prefix, std::size_t l) {
    std::string s(prefix);
    s += "layer";
    s += std::to_string(l);
    return s;
}

std::string indexed(const std::string& prefix, const char* what, std::size_t l) {
    std::string s(prefix);
    s += what;
    s += std::to_string(l);
    return s;
}

// The circuit's network over S replicas: the populations and projections of event_circuit.hpp.
// With `learn`, the forward projections carry the rule; the matrices are shared, not copied.
struct Built {
    PooledPoissonSource* input = nullptr;
    std::vector<TwoChannelUnitPopulation*> layers;
    std::vector<LagCompensatedRule*> rules;
};

}  // namespace

EventCircuit::EventCircuit(const CircuitConfig& config, std::uint64_t seed) : config_(config), seed_(seed) {
    if (config_.mode != Mode::spiking) throw std::invalid_argument("the event-driven circuit is the spiking mode");
    const Weights w = initial_weights(config_, seed_);
    for (const auto& W : w.W) W_.push_back(to_dense(W));
    if (config_.nudge == Nudge::lateral)
        for (std::size_t l = 1; l < w.W.size(); ++l) {  // hidden layers
            const auto n_l = static_cast<std::size_t>(w.W[l - 1].rows());
            P_.push_back(std::make_shared<DenseMatrix>(n_l, n_l));  // P_l = 0 at start
            auto identity = std::make_shared<DenseMatrix>(n_l, n_l);
            for (std::size_t i = 0; i < n_l; ++i) (*identity)(i, i) = 1.0;
            one_to_one_.push_back(std::move(identity));
        }
    if (config_.feedback != Feedback::symmetric)  // random: fixed; learned: Q_l's initial value
        for (const auto& B : initial_feedback(config_, seed_)) B_.push_back(to_dense(B));

    // The network of event_circuit.hpp, then the rule on each forward projection W<l> (the
    // network's first L dense projections, in layer order).
    net_ = circuit_network(static_cast<std::uint32_t>(config_.streams), "", true, 0, w.b);
    input_ = &dynamic_cast<PooledPoissonSource&>(net_->population(0));
    const std::size_t L = config_.sizes().size() - 1;
    for (std::size_t l = 1; l <= L; ++l) {
        layers_.push_back(&dynamic_cast<TwoChannelUnitPopulation&>(net_->population(l)));
        const bool out = l == L;
        LagCompensatedRule::Parameters rp;
        rp.eta_per_ms = out ? config_.eta_out : config_.eta_hidden;
        rp.scale = out ? config_.output_span() : 1.0;
        rp.rate_max_hz = config_.rate_max_hz;
        auto rule = std::make_unique<LagCompensatedRule>(rp);
        rules_.push_back(rule.get());
        net_->dense_projection(l - 1).set_rule(std::move(rule));
    }
    if (config_.nudge == Nudge::lateral)
        for (std::size_t l = 1; l < L; ++l) {
            interneurons_.push_back(&dynamic_cast<TwoChannelUnitPopulation&>(net_->population(L + l)));
            ApicalMismatchRule::Parameters ip;
            ip.eta_per_ms = config_.eta_interneuron;
            ip.error_scale = 1.0 / config_.lambda;
            ip.rate_max_hz = config_.rate_max_hz;
            const long P = net_->find_dense_projection(indexed("", "P", l));
            net_->dense_projection(static_cast<std::size_t>(P))
                .set_rule(std::make_unique<ApicalMismatchRule>(ip, *layers_[l - 1], TwoChannelUnitPopulation::nudge));
        }
    if (config_.feedback == Feedback::learned) add_learned_feedback();
    // Recording maps populations by index: the network must be laid out as the config says.
    const std::vector<std::string> names = config_.population_names();
    if (names.size() != net_->population_count())
        throw std::logic_error("event circuit: the network's populations differ from CircuitConfig::population_names()");
    for (std::size_t p = 0; p < names.size(); ++p)
        if (net_->population(p).name() != names[p])
            throw std::logic_error("event circuit: population " + std::to_string(p) + " is '" + net_->population(p).name() +
                                   "', CircuitConfig::population_names() says '" + names[p] + "'");
    sim_ = std::make_unique<Simulator>(*net_, seed_);
    sim_->set_sync_interval(config_.sync_interval_ms);
}

void EventCircuit::add_learned_feedback() {
    // Per hidden layer l: population feedback<l> coupled to layer l's soma, driven by layer l+1's
    // somatic channel through Q_l (projection Q<l>, the matrix B<l> carries to the nudge), with the
    // same rule at its channels' disagreements: Q_l learns to reconstruct U_l, teacher or not.
    const std::vector<int> n = config_.sizes();
    const std::size_t L = n.size() - 1;
    const auto R = static_cast<std::uint32_t>(config_.streams);
    const double tau_s = config_.synapse_tau_ms, r = config_.rate_max_hz * 1e-3;
    for (std::size_t l = 1; l < L; ++l) {
        auto pop = std::make_unique<TwoChannelUnitPopulation>(indexed("", "feedback", l), static_cast<std::size_t>(n[l]),
                                                              R, linear_unit_parameters(static_cast<int>(l), config_.feedback_lo, config_.feedback_hi));
        pop->couple_soma_to(*layers_[l - 1], config_.g_feedback);  // c_l = 0 at start
        feedback_.push_back(pop.get());
        const std::size_t population = net_->add_population(std::move(pop));
        // Layer l+1's decoded signal a = lo + slope s for the output, s for a hidden layer.
        const bool above_is_output = l + 1 == L;
        auto q = std::make_unique<DenseProjection>(indexed("", "Q", l), l + 1, population,
                                                   TwoChannelUnitPopulation::dendrite, B_[l - 1], false,
                                                   std::vector<double>{decode_slope(static_cast<int>(l + 1)) / (r * tau_s), 0.0});
        if (above_is_output) q->set_source_offset(config_.output_lo);
        feedback_projections_.push_back(q.get());
        LagCompensatedRule::Parameters rp;
        rp.eta_per_ms = config_.eta_feedback;
        rp.scale = config_.feedback_span();
        rp.rate_max_hz = config_.rate_max_hz;
        q->set_rule(std::make_unique<LagCompensatedRule>(rp));
        net_->add_dense_projection(std::move(q));
    }
}

std::vector<double> EventCircuit::reconstruction_error(const Eigen::MatrixXd& x) const {
    if (feedback_.empty()) return {};
    std::vector<Eigen::MatrixXd> Q;
    std::vector<Eigen::VectorXd> c;
    for (std::size_t i = 0; i < feedback_.size(); ++i) {
        Q.push_back(to_eigen(*B_[i]));
        // The population's constant input holds c_l plus, once the simulator has bound Q<l>, its
        // source offset times the row sums.
        const std::vector<double>& bias = feedback_[i]->bias();
        Eigen::VectorXd ci = Eigen::Map<const Eigen::VectorXd>(bias.data(), static_cast<Eigen::Index>(bias.size()));
        const DenseProjection& q = *feedback_projections_[i];
        if (q.source_offset_applied()) ci -= q.source_offset() * Q.back().rowwise().sum();
        c.push_back(std::move(ci));
    }
    return feedback_reconstruction_error(weights(), config_.k(), Q, c, x);
}

TwoChannelUnitParameters EventCircuit::unit_parameters(int layer) const {
    TwoChannelUnitParameters p;
    p.tau_ms = config_.tau_ms;
    p.synapse_tau_ms = config_.synapse_tau_ms;
    p.k = config_.k();
    p.rate_max_hz = config_.rate_max_hz;
    const bool out = layer == static_cast<int>(config_.sizes().size()) - 1;
    p.emission = out ? TwoChannelUnitParameters::Emission::linear : TwoChannelUnitParameters::Emission::logistic;
    p.lo = config_.output_lo;
    p.hi = config_.output_hi;
    return p;
}

TwoChannelUnitParameters EventCircuit::linear_unit_parameters(int layer, double lo, double hi) const {
    TwoChannelUnitParameters p = unit_parameters(layer);
    p.emission = TwoChannelUnitParameters::Emission::linear;
    p.lo = lo;
    p.hi = hi;
    return p;
}

double EventCircuit::decode_slope(int layer) const {
    return layer == static_cast<int>(config_.sizes().size()) - 1 ? config_.output_span() : 1.0;
}

Weights EventCircuit::weights() const {
    Weights w;
    for (std::size_t i = 0; i < W_.size(); ++i) {
        w.W.push_back(to_eigen(*W_[i]));
        const std::vector<double>& b = layers_[i]->bias();
        w.b.push_back(Eigen::Map<const Eigen::VectorXd>(b.data(), static_cast<Eigen::Index>(b.size())));
    }
    return w;
}

void EventCircuit::set_bias(int layer_index, const Eigen::VectorXd& b) {
    layers_.at(static_cast<std::size_t>(layer_index))->set_bias(std::vector<double>(b.data(), b.data() + b.size()));
}

void EventCircuit::set_eta(double hidden, double out) {
    for (std::size_t i = 0; i < rules_.size(); ++i) rules_[i]->set_eta(i + 1 == rules_.size() ? out : hidden);
}

void EventCircuit::set_eta_scale(double scale) {
    for (LagCompensatedRule* r : rules_) r->set_eta_scale(scale);
}

Eigen::MatrixXd EventCircuit::feedback_matrix(int i) const {
    const auto s = static_cast<std::size_t>(i);
    if (config_.feedback == Feedback::symmetric) return to_eigen(*W_[s + 1]).transpose();
    return to_eigen(*B_[s]);
}

namespace {

// Counts the somatic spikes of one population while `counting`.
class SomaticCounter final : public RunObserver {
public:
    SomaticCounter(std::size_t population, std::size_t units, std::size_t replicas)
        : population_(population), units_(units), counts_(Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(units),
                                                                                  static_cast<Eigen::Index>(replicas))) {}
    void on_spike(std::size_t population, node_index node, time_ms) override {
        if (!counting || population != population_) return;
        const std::size_t unit = node % units_, rc = node / units_;
        if (rc % 2 == 0) counts_(static_cast<Eigen::Index>(unit), static_cast<Eigen::Index>(rc / 2)) += 1.0;
    }
    void on_sample(std::size_t, std::uint64_t, time_ms, const std::vector<double>&) override {}
    bool counting = false;
    const Eigen::MatrixXd& counts() const { return counts_; }

private:
    std::size_t population_, units_;
    Eigen::MatrixXd counts_;
};

// Forwards what happens from `from_ms` on (spikes before it are dropped; the probes start there).
class Forward final : public RunObserver {
public:
    Forward(RunObserver* to, time_ms from_ms) : to_(to), from_(from_ms) {}
    void on_spike(std::size_t p, node_index n, time_ms t) override {
        if (to_ && t >= from_) to_->on_spike(p, n, t);
    }
    void on_sample(std::size_t probe, std::uint64_t step, time_ms t, const std::vector<double>& row) override {
        if (to_) to_->on_sample(probe, step, t, row);
    }
    void on_progress(time_ms t, std::uint64_t events) override {
        if (to_) to_->on_progress(t, events);
    }

private:
    RunObserver* to_;
    time_ms from_;
};

}  // namespace

std::unique_ptr<Network> EventCircuit::circuit_network(std::uint32_t R, const std::string& prefix, bool with_feedback,
                                                      std::uint32_t first_replica,
                                                      const std::vector<Eigen::VectorXd>& biases) const {
    const std::vector<int> n = config_.sizes();
    const std::size_t L = n.size() - 1;
    const double tau_s = config_.synapse_tau_ms, r_in = config_.input_rate_hz * 1e-3, r = config_.rate_max_hz * 1e-3;
    auto net = std::make_unique<Network>();
    net->add_population(std::make_unique<PooledPoissonSource>(prefix + "input", static_cast<std::size_t>(n[0]), R,
                                                              config_.input_rate_hz, first_replica));
    for (std::size_t l = 1; l <= L; ++l) {
        auto pop = std::make_unique<TwoChannelUnitPopulation>(layer_name(prefix, l), static_cast<std::size_t>(n[l]), R,
                                                              unit_parameters(static_cast<int>(l)), first_replica);
        const Eigen::VectorXd& b = biases[l - 1];
        pop->set_bias(std::vector<double>(b.data(), b.data() + b.size()));
        net->add_population(std::move(pop));
    }
    for (std::size_t l = 1; l <= L; ++l) {
        const std::vector<double> gain = l == 1 ? std::vector<double>{1.0 / (r_in * tau_s)}
                                                : std::vector<double>{1.0 / (r * tau_s), 0.0};
        net->add_dense_projection(std::make_unique<DenseProjection>(
            indexed(prefix, "W", l), l - 1, l, TwoChannelUnitPopulation::dendrite, W_[l - 1], false, gain));
    }
    if (!with_feedback) return net;
    const bool symmetric = config_.feedback == Feedback::symmetric;
    if (config_.nudge == Nudge::twin) {
        for (std::size_t l = 1; l < L; ++l) {
            const double g = config_.lambda * config_.k() * decode_slope(static_cast<int>(l + 1)) / (r * tau_s);
            net->add_dense_projection(std::make_unique<DenseProjection>(
                indexed(prefix, "B", l), l + 1, l, TwoChannelUnitPopulation::nudge, symmetric ? W_[l] : B_[l - 1],
                symmetric, std::vector<double>{g, -g}));
        }
        return net;
    }
    // Lateral nudge: I_l = lambda (k G a(s^U_{l+1}) - a_I(s_I)), a_I = lo_I + span_I s_I, from
    // the somatic channel of the layer above and the interneurons (one per unit, population
    // interneuron<l>: a two_channel_unit without nudge, so its two channels are one train), whose
    // dendrite predicts k G a from the layer's own somatic spikes through P<l>.
    const double lambda = config_.lambda, lo_I = config_.interneuron_lo, span_I = config_.interneuron_span();
    for (std::size_t l = 1; l < L; ++l) {
        auto pop = std::make_unique<TwoChannelUnitPopulation>(indexed(prefix, "interneuron", l), static_cast<std::size_t>(n[l]),
                                                              R, linear_unit_parameters(static_cast<int>(l), config_.interneuron_lo, config_.interneuron_hi), first_replica);
        if (!interneurons_.empty()) pop->set_bias(interneurons_[l - 1]->bias());  // d_l as trained so far
        const std::size_t I = net->add_population(std::move(pop));
        const double slope = decode_slope(static_cast<int>(l + 1));
        auto down = std::make_unique<DenseProjection>(indexed(prefix, "B", l), l + 1, l, TwoChannelUnitPopulation::nudge,
                                                      symmetric ? W_[l] : B_[l - 1], symmetric,
                                                      std::vector<double>{lambda * config_.k() * slope / (r * tau_s), 0.0});
        // The output decodes as lo + slope s: the trace carries lambda k slope s, the offset lambda k lo.
        if (l + 1 == L) down->set_source_offset(lambda * config_.k() * config_.output_lo);
        net->add_dense_projection(std::move(down));
        net->add_dense_projection(std::make_unique<DenseProjection>(indexed(prefix, "P", l), l, I,
                                                                    TwoChannelUnitPopulation::dendrite, P_[l - 1], false,
                                                                    std::vector<double>{1.0 / (r * tau_s), 0.0}));
        auto inhibit = std::make_unique<DenseProjection>(indexed(prefix, "I", l), I, l, TwoChannelUnitPopulation::nudge,
                                                         one_to_one_[l - 1], false,
                                                         std::vector<double>{-lambda * span_I / (r * tau_s), 0.0});
        inhibit->set_source_offset(-lambda * lo_I);
        net->add_dense_projection(std::move(inhibit));
    }
    return net;
}

namespace {

// A double that reads back as the same double (TOML float syntax: always a '.' or an exponent).
std::string exact(double v) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    std::string s(buf);
    if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
    return s;
}

std::string exact_array(const double* v, std::size_t n, std::ptrdiff_t stride = 1) {
    std::string s = "[";
    for (std::size_t i = 0; i < n; ++i) s += (i ? ", " : "") + exact(v[static_cast<std::ptrdiff_t>(i) * stride]);
    return s + "]";
}

}  // namespace

std::string EventCircuit::longhand_config() const {
    // The same populations and dense projections, in the same order, as the constructor builds
    // (circuit_network, then the rules and add_learned_feedback): the order of projections is
    // the order of their deliveries at one instant, so it is part of what makes the spikes equal.
    const std::vector<int> n = config_.sizes();
    const std::size_t L = n.size() - 1;
    const double tau_s = config_.synapse_tau_ms, r_in = config_.input_rate_hz * 1e-3, r = config_.rate_max_hz * 1e-3;
    const std::string S = std::to_string(config_.streams);
    const bool symmetric = config_.feedback == Feedback::symmetric;
    std::string t = "# The circuit's training network and drive, written out longhand (settle expand): the same\n"
                    "# training spikes as the compact [circuit] form.\n";
    t += "experiment = \"network\"\nseed = " + std::to_string(seed_) + "\n\n[simulation]\nsync_interval_ms = " +
         exact(config_.sync_interval_ms) + "\n";
    auto quoted = [](const std::string& x) { return "\"" + x + "\""; };
    auto unit_population = [&](const std::string& name, int units, const TwoChannelUnitParameters& p,
                               const std::vector<double>& bias, const std::string& extra) {
        return "\n[[population]]\nname = " + quoted(name) + "\nmodel = \"two_channel_unit\"\nsize = " + std::to_string(units) +
               "\nreplicas = " + S + "\nemission = \"" +
               (p.emission == TwoChannelUnitParameters::Emission::linear ? "linear" : "logistic") + "\"\nparams = { tau_ms = " +
               exact(p.tau_ms) + ", synapse_tau_ms = " + exact(p.synapse_tau_ms) + ", k = " + exact(p.k) +
               ", rate_max_hz = " + exact(p.rate_max_hz) + ", lo = " + exact(p.lo) + ", hi = " + exact(p.hi) + " }\nbias = " +
               exact_array(bias.data(), bias.size()) + "\n" + extra;
    };
    auto matrix_rows = [](const DenseMatrix& m) {
        std::string s = "[\n";
        for (std::size_t j = 0; j < m.rows; ++j) s += "  " + exact_array(&m.w[j], m.cols, static_cast<std::ptrdiff_t>(m.rows)) + ",\n";
        return s + "]";
    };
    // One dense projection: `matrix` is "weights = ..." or "tied_to = ..." (with its transpose key).
    auto projection = [&](const std::string& name, const std::string& source, const std::string& target, const char* receptor,
                          const std::vector<double>& gain, const std::string& matrix, double offset, const std::string& rule) {
        return "\n[[projection]]\nname = " + quoted(name) + "\nkind = \"dense\"\nsource = " + quoted(source) +
               "\ntarget = " + quoted(target) + "\nreceptor = \"" + receptor + "\"\nchannel_gain = " +
               exact_array(gain.data(), gain.size()) + "\n" + matrix + "\n" +
               (offset != 0.0 ? "source_offset = " + exact(offset) + "\n" : "") +
               (rule.empty() ? "" : "plasticity = { " + rule + " }\n");
    };
    const std::string input = "input", layer_L = layer_name("", L);

    t += "\n[[population]]\nname = \"input\"\nmodel = \"pooled_poisson_source\"\nsize = " + std::to_string(n[0]) +
         "\nreplicas = " + S + "\nrate_max_hz = " + exact(config_.input_rate_hz) + "\n";
    for (std::size_t l = 1; l <= L; ++l)
        t += unit_population(layer_name("", l), n[l], unit_parameters(static_cast<int>(l)), layers_[l - 1]->bias(), "");
    for (std::size_t l = 1; l <= L; ++l) {
        const bool out = l == L;
        const std::vector<double> gain = l == 1 ? std::vector<double>{1.0 / (r_in * tau_s)} : std::vector<double>{1.0 / (r * tau_s), 0.0};
        t += projection(indexed("", "W", l), l == 1 ? input : layer_name("", l - 1), layer_name("", l), "dendrite", gain,
                        "weights = " + matrix_rows(*W_[l - 1]), 0.0,
                        "rule = \"lag_compensated\", eta_per_ms = " + exact(out ? config_.eta_out : config_.eta_hidden));
    }
    auto feedback_matrix_of = [&](std::size_t l) {
        return symmetric ? "tied_to = " + quoted(indexed("", "W", l + 1)) : "weights = " + matrix_rows(*B_[l - 1]);
    };
    if (config_.nudge == Nudge::twin) {
        for (std::size_t l = 1; l < L; ++l) {
            const double g = config_.lambda * config_.k() * decode_slope(static_cast<int>(l + 1)) / (r * tau_s);
            t += projection(indexed("", "B", l), layer_name("", l + 1), layer_name("", l), "nudge", {g, -g}, feedback_matrix_of(l), 0.0, "");
        }
    } else {
        const double lambda = config_.lambda, lo_I = config_.interneuron_lo, span_I = config_.interneuron_span();
        for (std::size_t l = 1; l < L; ++l) {
            const std::string I = indexed("", "interneuron", l);
            t += unit_population(I, n[l], linear_unit_parameters(static_cast<int>(l), config_.interneuron_lo, config_.interneuron_hi), interneurons_[l - 1]->bias(), "");
            const double slope = decode_slope(static_cast<int>(l + 1));
            t += projection(indexed("", "B", l), layer_name("", l + 1), layer_name("", l), "nudge",
                            {lambda * config_.k() * slope / (r * tau_s), 0.0}, feedback_matrix_of(l),
                            l + 1 == L ? lambda * config_.k() * config_.output_lo : 0.0, "");
            t += projection(indexed("", "P", l), layer_name("", l), I, "dendrite", {1.0 / (r * tau_s), 0.0},
                            "weights = " + matrix_rows(*P_[l - 1]), 0.0,
                            "rule = \"apical_mismatch\", eta_per_ms = " + exact(config_.eta_interneuron) + ", error_population = " +
                                quoted(layer_name("", l)) + ", error_scale = " + exact(1.0 / lambda));
            t += projection(indexed("", "I", l), I, layer_name("", l), "nudge", {-lambda * span_I / (r * tau_s), 0.0},
                            "weights = " + matrix_rows(*one_to_one_[l - 1]), -lambda * lo_I, "");
        }
    }
    if (config_.feedback == Feedback::learned)
        for (std::size_t l = 1; l < L; ++l) {
            const std::string F = indexed("", "feedback", l);
            t += unit_population(F, n[l], linear_unit_parameters(static_cast<int>(l), config_.feedback_lo, config_.feedback_hi), std::vector<double>(static_cast<std::size_t>(n[l]), 0.0),
                                 "couple_soma_to = { population = " + quoted(layer_name("", l)) + ", g = " +
                                     exact(config_.g_feedback) + " }\n");
            // Q<l> holds the matrix the nudge projection B<l> carries (a tie, not a copy).
            t += projection(indexed("", "Q", l), layer_name("", l + 1), F, "dendrite",
                            {decode_slope(static_cast<int>(l + 1)) / (r * tau_s), 0.0},
                            "tied_to = " + quoted(indexed("", "B", l)) + "\ntranspose = false",
                            l + 1 == L ? config_.output_lo : 0.0,
                            "rule = \"lag_compensated\", eta_per_ms = " + exact(config_.eta_feedback));
        }
    std::string anneal;
    for (std::size_t l = 1; l <= L; ++l) anneal += std::string(l > 1 ? ", " : "") + quoted(indexed("", "W", l));
    t += "\n[drive]\ninput = \"input\"\nteacher = " + quoted(layer_L) + "\ng_teacher = " + exact(config_.g_teacher) +
         "\nanneal = [" + anneal + "]\npresentations = " + std::to_string(config_.presentations) +
         "\neta_final_fraction = " + exact(config_.eta_final_fraction) + "\n";
    const TaskConfig& task = config_.task;
    t += "\n[task]\nkind = \"" + to_string(task.kind) + "\"\nn_train = " + std::to_string(task.n_train) +
         "\nn_test = " + std::to_string(task.n_test) + "\n";
    if (task.kind == TaskKind::fashion_mnist)
        t += "data_dir = \"" + task.data_dir + "\"\ndownsample = " + std::to_string(task.downsample) + "\n";
    else if (task.kind == TaskKind::two_moons)
        t += "n_in = " + std::to_string(task.n_in) + "\nnoise = " + exact(task.noise) + "\n";
    else
        t += "n_in = " + std::to_string(task.n_in) + "\nn_teacher_hidden = " + std::to_string(task.n_teacher_hidden) +
             "\nn_out = " + std::to_string(task.n_out) + "\nteacher_gain = " + exact(task.teacher_gain) + "\n";
    const ScheduleConfig& sc = config_.schedule;
    t += "\n[schedule]\nduration_min_ms = " + exact(sc.duration_min_ms) + "\nduration_max_ms = " + exact(sc.duration_max_ms) +
         "\nonset_min_ms = " + exact(sc.onset_min_ms) + "\nonset_max_ms = " + exact(sc.onset_max_ms) + "\n";
    t += "\n[record]\nspikes = \"all\"\n";
    return t;
}

Eigen::MatrixXd EventCircuit::test_outputs(const Eigen::MatrixXd& x) const {
    // Blocks of inputs, one replica each; streams keyed by the global input index, so the
    // blocking does not change a spike. Frozen and without a teacher the channels agree, so only
    // the forward weights matter.
    constexpr Eigen::Index block = 256;
    const std::vector<int> n = config_.sizes();
    const std::size_t L = n.size() - 1;
    const double expected_max = config_.rate_max_hz * 1e-3 * config_.test_window_ms;
    Eigen::MatrixXd out(n[L], x.cols());
    for (Eigen::Index first = 0; first < x.cols(); first += block) {
        const auto R = static_cast<std::uint32_t>(std::min(block, x.cols() - first));
        // The lateral nudge is not zero without a teacher (the interneurons' residual and the spike
        // noise), so its populations take part in the test pass too, frozen.
        const std::unique_ptr<Network> net = circuit_network(R, "eval/", config_.nudge == Nudge::lateral,
                                                             static_cast<std::uint32_t>(first), weights().b);
        auto& input = dynamic_cast<PooledPoissonSource&>(net->population(0));
        for (std::uint32_t j = 0; j < R; ++j) input.set_rates(j, 0.0, column(x, first + j));
        Simulator sim(*net, seed_);
        sim.record_spikes(L);
        SomaticCounter counter(L, static_cast<std::size_t>(n[L]), R);
        sim.start(0.0);
        sim.advance(config_.test_settle_ms, counter, stop_.get());
        stop_.check();
        for (std::uint32_t j = 0; j < R; ++j) sim.rebase(j);
        counter.counting = true;
        sim.advance(config_.test_settle_ms + config_.test_window_ms, counter, stop_.get());
        stop_.check();
        out.middleCols(first, R) =
            (config_.output_lo + config_.output_span() * (counter.counts().array() / expected_max)).matrix();
    }
    return out;
}

std::vector<DerivativeCell> EventCircuit::temporal_derivative_test(const Eigen::MatrixXd& x, const Eigen::MatrixXd& y,
                                                                   const std::vector<double>& gs,
                                                                   const std::vector<double>& delays_ms,
                                                                   double settle_ms, int trials,
                                                                   std::uint64_t seed) const {
    const std::vector<int> n = config_.sizes();
    const std::size_t L = n.size() - 1, hidden = L - 1;
    const Eigen::Index n_in = x.cols(), T = trials;
    const auto G = static_cast<Eigen::Index>(gs.size());
    constexpr Eigen::Index copies = 3;  // teacher on, off, shuffled control
    // Replica ((g * 3 + copy) * n_in + input) * T + trial; stream key input * T + trial.
    auto replica = [&](Eigen::Index g, Eigen::Index copy, Eigen::Index j, Eigen::Index trial) {
        return static_cast<std::uint32_t>(((g * copies + copy) * n_in + j) * T + trial);
    };
    const auto R = static_cast<std::uint32_t>(G * copies * n_in * T);
    const std::unique_ptr<Network> net = circuit_network(R, "derivative/", true, 0, weights().b);
    std::vector<std::uint32_t> keys(R);
    for (Eigen::Index g = 0; g < G; ++g)
        for (Eigen::Index c = 0; c < copies; ++c)
            for (Eigen::Index j = 0; j < n_in; ++j)
                for (Eigen::Index t = 0; t < T; ++t) keys[replica(g, c, j, t)] = static_cast<std::uint32_t>(j * T + t);
    auto& input = dynamic_cast<PooledPoissonSource&>(net->population(0));
    input.set_replica_keys(keys);
    for (Eigen::Index g = 0; g < G; ++g)
        for (Eigen::Index c = 0; c < copies; ++c)
            for (Eigen::Index j = 0; j < n_in; ++j)
                for (Eigen::Index t = 0; t < T; ++t) input.set_rates(replica(g, c, j, t), 0.0, column(x, j));
    std::vector<TwoChannelUnitPopulation*> layer;
    for (std::size_t l = 1; l <= L; ++l) {
        layer.push_back(&dynamic_cast<TwoChannelUnitPopulation&>(net->population(l)));
        layer.back()->set_replica_keys(keys);
    }
    // The lateral nudge's interneurons too: every population's copies of a trial must draw the
    // same numbers, or the copies would differ before the teacher switches.
    for (std::size_t p = L + 1; p < net->population_count(); ++p)
        dynamic_cast<TwoChannelUnitPopulation&>(net->population(p)).set_replica_keys(keys);
    double max_delay = 0.0;
    for (double d : delays_ms) max_delay = std::max(max_delay, d);
    const double t_y = std::max(settle_ms, max_delay);

    // Somatic counts of hidden layer l for every replica: n_l x R.
    auto counts = [&](std::size_t l) {
        Eigen::MatrixXd m(n[l + 1], R);
        for (std::uint32_t q = 0; q < R; ++q)
            m.col(q) = Eigen::Map<const Eigen::VectorXd>(layer[l]->somatic_counts(q), n[l + 1]);
        return m;
    };
    auto all_counts = [&] {
        std::vector<Eigen::MatrixXd> v;
        for (std::size_t l = 0; l < hidden; ++l) v.push_back(counts(l));
        return v;
    };
    Simulator sim(*net, seed_);
    struct Quiet final : RunObserver {
        void on_spike(std::size_t, node_index, time_ms) override {}
        void on_sample(std::size_t, std::uint64_t, time_ms, const std::vector<double>&) override {}
    } quiet;
    sim.start(0.0);
    // Counts at t_y - d (the unpaired estimate's baseline), in time order.
    std::vector<std::size_t> order(delays_ms.size());
    for (std::size_t q = 0; q < order.size(); ++q) order[q] = q;
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return delays_ms[a] > delays_ms[b]; });
    std::vector<std::vector<Eigen::MatrixXd>> before(delays_ms.size());
    for (std::size_t q : order) {
        sim.advance(t_y - delays_ms[q], quiet, stop_.get());
        stop_.check();
        before[q] = all_counts();
    }
    sim.advance(t_y, quiet, stop_.get());
    stop_.check();
    const std::vector<Eigen::MatrixXd> at_onset = all_counts();
    const Weights w = weights();
    const Gradients grad = backprop(w, config_.k(), x, y);

    // Teachers at t_y. The shuffled control's targets come from each trial's settled output
    // prediction, one permutation per input (as in the stepped loop).
    TwoChannelUnitPopulation& out = *layer.back();
    const int n_out = n[L];
    Eigen::MatrixXd V(n_out, n_in * T);  // settled Vbar of the output, per (input, trial)
    for (Eigen::Index j = 0; j < n_in; ++j)
        for (Eigen::Index t = 0; t < T; ++t)
            for (int i = 0; i < n_out; ++i)
                V(i, j * T + t) = out.potentials(replica(0, 0, j, t), static_cast<node_index>(i), t_y).Vbar;
    Eigen::MatrixXd V_mean(n_out, n_in);
    for (Eigen::Index j = 0; j < n_in; ++j) V_mean.col(j) = V.middleCols(j * T, T).rowwise().mean();
    const Eigen::MatrixXd y_shuffled = shuffled_teacher_targets(y, V_mean, seed);
    for (std::uint32_t q = 0; q < R; ++q) sim.rebase(q);
    for (Eigen::Index g = 0; g < G; ++g)
        for (Eigen::Index j = 0; j < n_in; ++j)
            for (Eigen::Index t = 0; t < T; ++t) {
                out.set_teacher(replica(g, 0, j, t), t_y, gs[static_cast<std::size_t>(g)], column(y, j));
                const Eigen::VectorXd ys = V.col(j * T + t) + (y_shuffled.col(j) - V_mean.col(j));
                out.set_teacher(replica(g, 2, j, t), t_y, gs[static_cast<std::size_t>(g)],
                                std::vector<double>(ys.data(), ys.data() + ys.size()));
            }
    std::vector<std::vector<Eigen::MatrixXd>> after(delays_ms.size());
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
        sim.advance(t_y + delays_ms[*it], quiet, stop_.get());
        stop_.check();
        after[*it] = all_counts();
    }
    // Sums over trials of one (g, copy) block: n_l x R -> n_l x n_in.
    auto per_input = [&](const Eigen::MatrixXd& m, Eigen::Index g, Eigen::Index copy) {
        Eigen::MatrixXd s(m.rows(), n_in);
        for (Eigen::Index j = 0; j < n_in; ++j) s.col(j) = m.middleCols(replica(g, copy, j, 0), T).rowwise().sum();
        return s;
    };
    std::vector<DerivativeCell> cells;
    for (Eigen::Index g = 0; g < G; ++g)
        for (std::size_t q = 0; q < delays_ms.size(); ++q) {
            std::vector<Eigen::MatrixXd> paired, shuffled, unpaired;
            for (std::size_t l = 0; l < hidden; ++l) {
                const Eigen::MatrixXd on = per_input(after[q][l], g, 0), off = per_input(after[q][l], g, 1),
                                      sh = per_input(after[q][l], g, 2), onset = per_input(at_onset[l], g, 0),
                                      base = per_input(before[q][l], g, 0);
                paired.push_back(on - off);
                shuffled.push_back(sh - off);
                unpaired.push_back((on - onset) - (onset - base));
            }
            cells.push_back(spike_count_derivative_cell(gs[static_cast<std::size_t>(g)], delays_ms[q], grad, paired,
                                                        shuffled, unpaired));
        }
    return cells;
}

EventCircuit::State EventCircuit::train(const Dataset& data, std::int64_t presentations, std::uint64_t seed,
                                        const std::function<bool(std::int64_t)>& checkpoint, RunObserver* observer) {
    begin_training(data, presentations, seed, observer);
    continue_training(presentations, checkpoint);
    if (presentations == 0) checkpoint(0);
    sim_->finish();
    return training_state();
}

void EventCircuit::begin_training(const Dataset& data, std::int64_t presentations, std::uint64_t seed,
                                  RunObserver* observer) {
    if (driver_) throw std::logic_error("EventCircuit: training has begun already");
    const CircuitConfig& cfg = config_;
    const auto S = static_cast<std::uint32_t>(cfg.streams);
    Simulator& sim = *sim_;
    // Recording: the last window_presentations presentations (config().record).
    RunObserver* to = observer ? observer : record_observer_;
    // The recording window starts when presentation presentations - window + 1 starts.
    record_start_ms_ = to ? presentation_end_ms(cfg.schedule, static_cast<std::size_t>(data.x_train.cols()), seed, S,
                                                presentations - cfg.record.window_presentations)
                          : never;
    teacher_onsets_.clear();
    if (to) {
        for (const std::string& name : cfg.record.spikes) sim.record_spikes(static_cast<std::size_t>(net_->find_population(name)));
        for (const CircuitReportConfig& rc : cfg.record.reports) {
            StateProbe probe;
            probe.population = static_cast<std::size_t>(net_->find_population(rc.population));
            const Population& pop = net_->population(probe.population);
            for (auto n : rc.nodes) probe.nodes.push_back(static_cast<node_index>(n));
            if (probe.nodes.empty())
                for (node_index n = 0; n < pop.units(); ++n) probe.nodes.push_back(n);
            for (const std::string& v : rc.variables)
                for (const StateVariable& sv : pop.state_variables())
                    if (sv.name == v) probe.element_ids.push_back(sv.element_id);
            probe.start = record_start_ms_;
            probe.dt = rc.dt_ms;
            sim.add_probe(probe);
        }
    }
    forward_ = std::make_unique<Forward>(to, record_start_ms_);
    DriveTargets targets;
    targets.input_population = 0;
    targets.input = input_;
    targets.teacher = layers_.back();
    targets.g_teacher = cfg.g_teacher;
    targets.annealed = rules_;
    DriveOptions options;
    options.schedule = cfg.schedule;
    options.presentations = presentations;
    options.checkpoint_every = std::max<std::int64_t>(1, presentations / std::max(1, cfg.checkpoints));
    options.eta_final_fraction = cfg.eta_final_fraction;
    options.seed = seed;
    driver_ = std::make_unique<PresentationDriver>(sim, targets, data, options, [this](std::uint32_t s, double t) {
        if (s == 0 && t >= record_start_ms_) teacher_onsets_.push_back(t);
    });
}

std::int64_t EventCircuit::continue_training(std::int64_t until, const std::function<bool(std::int64_t)>& checkpoint) {
    if (!driver_) throw std::logic_error("EventCircuit: continue_training before begin_training");
    return driver_->drive(until, *forward_, stop_.get(), checkpoint);
}

std::int64_t EventCircuit::presentations_done() const { return driver_ ? driver_->done() : 0; }

EventCircuit::State EventCircuit::training_state() const {
    State st;
    const RunStats& rs = sim_->stats();
    st.t = sim_->now();
    st.input_spikes = static_cast<double>(rs.spikes[0]);
    for (std::size_t l = 1; l < rs.spikes.size(); ++l) st.neuron_spikes += static_cast<double>(rs.spikes[l]);
    st.synaptic_events = static_cast<double>(rs.synaptic_events);
    for (const LagCompensatedRule* r : rules_) st.weight_updates += r->updates();
    return st;
}

}  // namespace settle::circuit
