// settle's compiled Python module `settle._settle` (pybind11): the kernel, the registries and the
// config reader behind the Python layer in python/settle/__init__.py. The Python layer only
// assembles a config table (the same keys as a TOML config); everything is built and checked
// here, by the code `settle run` uses, so the two cannot differ in a default or a check.
//
// Invariants relied on:
// - A Simulation owns its network: the Simulator keeps references into it.
// - The GIL is released only around Simulator::advance, which touches no Python object; the
//   observer below stores into C++ vectors and the arrays are made after the GIL is back.
// - A run is advanced in pieces of simulated time (advance(a) then advance(b) processes exactly
//   the events of advance(b) alone), so checking for Ctrl-C between pieces changes no result.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <atomic>
#include <chrono>
#include <exception>
#include <filesystem>
#include <functional>
#include <limits>
#include <thread>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "networks/circuit/circuit_session.hpp"
#include "networks/circuit/stop_flag.hpp"
#include "networks/config_reader.hpp"
#include "neurons/conductance_signal.hpp"
#include "neurons/poisson_source.hpp"
#include "neurons/urbanczik_senn_neuron.hpp"
#include "networks/experiment.hpp"
#include "networks/network_builder.hpp"
#include "networks/progress_bar.hpp"
#include "networks/run_config.hpp"
#include "settle/version.hpp"
#include "sim/error.hpp"
#include "sim/simulator.hpp"
#include "sim/sonata_writer.hpp"

namespace py = pybind11;
using namespace settle;

namespace {

// A Python value (dict, list, tuple, bool, int, float, str) as a TOML value.
toml_value to_toml(const py::handle& v, const std::string& where) {
    if (py::isinstance<py::bool_>(v)) return toml_value(v.cast<bool>());
    if (py::isinstance<py::int_>(v)) return toml_value(v.cast<std::int64_t>());
    if (py::isinstance<py::float_>(v)) return toml_value(v.cast<double>());
    if (py::isinstance<py::str>(v)) return toml_value(v.cast<std::string>());
    if (py::isinstance<py::dict>(v)) {
        toml::table t;
        for (const auto& [k, x] : v.cast<py::dict>()) {
            const std::string key = py::str(k);
            t[key] = to_toml(x, where.empty() ? key : where + "." + key);
        }
        return toml_value(std::move(t));
    }
    if (py::isinstance<py::list>(v) || py::isinstance<py::tuple>(v)) {
        toml::array a;
        for (const auto& x : v) a.push_back(to_toml(x, where));
        return toml_value(std::move(a));
    }
    throw ConfigError(where, "cannot use a Python " + std::string(py::str(py::type::of(v).attr("__name__"))) +
                                 " here (numbers, strings, booleans, lists and dicts)");
}

// Spikes and report rows kept in memory, per population and per probe.
class MemoryRecorder final : public RunObserver {
public:
    explicit MemoryRecorder(std::size_t populations, std::size_t probes)
        : spike_times_(populations), spike_nodes_(populations), sample_times_(probes), samples_(probes) {}
    void on_spike(std::size_t population, node_index node, time_ms t) override {
        spike_times_[population].push_back(t);
        spike_nodes_[population].push_back(node);
    }
    void on_sample(std::size_t probe, std::uint64_t, time_ms t, const std::vector<double>& row) override {
        sample_times_[probe].push_back(t);
        samples_[probe].insert(samples_[probe].end(), row.begin(), row.end());
    }
    std::vector<std::vector<double>> spike_times_;
    std::vector<std::vector<node_index>> spike_nodes_;
    std::vector<std::vector<double>> sample_times_;
    std::vector<std::vector<double>> samples_;
};

// Every event to the in-memory recorder and, when a file is open, to the SONATA writer.
class Tee final : public RunObserver {
public:
    Tee(RunObserver& a, RunObserver* b) : a_(a), b_(b) {}
    void on_spike(std::size_t p, node_index n, time_ms t) override {
        a_.on_spike(p, n, t);
        if (b_) b_->on_spike(p, n, t);
    }
    void on_sample(std::size_t k, std::uint64_t step, time_ms t, const std::vector<double>& row) override {
        a_.on_sample(k, step, t, row);
        if (b_) b_->on_sample(k, step, t, row);
    }
    void on_progress(time_ms t, std::uint64_t events) override {
        if (b_) b_->on_progress(t, events);
    }

private:
    RunObserver& a_;
    RunObserver* b_;
};

template <class T>
py::array_t<T> to_array(const std::vector<T>& v) {
    py::array_t<T> a(static_cast<py::ssize_t>(v.size()));
    std::copy(v.begin(), v.end(), a.mutable_data());
    return a;
}

class Simulation {
public:
    Simulation(const py::dict& config, std::uint64_t seed, const std::string& out, bool force, double flush_interval_s)
        : seed_(seed) {
        doc_ = to_toml(config, "");
        ConfigTable root(doc_, "");
        built_ = build_network(root, seed, false);
        root.finish();
        Network& net = *built_.network;
        sim_ = std::make_unique<Simulator>(net, seed);
        if (built_.sync_interval_ms > 0.0) sim_->set_sync_interval(built_.sync_interval_ms);
        for (std::size_t p = 0; p < net.population_count(); ++p)
            if (!built_.recording.spike_populations[p].empty()) sim_->record_spikes(p);
        for (const auto& probe : built_.recording.probes) sim_->add_probe(probe);
        recorder_ = std::make_unique<MemoryRecorder>(net.population_count(), built_.recording.probes.size());
        if (!out.empty()) {
            // The file the CLI writes for the same network: created only now that everything is
            // checked. Its planned duration is open (0): a Python run's length is known at close().
            if (!(flush_interval_s > 0.0) || !std::isfinite(flush_interval_s))
                throw ConfigError("flush_interval_s", "must be finite and > 0");
            ctx_.seed = seed;
            ctx_.out_path = out;
            ctx_.force = force;
            ctx_.flush_interval_s = flush_interval_s;
            ctx_.config_toml = toml::format(doc_);
            writer_ = std::make_unique<SonataWriter>(out, force, built_.recording.spike_populations, built_.recording.reports,
                                                     RunMetadata{ctx_.config_toml, seed, 0.0}, flush_interval_s);
        }
        tee_ = std::make_unique<Tee>(*recorder_, writer_.get());
    }

    // Ends the run: buffered plasticity applied, the file (if any) completed and closed. After
    // it the simulator can be read but not run.
    void close() {
        if (closed_) return;
        if (running_) throw std::runtime_error("this Simulator is running (in another thread)");
        if (!started_) {
            sim_->start(0.0);
            started_ = true;
        }
        sim_->finish();
        closed_ = true;
        if (writer_) {
            finish_output(*writer_, built_.network.get(), sim_->stats(), InMemoryResults{}, wall_seconds_, ctx_);
            writer_.reset();
        }
    }
    bool closed() const { return closed_; }

    // Advances by duration_ms, in pieces of about a tenth of a second of wall time, checking for
    // Ctrl-C between them with the GIL held (KeyboardInterrupt leaves the state at a piece's end,
    // a valid point to continue from).
    void run(double duration_ms, bool progress) {
        if (!(duration_ms >= 0.0) || !std::isfinite(duration_ms))
            throw ConfigError("duration_ms", "must be finite and >= 0, got " + std::to_string(duration_ms));
        if (closed_) throw std::runtime_error("this Simulator is closed (close() or the end of its with block)");
        if (running_.exchange(true)) throw std::runtime_error("this Simulator is already running (in another thread)");
        struct Release {
            std::atomic<bool>& flag;
            ~Release() { flag = false; }
        } release{running_};
        if (!started_) {
            sim_->start(0.0);
            started_ = true;
        }
        const double from = sim_->now(), target = from + duration_ms;
        // On a terminal (stderr), as `settle run` draws it; off in notebooks and pipes.
        ProgressBar bar(progress, duration_ms, "ms");
        double piece = 1.0;  // ms of simulated time, adapted to about 0.1 s of wall time
        while (sim_->now() < target) {
            const double until = std::min(target, sim_->now() + piece);
            const auto t0 = std::chrono::steady_clock::now();
            {
                py::gil_scoped_release no_gil;
                sim_->advance(until, *tee_);
            }
            const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            wall_seconds_ += wall;
            piece = wall < 0.02 ? piece * 4.0 : wall > 0.2 ? std::max(piece / 2.0, 1e-3) : piece;
            bar.update(sim_->now() - from, sim_->stats().events);
            if (PyErr_CheckSignals() != 0) {
                bar.finish();
                throw py::error_already_set();
            }
        }
        bar.finish();
    }

    double now() const { return started_ ? sim_->now() : 0.0; }

    std::size_t population_index(const std::string& name) const {
        const long p = built_.network->find_population(name);
        if (p < 0) throw py::key_error("no population named '" + name + "'");
        return static_cast<std::size_t>(p);
    }

    py::tuple spikes(const std::string& population) const {
        const std::size_t p = population_index(population);
        if (built_.recording.spike_populations[p].empty())
            throw py::value_error("the spikes of '" + population + "' are not recorded (Network.record(spikes=...))");
        return py::make_tuple(to_array(recorder_->spike_times_[p]), to_array<std::uint64_t>(std::vector<std::uint64_t>(
                                                                       recorder_->spike_nodes_[p].begin(), recorder_->spike_nodes_[p].end())));
    }

    py::tuple report(const std::string& name) const {
        for (std::size_t k = 0; k < built_.recording.reports.size(); ++k) {
            const ReportSpec& spec = built_.recording.reports[k];
            if (spec.population != name) continue;
            const std::size_t columns = spec.nodes.size() * spec.element_ids.size();
            const std::vector<double>& flat = recorder_->samples_[k];
            py::array_t<double> data({static_cast<py::ssize_t>(recorder_->sample_times_[k].size()), static_cast<py::ssize_t>(columns)});
            std::copy(flat.begin(), flat.end(), data.mutable_data());
            return py::make_tuple(to_array(recorder_->sample_times_[k]), data, spec.element_names,
                                  to_array<std::uint64_t>(std::vector<std::uint64_t>(spec.nodes.begin(), spec.nodes.end())));
        }
        throw py::key_error("no report of '" + name + "' (Network.record(reports=...))");
    }

    Projection& projection(const std::string& name) const {
        const long p = built_.network->find_projection(name);
        if (p < 0) throw py::key_error("no sparse projection named '" + name + "'");
        return built_.network->projection(static_cast<std::size_t>(p));
    }

    py::array_t<double> weights(const std::string& name) const {
        Projection& proj = projection(name);
        if (PlasticityRule* rule = proj.rule())
            for (std::size_t c = 0; c < proj.size(); ++c) rule->update_connection(c, now());
        return to_array(proj.weights());
    }

    void set_weights(const std::string& name, const py::array_t<double, py::array::c_style | py::array::forcecast>& w) {
        Projection& proj = projection(name);
        if (w.ndim() != 1 || static_cast<std::size_t>(w.shape(0)) != proj.size())
            throw ConfigError(name, "needs " + std::to_string(proj.size()) + " weights, one per connection");
        if (started_ && proj.rule()) throw ConfigError(name, "the weights of a plastic projection are set before the first run");
        for (py::ssize_t i = 0; i < w.shape(0); ++i)
            if (!std::isfinite(w.at(i))) throw ConfigError(name, "weight " + std::to_string(i) + " is not finite");
        std::copy(w.data(), w.data() + w.shape(0), proj.weights().begin());
    }

    // Inputs changed between runs. A poisson_source with a schedule takes new rates from now on
    // (within its max_rate_hz); an urbanczik_senn population a new constant teacher conductance.
    void set_rates(const std::string& population, const py::array_t<double, py::array::c_style | py::array::forcecast>& rates) {
        const std::size_t p = population_index(population);
        auto* source = dynamic_cast<PoissonSource*>(&built_.network->population(p));
        if (!source || !source->piecewise())
            throw ConfigError("population." + population,
                              "set_rates needs a poisson_source with a schedule = {times_ms, rates_hz, max_rate_hz}");
        std::vector<double> r(rates.data(), rates.data() + rates.size());
        for (double x : r)
            if (!std::isfinite(x)) throw ConfigError("population." + population + ".rates_hz", "must be finite");
        try {
            source->present(now(), std::move(r));
        } catch (const std::invalid_argument& e) {
            throw ConfigError("population." + population + ".rates_hz", e.what());
        }
    }

    void set_teacher(const std::string& population, const py::object& exc, const py::object& inh) {
        const std::size_t p = population_index(population);
        auto* neurons = dynamic_cast<UrbanczikSennPopulation*>(&built_.network->population(p));
        if (!neurons) throw ConfigError("population." + population, "set_teacher needs an urbanczik_senn population");
        auto signal = [&](const py::object& v, const char* key) -> std::shared_ptr<const ConductanceSignal> {
            if (v.is_none()) return nullptr;
            const auto a = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(v);
            if (!a) throw ConfigError(population + "." + key, "a number or one per node");
            std::vector<double> g(a.data(), a.data() + a.size());
            if (g.size() != 1 && g.size() != neurons->size())
                throw ConfigError(population + "." + key, "give one conductance or one per node (" +
                                                              std::to_string(neurons->size()) + ")");
            for (double x : g)
                if (!(x >= 0.0) || !std::isfinite(x)) throw ConfigError(population + "." + key, "must be finite and >= 0");
            std::vector<std::vector<double>> per_node;
            if (g.size() == 1)
                per_node.push_back(g);
            else
                for (double x : g) per_node.push_back({x});
            return std::make_shared<PiecewiseConductance>(std::vector<time_ms>{now()}, std::move(per_node));
        };
        auto e = signal(exc, "teacher_exc"), i = signal(inh, "teacher_inh");
        if (!started_) {
            sim_->start(0.0);
            started_ = true;
        }
        neurons->set_teacher(now(), std::move(e), std::move(i));
    }

    py::tuple connections(const std::string& name) const {
        const Projection& proj = projection(name);
        std::vector<std::uint64_t> src(proj.size()), tgt(proj.size());
        for (std::size_t c = 0; c < proj.size(); ++c) {
            src[c] = proj.source_of(c);
            tgt[c] = proj.target_of(c);
        }
        return py::make_tuple(to_array(src), to_array(tgt));
    }

    py::dict stats() const {
        py::dict d;
        const RunStats& s = sim_->stats();
        d["simulated_ms"] = now();
        d["events"] = s.events;
        d["synaptic_events"] = s.synaptic_events;
        py::dict spikes;
        for (std::size_t p = 0; p < built_.network->population_count(); ++p)
            spikes[py::str(built_.network->population(p).name())] = p < s.spikes.size() ? s.spikes[p] : 0;
        d["spikes"] = spikes;
        return d;
    }

private:
    std::uint64_t seed_;
    toml_value doc_;
    BuiltNetwork built_;
    std::unique_ptr<Simulator> sim_;
    std::unique_ptr<MemoryRecorder> recorder_;
    std::unique_ptr<SonataWriter> writer_;
    std::unique_ptr<Tee> tee_;
    ExperimentContext ctx_;
    double wall_seconds_ = 0.0;
    bool started_ = false, closed_ = false;
    std::atomic<bool> running_{false};
};

// The unit and dotted name of every number a config's reader takes (networks/config_reader.hpp,
// KeyRecord), keyed by the value's place in `config`: a tuple of keys and list indices. The Python layer
// converts `quantities` values with it. `experiment`: "network" (build_network's keys) or
// "circuit" (a whole circuit config). The config is read as the run would read it, so a value
// out of range is refused here with the run's message.
void index_nodes(const toml_value& v, const py::tuple& path, std::map<const toml_value*, py::tuple>& out) {
    out.emplace(&v, path);
    auto extended = [&](py::object segment) {
        py::list l(path);
        l.append(segment);
        return py::tuple(l);
    };
    if (v.is_table())
        for (const auto& [k, x] : v.as_table()) index_nodes(x, extended(py::str(k)), out);
    else if (v.is_array())
        for (std::size_t i = 0; i < v.as_array().size(); ++i) index_nodes(v.as_array()[i], extended(py::int_(i)), out);
}

py::dict key_units(const py::dict& config, const std::string& experiment) {
    const toml_value doc = to_toml(config, "");
    ScopedKeyLog log;
    ConfigTable root(doc, "");
    if (experiment == "circuit") {
        LoadedConfig common;
        common.doc = doc;  // read_common records a defaulted seed in it (unused here)
        read_common(root, common);
        circuit::parse_circuit_config(root);
    } else {
        build_network(root, 1, false);
    }
    std::map<const toml_value*, py::tuple> paths;
    index_nodes(doc, py::tuple(), paths);
    py::dict units;
    for (const KeyRecord& r : log.records) {
        if (!r.node || r.unit.empty()) continue;
        const auto it = paths.find(r.node);
        if (it != paths.end()) units[it->second] = py::make_tuple(r.unit, r.path);
    }
    return units;
}

// A TOML file with `--set`-style overrides, as a Python dict (the CLI's reader and override rules).
py::object load_toml(const std::string& path, const std::vector<std::string>& overrides) {
    toml_value doc = read_toml_file(path);
    for (const auto& o : overrides) apply_override(doc, o);
    // Through TOML text and Python's tomllib: tables, arrays, strings, numbers and booleans map
    // one to one.
    return py::module_::import("tomllib").attr("loads")(toml::format(doc));
}

// Runs work() in a worker thread while this (the calling) thread waits with the GIL released and
// polls for Ctrl-C with it held: Python's signal handlers run only in the main thread. On Ctrl-C
// `flag` is raised (work() decides how it stops at a consistent point) and, once work() has
// returned, KeyboardInterrupt is raised. poll() runs on this thread every 50 ms (a progress bar).
// Exceptions of work() are re-thrown here; settle::circuit::Interrupted ends work() quietly.
void run_interruptibly(const std::function<void()>& work, std::atomic<bool>& flag, const std::function<void()>& poll = {}) {
    std::atomic<bool> done{false};
    std::exception_ptr failure;
    std::thread worker([&] {
        try {
            work();
        } catch (const circuit::Interrupted&) {
        } catch (...) {
            failure = std::current_exception();
        }
        done = true;
    });
    bool interrupted = false;
    while (!done) {
        {
            py::gil_scoped_release no_gil;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        if (poll) poll();
        if (!interrupted && PyErr_CheckSignals() != 0) {
            interrupted = true;  // the KeyboardInterrupt stays set while work() ends
            flag = true;
        }
    }
    {
        py::gil_scoped_release no_gil;
        worker.join();
    }
    if (interrupted) throw py::error_already_set();
    if (failure) std::rethrow_exception(failure);
}

// `settle run` from Python: the same front end (networks/run_config.hpp) builds and runs the
// config into `out`. Ctrl-C raises the run's stop flag, the experiment ends as an interrupted
// run (its file flushed and marked), and KeyboardInterrupt follows.
std::string run_config(const std::string& path, const std::string& out, const std::vector<std::string>& overrides,
                       long long seed, bool force) {
    RunRequest request;
    request.config_path = path;
    request.out_path = out.empty() ? std::filesystem::path(path).stem().string() + ".h5" : out;
    request.overrides = overrides;
    request.seed = seed;
    request.force = force;
    request.quiet = true;
    LoadedConfig cfg;
    std::unique_ptr<Experiment> experiment = build_experiment(request, cfg);
    std::atomic<bool> stop{false};
    std::string summary;
    run_interruptibly([&] { summary = execute_experiment(*experiment, cfg, request, &stop).dump(); }, stop);
    return summary;
}

// A spiking learning circuit trained, evaluated and read step by step (networks/circuit/
// circuit_session.hpp); settle.Circuit wraps it. The config is a whole circuit config (the keys
// of a TOML file with experiment = "circuit").
class Circuit {
public:
    Circuit(const py::dict& config, const std::vector<std::string>& overrides, long long seed) {
        doc_ = to_toml(config, "");
        for (const auto& o : overrides) apply_override(doc_, o);
        ConfigTable root(doc_, "");
        LoadedConfig common;
        common.doc = doc_;  // read_common records a defaulted seed in it (unused here)
        read_common(root, common);
        if (common.experiment != "circuit")
            throw ConfigError("experiment", "settle.Circuit runs experiment = \"circuit\", got \"" + common.experiment + "\"");
        circuit::CircuitConfig cfg = circuit::parse_circuit_config(root);
        root.finish();
        seed_ = seed >= 0 ? static_cast<std::uint64_t>(seed) : common.seed;
        const std::vector<std::string> names = cfg.population_names();
        recorder_ = std::make_unique<MemoryRecorder>(names.size(), cfg.record.reports.size());
        session_ = std::make_unique<circuit::CircuitSession>(cfg, seed_, recorder_.get());
        session_->set_stop(&stop_);
    }

    // Trains `more` more presentations (default: up to the configured number), pausing at a
    // presentation end on Ctrl-C: the state is then one train() continues from.
    std::int64_t train(long long more, bool progress) {
        if (more < -1) throw ConfigError("presentations", "must be >= 0, got " + std::to_string(more));
        Running running{running_};
        stop_ = false;
        const std::int64_t from = session_->presentations_done();
        const std::int64_t until = more >= 0 ? from + more : session_->configured_presentations();
        std::atomic<bool> pause{false};
        std::atomic<std::int64_t> done{from};
        ProgressBar bar(progress, static_cast<double>(std::max<std::int64_t>(0, until - from)), "presentations");
        // One presentation per call: parts give bitwise the events of one call.
        run_interruptibly(
            [&] {
                while (done < until && !pause) done = session_->train(done + 1);
            },
            pause, [&] { bar.update(static_cast<double>(done - from), 0); });
        bar.finish();
        return done;
    }

    py::dict evaluate() {
        Running running{running_};
        circuit::CircuitSession::Evaluation e;
        stop_ = false;
        run_interruptibly([&] { e = session_->evaluate(); }, stop_);
        py::dict d;
        d["test_error"] = e.test_error;
        if (e.classification) d["test_accuracy"] = 1.0 - e.test_error;
        py::array_t<double> out({static_cast<py::ssize_t>(e.outputs), static_cast<py::ssize_t>(e.inputs)});
        std::copy(e.decoded.begin(), e.decoded.end(), out.mutable_data());
        d["outputs"] = out;
        return d;
    }

    py::dict derivative_test(const py::object& gs, const py::object& delays, long long trials, long long inputs,
                             double settle_ms, long long seed) {
        Running running{running_};
        circuit::DerivativeTestConfig q = session_->config().derivative_test;
        if (!gs.is_none()) q.teacher_strengths = positive_list(gs, "teacher_strengths");
        if (!delays.is_none()) q.delays_ms = positive_list(delays, "delays_ms");
        if (trials >= 0) q.trials = static_cast<int>(trials);
        if (inputs >= 0) q.inputs = static_cast<int>(inputs);
        if (!std::isnan(settle_ms)) q.settle_ms = settle_ms;
        if (q.trials < 1) throw ConfigError("trials", "must be >= 1");
        if (q.inputs < 1) throw ConfigError("inputs", "must be >= 1");
        if (!(q.settle_ms >= 0.0) || !std::isfinite(q.settle_ms)) throw ConfigError("settle_ms", "must be finite and >= 0");
        std::vector<circuit::DerivativeCell> cells;
        stop_ = false;
        run_interruptibly([&] { cells = session_->derivative_test(q, seed >= 0 ? static_cast<std::uint64_t>(seed) : seed_); }, stop_);
        const std::size_t hidden = cells.empty() ? 0 : cells.front().cos_mean.size();
        auto column = [&](auto field) {
            py::array_t<double> a({static_cast<py::ssize_t>(cells.size()), static_cast<py::ssize_t>(hidden)});
            for (std::size_t c = 0; c < cells.size(); ++c)
                for (std::size_t l = 0; l < hidden; ++l) a.mutable_at(c, l) = (cells[c].*field)[l];
            return a;
        };
        py::dict d;
        std::vector<double> g, delay;
        for (const auto& c : cells) {
            g.push_back(c.g);
            delay.push_back(c.delay_ms);
        }
        d["teacher_strength"] = to_array(g);
        d["delay_ms"] = to_array(delay);
        d["cos"] = column(&circuit::DerivativeCell::cos_mean);
        d["cos_ci95"] = column(&circuit::DerivativeCell::cos_ci95);
        d["angle_deg"] = column(&circuit::DerivativeCell::angle_deg_mean);
        d["shuffled_cos"] = column(&circuit::DerivativeCell::shuffled_cos_mean);
        d["shuffled_cos_ci95"] = column(&circuit::DerivativeCell::shuffled_cos_ci95);
        d["unpaired_cos"] = column(&circuit::DerivativeCell::unpaired_cos_mean);
        d["unpaired_cos_ci95"] = column(&circuit::DerivativeCell::unpaired_cos_ci95);
        return d;
    }

    py::dict weights() const {
        guard_running();
        py::dict d;
        for (const auto& [name, m] : session_->weights()) {
            py::array_t<double> a({static_cast<py::ssize_t>(m.rows), static_cast<py::ssize_t>(m.cols)});
            std::copy(m.values.begin(), m.values.end(), a.mutable_data());
            d[py::str(name)] = a;
        }
        return d;
    }

    std::size_t population_index(const std::string& name) const {
        const std::vector<std::string> names = session_->population_names();
        const auto it = std::find(names.begin(), names.end(), name);
        if (it == names.end()) throw py::key_error("no population named '" + name + "'");
        return static_cast<std::size_t>(it - names.begin());
    }

    py::tuple spikes(const std::string& population) const {
        guard_running();
        const std::size_t p = population_index(population);
        const auto& rec = session_->config().record.spikes;
        if (std::find(rec.begin(), rec.end(), population) == rec.end())
            throw py::value_error("the spikes of '" + population + "' are not recorded ([record] spikes of the config)");
        return py::make_tuple(to_array(recorder_->spike_times_[p]),
                              to_array<std::uint64_t>(std::vector<std::uint64_t>(recorder_->spike_nodes_[p].begin(),
                                                                                 recorder_->spike_nodes_[p].end())));
    }

    py::tuple report(const std::string& population) const {
        guard_running();
        const auto& reports = session_->config().record.reports;
        const std::vector<int> units = session_->config().population_units();
        for (std::size_t k = 0; k < reports.size(); ++k) {
            if (reports[k].population != population) continue;
            std::vector<std::uint64_t> nodes(reports[k].nodes.begin(), reports[k].nodes.end());
            if (nodes.empty())
                for (int u = 0; u < units[population_index(population)]; ++u) nodes.push_back(static_cast<std::uint64_t>(u));
            const std::size_t columns = nodes.size() * reports[k].variables.size();
            const std::vector<double>& flat = recorder_->samples_[k];
            py::array_t<double> data({static_cast<py::ssize_t>(recorder_->sample_times_[k].size()), static_cast<py::ssize_t>(columns)});
            std::copy(flat.begin(), flat.end(), data.mutable_data());
            return py::make_tuple(to_array(recorder_->sample_times_[k]), data, reports[k].variables, to_array(nodes));
        }
        throw py::key_error("no report of '" + population + "' ([[record.report]] of the config)");
    }

    py::dict stats() const {
        guard_running();
        const RunStats& s = session_->stats();
        py::dict d;
        d["simulated_ms"] = session_->now_ms();
        d["presentations"] = session_->presentations_done();
        d["events"] = s.events;
        d["synaptic_events"] = s.synaptic_events;
        py::dict spikes;
        const std::vector<std::string> names = session_->population_names();
        for (std::size_t p = 0; p < names.size(); ++p) spikes[py::str(names[p])] = p < s.spikes.size() ? s.spikes[p] : 0;
        d["spikes"] = spikes;
        return d;
    }

    std::int64_t presentations_done() const { return session_->presentations_done(); }
    std::int64_t configured_presentations() const { return session_->configured_presentations(); }
    double now() const { return session_->now_ms(); }
    std::vector<std::string> populations() const { return session_->population_names(); }
    py::array_t<double> teacher_onsets() const { return to_array(session_->teacher_onsets()); }
    std::string longhand() const { return session_->longhand(); }
    std::uint64_t seed() const { return seed_; }

private:
    // Marks the circuit as running for a scope; a second caller (another thread) gets an error.
    struct Running {
        std::atomic<bool>& flag;
        explicit Running(std::atomic<bool>& f) : flag(f) {
            if (flag.exchange(true)) throw std::runtime_error("this Circuit is running (in another thread)");
        }
        ~Running() { flag = false; }
        Running(const Running&) = delete;
        Running& operator=(const Running&) = delete;
    };
    void guard_running() const {
        if (running_) throw std::runtime_error("this Circuit is running (in another thread)");
    }
    static std::vector<double> positive_list(const py::object& v, const std::string& key) {
        std::vector<double> out;
        for (const auto& x : v) {
            const double d = x.cast<double>();
            if (!(d > 0.0) || !std::isfinite(d)) throw ConfigError(key, "every value must be finite and > 0, got " + std::to_string(d));
            out.push_back(d);
        }
        if (out.empty()) throw ConfigError(key, "must not be empty");
        return out;
    }

    toml_value doc_;
    std::uint64_t seed_ = 1;
    std::unique_ptr<MemoryRecorder> recorder_;
    std::unique_ptr<circuit::CircuitSession> session_;
    std::atomic<bool> stop_{false};
    std::atomic<bool> running_{false};
};

}  // namespace

PYBIND11_MODULE(_settle, m) {
    m.doc() = "settle's kernel (compiled part); use the `settle` package";
    m.attr("__version__") = std::string(settle::version);
    m.attr("git_revision") = std::string(settle::git_revision);

    // Errors carry the CLI's one-line message. ConfigError is a ValueError.
    static py::exception<ConfigError> config_error(m, "ConfigError", PyExc_ValueError);
    py::register_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const ConfigError& e) {
            config_error(e.what());
        } catch (const FileError& e) {
            // A file that is not there is FileNotFoundError (an OSError), as Python's open() says.
            std::error_code ec;
            const bool missing = !e.path().empty() && !std::filesystem::exists(e.path(), ec) && !ec;
            PyErr_SetString(missing ? PyExc_FileNotFoundError : PyExc_OSError, e.what());
        } catch (const InputError& e) {
            config_error(e.what());
        } catch (const OutputError& e) {
            PyErr_SetString(PyExc_OSError, e.what());
        }
    });

    py::class_<Simulation>(m, "Simulation", "A network built from a config table, and its kernel (settle.Simulator wraps it).")
        .def(py::init<const py::dict&, std::uint64_t, const std::string&, bool, double>(), py::arg("config"), py::arg("seed"),
             py::arg("out") = "", py::arg("force") = false, py::arg("flush_interval_s") = 5.0,
             "Builds the network of a config table (the keys of a TOML config) with master seed `seed`; with `out`, "
             "streams what is recorded to that SONATA file as `settle run` does.")
        .def("close", &Simulation::close, "Ends the run and completes the file (if any).")
        .def_property_readonly("closed", &Simulation::closed, "Whether close() was called.")
        .def("run", &Simulation::run, py::arg("duration_ms"), py::arg("progress") = true,
             "Advances by duration_ms (ms), continuing where the last run stopped; the GIL is released. With "
             "progress, a bar on stderr when it is a terminal.")
        .def_property_readonly("now", &Simulation::now, "The simulated time reached, ms.")
        .def("spikes", &Simulation::spikes, py::arg("population"),
             "(times in ms as float64, node ids as uint64) of a recorded population, in time order.")
        .def("report", &Simulation::report, py::arg("population"),
             "(times in ms, data[time, node x variable] as float64, variable names, node ids) of a report.")
        .def("weights", &Simulation::weights, py::arg("projection"),
             "The current weights of a sparse projection (float64, one per connection), brought up to date.")
        .def("set_weights", &Simulation::set_weights, py::arg("projection"), py::arg("weights"),
             "Sets a sparse projection's weights (finite; a plastic projection's before the first run).")
        .def("set_rates", &Simulation::set_rates, py::arg("population"), py::arg("rates_hz"),
             "New rates (Hz, one or one per node) of a scheduled poisson_source from now on.")
        .def("set_teacher", &Simulation::set_teacher, py::arg("population"), py::arg("exc") = py::none(),
             py::arg("inh") = py::none(), "New constant teacher conductances (nS) of an urbanczik_senn population from now on.")
        .def("connections", &Simulation::connections, py::arg("projection"),
             "(source node ids, target node ids) of a sparse projection, uint64.")
        .def("stats", &Simulation::stats, "simulated_ms, events, synaptic_events and spikes per population so far.");
    py::class_<Circuit>(m, "CircuitSession", "A spiking learning circuit (settle.Circuit wraps it).")
        .def(py::init<const py::dict&, const std::vector<std::string>&, long long>(), py::arg("config"),
             py::arg("overrides") = std::vector<std::string>{}, py::arg("seed") = -1)
        .def("train", &Circuit::train, py::arg("presentations") = -1, py::arg("progress") = true)
        .def("evaluate", &Circuit::evaluate)
        .def("derivative_test", &Circuit::derivative_test, py::arg("teacher_strengths") = py::none(),
             py::arg("delays_ms") = py::none(), py::arg("trials") = -1, py::arg("inputs") = -1,
             py::arg("settle_ms") = std::numeric_limits<double>::quiet_NaN(), py::arg("seed") = -1)
        .def("weights", &Circuit::weights)
        .def("spikes", &Circuit::spikes, py::arg("population"))
        .def("report", &Circuit::report, py::arg("population"))
        .def("stats", &Circuit::stats)
        .def_property_readonly("presentations_done", &Circuit::presentations_done)
        .def_property_readonly("presentations", &Circuit::configured_presentations)
        .def_property_readonly("now", &Circuit::now)
        .def_property_readonly("populations", &Circuit::populations)
        .def_property_readonly("teacher_onsets", &Circuit::teacher_onsets)
        .def_property_readonly("seed", &Circuit::seed)
        .def("longhand", &Circuit::longhand);
    m.def("run_config", &run_config, py::arg("path"), py::arg("out") = "", py::arg("overrides") = std::vector<std::string>{},
          py::arg("seed") = -1, py::arg("force") = false,
          "Runs a config file exactly as `settle run` does, into `out`; returns the run's JSON summary.");
    m.def("key_units", &key_units, py::arg("config"), py::arg("experiment"),
          "{(key, index, ...): (unit, the key's dotted name)} of every number the config's reader takes.");
    m.def("load_toml", &load_toml, py::arg("path"), py::arg("overrides") = std::vector<std::string>{},
          "A TOML file with --set-style overrides, read by settle's reader, as a dict.");
}
