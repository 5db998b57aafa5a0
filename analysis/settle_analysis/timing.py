"""What a run's configuration says about its time course, and the time windows figures show.

A long run squeezed into one panel shows nothing; the figures show a *detail window* of a few
pattern repetitions (or the last second) and the whole run as a small overview strip. The
window is chosen from the file alone:

* a repeated pattern (`find_pattern`): the urbanczik_senn experiment's `protocol.pattern_ms`, the
  stdp_window experiment's `protocol.pairing_interval_ms` (repetitions centred on the pairings),
  or a population's
  `repeat = { start_ms, period_ms, count }` (count >= 2) in a network config;
* teacher spans (`teacher_spans`): the urbanczik_senn experiment's teacher repetitions, or the
  `start_ms`/`stop_ms` of a population's `teacher_exc`/`teacher_inh`;
* the teacher-matched potential U_M (`teacher_potential`): the urbanczik_senn experiment's
  `U_M_mV` array, repeated over the teacher span, or computed from constant/sinusoid teacher
  conductances of an urbanczik_senn population.

Defaults of experiment keys absent from the stored config are the simulator's (see
networks/plasticity_experiments.cpp). Times in ms.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# Window shown when the file has no pattern period, and how much longer than it a run may be
# before the figures show only its end.
DEFAULT_WINDOW_MS = 1000.0
WHOLE_RUN_FACTOR = 1.5
# Pattern repetitions in the detail window: enough to see the repetition (>= 2), about this
# much time, at most MAX_PERIODS.
PERIODS_TARGET_MS = 600.0
MIN_PERIODS, MAX_PERIODS = 2, 5
# The overview strip is drawn when the detail window covers less than this fraction of the run.
OVERVIEW_BELOW = 0.9

# Experiment defaults (networks/plasticity_experiments.cpp).
US_DEFAULTS = {"pattern_ms": 200.0, "lead_repetitions": 2, "repetitions": 100, "tail_repetitions": 2,
               "exc_period_ms": 100.0}
STDP_DEFAULTS = {"pairing_interval_ms": 500.0, "dt_min_ms": -100.0, "dt_max_ms": 100.0, "repetitions": 20}
# Reversal potentials (mV) of the urbanczik_senn model's presets (docs/config.md).
US_REVERSALS = {"nest": (0.0, -75.0), "paper": (14.0 / 3.0, -1.0 / 3.0)}


@dataclass(frozen=True)
class Pattern:
    """A protocol repeated every `period_ms` from `start_ms` (None: phase unknown) until
    `stop_ms` (None: the end of the run). `origin` names the config key, for captions."""

    period_ms: float
    start_ms: float | None = 0.0
    stop_ms: float | None = None
    origin: str = ""

    def repetitions(self, t0: float, t1: float) -> int:
        """Whole repetitions inside [t0, t1]."""
        start = t0 if self.start_ms is None else max(t0, self.start_ms)
        stop = t1 if self.stop_ms is None else min(t1, self.stop_ms)
        return max(0, int(math.floor((stop - start) / self.period_ms + 1e-9)))

    def boundaries(self, t0: float, t1: float) -> np.ndarray:
        """Repetition starts inside [t0, t1] (empty when the phase is unknown)."""
        if self.start_ms is None:
            return np.empty(0)
        first = self.start_ms + math.ceil((t0 - self.start_ms) / self.period_ms - 1e-9) * self.period_ms
        last = t1 if self.stop_ms is None else min(t1, self.stop_ms)
        return np.arange(first, last + 1e-9 * self.period_ms, self.period_ms)


def _number(table: dict, key: str, default):
    value = table.get(key, default) if isinstance(table, dict) else default
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else default


def _populations(config: dict) -> list[dict]:
    return [p for p in config.get("population", []) if isinstance(p, dict)]


def find_pattern(config: dict) -> Pattern | None:
    """The repeated pattern of a run, from its (resolved) config table; None if there is none."""
    experiment = config.get("experiment", "network")
    protocol = config.get("protocol", {}) if isinstance(config.get("protocol"), dict) else {}
    if experiment == "urbanczik_senn":
        period = _number(protocol, "pattern_ms", US_DEFAULTS["pattern_ms"])
        count = sum(int(_number(protocol, k, US_DEFAULTS[k]))
                    for k in ("lead_repetitions", "repetitions", "tail_repetitions"))
        if period > 0:
            return Pattern(period, 0.0, count * period, "protocol.pattern_ms")
    elif experiment == "stdp_window":
        # Pairing k is at offset + k period, offset = max |dt| + 10 ms; each repetition is centred
        # on its pairing.
        period = _number(protocol, "pairing_interval_ms", STDP_DEFAULTS["pairing_interval_ms"])
        offset = max(abs(_number(protocol, "dt_min_ms", STDP_DEFAULTS["dt_min_ms"])),
                     abs(_number(protocol, "dt_max_ms", STDP_DEFAULTS["dt_max_ms"]))) + 10.0
        count = int(_number(protocol, "repetitions", STDP_DEFAULTS["repetitions"]))
        if period > 0:
            start = offset - period / 2
            return Pattern(period, start, start + count * period, "protocol.pairing_interval_ms")
    for pop in _populations(config):
        repeat = pop.get("repeat")
        if not isinstance(repeat, dict):
            continue
        period = _number(repeat, "period_ms", 0.0)
        count = int(_number(repeat, "count", 1))
        if period > 0 and count >= 2:
            start = _number(repeat, "start_ms", 0.0)
            return Pattern(period, start, start + count * period, f"population {pop.get('name', '?')}: repeat")
    return None


def _teacher_span(teacher: dict) -> tuple[float, float] | None:
    kind = teacher.get("kind")
    if kind == "sinusoid":
        return _number(teacher, "start_ms", 0.0), _number(teacher, "stop_ms", math.inf)
    if kind == "constant":
        return 0.0, math.inf
    if kind == "sampled":
        values = teacher.get("values") or teacher.get("values_per_node") or []
        n = len(values[0]) if values and isinstance(values[0], list) else len(values)
        start = _number(teacher, "start_ms", 0.0)
        return start, start + max(n - 1, 0) * _number(teacher, "dt_ms", 0.0)
    if kind == "piecewise":
        times = teacher.get("times_ms") or []
        return (float(times[0]), math.inf) if times else None
    return None


def _merge(spans) -> list[tuple[float, float]]:
    merged: list[list[float]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged]


def teacher_spans(config: dict, run: tuple[float, float] | None = None) -> list[tuple[float, float]]:
    """Times when a teacher acts, merged, as (start, stop) in ms (stop may be inf); [] if none,
    and [] when a teacher acts throughout `run` (start, stop), since marking it tells nothing."""
    spans = _teacher_spans(config)
    if run is not None and any(a <= run[0] and b >= run[1] for a, b in spans):
        return []
    return spans


def _teacher_spans(config: dict) -> list[tuple[float, float]]:
    experiment = config.get("experiment", "network")
    if experiment == "urbanczik_senn":
        protocol = config.get("protocol", {}) if isinstance(config.get("protocol"), dict) else {}
        period = _number(protocol, "pattern_ms", US_DEFAULTS["pattern_ms"])
        lead = _number(protocol, "lead_repetitions", US_DEFAULTS["lead_repetitions"])
        reps = _number(protocol, "repetitions", US_DEFAULTS["repetitions"])
        return [(lead * period, (lead + reps) * period)] if reps > 0 else []
    spans = []
    for pop in _populations(config):
        for key in ("teacher_exc", "teacher_inh"):
            if isinstance(pop.get(key), dict):
                span = _teacher_span(pop[key])
                if span is not None and span[1] > span[0]:
                    spans.append(span)
    return _merge(spans)


def periods_in_window(period_ms: float) -> int:
    """How many repetitions of a `period_ms` pattern the detail window shows."""
    return min(MAX_PERIODS, max(MIN_PERIODS, math.ceil(PERIODS_TARGET_MS / period_ms - 1e-9)))


def detail_window(span: tuple[float, float], pattern: Pattern | None = None, periods: int | None = None,
                  default_ms: float = DEFAULT_WINDOW_MS) -> tuple[float, float]:
    """The part of `span` (t0, t1) a figure shows in detail.

    With a pattern: the last `periods` (default periods_in_window) whole repetitions that end by
    the end of `span` and of the pattern, aligned to the repetition starts; the whole span when
    it holds at most one repetition more. Without one: the last `default_ms`, or the whole span
    when it is at most WHOLE_RUN_FACTOR times longer.
    """
    t0, t1 = float(span[0]), float(span[1])
    if not t1 > t0:
        return t0, t1
    if pattern is not None and pattern.period_ms > 0:
        p = pattern.period_ms
        n = periods_in_window(p) if periods is None else int(periods)
        if pattern.repetitions(t0, t1) > n + 1:
            end = t1 if pattern.stop_ms is None else min(t1, pattern.stop_ms)
            if pattern.start_ms is not None:
                end = pattern.start_ms + math.floor((end - pattern.start_ms) / p + 1e-9) * p
            return max(t0, end - n * p), end
        if pattern.repetitions(t0, t1) >= 1 or t1 - t0 <= WHOLE_RUN_FACTOR * default_ms:
            return t0, t1
    if t1 - t0 <= WHOLE_RUN_FACTOR * default_ms:
        return t0, t1
    return t1 - default_ms, t1


def wants_overview(window: tuple[float, float], span: tuple[float, float]) -> bool:
    """True when the detail window shows too little of the run to leave out the overview strip."""
    return span[1] > span[0] and (window[1] - window[0]) < OVERVIEW_BELOW * (span[1] - span[0])


def clip_spans(spans, t0: float, t1: float) -> list[tuple[float, float]]:
    """`spans` restricted to [t0, t1], empty pieces dropped."""
    return [(max(a, t0), min(b, t1)) for a, b in spans if min(b, t1) > max(a, t0)]


def _us_reversals(pop: dict) -> tuple[float, float]:
    e_ex, e_in = US_REVERSALS.get(pop.get("preset", "nest"), US_REVERSALS["nest"])
    params = pop.get("params", {}) if isinstance(pop.get("params"), dict) else {}
    return _number(params, "E_ex", e_ex), _number(params, "E_in", e_in)


def _conductance(teacher: dict | None, t: np.ndarray) -> np.ndarray | None:
    """A constant or sinusoid teacher conductance at times t (nS); None for other kinds."""
    if teacher is None:
        return np.zeros_like(t)
    kind = teacher.get("kind")
    if kind == "constant":
        return np.full_like(t, _number(teacher, "value", 0.0))
    if kind == "sinusoid":
        start, stop = _number(teacher, "start_ms", 0.0), _number(teacher, "stop_ms", math.inf)
        angle = 2 * np.pi * (t - start) / _number(teacher, "period_ms", 1.0) + _number(teacher, "phase_rad", 0.0)
        g = _number(teacher, "mean", 0.0) + _number(teacher, "amplitude", 0.0) * np.sin(angle)
        return np.where((t >= start) & (t < stop), g, 0.0)
    return None


def teacher_potential(f, population: str, t0: float, t1: float, dt: float):
    """The teacher-matched potential U_M = (g_E E_ex + g_I E_in) / (g_E + g_I) of `population`
    on [t0, t1) as (times, values in mV), NaN where no teacher acts; None when the file does not
    determine it. `f` is an open SettleFile."""
    config = f.metadata.config_table()
    experiment = config.get("experiment", "network")
    if experiment == "urbanczik_senn":
        if population != "neuron" or "U_M_mV" not in f.array_names:
            return None
        u_m = np.ravel(f.array("U_M_mV"))
        protocol = config.get("protocol", {}) if isinstance(config.get("protocol"), dict) else {}
        period = _number(protocol, "pattern_ms", US_DEFAULTS["pattern_ms"])
        exc_period = _number(protocol, "exc_period_ms", US_DEFAULTS["exc_period_ms"])
        step = _number(protocol, "sample_dt_ms", 0.1)
        spans = teacher_spans(config)
        if not spans or u_m.size == 0 or step <= 0:
            return None
        start, stop = spans[0]
        # U_M_mV covers the first teacher repetition; it repeats only if the teacher's period
        # divides the pattern's.
        ratio = period / exc_period if exc_period > 0 else math.nan
        if not abs(ratio - round(ratio)) < 1e-9:
            stop = min(stop, start + u_m.size * step)
        times = np.arange(t0, t1, step)
        index = np.round(((times - start) % period) / step).astype(np.int64)
        values = np.where((times >= start) & (times < stop) & (index < u_m.size),
                          u_m[np.minimum(index, u_m.size - 1)], np.nan)
        return times, values
    for pop in _populations(config):
        if pop.get("name") != population or pop.get("model") != "urbanczik_senn":
            continue
        exc, inh = pop.get("teacher_exc"), pop.get("teacher_inh")
        if exc is None and inh is None:
            return None
        times = np.arange(t0, t1, dt)
        g_e, g_i = _conductance(exc, times), _conductance(inh, times)
        if g_e is None or g_i is None:
            return None
        e_ex, e_in = _us_reversals(pop)
        total = g_e + g_i
        with np.errstate(invalid="ignore", divide="ignore"):
            values = np.where(total > 0, (g_e * e_ex + g_i * e_in) / total, np.nan)
        return times, values
    return None
