"""settle from Python: build a network, run it, read its spikes, reports and weights as numpy arrays.

    import settle
    net = settle.Network(seed=1)
    net.population("inputs", "poisson_source", 100, rate_hz=10.0)
    net.population("neurons", "urbanczik_senn", 10)
    net.projection("inputs", "neurons", weight=100.0, connect={"rule": "fixed_indegree", "indegree": 20})
    net.record(spikes="all")
    sim = settle.Simulator(net)
    sim.run(1000.0)                      # ms; call again to continue
    times_ms, node_ids = sim.spikes("neurons")

The network is described with the same keys as a TOML config (docs/config.md): a population's
keyword arguments are the keys of its [[population]] table, a projection's those of its
[[projection]] table. The compiled part builds and checks it with the code `settle run` uses, so
defaults, ranges and error messages are the same; bad keys and values raise settle.ConfigError
(a ValueError) with the CLI's one-line message.

Units: plain numbers are in settle's documented units (docs/config.md: a model's parameter table
gives each parameter's unit, e.g. pF, nS, mV, pA, 1/ms; other keys name theirs, tau_ms in ms and
rate_hz in Hz), as NEST takes plain floats. A `quantities` value (python3-quantities, the units
Neo uses) is converted to its key's unit: rate_hz=0.5 * pq.kHz is 500 Hz, params={"E_L": -0.07 *
pq.V} is -70 mV; a value whose dimension does not fit raises ConfigError. Times returned are in
ms.
"""
import json
import numbers

from . import _settle

__version__ = _settle.__version__
git_revision = _settle.git_revision
ConfigError = _settle.ConfigError

__all__ = ["Network", "Simulator", "Circuit", "ConfigError", "load_config", "run_config", "__version__"]


def _is_quantity(value):
    """A `quantities` value (python3-quantities, Neo's units): a number or array with a unit."""
    return hasattr(value, "rescale") and hasattr(value, "magnitude") and hasattr(value, "dimensionality")


def _plain(value):
    """numpy arrays and scalars and tuples as plain Python lists, floats and ints; quantities
    values are kept for _with_units, which converts them to the unit of the key they are given for."""
    if _is_quantity(value):
        return value
    if hasattr(value, "tolist"):  # numpy array or scalar
        return value.tolist()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or isinstance(value, str) or value is None:
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    return value


# settle's units, one per dimension, tried in this order for a first, provisional reading (the
# reader then says each key's own unit: 1/ms and Hz share a dimension).
_PROVISIONAL_UNITS = ("ms", "mV", "pA", "nS", "pF", "Hz", "1/mV", "rad", "dimensionless")


def _magnitude(q, unit, where):
    try:
        return q.rescale("dimensionless" if unit == "1" else unit).magnitude.tolist()
    except ValueError:
        raise ConfigError(f"{where}: {q.dimensionality.string} cannot be converted to {unit}, this key's unit") from None


def _with_units(config, experiment):
    """The config with every quantities value converted to the unit settle's reader documents for
    its key (the parameter tables' units, or the key's suffix: tau_ms in ms, rate_hz in Hz).
    Plain numbers are taken as given, in those units."""
    found = []

    def strip(v, path):
        if _is_quantity(v):
            found.append((path, v))
            for unit in _PROVISIONAL_UNITS:
                try:
                    return v.rescale(unit).magnitude.tolist()
                except ValueError:
                    pass
            return v.magnitude.tolist()
        if isinstance(v, dict):
            return {k: strip(x, path + (k,)) for k, x in v.items()}
        if isinstance(v, list):
            return [strip(x, path + (i,)) for i, x in enumerate(v)]
        return v

    plain = strip(config, ())
    if not found:
        return plain
    units = _settle.key_units(plain, experiment)
    for path, q in found:
        where = ".".join(str(p) for p in path)
        # an element of an array takes the array's unit
        found_unit = units.get(path, units.get(path[:-1]) if path and isinstance(path[-1], int) else None)
        if found_unit is None:
            raise ConfigError(f"{where}: this key has no unit in settle (a count, a ratio or a receptor-dependent "
                              "weight); give a plain number")
        target = plain
        for p in path[:-1]:
            target = target[p]
        unit, where = found_unit
        target[path[-1]] = _magnitude(q, unit, where)
    return plain


def _unit_array(value, unit, where):
    """A number or array in `unit` (plain numbers as given, quantities converted), as a list."""
    value = _magnitude(value, unit, where) if _is_quantity(value) else _plain(value)
    return value if isinstance(value, list) else [value]


def _ms(value, where):
    """A duration: a number in ms, or a quantities value converted to ms."""
    return float(_magnitude(value, "ms", where)) if _is_quantity(value) else float(_plain(value))


def _without_none(d):
    return {k: _plain(v) for k, v in d.items() if v is not None}


class Network:
    """A network description: populations, projections and what to record.

    Nothing is built until a Simulator is made from it, and then it is built exactly as
    `settle run` builds the same config.
    """

    def __init__(self, seed=1):
        if not isinstance(seed, numbers.Integral) or seed < 0:
            raise ConfigError(f"seed: must be an integer >= 0, got {seed!r}")
        self.seed = int(seed)
        self._populations = []
        self._projections = []
        self._record = {}
        self._simulation = {}

    def population(self, name, model, size=None, **keys):
        """Adds a population: `model` is a registry name (urbanczik_senn, poisson_source, ...);
        `keys` are the model's config keys (e.g. params={...}, rate_hz=..., replicas=...)."""
        table = {"name": name, "model": model}
        if size is not None:
            table["size"] = size
        table.update(keys)
        self._populations.append(_without_none(table))
        return name

    def projection(self, source, target, weight=None, receptor=None, connect=None, delay=None, plasticity=None,
                   name=None, **keys):
        """Adds a projection from population `source` to `target` (config keys: connect, weight,
        delay_ms, receptor, plasticity, kind = "dense", ...). Returns its name."""
        table = {"source": source, "target": target, "weight": weight, "receptor": receptor, "connect": connect,
                 "delay_ms": delay, "plasticity": plasticity, "name": name}
        table.update(keys)
        table = _without_none(table)
        self._projections.append(table)
        return table.get("name", f"{source}->{target}")

    def record(self, spikes=None, reports=(), weights=()):
        """What to keep: spikes = "all" or a list of population names; reports = [{population,
        variables, nodes, dt_ms, start_ms}, ...]; weights = [{projection, connections, dt_ms}, ...]."""
        if spikes is not None:
            self._record["spikes"] = _plain(spikes)
        if reports:
            self._record.setdefault("report", []).extend(_plain(list(reports)))
        if weights:
            self._record.setdefault("weights", []).extend(_plain(list(weights)))

    def simulation(self, **keys):
        """[simulation] keys other than duration_ms (e.g. sync_interval_ms)."""
        self._simulation.update(_without_none(keys))

    def config(self):
        """The network as a config table (the dict of a TOML config without [simulation] duration_ms)."""
        cfg = {"population": list(self._populations)}
        if self._projections:
            cfg["projection"] = list(self._projections)
        if self._record:
            cfg["record"] = dict(self._record)
        if self._simulation:
            cfg["simulation"] = dict(self._simulation)
        return cfg


class Simulator:
    """Runs a Network on settle's event-driven kernel.

    run(duration_ms) continues where the last run stopped: run(100) twice gives bitwise the
    spikes of run(200). The GIL is released while the kernel runs; Ctrl-C raises
    KeyboardInterrupt and leaves the simulator at a consistent time (`now`), from which run()
    continues. A Simulator may not run in two threads at once (RuntimeError).
    """

    def __init__(self, network, out=None, force=False, flush_interval_s=5.0):
        """out: a SONATA file to stream the recorded spikes and reports to, exactly as `settle run`
        writes it (readable while it runs, completed by close() or the end of a `with` block);
        force: overwrite an existing file."""
        if not isinstance(network, Network):
            raise TypeError("Simulator(network): a settle.Network")
        self._sim = _settle.Simulation(_with_units(network.config(), "network"), network.seed, "" if out is None else str(out), bool(force),
                                       float(flush_interval_s))

    def close(self):
        """Ends the run: plasticity's buffered updates applied, the output file (if any) completed
        and closed. The results stay readable; run() raises afterwards."""
        self._sim.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if not self._sim.closed:
            self._sim.close()
        return False

    def run(self, duration_ms, progress=True):
        """Advances the simulation by duration_ms (ms, finite, >= 0). progress: a progress bar on
        stderr when stderr is a terminal (as `settle run` draws it; never in a pipe or notebook)."""
        self._sim.run(_ms(duration_ms, "duration_ms"), bool(progress))
        return self

    @property
    def now(self):
        """The simulated time reached, ms."""
        return self._sim.now

    def spikes(self, population):
        """Recorded spikes of `population` so far: (times in ms as float64, node ids as uint64), in
        the order they happened."""
        return self._sim.spikes(population)

    def report(self, population):
        """A recorded report: (times in ms, data[time, node x variable] as float64, variable names,
        node ids)."""
        return self._sim.report(population)

    def weights(self, projection):
        """The current weights of a sparse projection, one per connection (float64), brought up to date."""
        return self._sim.weights(projection)

    def set_weights(self, projection, weights):
        """Sets a sparse projection's weights (one per connection, finite; a plastic one's before the first run)."""
        self._sim.set_weights(projection, weights)

    def set_rates(self, population, rates_hz):
        """Changes the rates of a poisson_source that has a schedule (its `schedule = {times_ms,
        rates_hz, max_rate_hz}`) from now on: one rate or one per node, in Hz (or quantities),
        within max_rate_hz. The same as a schedule row at this time: the same spikes."""
        self._sim.set_rates(population, _unit_array(rates_hz, "Hz", f"population.{population}.rates_hz"))

    def set_teacher(self, population, exc=None, inh=None):
        """Changes the teacher of an urbanczik_senn population from now on: constant excitatory and
        inhibitory conductances (nS, or quantities; one or one per node; None: unchanged). The same
        as a piecewise teacher with a step at this time."""
        self._sim.set_teacher(population, None if exc is None else _unit_array(exc, "nS", f"{population}.teacher_exc"),
                              None if inh is None else _unit_array(inh, "nS", f"{population}.teacher_inh"))

    def connections(self, projection):
        """(source node ids, target node ids) of a sparse projection, as uint64 arrays."""
        return self._sim.connections(projection)

    def stats(self):
        """Counts so far: simulated_ms, events, synaptic_events, spikes per population."""
        return self._sim.stats()


class Circuit:
    """A spiking learning circuit (docs/science.md, section 4), trained, evaluated and read step
    by step on settle's event-driven kernel: what `settle run` does with experiment = "circuit",
    in parts a script can interleave.

        c = settle.Circuit("examples/circuit_moons.toml", overrides=["circuit.presentations=400"])
        c.evaluate()["test_error"]          # before training
        c.train(200)                         # 200 presentations ...
        c.train()                            # ... and on to the configured number
        c.evaluate()["test_accuracy"]        # as `settle run` reports test_accuracy
        times_ms, node_ids = c.spikes("layer1")

    `config` is a circuit config file (TOML, experiment = "circuit") or its dict. The same seed
    gives the spikes, weights and test errors of `settle run` with that config; train(a) then
    train(b) gives bitwise the spikes and weights of train(a + b). evaluate(), weights() and
    derivative_test() never change the training state. Only the spiking mode on the event engine
    runs here (circuit.mode = "spiking", circuit.engine = "event"); run_config runs any config.
    Ctrl-C in train() stops at the next presentation end (train() continues from there) and
    raises KeyboardInterrupt; in evaluate() or derivative_test() it abandons the test.
    """

    def __init__(self, config, overrides=(), seed=None):
        """config: a path to a TOML file or a dict of its keys; overrides: `--set`-style strings
        ("circuit.presentations=400"); seed: the master seed (default: the config's)."""
        if isinstance(config, dict):
            doc = _with_units(_plain(config), "circuit")
        else:
            doc = _settle.load_toml(str(config), [str(o) for o in overrides])
            overrides = ()
        self._c = _settle.CircuitSession(doc, [str(o) for o in overrides], -1 if seed is None else int(seed))

    def train(self, presentations=None, progress=True):
        """Trains `presentations` more presentations (default: on to the configured
        circuit.presentations, the learning rates' annealing horizon; past it they stay at their
        final fraction). progress: a bar on stderr when it is a terminal. Returns self."""
        self._c.train(-1 if presentations is None else int(_plain(presentations)), bool(progress))
        return self

    @property
    def presentations_done(self):
        """Presentations trained so far (over all streams)."""
        return self._c.presentations_done

    @property
    def presentations(self):
        """The configured training run's length (circuit.presentations)."""
        return self._c.presentations

    @property
    def now(self):
        """Simulated time of the training network, ms (each stream runs this long)."""
        return self._c.now

    @property
    def seed(self):
        """The master seed in use (the config's, or the one given)."""
        return self._c.seed

    @property
    def populations(self):
        """The training network's populations: input, layer1 .. layer<L> (the output), then
        interneurons or feedback units when the config has them."""
        return list(self._c.populations)

    def evaluate(self):
        """The test pass of `settle run` with the current weights (plasticity frozen, no teacher):
        {"test_error": error rate (classification) or mean squared error, "test_accuracy"
        (classification only), "outputs": decoded output potentials, outputs x test inputs}."""
        return self._c.evaluate()

    def derivative_test(self, teacher_strengths=None, delays_ms=None, trials=None, inputs=None, settle_ms=None,
                        seed=None):
        """Hinton's temporal-derivative test on the current weights (docs/science.md, section 5), as `settle
        run` computes its table; arguments default to the config's [circuit.derivative_test].
        Returns numpy arrays, one row per (teacher strength, delay) cell, strengths outermost:
        teacher_strength, delay_ms, and [cell, hidden layer] arrays cos, cos_ci95, angle_deg,
        shuffled_cos, shuffled_cos_ci95, unpaired_cos, unpaired_cos_ci95."""
        return self._c.derivative_test(None if teacher_strengths is None else _plain(list(teacher_strengths)),
                                       None if delays_ms is None else [_ms(d, "delays_ms") for d in delays_ms],
                                       -1 if trials is None else int(trials), -1 if inputs is None else int(inputs),
                                       float("nan") if settle_ms is None else _ms(settle_ms, "settle_ms"),
                                       -1 if seed is None else int(seed))

    def weights(self):
        """The current weights as the run's file names them: {"W1": array (n_1 x n_0), "b1":
        array (n_1 x 1), ...}, float64 copies."""
        return self._c.weights()

    def spikes(self, population):
        """Spikes of a population named in the config's [record] spikes, during the recording
        window (the last record.window_presentations presentations of the configured run): (times
        in ms, float64; node ids, uint64: stream s, channel c (0 somatic, 1 prediction), unit i
        has id (s * 2 + c) * n + i; the input has s * n + i)."""
        return self._c.spikes(population)

    def report(self, population):
        """A [[record.report]] of the config: (times in ms, data[time, node x variable], variable
        names, node ids)."""
        return self._c.report(population)

    @property
    def teacher_onsets(self):
        """Stream 0's teacher onsets inside the recording window, ms (float64)."""
        return self._c.teacher_onsets

    def stats(self):
        """simulated_ms, presentations, events, synaptic_events and spikes per population so far."""
        return self._c.stats()

    def longhand(self):
        """The training network written out as a plain network config (TOML text): populations,
        dense projections, rules and the [drive] table; `settle run` on it fires the same spikes."""
        return self._c.longhand()


def load_config(path, overrides=()):
    """A TOML config with `--set`-style overrides ("key.path=value"), read by settle's own reader,
    as a Network plus the config's `[simulation] duration_ms` (None when absent): the network
    `settle run` builds from it."""
    doc = _settle.load_toml(str(path), [str(o) for o in overrides])
    experiment = doc.pop("experiment", "network")
    if experiment != "network":
        raise ConfigError(f"experiment: load_config builds networks (experiment = \"network\"), not '{experiment}'")
    net = Network(seed=doc.pop("seed", 1))
    doc.pop("name", None)
    doc.pop("output", None)
    simulation = dict(doc.pop("simulation", {}))
    duration = simulation.pop("duration_ms", None)
    net._simulation = simulation
    net._populations = list(doc.pop("population", []))
    net._projections = list(doc.pop("projection", []))
    net._record = dict(doc.pop("record", {}))
    if doc:
        key = sorted(doc)[0]
        raise ConfigError(f"{key}: unknown key")
    return net, duration


def run_config(path, out=None, overrides=(), seed=None, force=False):
    """Runs any config (a network, a circuit, an experiment) exactly as `settle run` does, with
    `--set`-style overrides and an optional seed, writing `out` (default: the config's name with
    .h5). Returns the run's summary (the dict `settle run --json` prints, metrics included).
    The GIL is released while it runs; Ctrl-C ends the run as an interrupted one (its file kept
    and marked) and raises KeyboardInterrupt."""
    summary = _settle.run_config(str(path), "" if out is None else str(out), [str(o) for o in overrides],
                                 -1 if seed is None else int(seed), bool(force))
    return json.loads(summary)
