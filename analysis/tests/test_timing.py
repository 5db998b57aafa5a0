"""Time windows of the figures: the pattern and teacher read from the config, the detail window,
the teacher-matched potential, and the figures `plot` draws with them."""

import argparse
import math
import os

import numpy as np
import pytest
from matplotlib.collections import PathCollection

import sonata_files as sf
from settle_analysis import SettleFile, cli, timing
from settle_analysis.cli import main
from settle_analysis.timing import Pattern, detail_window

NO_WINDOW = argparse.Namespace(t_start=None, t_stop=None)


# ---- config -> pattern, teacher ----------------------------------------------------------------

def test_pattern_of_the_urbanczik_senn_experiment():
    config = {"experiment": "urbanczik_senn", "protocol": {"pattern_ms": 200.0, "repetitions": 100}}
    assert timing.find_pattern(config) == Pattern(200.0, 0.0, 20800.0, "protocol.pattern_ms")  # 2 + 100 + 2
    assert timing.teacher_spans(config) == [(400.0, 20400.0)]
    short = {"experiment": "urbanczik_senn", "protocol": {"pattern_ms": 50.0, "lead_repetitions": 1,
                                                           "repetitions": 3, "tail_repetitions": 0}}
    assert timing.find_pattern(short).stop_ms == 200.0
    assert timing.teacher_spans(short) == [(50.0, 200.0)]


def test_pattern_of_the_stdp_window_experiment_is_centred_on_the_pairings():
    config = {"experiment": "stdp_window", "protocol": {"pairing_interval_ms": 500.0, "repetitions": 60}}
    pattern = timing.find_pattern(config)
    # Pairing k at 110 + 500 k (offset = max |dt| + 10 = 110 with the default dt range).
    assert (pattern.period_ms, pattern.start_ms, pattern.stop_ms) == (500.0, -140.0, -140.0 + 60 * 500.0)
    assert timing.teacher_spans(config) == []


def test_pattern_and_teacher_of_a_network_config():
    config = {"population": [
        {"name": "noise", "model": "poisson_source", "size": 10, "rate_hz": 5.0},
        {"name": "inputs", "model": "spike_train_source", "size": 200,
         "frozen_poisson": {"rate_hz": 10.0, "period_ms": 250.0}, "repeat": {"start_ms": 50.0, "period_ms": 250.0,
                                                                          "count": 8}},
        {"name": "neuron", "model": "urbanczik_senn", "size": 1,
         "teacher_exc": {"kind": "sinusoid", "mean": 1.0, "amplitude": 1.0, "period_ms": 100.0, "start_ms": 300.0,
                         "stop_ms": 1200.0},
         "teacher_inh": {"kind": "sinusoid", "mean": 2.0, "amplitude": 0.0, "period_ms": 100.0, "start_ms": 1000.0,
                         "stop_ms": 1500.0}},
    ]}
    assert timing.find_pattern(config) == Pattern(250.0, 50.0, 2050.0, "population inputs: repeat")
    assert timing.teacher_spans(config) == [(300.0, 1500.0)]  # merged
    # A pattern presented once is no repetition; a teacher on throughout the run is not marked.
    once = {"population": [{"name": "x", "repeat": {"period_ms": 100.0, "count": 1}},
                           {"name": "n", "teacher_inh": {"kind": "constant", "value": 5.0}}]}
    assert timing.find_pattern(once) is None
    assert timing.teacher_spans(once) == [(0.0, math.inf)]
    assert timing.teacher_spans(once, run=(0.0, 2000.0)) == []
    assert timing.find_pattern({}) is None and timing.teacher_spans({}) == []


# ---- detail window -----------------------------------------------------------------------------

@pytest.mark.parametrize("period, n", [(200.0, 3), (1000.0, 2), (300.0, 2), (150.0, 4), (50.0, 5), (1.0, 5)])
def test_periods_in_window(period, n):
    assert timing.periods_in_window(period) == n


def test_detail_window_is_the_last_whole_repetitions():
    pattern = Pattern(200.0, 0.0, 20800.0)
    assert detail_window((0.0, 20800.0), pattern) == (20200.0, 20800.0)
    # A report starting later and ending just past the last sample: still aligned to the pattern.
    assert detail_window((400.0, 20800.1), pattern) == (20200.0, 20800.0)
    # A run that stopped part-way through a repetition ends the window at the last whole one.
    assert detail_window((0.0, 1750.0), pattern) == (1000.0, 1600.0)
    # The pattern stops before the run: the window ends with it.
    assert detail_window((0.0, 5000.0), Pattern(100.0, 50.0, 1050.0), periods=2) == (850.0, 1050.0)
    # Phase unknown: the last periods before the end, unaligned.
    assert detail_window((0.0, 30110.0), Pattern(500.0, None, None)) == (29110.0, 30110.0)
    assert detail_window((0.0, 1000.0), pattern, periods=1) == (800.0, 1000.0)


def test_detail_window_is_the_whole_run_when_short():
    pattern = Pattern(200.0, 0.0, None)
    assert detail_window((0.0, 800.0), pattern) == (0.0, 800.0)  # 4 repetitions <= 3 + 1
    assert detail_window((0.0, 1000.0), pattern) == (400.0, 1000.0)
    assert detail_window((0.0, 1400.0)) == (0.0, 1400.0)  # no pattern: up to 1.5 s whole
    assert detail_window((0.0, 1600.0)) == (600.0, 1600.0)  # else the last second
    assert detail_window((0.0, 10_000.0), default_ms=500.0) == (9500.0, 10_000.0)
    assert detail_window((5.0, 5.0)) == (5.0, 5.0)
    assert timing.wants_overview((600.0, 1600.0), (0.0, 1600.0))
    assert not timing.wants_overview((0.0, 1400.0), (0.0, 1400.0))


def test_pattern_boundaries_and_repetitions():
    pattern = Pattern(200.0, 100.0, 1100.0)
    np.testing.assert_allclose(pattern.boundaries(250.0, 1000.0), [300.0, 500.0, 700.0, 900.0])
    np.testing.assert_allclose(pattern.boundaries(0.0, 5000.0), [100.0, 300.0, 500.0, 700.0, 900.0, 1100.0])
    assert pattern.repetitions(0.0, 5000.0) == 5 and pattern.repetitions(0.0, 700.0) == 3
    assert Pattern(200.0, None).boundaries(0.0, 1000.0).size == 0
    assert timing.clip_spans([(0.0, 50.0), (80.0, math.inf)], 60.0, 100.0) == [(80.0, 100.0)]


# ---- files -------------------------------------------------------------------------------------

PERIOD, COUNT, DT = 100.0, 10, 1.0
NETWORK_CONFIG = f"""seed = 3
[simulation]
duration_ms = {PERIOD * COUNT}

[[population]]
name = "inputs"
model = "spike_train_source"
size = 30
frozen_poisson = {{ rate_hz = 20.0, period_ms = {PERIOD} }}
repeat = {{ start_ms = 0.0, period_ms = {PERIOD}, count = {COUNT} }}

[[population]]
name = "neuron"
model = "urbanczik_senn"
size = 1

[population.teacher_exc]
kind = "sinusoid"
mean = 100.0
amplitude = 80.0
period_ms = 50.0
start_ms = 200.0
stop_ms = 800.0

[population.teacher_inh]
kind = "sinusoid"
mean = 300.0
amplitude = 0.0
period_ms = 50.0
start_ms = 200.0
stop_ms = 800.0
"""


def write_pattern_file(path):
    """A network run with a frozen input pattern repeated 10 times and a teacher on [200, 800)."""
    rng = np.random.default_rng(5)
    ts, ids = sf.poisson_population(rng, 30, 20.0, PERIOD)
    inputs = (np.concatenate([ts + k * PERIOD for k in range(COUNT)]), np.tile(ids, COUNT))
    neuron = np.sort(rng.uniform(0.0, PERIOD * COUNT, 60))
    t = np.arange(0.0, PERIOD * COUNT, DT)
    state = np.column_stack([np.sin(t / 7.0), -60.0 + np.cos(t / 9.0)]).astype(np.float32)
    with sf.open_sonata(path) as f:
        sf.write_settle_metadata(f, NETWORK_CONFIG, duration_ms=PERIOD * COUNT,
                                 spike_counts={"inputs": inputs[0].size, "neuron": neuron.size})
        sf.write_spikes(f, "inputs", *inputs)
        sf.write_spikes(f, "neuron", neuron, np.zeros(neuron.size, dtype=np.int64))
        sf.write_report(f, "neuron", 0.0, DT, state, [0], [0, 2], ["U", "V_star"], ["mV", "mV"])
    return inputs, neuron, state


def test_teacher_potential_from_network_teachers(tmp_path):
    path = str(tmp_path / "pattern.h5")
    write_pattern_file(path)
    with SettleFile(path) as f:
        times, u_m = timing.teacher_potential(f, "neuron", 0.0, 1000.0, 1.0)
        assert timing.teacher_potential(f, "inputs", 0.0, 1000.0, 1.0) is None
    on = (times >= 200.0) & (times < 800.0)
    g_e = 100.0 + 80.0 * np.sin(2 * np.pi * (times[on] - 200.0) / 50.0)
    np.testing.assert_allclose(u_m[on], (g_e * 0.0 + 300.0 * -75.0) / (g_e + 300.0))  # nest: E_ex 0, E_in -75 mV
    assert np.isnan(u_m[~on]).all()  # no teacher conductance: U_M undefined


def write_experiment_file(path, exc_period_ms=10.0):
    """An urbanczik_senn experiment file: 20 ms pattern, 1 + 5 + 1 repetitions, teacher on [20, 120);
    input spikes counted but not recorded."""
    config = (f'experiment = "urbanczik_senn"\n[protocol]\npattern_ms = 20.0\nlead_repetitions = 1\n'
              f'repetitions = 5\ntail_repetitions = 1\nexc_period_ms = {exc_period_ms}\nsample_dt_ms = 1.0\n')
    u_m = -60.0 + np.arange(20.0)
    neuron = np.array([1.0, 5.0, 22.0, 41.0, 45.5, 99.0, 130.0])
    with sf.open_sonata(path) as f:
        sf.write_settle_metadata(f, config, duration_ms=140.0, arrays={"U_M_mV": u_m[None, :]},
                                 spike_counts={"inputs": 500, "neuron": neuron.size})
        sf.write_spikes(f, "neuron", neuron, np.zeros(neuron.size, dtype=np.int64))
        v = (-55.0 + np.sin(np.arange(121) / 3.0))[:, None]
        sf.write_report(f, "neuron", 20.0, 1.0, v, [0], [2], ["V_star"], ["mV"])
    return u_m, neuron


def test_teacher_potential_of_the_experiment_repeats_its_array(tmp_path):
    path = str(tmp_path / "us.h5")
    u_m, _ = write_experiment_file(path)
    with SettleFile(path) as f:
        times, values = timing.teacher_potential(f, "neuron", 0.0, 140.0, 1.0)
    np.testing.assert_allclose(times, np.arange(140.0))
    assert np.isnan(values[:20]).all() and np.isnan(values[120:]).all()  # no teacher in lead and tail
    np.testing.assert_allclose(values[20:120], np.tile(u_m, 5))
    # A teacher period that does not divide the pattern: only the recorded first repetition.
    write_experiment_file(path, exc_period_ms=15.0)
    with SettleFile(path) as f:
        _, values = timing.teacher_potential(f, "neuron", 0.0, 140.0, 1.0)
    np.testing.assert_allclose(values[20:40], u_m)
    assert np.isnan(values[40:]).all()


def test_plot_shows_repetitions_of_the_pattern_and_the_whole_run(tmp_path, capsys):
    path = str(tmp_path / "pattern.h5")
    inputs, neuron, state = write_pattern_file(path)
    assert main(["plot", path, "--out", str(tmp_path / "figs")]) == 0
    assert [os.path.basename(p) for p in capsys.readouterr().out.splitlines()] == [
        "raster.png", "repetitions_neuron.png", "traces_neuron.png", "index.html"]
    with SettleFile(path) as f:
        (_, _, raster), (_, _, folded) = cli._figures(f, "raster", NO_WINDOW)
        ((_, _, traces),) = cli._figures(f, "traces", NO_WINDOW)

    # Raster: the last 5 repetitions of the 100 ms pattern (periods_in_window(100) = 5) in detail,
    # the whole run in the overview strip, dotted lines at the repetition starts.
    ax, ax_rate, ax_overview = raster.axes
    assert ax.get_xlim() == (500.0, 1000.0) and ax_overview.get_xlim() == (0.0, 1000.0)
    assert "500\N{EN DASH}1000 ms (5 repetitions of the 100 ms pattern)" in ax.get_title()
    scatters = {c.get_label(): c for c in ax.collections if isinstance(c, PathCollection)}
    shown = inputs[0][inputs[0] >= 500.0]
    np.testing.assert_array_equal(np.sort(scatters["inputs"].get_offsets()[:, 0]), np.sort(shown))
    (lines,) = [c for c in ax.collections if not isinstance(c, PathCollection)]
    np.testing.assert_allclose([seg[0][0] for seg in lines.get_segments()], [500.0, 600.0, 700.0, 800.0, 900.0, 1000.0])
    # The single neuron's band is stretched, so it stays visible above the 30 inputs.
    assert ax.get_ylim()[1] > 31.0

    # Folded raster: rows are repetitions 1..10, x the time in the pattern.
    ax_folded, ax_fold_rate = folded.axes
    (points,) = [c for c in ax_folded.collections if isinstance(c, PathCollection)]
    rep = np.floor(neuron / PERIOD)
    np.testing.assert_allclose(points.get_offsets(), np.column_stack([neuron - rep * PERIOD, rep + 1]))
    assert ax_folded.get_ylim() == (0.5, 10.5) and ax_folded.get_xlim() == (0.0, PERIOD)
    assert "teacher on (repetitions 3\N{EN DASH}8)" in [t.get_text() for t in ax_folded.get_legend().get_texts()]

    # Traces: the same window, the teacher's U_M on the V_star panel, V_star over the whole run below.
    ax_u, ax_v, ax_whole = traces.axes
    np.testing.assert_allclose(ax_u.lines[0].get_xdata(), np.arange(500.0, 1000.0, DT))
    np.testing.assert_array_equal(ax_u.lines[0].get_ydata(), state[500:, 0])
    assert [line.get_label() for line in ax_v.lines] == ["node 0", "teacher $U_M$"]
    teacher = ax_v.lines[1]
    assert np.isfinite(teacher.get_ydata()[teacher.get_xdata() < 800.0]).all()
    assert np.isnan(teacher.get_ydata()[teacher.get_xdata() >= 800.0]).all()
    assert ax_whole.get_xlim() == (0.0, 999.0) and ax_whole.get_ylabel() == "V_star (mV)"


def test_user_window_overrides_the_chosen_one(tmp_path):
    path = str(tmp_path / "pattern.h5")
    write_pattern_file(path)
    with SettleFile(path) as f:
        (_, _, raster), _ = cli._figures(f, "raster", argparse.Namespace(t_start=120.0, t_stop=380.0))
        ((_, _, traces),) = cli._figures(f, "traces", argparse.Namespace(t_start=120.0, t_stop=None))
    assert raster.axes[0].get_xlim() == (120.0, 380.0) and raster.axes[2].get_xlim() == (0.0, 1000.0)
    assert traces.axes[0].get_xlim() == (120.0, 999.0)


def test_experiment_raster_names_the_populations_it_lacks(tmp_path):
    path = str(tmp_path / "us.h5")
    _, neuron = write_experiment_file(path)
    with SettleFile(path) as f:
        figures = list(cli._figures(f, "raster", NO_WINDOW))
        ((_, _, traces),) = cli._figures(f, "traces", NO_WINDOW)
    assert [name for name, _, _ in figures] == ["raster", "repetitions_neuron"]
    ax = figures[0][2].axes[0]
    assert ax.get_xlim() == (40.0, 140.0)  # periods_in_window(20) = 5 repetitions
    assert "spikes of inputs not recorded" in ax.get_title()
    # The report (from 20 ms) holds 6 repetitions, at most one more than the window: all of it,
    # with the teacher-matched potential on its teacher part [20, 120).
    (v, teacher) = traces.axes[0].lines
    np.testing.assert_allclose(v.get_xdata(), np.arange(20.0, 140.0))
    finite = np.isfinite(teacher.get_ydata())
    np.testing.assert_allclose(teacher.get_xdata()[finite], np.arange(20.0, 120.0))
    np.testing.assert_allclose(teacher.get_ydata()[finite], np.tile(-60.0 + np.arange(20.0), 5))


def test_repetition_raster_of_several_nodes_renders(tmp_path):
    from test_plots import assert_renders
    from settle_analysis import Spikes, plots

    rng = np.random.default_rng(2)
    ts = np.sort(rng.uniform(0.0, 2000.0, 400))
    ids = rng.integers(0, 3, ts.size)
    fig = plots.raster_by_repetition(Spikes("out", ts, ids, 3, 0.0, 2000.0), 100.0, 0.0, 20,
                                     spans=[(500.0, 1500.0)])
    ax, ax_rate = fig.axes
    (points,) = [c for c in ax.collections if isinstance(c, PathCollection)]
    rep = np.floor(ts / 100.0)
    np.testing.assert_allclose(points.get_offsets(), np.column_stack([ts - 100.0 * rep, ids * 20 + rep + 1]))
    assert ax.get_ylim() == (0.5, 60.5)
    # Folded rates: before (5), with (10) and after (5 repetitions) the teacher.
    labels = [t.get_text() for t in ax_rate.get_legend().get_texts()]
    assert labels == ["before teacher (5 repetitions)", "teacher on (10 repetitions)", "after teacher (5 repetitions)"]
    total = sum(float(np.sum(p.get_data()[0]) * 100.0 / p.get_data()[0].size / 1000.0) * n * 3
                for p, n in zip(ax_rate.patches, (5, 10, 5)))
    assert total == pytest.approx(ts.size)  # rate x time x neurons x repetitions = spikes
    assert_renders(fig, tmp_path, "repetitions")
