#include "networks/network_builder.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <stdexcept>

#include "neurons/conductance_signal.hpp"
#include "neurons/poisson_source.hpp"
#include "neurons/pooled_poisson_source.hpp"
#include "neurons/two_channel_unit.hpp"
#include "neurons/spike_train_source.hpp"
#include "neurons/urbanczik_senn_neuron.hpp"
#include "plasticity/apical_mismatch_rule.hpp"
#include "plasticity/dendritic_prediction_rule.hpp"
#include "plasticity/lag_compensated_rule.hpp"
#include "plasticity/pair_stdp_rule.hpp"
#include "plasticity/pre_post_derivative_rule.hpp"
#include "sim/connectivity.hpp"
#include "sim/error.hpp"
#include "sim/hdf5_file.hpp"
#include "sim/random.hpp"

namespace settle {

namespace {

// Runs a model constructor, turning its std::invalid_argument into a ConfigError on `key`.
template <class F>
auto guarded(const ConfigTable& t, const std::string& key, F&& make) {
    try {
        return make();
    } catch (const std::invalid_argument& e) {
        t.fail(key, e.what());
    }
}

std::vector<std::vector<double>> read_matrix(ConfigTable& t, const std::string& key) {
    const toml_value* v = t.raw(key);
    std::vector<std::vector<double>> out;
    if (!v) return out;
    if (!v->is_array()) t.fail(key, "expected an array of arrays of numbers");
    for (const auto& row : v->as_array()) {
        if (!row.is_array()) t.fail(key, "expected an array of arrays of numbers");
        std::vector<double> r;
        for (const auto& e : row.as_array()) {
            if (e.is_floating()) {
                if (!std::isfinite(e.as_floating())) t.fail(key, "must be finite numbers, found " + std::to_string(e.as_floating()));
                r.push_back(e.as_floating());
            } else if (e.is_integer()) r.push_back(static_cast<double>(e.as_integer()));
            else t.fail(key, "expected numbers, found a " + std::string(e.is_string() ? "string" : "non-number"));
        }
        out.push_back(std::move(r));
    }
    return out;
}

// `values` (one list for every node) or `values_per_node` (one row per node), all >= 0.
std::vector<std::vector<double>> read_conductance_values(ConfigTable& t, std::size_t size) {
    std::vector<std::vector<double>> values;
    const bool per_node = t.has("values_per_node");
    if (per_node) {
        values = read_matrix(t, "values_per_node");
        if (values.size() != size) t.fail("values_per_node", "needs one row per node (" + std::to_string(size) + ")");
    } else {
        values.push_back(t.get_double_array("values"));
    }
    for (const auto& row : values)
        for (double g : row)
            if (!(g >= 0.0)) t.fail(per_node ? "values_per_node" : "values", "conductances must be >= 0, got " + std::to_string(g));
    return values;
}

std::shared_ptr<const ConductanceSignal> read_conductance(ConfigTable& pop, const std::string& key,
                                                          std::size_t size) {
    auto table = pop.table(key);
    if (!table) return nullptr;
    ConfigTable& t = *table;
    const std::string kind = t.get_choice("kind", "constant", {"constant", "sinusoid", "piecewise", "sampled"});
    std::shared_ptr<const ConductanceSignal> signal;
    if (kind == "constant") {
        const double g = require_non_negative(t, "value", t.require_double("value"));
        signal = std::make_shared<ConstantConductance>(g);
    } else if (kind == "sinusoid") {
        const double mean = t.require_double("mean");
        const double amplitude = t.get_double("amplitude", 0.0);
        if (mean < std::abs(amplitude)) t.fail("amplitude", "a conductance must stay >= 0: need mean >= |amplitude|");
        const double period = require_positive(t, "period_ms", t.require_double("period_ms"));
        const double phase = t.get_double("phase_rad", 0.0);
        const double start = t.get_double("start_ms", 0.0);
        const double stop = t.get_double("stop_ms", 1e300);
        if (!(stop > start)) t.fail("stop_ms", "must be after start_ms");
        signal = std::make_shared<SinusoidConductance>(mean, amplitude, period, phase, start, stop);
    } else if (kind == "piecewise") {
        const auto times = t.get_double_array("times_ms");
        if (times.empty()) t.fail("times_ms", "required: the times at which each value starts");
        if (!std::is_sorted(times.begin(), times.end())) t.fail("times_ms", "must be non-decreasing");
        const auto values = read_conductance_values(t, size);
        for (const auto& row : values)
            if (row.size() != times.size()) t.fail(t.has("values_per_node") ? "values_per_node" : "values", "needs one value per time");
        signal = std::make_shared<PiecewiseConductance>(times, values);
    } else {
        const double start = t.get_double("start_ms", 0.0);
        const double dt = require_positive(t, "dt_ms", t.require_double("dt_ms"));
        const auto values = read_conductance_values(t, size);
        for (const auto& row : values) {
            if (row.size() < 2) t.fail("values", "needs at least 2 samples");
            if (row.size() != values[0].size()) t.fail("values_per_node", "rows must have equal lengths");
        }
        signal = std::make_shared<SampledConductance>(start, dt, values);
    }
    t.finish();
    return signal;
}

// One reader per model: it reads the model's keys from its [[population]] table (the defaults
// are the fallbacks written here or in the model's presets) and builds the population.
std::unique_ptr<Population> build_poisson_source(ConfigTable& t, const std::string& name, std::int64_t size_i) {
    std::unique_ptr<Population> pop;
    if (size_i <= 0) t.fail("size", "required, must be >= 1");
    const auto size = static_cast<std::size_t>(size_i);
    if (auto rate = t.table("rate")) {
        PoissonSource::Sinusoid s;
        s.mean_hz = rate->require_double("mean_hz");
        s.amplitude_hz = rate->get_double("amplitude_hz", 0.0);
        s.period_ms = require_positive(*rate, "period_ms", rate->require_double("period_ms"));
        s.phase_rad = rate->get_double("phase_rad", 0.0);
        rate->finish();
        pop = guarded(*rate, "mean_hz", [&] { return PoissonSource::sinusoidal(name, size, s); });
    } else if (auto sched = t.table("schedule")) {
        const auto times = sched->get_double_array("times_ms");
        auto rates = read_matrix(*sched, "rates_hz");
        const double max_rate = sched->get_double("max_rate_hz", 0.0);
        sched->finish();
        if (times.size() != rates.size()) sched->fail("rates_hz", "needs one row per time in times_ms");
        double bound = max_rate;
        for (const auto& r : rates)
            for (double x : r) bound = std::max(bound, x);
        pop = guarded(*sched, "rates_hz", [&] { return PoissonSource::piecewise(name, size, times, rates, bound > 0 ? bound : 1.0); });
    } else {
        std::vector<double> rates = t.get_double_array("rates_hz");
        if (rates.empty()) rates.push_back(t.require_double("rate_hz"));
        for (double r : rates)
            if (!(r >= 0.0)) t.fail(t.has("rates_hz") ? "rates_hz" : "rate_hz", "must be >= 0, got " + std::to_string(r));
        pop = guarded(t, "rates_hz", [&] { return PoissonSource::constant(name, size, rates); });
    }
    return pop;
}

std::unique_ptr<Population> build_spike_train_source(ConfigTable& t, const std::string& name, std::int64_t size_i) {
    std::unique_ptr<Population> pop;
    SpikeRepetition rep;
    if (auto r = t.table("repeat")) {
        rep.start_ms = r->get_double("start_ms", 0.0);
        rep.period_ms = require_positive(*r, "period_ms", r->require_double("period_ms"));
        const auto count = r->get_int("count", 1);
        if (count < 1) r->fail("count", "must be >= 1, got " + std::to_string(count));
        rep.count = static_cast<std::uint64_t>(count);
        r->finish();
    }
    if (auto fp = t.table("frozen_poisson")) {
        if (size_i <= 0) t.fail("size", "required, must be >= 1");
        const double rate = require_non_negative(*fp, "rate_hz", fp->require_double("rate_hz"));
        const double period = require_positive(*fp, "period_ms", fp->require_double("period_ms"));
        // The pattern is drawn in full at build time: rate x period spikes per node.
        require_fits_in_memory(*fp, "rate_hz", rate * 1e-3 * period * static_cast<double>(size_i), 16.0, "pattern spikes");
        fp->finish();
        if (rep.period_ms == 0.0) rep.period_ms = period;
        if (rep.period_ms != period) t.fail("repeat.period_ms", "must equal frozen_poisson.period_ms");
        pop = guarded(t, "frozen_poisson", [&] { return SpikeTrainSource::frozen_poisson(name, static_cast<std::size_t>(size_i), rate, rep); });
    } else {
        auto times = read_matrix(t, "times_ms");
        if (times.empty()) t.fail("times_ms", "required: one array of spike times per node");
        if (size_i >= 0 && static_cast<std::size_t>(size_i) != times.size())
            t.fail("size", "is " + std::to_string(size_i) + " but times_ms has " + std::to_string(times.size()) + " rows");
        pop = guarded(t, "times_ms", [&] { return SpikeTrainSource::explicit_times(name, times, rep); });
    }
    return pop;
}

// A model's `params` table through its parameter table (sim/parameters.hpp). Every parameter is
// read, present or not, so `settle keys` lists the values in `params` before the overrides as the
// defaults: they are written once, in the model's parameter struct or presets.
template <class Params>
void read_parameter_table(ConfigTable& t, Params& params, const std::vector<ParameterInfo<Params>>& table) {
    static const toml_value no_overrides = toml::table{};
    std::optional<ConfigTable> overrides = t.table("params");
    if (!overrides) overrides.emplace(no_overrides, t.key_path("params"));
    for (const auto& info : table) {
        params.*(info.field) = overrides->get_double(info.name, params.*(info.field));
        overrides->describe(info.name, info.unit, info.meaning);
    }
    overrides->finish();
}

std::unique_ptr<Population> build_urbanczik_senn(ConfigTable& t, const std::string& name, std::int64_t size_i) {
    std::unique_ptr<Population> pop;
    if (size_i <= 0) t.fail("size", "required, must be >= 1");
    const auto size = static_cast<std::size_t>(size_i);
    const std::string preset = t.get_choice("preset", "nest", {"nest", "paper"});
    auto params = preset == "paper" ? UrbanczikSennParameters::paper() : UrbanczikSennParameters::nest();
    read_parameter_table(t, params, UrbanczikSennParameters::table());
    try {
        params.validate();
    } catch (const std::invalid_argument& e) {
        t.fail("params", e.what());
    }
    auto exc = read_conductance(t, "teacher_exc", size);
    auto inh = read_conductance(t, "teacher_inh", size);
    pop = std::make_unique<UrbanczikSennPopulation>(name, size, params, exc, inh);
    return pop;
}

// `replicas` (default 1): independent copies of the population that share its dense projections'
// matrices (sim/dense_projection.hpp).
std::uint32_t read_replicas(ConfigTable& t) {
    const auto replicas = t.get_int("replicas", 1);
    if (replicas < 1 || replicas > 1'000'000) t.fail("replicas", "must be in [1, 1000000], got " + std::to_string(replicas));
    return static_cast<std::uint32_t>(replicas);
}

std::unique_ptr<Population> build_pooled_poisson_source(ConfigTable& t, const std::string& name, std::int64_t size_i) {
    if (size_i <= 0) t.fail("size", "required, must be >= 1");
    const auto size = static_cast<std::size_t>(size_i);
    const std::uint32_t replicas = read_replicas(t);
    require_fits_in_memory(t, "replicas", static_cast<double>(size) * replicas, 24.0, "unit replicas");
    const double rate_max = t.get_double("rate_max_hz", 1000.0);
    // `rates`: each unit's fraction x in [0, 1] of rate_max_hz, the same in every replica (a
    // driver may change them per replica during a run).
    const std::vector<double> x = t.get_double_array("rates", std::vector<double>(size, 0.0));
    if (x.size() != size) t.fail("rates", "needs one value per unit (" + std::to_string(size) + "), got " + std::to_string(x.size()));
    for (double v : x)
        if (!(v >= 0.0 && v <= 1.0)) t.fail("rates", "each must be a fraction of rate_max_hz in [0, 1], got " + std::to_string(v));
    auto pop = guarded(t, "rate_max_hz", [&] { return std::make_unique<PooledPoissonSource>(name, size, replicas, rate_max); });
    for (std::uint32_t r = 0; r < replicas; ++r) pop->set_rates(r, 0.0, x);
    return pop;
}

std::unique_ptr<Population> build_two_channel_unit(ConfigTable& t, const std::string& name, std::int64_t size_i) {
    if (size_i <= 0) t.fail("size", "required, must be >= 1");
    const auto size = static_cast<std::size_t>(size_i);
    const std::uint32_t replicas = read_replicas(t);
    // About 16 doubles of state per unit and replica.
    require_fits_in_memory(t, "replicas", static_cast<double>(size) * replicas, 128.0, "unit replicas");
    TwoChannelUnitParameters p;
    p.emission = t.get_choice("emission", "logistic", {"logistic", "linear"}) == "linear"
                     ? TwoChannelUnitParameters::Emission::linear
                     : TwoChannelUnitParameters::Emission::logistic;
    read_parameter_table(t, p, TwoChannelUnitParameters::table());
    const std::vector<double> bias = t.get_double_array("bias", std::vector<double>(size, 0.0));
    if (bias.size() != size) t.fail("bias", "needs one value per unit (" + std::to_string(size) + "), got " + std::to_string(bias.size()));
    auto pop = guarded(t, "params", [&] { return std::make_unique<TwoChannelUnitPopulation>(name, size, replicas, p); });
    pop->set_bias(bias);
    return pop;
}

}  // namespace

std::map<std::string, ModelFactory>& model_registry() {
    static std::map<std::string, ModelFactory> registry = {
        {"poisson_source", {"Poisson spike source: constant, sinusoidal or piecewise-constant rates", build_poisson_source}},
        {"spike_train_source", {"explicit spike times, or a frozen Poisson pattern, optionally repeated", build_spike_train_source}},
        {"urbanczik_senn", {"two-compartment Poisson neuron of Urbanczik & Senn (2014), NEST's pp_cond_exp_mc_urbanczik", build_urbanczik_senn}},
        {"pooled_poisson_source", {"Poisson sources at data-driven rates, per replica, drawn without thinning", build_pooled_poisson_source}},
        {"two_channel_unit", {"the learning circuit's two-compartment unit with somatic and prediction spike channels", build_two_channel_unit}},
    };
    return registry;
}

std::vector<std::string> known_models() {
    std::vector<std::string> names;
    for (const auto& [name, factory] : model_registry()) names.push_back(name);
    return names;
}

namespace {

std::unique_ptr<Population> read_population(ConfigTable& t) {
    const std::string name = t.require_string("name");
    if (name.empty() || name.find('/') != std::string::npos) t.fail("name", "must be non-empty and contain no '/'");
    const std::string model = t.get_choice("model", "", known_models());
    const auto size_i = t.get_int("size", -1);
    // Every model keeps some state per node; 64 bytes is below all of them.
    if (size_i > 0) require_fits_in_memory(t, "size", static_cast<double>(size_i), 64.0, "nodes");
    std::unique_ptr<Population> pop = model_registry().at(model).build(t, name, size_i);
    return pop;  // the caller finishes t (it reads the keys that refer to other populations)
}

// couple_soma_to = { population = "...", g = ... } of a two_channel_unit: its teacher is a
// permanent conductance g toward U of an earlier two_channel_unit, unit for unit (the learning
// circuit's learned-feedback units; two_channel_unit.hpp, "Soma coupling").
void read_soma_coupling(ConfigTable& t, Network& net, Population& pop) {
    auto table = t.table("couple_soma_to");
    if (!table) return;
    ConfigTable& c = *table;
    auto* follower = dynamic_cast<TwoChannelUnitPopulation*>(&pop);
    if (!follower) t.fail("couple_soma_to", "only a two_channel_unit couples its soma, '" + pop.name() + "' is " + pop.model());
    const std::string source_name = c.require_string("population");
    const long s = net.find_population(source_name);
    if (s < 0) c.fail("population", "no earlier population named '" + source_name + "'");
    auto* source = dynamic_cast<TwoChannelUnitPopulation*>(&net.population(static_cast<std::size_t>(s)));
    if (!source) c.fail("population", "'" + source_name + "' is " + net.population(static_cast<std::size_t>(s)).model() + ", not a two_channel_unit");
    const double g = c.require_double("g");
    c.finish();
    guarded(c, "g", [&] {
        follower->couple_soma_to(*source, g);
        return 0;
    });
}

ValueInit read_value_init(ConfigTable& t, const std::string& key, bool delays) {
    ValueInit init;
    // Delays are in ms whatever their form (number, values, distribution); a weight's unit is its
    // receptor's.
    const std::string unit = delays ? "ms" : "";
    const toml_value* raw = t.raw(key);
    if (!raw) t.fail(key, "required: a number or a table {dist = ...}");
    if (raw->is_floating() || raw->is_integer()) {
        init.value = raw->is_floating() ? raw->as_floating() : static_cast<double>(raw->as_integer());
        if (delays && !(init.value >= 0.0)) t.fail(key, "delays must be >= 0, got " + std::to_string(init.value));
        if (!unit.empty()) t.describe(key, unit, "");
        return init;
    }
    auto sub = t.table(key);
    ConfigTable& s = *sub;
    const auto describe_numbers = [&] {
        if (unit.empty()) return;
        for (const char* k : {"values", "value", "low", "high", "mean", "std", "min", "max"})
            if (s.has(k)) s.describe(k, unit, "");
    };
    if (s.has("values")) {
        init.kind = ValueInit::Kind::explicit_values;
        init.values = s.get_double_array("values");
        describe_numbers();
        if (delays)
            for (double d : init.values)
                if (!(d >= 0.0)) s.fail("values", "delays must be >= 0, got " + std::to_string(d));
        s.finish();
        return init;
    }
    const std::string dist = s.get_choice("dist", "constant", {"constant", "uniform", "normal"});
    if (dist == "constant") {
        init.value = s.require_double("value");
        if (delays && !(init.value >= 0.0)) s.fail("value", "delays must be >= 0, got " + std::to_string(init.value));
    } else if (dist == "uniform") {
        init.kind = ValueInit::Kind::uniform;
        init.low = s.require_double("low");
        init.high = s.require_double("high");
        if (!(init.high >= init.low)) s.fail("high", "must be >= low");
        if (delays && init.low < 0.0) s.fail("low", "delays must be >= 0, got " + std::to_string(init.low));
    } else {
        init.kind = ValueInit::Kind::normal;
        init.mean = s.require_double("mean");
        init.std = require_non_negative(s, "std", s.require_double("std"));
        init.min = s.get_double("min", delays ? 0.0 : -1e300);
        init.max = s.get_double("max", 1e300);
        if (delays && init.min < 0.0) s.fail("min", "delays must be >= 0, got " + std::to_string(init.min));
        if (!(init.max >= init.min)) s.fail("max", "must be >= min");
    }
    describe_numbers();
    s.finish();
    return init;
}

// [[projection]] plasticity = { rule = ..., ... } (docs/config.md, "Plasticity").
// One reader per rule: its keys, with the defaults of the rule's parameter struct.
std::unique_ptr<PlasticityRule> build_dendritic_prediction(ConfigTable& t, [[maybe_unused]] Population& target, [[maybe_unused]] const std::string& receptor) {
    std::unique_ptr<PlasticityRule> out;
    auto* neuron = dynamic_cast<UrbanczikSennPopulation*>(&target);
    if (!neuron) t.fail("rule", "dendritic_prediction needs an urbanczik_senn target, '" + target.name() + "' is " + target.model());
    if (receptor != "dendrite") t.fail("rule", "dendritic_prediction needs receptor = \"dendrite\", got \"" + receptor + "\"");
    DendriticPredictionParameters p;
    p.eta = t.get_double("eta", p.eta);
    p.tau_Delta = t.get_double("tau_Delta", p.tau_Delta);
    p.w_min = t.get_double("w_min", p.w_min);
    p.w_max = t.get_double("w_max", p.w_max);
    p.nest_convention = t.get_choice("convention", "nest", {"nest", "plain"}) == "nest";
    p.quad_rel_tol = t.get_double("quad_rel_tol", p.quad_rel_tol);
    try {
        p.validate(neuron->parameters().tau_L());
    } catch (const std::invalid_argument& e) {
        t.fail("rule", e.what());
    }
    out = std::make_unique<DendriticPredictionRule>(p);
    return out;
}

std::unique_ptr<PlasticityRule> build_pre_post_derivative(ConfigTable& t, [[maybe_unused]] Population& target, [[maybe_unused]] const std::string& receptor) {
    std::unique_ptr<PlasticityRule> out;
    PrePostDerivativeParameters p;
    p.eta = t.get_double("eta", p.eta);
    p.pre = t.get_choice("pre", "trace", {"spikes", "trace"}) == "spikes" ? PrePostDerivativeParameters::Pre::spikes
                                                                         : PrePostDerivativeParameters::Pre::trace;
    p.post = t.get_choice("post", "trace", {"rate", "trace"}) == "rate" ? PrePostDerivativeParameters::Post::rate
                                                                      : PrePostDerivativeParameters::Post::trace;
    p.tau_pre = t.get_double("tau_pre", p.tau_pre);
    p.tau_post = t.get_double("tau_post", p.tau_post);
    p.quad_rel_tol = t.get_double("quad_rel_tol", p.quad_rel_tol);
    p.w_min = t.get_double("w_min", p.w_min);
    p.w_max = t.get_double("w_max", p.w_max);
    if (p.post == PrePostDerivativeParameters::Post::rate && !dynamic_cast<UrbanczikSennPopulation*>(&target))
        t.fail("post", "post = \"rate\" needs an urbanczik_senn target, '" + target.name() + "' is " + target.model());
    out = guarded(t, "rule", [&] { return std::make_unique<PrePostDerivativeRule>(p); });
    return out;
}

std::unique_ptr<PlasticityRule> build_pair_stdp(ConfigTable& t, [[maybe_unused]] Population& target, [[maybe_unused]] const std::string& receptor) {
    std::unique_ptr<PlasticityRule> out;
    PairStdpParameters p;
    p.eta = t.get_double("eta", p.eta);
    p.A_plus = t.get_double("A_plus", p.A_plus);
    p.A_minus = t.get_double("A_minus", p.A_minus);
    p.tau_plus = t.get_double("tau_plus", p.tau_plus);
    p.tau_minus = t.get_double("tau_minus", p.tau_minus);
    p.w_min = t.get_double("w_min", p.w_min);
    p.w_max = t.get_double("w_max", p.w_max);
    p.multiplicative = t.get_choice("weight_dependence", "additive", {"additive", "multiplicative"}) == "multiplicative";
    p.nearest = t.get_choice("pairing", "all_to_all", {"all_to_all", "nearest"}) == "nearest";
    out = guarded(t, "rule", [&] { return std::make_unique<PairStdpRule>(p); });
    return out;
}

TwoChannelUnitPopulation& two_channel_target(ConfigTable& t, Network& net, const DenseProjection& projection,
                                             const char* rule) {
    auto* unit = dynamic_cast<TwoChannelUnitPopulation*>(&net.population(projection.target_population()));
    if (!unit) {
        const Population& target = net.population(projection.target_population());
        t.fail("rule", std::string(rule) + " needs a two_channel_unit target, '" + target.name() + "' is " + target.model());
    }
    return *unit;
}

// The rule's scale and rate are its target's (decoded slope and maximum rate): written once, in
// the target's parameters.
std::unique_ptr<DensePlasticityRule> build_lag_compensated(ConfigTable& t, Network& net, const DenseProjection& projection) {
    const TwoChannelUnitPopulation& target = two_channel_target(t, net, projection, "lag_compensated");
    LagCompensatedRule::Parameters p;
    p.eta_per_ms = require_non_negative(t, "eta_per_ms", t.get_double("eta_per_ms", p.eta_per_ms));
    p.learn_bias = t.get_bool("learn_bias", p.learn_bias);
    p.scale = target.parameters().decoded_slope();
    p.rate_max_hz = target.parameters().rate_max_hz;
    return std::make_unique<LagCompensatedRule>(p);
}

std::unique_ptr<DensePlasticityRule> build_apical_mismatch(ConfigTable& t, Network& net, const DenseProjection& projection) {
    const TwoChannelUnitPopulation& target = two_channel_target(t, net, projection, "apical_mismatch");
    ApicalMismatchRule::Parameters p;
    p.eta_per_ms = require_non_negative(t, "eta_per_ms", t.get_double("eta_per_ms", p.eta_per_ms));
    p.error_scale = t.get_double("error_scale", p.error_scale);
    p.rate_max_hz = target.parameters().rate_max_hz;
    const std::string error_name = t.require_string("error_population");
    const long e = net.find_population(error_name);
    if (e < 0) t.fail("error_population", "no population named '" + error_name + "'");
    auto* error = dynamic_cast<TwoChannelUnitPopulation*>(&net.population(static_cast<std::size_t>(e)));
    if (!error) t.fail("error_population", "'" + error_name + "' is " + net.population(static_cast<std::size_t>(e)).model() +
                                               ", the error comes from a two_channel_unit's receptor");
    if (error->units() != target.units())
        t.fail("error_population", "'" + error_name + "' has " + std::to_string(error->units()) + " units, the target '" +
                                       target.name() + "' " + std::to_string(target.units()) + ": the error is unit for unit");
    const int receptor = t.get_choice("error_receptor", "nudge", {"dendrite", "nudge"}) == "nudge"
                             ? TwoChannelUnitPopulation::nudge
                             : TwoChannelUnitPopulation::dendrite;
    return std::make_unique<ApicalMismatchRule>(p, *error, receptor);
}

}  // namespace

std::map<std::string, RuleFactory>& rule_registry() {
    static std::map<std::string, RuleFactory> registry = {
        {"dendritic_prediction", {"Urbanczik & Senn (2014) dendritic prediction rule", build_dendritic_prediction, nullptr}},
        {"pre_post_derivative", {"STDP as pre x d/dt post (Hinton 2007; Bengio et al. 2015)", build_pre_post_derivative, nullptr}},
        {"pair_stdp", {"pair-based STDP, additive or multiplicative", build_pair_stdp, nullptr}},
        {"lag_compensated", {"lag-compensated dendritic prediction rule, spike form (dense projections)", nullptr, build_lag_compensated}},
        {"apical_mismatch", {"interneurons learn to cancel their layer's nudge (dense projections)", nullptr, build_apical_mismatch}},
    };
    return registry;
}

namespace {

std::unique_ptr<PlasticityRule> read_plasticity(ConfigTable& proj, Population& target, const std::string& receptor) {
    auto table = proj.table("plasticity");
    if (!table) return nullptr;
    ConfigTable& t = *table;
    std::vector<std::string> rules;
    for (const auto& [name, factory] : rule_registry()) rules.push_back(name);
    const std::string rule = t.get_choice("rule", "", rules);
    const RuleFactory& factory = rule_registry().at(rule);
    if (!factory.build) t.fail("rule", rule + " applies to dense projections (kind = \"dense\") only");
    std::unique_ptr<PlasticityRule> out = factory.build(t, target, receptor);
    t.finish();
    return out;
}

// [[projection]] kind = "dense" (docs/config.md, "Dense projections"): all to all through one
// contiguous matrix (target units x source units), replica r of the source reaching replica r of
// the target; its matrix given (`weights`), drawn (`weight`) or held with another dense
// projection (`tied_to`, transposed by default: feedback that stays the transpose of a learning
// forward matrix).
void read_dense_projection(ConfigTable& t, Network& net, std::size_t src, std::size_t tgt, const std::string& name,
                           int receptor, std::uint64_t seed) {
    Population& source = net.population(src);
    Population& target = net.population(tgt);
    if (!dynamic_cast<DenseTarget*>(&target))
        t.fail("target", "population '" + target.name() + "' (" + target.model() +
                             ") cannot take a dense projection; two_channel_unit can");
    if (source.replicas() != target.replicas())
        t.fail("target", "'" + source.name() + "' has " + std::to_string(source.replicas()) + " replicas, '" + target.name() +
                             "' " + std::to_string(target.replicas()) + ": a dense projection joins replica r to replica r");
    const std::size_t n_src = source.units(), n_tgt = target.units();
    std::shared_ptr<DenseMatrix> matrix;
    bool transposed = false;
    if (t.has("tied_to")) {
        const std::string other_name = t.require_string("tied_to");
        const long o = net.find_dense_projection(other_name);
        if (o < 0) t.fail("tied_to", "no dense projection named '" + other_name + "' before this one");
        const DenseProjection& other = net.dense_projection(static_cast<std::size_t>(o));
        transposed = t.get_bool("transpose", true) ? !other.transposed() : other.transposed();
        matrix = other.matrix();
        const std::size_t rows = transposed ? n_src : n_tgt, cols = transposed ? n_tgt : n_src;
        if (matrix->rows != rows || matrix->cols != cols)
            t.fail("tied_to", "'" + other_name + "' holds a " + std::to_string(matrix->rows) + " x " + std::to_string(matrix->cols) +
                                  " matrix; this projection needs " + std::to_string(rows) + " x " + std::to_string(cols) +
                                  (t.get_bool("transpose", true) ? " (transposed)" : ""));
    } else {
        require_fits_in_memory(t, "target", static_cast<double>(n_src) * static_cast<double>(n_tgt), 8.0, "matrix entries");
        matrix = std::make_shared<DenseMatrix>(n_tgt, n_src);
        if (t.has("weights")) {
            const auto rows = read_matrix(t, "weights");
            if (rows.size() != n_tgt) t.fail("weights", "needs one row per target unit (" + std::to_string(n_tgt) + "), got " + std::to_string(rows.size()));
            for (std::size_t j = 0; j < n_tgt; ++j) {
                if (rows[j].size() != n_src)
                    t.fail("weights", "row " + std::to_string(j) + " has " + std::to_string(rows[j].size()) +
                                          " values, needs one per source unit (" + std::to_string(n_src) + ")");
                for (std::size_t m = 0; m < n_src; ++m) (*matrix)(j, m) = rows[j][m];
            }
        } else {
            const ValueInit init = read_value_init(t, "weight", false);
            ConnectionRule all;
            all.kind = ConnectionRule::Kind::all_to_all;
            const std::uint32_t key = stable_key(name);
            const auto pairs = make_pairs(all, n_src, n_tgt, false, seed, key);
            std::vector<double> w;
            try {
                w = make_values(init, pairs, seed, key, false);
            } catch (const std::invalid_argument& e) {
                t.fail("weight", e.what());
            }
            for (std::size_t i = 0; i < pairs.size(); ++i) (*matrix)(pairs[i].second, pairs[i].first) = w[i];
        }
    }
    // Per source channel; by default the first channel (a two_channel_unit's somatic one) only.
    std::vector<double> fallback(source.channels(), 0.0);
    fallback[0] = 1.0;
    const std::vector<double> gain = t.get_double_array("channel_gain", fallback);
    if (gain.size() != source.channels())
        t.fail("channel_gain", "needs one gain per channel of '" + source.name() + "' (" + std::to_string(source.channels()) + ")");
    auto projection = std::make_unique<DenseProjection>(name, src, tgt, receptor, std::move(matrix), transposed, gain);
    const double offset = t.get_double("source_offset", 0.0);
    if (offset != 0.0) projection->set_source_offset(offset);
    if (auto table = t.table("plasticity")) {
        ConfigTable& r = *table;
        std::vector<std::string> rules;
        for (const auto& [rule_name, factory] : rule_registry()) rules.push_back(rule_name);
        const std::string rule = r.get_choice("rule", "", rules);
        const RuleFactory& factory = rule_registry().at(rule);
        if (!factory.build_dense) r.fail("rule", rule + " applies to sparse projections only, not kind = \"dense\"");
        projection->set_rule(factory.build_dense(r, net, *projection));
        r.finish();
    }
    t.finish();
    net.add_dense_projection(std::move(projection));
}

// weight = { from_file = "x.h5", projection = "name" }: the weights saved under
// /settle/weights/<name>/ by an earlier run, matched to this projection's (source, target) pairs.
std::vector<double> load_weights(ConfigTable& proj, const std::string& name,
                                 const std::vector<std::pair<node_index, node_index>>& pairs) {
    auto sub = proj.table("weight");
    ConfigTable& t = *sub;
    const std::string file = t.require_string("from_file");
    const std::string saved = t.get_string("projection", name);
    t.finish();
    std::vector<std::uint64_t> src, tgt;
    std::vector<double> w;
    try {
        h5::silence_library_errors();
        h5::Handle f = h5::open_file_for_reading(file);
        const std::string group = "settle/weights/" + saved;
        if (!h5::exists(f.get(), "settle") || !h5::exists(f.get(), "settle/weights") || !h5::exists(f.get(), group))
            t.fail("from_file", "'" + file + "' has no saved weights of projection '" + saved + "' (/" + group + ")");
        h5::Handle g = h5::open_group(f.get(), group);
        src = h5::read_u64_dataset(g.get(), "source");
        tgt = h5::read_u64_dataset(g.get(), "target");
        w = h5::read_f64_dataset(g.get(), "weight");
    } catch (const FileError& e) {
        t.fail("from_file", e.what());
    }
    if (src.size() != w.size() || tgt.size() != w.size()) t.fail("from_file", "'" + file + "': source, target and weight differ in length");
    for (std::size_t i = 0; i < w.size(); ++i)
        if (!std::isfinite(w[i]))
            t.fail("from_file", "'" + file + "': weight " + std::to_string(i) + " of '" + saved + "' is not finite (" + std::to_string(w[i]) + ")");
    if (w.size() != pairs.size())
        t.fail("from_file", "'" + file + "' holds " + std::to_string(w.size()) + " weights for '" + saved + "' but this projection has " +
                                std::to_string(pairs.size()) + " connections");
    // Match by (source, target); multapses in file order.
    std::map<std::pair<std::uint64_t, std::uint64_t>, std::vector<double>> by_pair;
    for (std::size_t i = w.size(); i-- > 0;) by_pair[{src[i], tgt[i]}].push_back(w[i]);
    std::vector<double> out(pairs.size());
    for (std::size_t i = 0; i < pairs.size(); ++i) {
        auto it = by_pair.find({pairs[i].first, pairs[i].second});
        if (it == by_pair.end() || it->second.empty())
            t.fail("from_file", "'" + file + "' has no weight for connection " + std::to_string(pairs[i].first) + " -> " +
                                    std::to_string(pairs[i].second));
        out[i] = it->second.back();
        it->second.pop_back();
    }
    return out;
}

}  // namespace

BuiltNetwork build_network(ConfigTable& root, std::uint64_t seed, bool duration_required) {
    BuiltNetwork built;
    Network& net = *built.network;

    static const toml_value no_simulation = toml::table{};
    std::optional<ConfigTable> sim = root.table("simulation");
    if (!sim && !root.has("drive") && duration_required) root.fail("simulation", "required table [simulation] with duration_ms");
    if (!sim) sim.emplace(no_simulation, "simulation");
    // A [drive] ends the run after its presentations (circuit/network_drive.hpp).
    if (root.has("drive")) {
        if (sim->has("duration_ms")) sim->fail("duration_ms", "not with [drive]: the run ends after drive.presentations");
    } else if (!duration_required) {
        if (sim->has("duration_ms")) sim->fail("duration_ms", "not here: Simulator.run(duration_ms) says how long");
    } else {
        built.duration_ms = require_positive(*sim, "duration_ms", sim->require_double("duration_ms"));
    }
    // Replica sync points, where dense rules apply their replicas' buffered updates (0.5 ms: the
    // learning circuit's default; without a learning dense projection none are needed).
    const bool sync_given = sim->has("sync_interval_ms");
    const double sync_interval = require_positive(*sim, "sync_interval_ms", sim->get_double("sync_interval_ms", 0.5));
    sim->finish();

    auto pops = root.tables("population");
    if (pops.empty()) root.fail("population", "at least one [[population]] is required");
    for (auto& p : pops) {
        auto pop = read_population(p);
        if (net.find_population(pop->name()) >= 0) p.fail("name", "duplicate population name '" + pop->name() + "'");
        read_soma_coupling(p, net, *pop);
        p.finish();
        net.add_population(std::move(pop));
    }
    std::vector<std::string> pop_names;
    for (std::size_t i = 0; i < net.population_count(); ++i) pop_names.push_back(net.population(i).name());
    auto find_pop = [&](ConfigTable& t, const std::string& key) {
        const std::string name = t.require_string(key);
        const long i = net.find_population(name);
        if (i < 0) {
            const std::string hint = closest_match(name, pop_names);
            t.fail(key, "no population named '" + name + "'" + (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
        }
        return static_cast<std::size_t>(i);
    };

    for (auto& t : root.tables("projection")) {
        const std::size_t src = find_pop(t, "source");
        const std::size_t tgt = find_pop(t, "target");
        Population& target = net.population(tgt);
        const std::string name = t.get_string("name", net.population(src).name() + "->" + target.name());
        if (net.find_projection(name) >= 0) t.fail("name", "duplicate projection name '" + name + "'");
        const auto receptors = target.receptors();
        if (receptors.empty()) t.fail("target", "population '" + target.name() + "' (" + target.model() + ") accepts no input");
        const std::string receptor = t.get_choice("receptor", receptors.front(), receptors);
        const int receptor_index = static_cast<int>(std::find(receptors.begin(), receptors.end(), receptor) - receptors.begin());
        if (net.find_dense_projection(name) >= 0) t.fail("name", "duplicate projection name '" + name + "'");
        if (t.get_choice("kind", "sparse", {"sparse", "dense"}) == "dense") {
            read_dense_projection(t, net, src, tgt, name, receptor_index, seed);
            continue;
        }

        ConnectionRule rule;
        if (auto c = t.table("connect")) {
            const std::string kind = c->get_choice("rule", "all_to_all",
                                                   {"one_to_one", "all_to_all", "fixed_probability", "fixed_indegree", "explicit"});
            rule.allow_autapses = c->get_bool("allow_autapses", true);
            if (kind == "one_to_one") rule.kind = ConnectionRule::Kind::one_to_one;
            else if (kind == "all_to_all") rule.kind = ConnectionRule::Kind::all_to_all;
            else if (kind == "fixed_probability") {
                rule.kind = ConnectionRule::Kind::fixed_probability;
                rule.probability = require_probability(*c, "p", c->require_double("p"));
            } else if (kind == "fixed_indegree") {
                rule.kind = ConnectionRule::Kind::fixed_indegree;
                const auto k = c->require_int("indegree");
                if (k < 0) c->fail("indegree", "must be >= 0, got " + std::to_string(k));
                rule.indegree = static_cast<std::uint64_t>(k);
                rule.allow_multapses = c->get_bool("allow_multapses", false);
            } else {
                rule.kind = ConnectionRule::Kind::explicit_list;
                rule.sources = c->get_int_array("sources");
                rule.targets = c->get_int_array("targets");
            }
            c->finish();
        }
        // Connections this rule will make, before making them (pairs, weights, delays, the CSR
        // table: about 64 bytes each).
        const double n_pre = static_cast<double>(net.population(src).size()), n_post = static_cast<double>(target.size());
        const double expected = rule.kind == ConnectionRule::Kind::all_to_all        ? n_pre * n_post
                                : rule.kind == ConnectionRule::Kind::fixed_probability ? rule.probability * n_pre * n_post
                                : rule.kind == ConnectionRule::Kind::fixed_indegree    ? static_cast<double>(rule.indegree) * n_post
                                : rule.kind == ConnectionRule::Kind::one_to_one        ? n_pre
                                                                                       : static_cast<double>(rule.sources.size());
        require_fits_in_memory(t, "connect", expected, 64.0, "connections");
        const std::uint32_t key = stable_key(name);
        std::vector<std::pair<node_index, node_index>> pairs;
        try {
            pairs = make_pairs(rule, net.population(src).size(), target.size(), src == tgt, seed, key);
        } catch (const std::invalid_argument& e) {
            t.fail("connect", e.what());
        }
        const toml_value* w_raw = t.raw("weight");
        const bool from_file = w_raw && w_raw->is_table() && w_raw->as_table().count("from_file");
        ValueInit w_init;
        if (!from_file) w_init = read_value_init(t, "weight", false);
        ValueInit d_init;
        if (t.has("delay_ms")) d_init = read_value_init(t, "delay_ms", true);
        else d_init.value = 0.0;
        std::vector<double> weights, delays;
        if (from_file) {
            weights = load_weights(t, name, pairs);
        } else {
            try {
                weights = make_values(w_init, pairs, seed, key, false);
            } catch (const std::invalid_argument& e) {
                t.fail("weight", e.what());
            }
        }
        try {
            delays = make_values(d_init, pairs, seed, key, true);
        } catch (const std::invalid_argument& e) {
            t.fail("delay_ms", e.what());
        }
        std::vector<Connection> cons(pairs.size());
        for (std::size_t i = 0; i < pairs.size(); ++i) cons[i] = {pairs[i].first, pairs[i].second, weights[i], delays[i]};
        auto plasticity = read_plasticity(t, target, receptor);
        t.finish();
        auto projection = std::make_unique<Projection>(name, src, tgt, receptor_index, std::move(cons), net.population(src).size());
        if (plasticity) {
            if (name.find('/') != std::string::npos) t.fail("name", "a plastic projection's name must not contain '/'");
            projection->set_rule(std::move(plasticity));
        }
        net.add_projection(std::move(projection));
    }

    bool dense_rules = false;
    for (std::size_t i = 0; i < net.dense_projection_count(); ++i) dense_rules |= net.dense_projection(i).rule() != nullptr;
    if (dense_rules || sync_given) built.sync_interval_ms = sync_interval;

    built.recording.spike_populations.assign(net.population_count(), "");
    if (auto rec = root.table("record")) {
        const toml_value* spikes = rec->raw("spikes");
        std::vector<std::string> names;
        if (spikes && spikes->is_string() && spikes->as_string().str == "all") names = pop_names;
        else if (spikes) {
            rec->ignore("spikes");
            names = rec->get_string_array("spikes");
        }
        for (const auto& n : names) {
            const long i = net.find_population(n);
            if (i < 0) {
                const std::string hint = closest_match(n, pop_names);
                rec->fail("spikes", "no population named '" + n + "'" + (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
            }
            built.recording.spike_populations[static_cast<std::size_t>(i)] = n;
        }
        std::vector<bool> reported(net.population_count(), false);
        for (auto& r : rec->tables("report")) {
            const std::size_t p = find_pop(r, "population");
            if (reported[p]) r.fail("population", "a population can have one report (SONATA: /report/<population>)");
            reported[p] = true;
            Population& pop = net.population(p);
            const auto vars = pop.state_variables();
            std::vector<std::string> var_names;
            for (const auto& v : vars) var_names.push_back(v.name);
            if (vars.empty()) r.fail("population", "population '" + pop.name() + "' has no recordable state");
            ReportSpec spec;
            spec.population = pop.name();
            StateProbe probe;
            probe.population = p;
            for (const auto& v : r.get_string_array("variables", var_names)) {
                auto it = std::find_if(vars.begin(), vars.end(), [&](const StateVariable& s) { return s.name == v; });
                if (it == vars.end()) {
                    const std::string hint = closest_match(v, var_names);
                    r.fail("variables", "'" + pop.name() + "' has no variable '" + v + "'" + (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
                }
                probe.element_ids.push_back(it->element_id);
                spec.element_ids.push_back(it->element_id);
                spec.element_names.push_back(it->name);
                spec.element_units.push_back(it->unit);
            }
            std::vector<std::int64_t> all(pop.size());
            for (std::size_t i = 0; i < pop.size(); ++i) all[i] = static_cast<std::int64_t>(i);
            for (auto n : r.get_int_array("nodes", all)) {
                if (n < 0 || static_cast<std::size_t>(n) >= pop.size())
                    r.fail("nodes", "node " + std::to_string(n) + " outside [0, " + std::to_string(pop.size()) + ")");
                probe.nodes.push_back(static_cast<node_index>(n));
            }
            spec.nodes = probe.nodes;
            probe.dt = spec.dt = require_positive(r, "dt_ms", r.get_double("dt_ms", 0.1));
            probe.start = spec.start = require_non_negative(r, "start_ms", r.get_double("start_ms", 0.0));
            r.finish();
            built.recording.probes.push_back(probe);
            built.recording.reports.push_back(spec);
        }
        for (auto& r : rec->tables("weights")) {
            const std::string pname = r.require_string("projection");
            const long pi = net.find_projection(pname);
            if (pi < 0) {
                std::vector<std::string> proj_names;
                for (std::size_t i = 0; i < net.projection_count(); ++i) proj_names.push_back(net.projection(i).name());
                const std::string hint = closest_match(pname, proj_names);
                r.fail("projection", "no projection named '" + pname + "'" + (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
            }
            Projection& proj = net.projection(static_cast<std::size_t>(pi));
            ReportSpec spec;
            spec.population = proj.name();
            spec.element_ids = {0};
            spec.element_names = {"w"};
            spec.element_units = {""};
            std::vector<std::int64_t> all(std::min<std::size_t>(proj.size(), 100));
            for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<std::int64_t>(i);
            std::vector<std::size_t> connections;
            for (auto c : r.get_int_array("connections", all)) {
                if (c < 0 || static_cast<std::size_t>(c) >= proj.size())
                    r.fail("connections", "connection " + std::to_string(c) + " outside [0, " + std::to_string(proj.size()) + ")");
                connections.push_back(static_cast<std::size_t>(c));
                spec.nodes.push_back(static_cast<node_index>(c));
            }
            StateProbe probe;
            probe.population = proj.target_population();
            probe.element_ids = {0};
            probe.nodes = spec.nodes;
            probe.dt = spec.dt = require_positive(r, "dt_ms", r.get_double("dt_ms", 1.0));
            probe.start = spec.start = require_non_negative(r, "start_ms", r.get_double("start_ms", 0.0));
            Projection* pp = &proj;
            probe.sampler = [pp, connections](time_ms t, std::vector<double>& row) {
                for (std::size_t c : connections) {
                    if (PlasticityRule* rule = pp->rule()) rule->update_connection(c, t);
                    row.push_back(pp->weight(c));
                }
            };
            r.finish();
            built.recording.probes.push_back(probe);
            built.recording.reports.push_back(spec);
        }
        rec->finish();
    }
    return built;
}

}  // namespace settle
