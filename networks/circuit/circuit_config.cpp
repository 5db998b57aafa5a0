#include "networks/circuit/circuit_config.hpp"

#include <algorithm>
#include <cstdio>
#include "neurons/two_channel_unit.hpp"
#include "sim/simulator.hpp"

namespace settle::circuit {

std::vector<std::string> CircuitConfig::population_names() const {
    const std::size_t L = sizes().size() - 1;
    std::vector<std::string> names{"input"};
    for (std::size_t l = 1; l <= L; ++l) names.push_back("layer" + std::to_string(l));
    if (nudge == Nudge::lateral)
        for (std::size_t l = 1; l < L; ++l) names.push_back("interneuron" + std::to_string(l));
    if (feedback == Feedback::learned)
        for (std::size_t l = 1; l < L; ++l) names.push_back("feedback" + std::to_string(l));
    return names;
}

std::vector<int> CircuitConfig::population_units() const {
    const std::vector<int> n = sizes();
    const std::size_t L = n.size() - 1;
    std::vector<int> units(n.begin(), n.end());
    if (nudge == Nudge::lateral)
        for (std::size_t l = 1; l < L; ++l) units.push_back(n[l]);
    if (feedback == Feedback::learned)
        for (std::size_t l = 1; l < L; ++l) units.push_back(n[l]);
    return units;
}

std::vector<int> CircuitConfig::sizes() const {
    std::vector<int> s{task.n_in};
    s.insert(s.end(), hidden.begin(), hidden.end());
    s.push_back(task.n_out);
    return s;
}

std::string to_string(Mode m) { return m == Mode::rate ? "rate" : "spiking"; }
std::string to_string(Engine e) { return e == Engine::stepped ? "stepped" : "event"; }
std::string to_string(Nudge n) { return n == Nudge::twin ? "twin" : "lateral"; }
std::string to_string(Feedback f) {
    return f == Feedback::random ? "random" : f == Feedback::learned ? "learned" : "symmetric";
}
std::string to_string(TaskKind t) {
    return t == TaskKind::teacher_student ? "teacher_student" : t == TaskKind::two_moons ? "two_moons" : "fashion_mnist";
}

namespace {

int positive_int(ConfigTable& t, const std::string& key, std::int64_t fallback) {
    const std::int64_t v = t.get_int(key, fallback);
    if (v <= 0 || v > (1 << 30)) t.fail(key, "must be a positive integer, got " + std::to_string(v));
    return static_cast<int>(v);
}

}  // namespace

void read_task(ConfigTable& t, TaskConfig& c) {
    const std::string kind = t.get_choice("kind", "teacher_student", {"teacher_student", "two_moons", "fashion_mnist"});
    c.kind = kind == "two_moons" ? TaskKind::two_moons : kind == "fashion_mnist" ? TaskKind::fashion_mnist : TaskKind::teacher_student;
    if (c.kind == TaskKind::fashion_mnist) {
        c.n_train = positive_int(t, "n_train", 60000);
        c.n_test = positive_int(t, "n_test", 10000);
        c.data_dir = t.get_string("data_dir", c.data_dir);
        c.downsample = static_cast<int>(t.get_int("downsample", 1));
        if (c.downsample != 1 && c.downsample != 2) t.fail("downsample", "must be 1 (28x28 inputs) or 2 (14x14)");
        c.n_in = 784 / (c.downsample * c.downsample);
        c.n_out = 10;
        return;
    }
    const bool moons = c.kind == TaskKind::two_moons;
    c.n_train = positive_int(t, "n_train", moons ? 1000 : 2000);
    c.n_test = positive_int(t, "n_test", 1000);
    c.n_in = positive_int(t, "n_in", moons ? 10 : 30);
    if (moons) {
        c.n_out = 2;
        c.noise = require_non_negative(t, "noise", t.get_double("noise", 0.1));
    } else {
        c.n_teacher_hidden = positive_int(t, "n_teacher_hidden", 20);
        c.n_out = positive_int(t, "n_out", 10);
        c.teacher_gain = require_non_negative(t, "teacher_gain", t.get_double("teacher_gain", 1.0));
    }
}

void read_schedule(ConfigTable& s, ScheduleConfig& d) {
    d.duration_min_ms = require_positive(s, "duration_min_ms", s.get_double("duration_min_ms", d.duration_min_ms));
    d.duration_max_ms = require_positive(s, "duration_max_ms", s.get_double("duration_max_ms", d.duration_max_ms));
    d.onset_min_ms = require_non_negative(s, "onset_min_ms", s.get_double("onset_min_ms", d.onset_min_ms));
    d.onset_max_ms = require_non_negative(s, "onset_max_ms", s.get_double("onset_max_ms", d.onset_max_ms));
    if (d.duration_max_ms < d.duration_min_ms) s.fail("duration_max_ms", "must be >= duration_min_ms");
    if (d.onset_max_ms < d.onset_min_ms) s.fail("onset_max_ms", "must be >= onset_min_ms");
    if (d.onset_max_ms > d.duration_min_ms)
        s.fail("onset_max_ms", "must not exceed duration_min_ms (the teacher must come on in every presentation)");
    s.finish();
}

namespace {

std::string number_text(double x) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", x);
    return buf;
}

// The largest teacher or coupling conductance (units of g_L + g_D) the event engine's exact
// advance takes with membrane time constant tau_ms: (1 + g) * rebase interval <= max growth * tau.
double event_engine_max_conductance(double tau_ms) {
    return TwoChannelUnitPopulation::max_growth_exponent * tau_ms / Simulator::default_rebase_interval_ms - 1.0;
}

std::string conductance_bound(double g_max, double tau_ms, double g) {
    return "at most " + number_text(g_max) + " with tau_ms = " + number_text(tau_ms) +
           " on the event engine (its exact advance rebases its exponentials every " +
           number_text(Simulator::default_rebase_interval_ms) + " ms), got " + number_text(g);
}

}  // namespace

CircuitConfig parse_circuit_config(ConfigTable& root) {
    CircuitConfig c;
    if (auto t = root.table("task")) {
        read_task(*t, c.task);
        t->finish();
    }
    const bool moons = c.task.kind == TaskKind::two_moons;
    const bool classification = moons || c.task.kind == TaskKind::fashion_mnist;

    auto ct = root.table("circuit");
    const toml::value empty_table(toml::table{});
    ConfigTable empty_circuit(empty_table, "circuit");
    ConfigTable& t = ct ? *ct : empty_circuit;
    c.mode = t.get_choice("mode", "rate", {"rate", "spiking"}) == "rate" ? Mode::rate : Mode::spiking;
    c.engine = t.get_choice("engine", "stepped", {"stepped", "event"}) == "stepped" ? Engine::stepped : Engine::event;
    const std::string nudge = t.get_choice("nudge", "twin", {"twin", "lateral"});
    c.nudge = nudge == "twin" ? Nudge::twin : Nudge::lateral;
    const std::string fb = t.get_choice("feedback", "random", {"random", "learned", "symmetric"});
    c.feedback = fb == "random" ? Feedback::random : fb == "learned" ? Feedback::learned : Feedback::symmetric;
    c.rule_reference = t.get_choice("rule_reference", "lagged", {"lagged", "instantaneous"}) == "lagged"
                           ? RuleReference::lagged
                           : RuleReference::instantaneous;
    std::vector<std::int64_t> hidden = t.get_int_array("hidden", {moons ? 30 : classification ? 256 : 50});
    if (hidden.empty()) t.fail("hidden", "needs at least one hidden layer");
    for (auto h : hidden) {
        if (h <= 0) t.fail("hidden", "layer sizes must be positive");
        c.hidden.push_back(static_cast<int>(h));
    }
    c.tau_ms = require_positive(t, "tau_ms", t.get_double("tau_ms", c.tau_ms));
    c.g_L = require_non_negative(t, "g_L", t.get_double("g_L", c.g_L));
    c.g_D = require_positive(t, "g_D", t.get_double("g_D", c.g_D));
    c.lambda = require_non_negative(t, "lambda", t.get_double("lambda", c.lambda));
    // A strong teacher makes the hidden-output-teacher-feedback loop diverge with symmetric
    // feedback (docs/science.md, section 4.1, "Output teacher"): 0.2 there, 1 otherwise.
    c.g_teacher = require_non_negative(
        t, "g_teacher", t.get_double("g_teacher", c.feedback == Feedback::symmetric ? 0.2 : 1.0));
    c.eta_hidden = require_non_negative(t, "eta_hidden", t.get_double("eta_hidden", moons ? 1e-2 : 2e-3));
    c.eta_out = require_non_negative(t, "eta_out", t.get_double("eta_out", c.eta_out));
    c.w_init_hidden = require_non_negative(t, "w_init_hidden", t.get_double("w_init_hidden", moons ? 6.0 : 1.0));
    c.w_init_out = require_non_negative(t, "w_init_out", t.get_double("w_init_out", c.w_init_out));
    c.g_feedback = require_non_negative(t, "g_feedback", t.get_double("g_feedback", c.g_feedback));
    c.eta_feedback = require_non_negative(t, "eta_feedback", t.get_double("eta_feedback", c.eta_feedback));
    // Spiking mode: the interneurons' error carries the spike trains' noise, and an LMS rule's
    // stochastic misadjustment grows with eta times the summed presynaptic power times the
    // noise's correlation time (tau_s): 1e-2 lets P wander as far as the feedback it should
    // cancel on 50 presynaptic units (docs/results.md, "What limits the spiking mode").
    c.eta_interneuron = require_non_negative(
        t, "eta_interneuron", t.get_double("eta_interneuron", c.mode == Mode::spiking ? 3e-4 : c.eta_interneuron));
    c.centre_init = t.get_bool("centre_init", c.centre_init);
    c.feedback_scale = require_non_negative(t, "feedback_scale", t.get_double("feedback_scale", c.feedback_scale));
    c.dt_ms = require_positive(t, "dt_ms", t.get_double("dt_ms", c.dt_ms));
    c.sync_interval_ms = require_positive(t, "sync_interval_ms", t.get_double("sync_interval_ms", c.sync_interval_ms));
    if (c.dt_ms > c.tau_ms) t.fail("dt_ms", "must not exceed tau_ms");
    c.streams = positive_int(t, "streams", c.streams);
    c.rate_max_hz = require_positive(t, "rate_max_hz", t.get_double("rate_max_hz", c.rate_max_hz));
    c.input_rate_hz = require_positive(t, "input_rate_hz", t.get_double("input_rate_hz", c.input_rate_hz));
    c.synapse_tau_ms = require_positive(t, "synapse_tau_ms", t.get_double("synapse_tau_ms", c.synapse_tau_ms));
    {
        const std::vector<double> range = t.get_double_array("output_range", classification ? std::vector<double>{-0.5, 1.5}
                                                                                  : std::vector<double>{-3.0, 3.0});
        if (range.size() != 2 || !(range[1] > range[0]))
            t.fail("output_range", "must be [lo, hi] with hi > lo (potentials spanned by the output's rate)");
        c.output_lo = range[0];
        c.output_hi = range[1];
    }
    {
        const std::vector<double> range = t.get_double_array("feedback_range", {c.feedback_lo, c.feedback_hi});
        if (range.size() != 2 || !(range[1] > range[0]))
            t.fail("feedback_range", "must be [lo, hi] with hi > lo (potentials spanned by the feedback units' rate)");
        c.feedback_lo = range[0];
        c.feedback_hi = range[1];
    }
    {
        const std::vector<double> range = t.get_double_array("interneuron_range", {c.interneuron_lo, c.interneuron_hi});
        if (range.size() != 2 || !(range[1] > range[0]))
            t.fail("interneuron_range",
                   "must be [lo, hi] with hi > lo (feedback potentials spanned by the interneurons' rate)");
        c.interneuron_lo = range[0];
        c.interneuron_hi = range[1];
    }
    if (c.mode == Mode::spiking) {
        // Spiking-mode defaults of the input schedule and the test pass (the keys still override
        // them). A signal reaches the output through one synaptic low-pass of tau_s per weight
        // layer, not through the somas' 5 ms alone: with the rate mode's onsets (20-50 ms) the
        // teacher meets an output still driven partly by the previous sample, and the rule then
        // regresses the new target on stale presynaptic traces, which shrinks the weights (docs/results.md,
        // "What limits the spiking mode"). Two 20 ms stages are 91 % settled at 4 tau_s.
        const double ts = c.synapse_tau_ms;
        c.schedule = ScheduleConfig{5.0 * ts + 50.0, 5.0 * ts + 150.0, 4.0 * ts, 5.0 * ts};
        c.test_settle_ms = 150.0;
        if (c.rule_reference == RuleReference::instantaneous)
            t.fail("rule_reference", "\"instantaneous\" is implemented in rate mode only");
    }
    if (c.engine == Engine::event) {
        if (c.mode != Mode::spiking) t.fail("engine", "\"event\" runs the spiking mode (set mode = \"spiking\")");
        // The learned-feedback units follow their layer's soma exactly only while its potential is
        // a sum of exponentials (two_channel_unit.hpp, soma coupling).
        if (c.synapse_tau_ms == c.tau_ms && c.feedback == Feedback::learned)
            t.fail("synapse_tau_ms", "must differ from tau_ms with feedback = \"learned\" and engine = \"event\"");
        // The exact advance's exponentials e^((1 + g) D / tau) must stay below e^max_growth_exponent
        // between two rebases, which the kernel does at least every default_rebase_interval_ms
        // (two_channel_unit.hpp): a teacher or coupling conductance g up to this bound.
        const double g = event_engine_max_conductance(c.tau_ms);
        if (g < 0.0)
            t.fail("tau_ms", "must be >= " + number_text(Simulator::default_rebase_interval_ms / TwoChannelUnitPopulation::max_growth_exponent) +
                                 " ms on the event engine, got " + number_text(c.tau_ms));
        if (c.g_teacher > g) t.fail("g_teacher", conductance_bound(g, c.tau_ms, c.g_teacher));
        if (c.g_feedback > g) t.fail("g_feedback", conductance_bound(g, c.tau_ms, c.g_feedback));
    }
    if (ct) t.finish();

    if (auto s = root.table("schedule")) read_schedule(*s, c.schedule);

    if (auto tr = root.table("training")) {
        const std::int64_t p = tr->get_int("presentations", c.presentations);
        if (p < 0) tr->fail("presentations", "must be >= 0");
        c.presentations = p;
        c.checkpoints = positive_int(*tr, "checkpoints", c.checkpoints);
        c.eta_final_fraction = tr->get_double("eta_final_fraction", c.eta_final_fraction);
        if (!(c.eta_final_fraction > 0.0 && c.eta_final_fraction <= 1.0))
            tr->fail("eta_final_fraction", "must be in (0, 1]");
        c.test_settle_ms = require_positive(*tr, "test_settle_ms", tr->get_double("test_settle_ms", c.test_settle_ms));
        c.test_window_ms = require_positive(*tr, "test_window_ms", tr->get_double("test_window_ms", c.test_window_ms));
        c.control_output_only = tr->get_bool("control_output_only", c.control_output_only);
        c.control_frozen = tr->get_bool("control_frozen", c.control_frozen);
        tr->finish();
    }
    if (auto d = root.table("derivative_test")) {
        DerivativeTestConfig& q = c.derivative_test;
        q.enabled = d->get_bool("enabled", true);
        q.inputs = positive_int(*d, "inputs", q.inputs);
        q.teacher_strengths = d->get_double_array("teacher_strengths", q.teacher_strengths);
        q.delays_ms = d->get_double_array("delays_ms", q.delays_ms);
        for (double g : q.teacher_strengths) {
            require_positive(*d, "teacher_strengths", g);
            if (c.engine == Engine::event && g > event_engine_max_conductance(c.tau_ms))
                d->fail("teacher_strengths", conductance_bound(event_engine_max_conductance(c.tau_ms), c.tau_ms, g));
        }
        for (double t : q.delays_ms) require_non_negative(*d, "delays_ms", t);
        q.settle_ms = require_positive(*d, "settle_ms", d->get_double("settle_ms", q.settle_ms));
        q.trials = positive_int(*d, "trials", q.trials);
        const std::string on = d->get_choice("on", "both", {"both", "trained", "untrained"});
        q.untrained = on != "trained";
        q.trained = on != "untrained";
        d->finish();
    }
    if (auto rec = root.table("record")) {
        const std::vector<std::string> names = c.population_names();
        auto check_name = [&](ConfigTable& t, const std::string& key, const std::string& n) {
            if (std::find(names.begin(), names.end(), n) == names.end()) {
                const std::string hint = closest_match(n, names);
                t.fail(key, "no circuit population named '" + n + "'" + (hint.empty() ? "" : " (did you mean '" + hint + "'?)") +
                                "; the populations are input, layer1 .. layer" + std::to_string(c.sizes().size() - 1) +
                                (c.feedback == Feedback::learned ? ", feedback1 .. feedback" + std::to_string(c.sizes().size() - 2) : "") +
                                (c.nudge == Nudge::lateral ? ", interneuron1 .. interneuron" + std::to_string(c.sizes().size() - 2) : ""));
            }
        };
        const toml_value* spikes = rec->raw("spikes");
        if (spikes && spikes->is_string() && spikes->as_string().str == "all") {
            rec->ignore("spikes");
            c.record.spikes = names;
        } else if (spikes) {
            rec->ignore("spikes");
            c.record.spikes = rec->get_string_array("spikes");
            for (const auto& n : c.record.spikes) check_name(*rec, "spikes", n);
        }
        c.record.weights = rec->get_bool("weights", c.record.weights);
        c.record.window_presentations = rec->get_int("window_presentations", c.record.window_presentations);
        if (c.record.window_presentations < 1) rec->fail("window_presentations", "must be >= 1");
        for (auto& r : rec->tables("report")) {
            CircuitReportConfig rc;
            rc.population = r.require_string("population");
            check_name(r, "population", rc.population);
            const bool input = rc.population == "input";
            const std::vector<std::string> vars = input ? std::vector<std::string>{"rate"}
                                                        : std::vector<std::string>{"U", "Vbar", "Vstar"};
            rc.variables = r.get_string_array("variables", vars);
            for (const auto& v : rc.variables)
                if (std::find(vars.begin(), vars.end(), v) == vars.end()) {
                    const std::string hint = closest_match(v, vars);
                    std::string all;
                    for (const auto& name : vars) all += (all.empty() ? "" : ", ") + name;
                    r.fail("variables", "'" + rc.population + "' has no variable '" + v + "'" +
                                            (hint.empty() ? "" : " (did you mean '" + hint + "'?)") + "; it has " + all);
                }
            const std::vector<int> units_of = c.population_units();
            const std::int64_t units =
                units_of[static_cast<std::size_t>(std::find(names.begin(), names.end(), rc.population) - names.begin())];
            const std::int64_t nodes = units * c.streams * (input ? 1 : 2);
            rc.nodes = r.get_int_array("nodes", {});
            for (auto n : rc.nodes)
                if (n < 0 || n >= nodes)
                    r.fail("nodes", "node " + std::to_string(n) + " outside [0, " + std::to_string(nodes) +
                                        ") (node ids: docs/file-format.md, circuits)");
            rc.dt_ms = require_positive(r, "dt_ms", r.get_double("dt_ms", rc.dt_ms));
            for (const auto& other : c.record.reports)
                if (other.population == rc.population)
                    r.fail("population", "a population can have one report (SONATA: /report/<population>)");
            r.finish();
            c.record.reports.push_back(rc);
        }
        rec->finish();
        if (c.record.any() && c.engine != Engine::event)
            rec->fail(c.record.spikes.empty() ? "report" : "spikes",
                      "recording a circuit's spikes and state needs circuit.engine = \"event\"");
    }
    return c;
}

}  // namespace settle::circuit
