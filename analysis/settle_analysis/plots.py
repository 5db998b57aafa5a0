"""Figures. Each function returns a matplotlib Figure (created without pyplot, so it works
headless and leaves pyplot's state alone); save it with `save_figure(fig, "x.png")` (PNG, PDF
or SVG by suffix). Times in ms.
"""

from __future__ import annotations

import os

import numpy as np
from matplotlib.colors import LinearSegmentedColormap, to_rgba
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .io import WEIGHT_ELEMENT, Report, SettleAnalysisError, Spikes
from .stats import BLOCK, population_rate
from .timing import clip_spans

FIGURE_FORMATS = ("png", "pdf", "svg")
# One colour per population, in the order the populations are given.
POPULATION_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
                      "#7f7f7f", "#bcbd22", "#17becf")
LEARNING_CURVE_METRICS = ("learning_curve_mV", "learning_curve_mV_no_plasticity")
LOSS_METRICS = ("train_loss",)
ACCURACY_METRICS = ("test_accuracy", "validation_accuracy")
ANGLE_METRICS = ("td_cosine", "td_angle_deg", "update_angle_deg")
# /settle/arrays of the urbanczik_senn experiment (one row each, sampled every sample_dt_ms).
PREDICTION_ARRAYS = ("U_M_mV", "V_star_first_repetition_mV", "V_star_last_repetition_mV")
# A raster point covers about this many pixels; beyond (axes pixels / this) points, the raster is
# drawn as a 2-D histogram image instead.
PIXELS_PER_POINT = 4
# In a raster, a population's band of rows is at least this fraction of all rows; rows at least
# this tall (points) draw each spike as a vertical tick instead of a dot.
MIN_BAND = 0.08
TICK_ROW_POINTS = 6.0


def population_colour(index: int) -> str:
    """Colour of the index-th population."""
    return POPULATION_COLOURS[index % len(POPULATION_COLOURS)]


def save_figure(fig: Figure, path: str | os.PathLike) -> str:
    """Writes `fig` to `path`; the format (png, pdf, svg) comes from the suffix. Returns the path."""
    path = os.fspath(path)
    suffix = os.path.splitext(path)[1].lstrip(".").lower()
    if suffix not in FIGURE_FORMATS:
        raise SettleAnalysisError(f"{path}: unknown figure format '{suffix}' (use {', '.join(FIGURE_FORMATS)})")
    fig.savefig(path, format=suffix)
    return path


def _raster_image(ax, spikes: Spikes, colour: str, window, offset: float, n_time_bins: int, n_rows: int,
                  band: float | None = None):
    """Draws one population as an image of spike counts per (time bin, group of neurons)."""
    t0, t1 = window
    counts = np.zeros(n_rows * n_time_bins, dtype=np.int64)
    for a in range(0, len(spikes), BLOCK):  # in blocks, so that temporaries stay small
        ts, ids = spikes.timestamps[a:a + BLOCK], spikes.node_ids[a:a + BLOCK]
        keep = (ts >= t0) & (ts < t1)
        time_bin = np.minimum(((ts[keep] - t0) * (n_time_bins / (t1 - t0))).astype(np.int64), n_time_bins - 1)
        row = ids[keep] * n_rows // max(spikes.n_nodes, 1)
        counts += np.bincount(row * n_time_bins + time_bin, minlength=counts.size)
    counts = counts.reshape(n_rows, n_time_bins)
    cmap = LinearSegmentedColormap.from_list(spikes.population, [to_rgba(colour, 0.35), to_rgba(colour, 1.0)])
    cmap.set_under((0, 0, 0, 0))
    nonzero = counts[counts > 0]
    vmax = max(1.0, float(np.percentile(nonzero, 99))) if nonzero.size else 1.0
    ax.imshow(counts, origin="lower", aspect="auto", interpolation="nearest", cmap=cmap, vmin=0.5, vmax=vmax,
              extent=(t0, t1, offset, offset + (max(spikes.n_nodes, 1) if band is None else band)),
              label=spikes.population)


# Background of the spans in which a teacher acts, and of the detail window in an overview strip.
TEACHER_COLOUR = "#e3f1e3"
WINDOW_COLOUR = "#fbd35a"
WINDOW_EDGE = "#c98a00"
# What each state variable of settle's two-compartment neuron is, for panel captions.
ELEMENT_DESCRIPTIONS = {"U": "somatic potential $U$", "V_w": "dendritic potential $V_w$",
                        "V_star": "dendritic prediction $V^*_w$", "phi": r"rate $\phi(U)$"}
# Few spikes make a ragged rate: a rate bin holds at least this many spikes on average.
MIN_SPIKES_PER_BIN = 4
# A repetition raster's folded rate averages groups of at least this many repetitions.
MIN_FOLD_REPETITIONS = 5


def _rate_bin(n_spikes: int, t0: float, t1: float, n_bins: int = 200) -> float:
    """Rate bin (ms) for `n_spikes` in [t0, t1): 1/n_bins of the window, wider for few spikes
    (MIN_SPIKES_PER_BIN per bin on average), at most 1/8 of the window."""
    width = t1 - t0
    return min(width / 8, max(width / n_bins, MIN_SPIKES_PER_BIN * width / max(n_spikes, 1)))


def _shade(ax, spans, label: str | None = "teacher on") -> None:
    """Light background over each (start, stop) span; the first one carries `label`."""
    for i, (a, b) in enumerate(spans):
        ax.axvspan(a, b, color=TEACHER_COLOUR, lw=0, zorder=0, label=label if i == 0 else None)


def _boundaries(ax, times) -> None:
    """Dotted vertical lines at pattern repetition starts (a LineCollection, not Lines), leaving
    the y limits as they are: call it after the data are drawn."""
    if len(times):
        ylim = ax.get_ylim()
        ax.vlines(times, 0, 1, transform=ax.get_xaxis_transform(), colors="grey", linestyles=":", lw=0.9, zorder=1)
        ax.set_ylim(ylim)


def _mark_window(ax, t0: float, t1: float) -> None:
    """The detail window in an overview strip: a translucent band with an edge, over any shading."""
    ax.axvspan(t0, t1, facecolor=to_rgba(WINDOW_COLOUR, 0.45), edgecolor=WINDOW_EDGE, lw=1.2, zorder=0.5,
               label="shown above")


def _time_label(t0: float, t1: float) -> str:
    return f"{t0:g}\N{EN DASH}{t1:g} ms"


def _overview_rates(ax, populations, span, window, spans) -> None:
    """The overview strip: each population's rate over the whole run, the detail window marked."""
    s0, s1 = span
    _shade(ax, spans, label=None)
    _mark_window(ax, *window)
    for i, s in enumerate(populations):
        n = int(np.count_nonzero((s.timestamps >= s0) & (s.timestamps < s1)))
        edges, rate = population_rate(s.timestamps, max(s.n_nodes, 1), _rate_bin(n, s0, s1, 400), s0, s1)
        ax.plot(0.5 * (edges[:-1] + edges[1:]), rate, color=population_colour(i), lw=0.8, drawstyle="steps-mid")
    ax.set_xlim(s0, s1)
    ax.set_ylim(bottom=0.0)
    ax.set_ylabel("rate (Hz)")
    ax.set_xlabel("time (ms)")
    ax.set_title(f"whole run ({_time_label(s0, s1)}), each population's rate; framed: the window above",
                 fontsize="medium", loc="left")


def raster(spikes, t_start: float | None = None, t_stop: float | None = None, rate_bin_ms: float | None = None,
           max_points: int | None = None, figsize=None, dpi: float = 100.0, *, overview=None, boundaries=(),
           spans=(), title: str | None = None) -> Figure:
    """Spike raster of one or more populations, stacked bottom to top in their given order and
    coloured per population, above a strip with each population's rate (Hz per neuron). Neuron i
    of a population starting at row `offset` is drawn at height offset + i + 0.5; a population
    smaller than MIN_BAND of all neurons is stretched to that height (its rows taller), so that a
    few output neurons stay visible above many inputs.

    spikes: a Spikes, a list of them, or a dict name -> Spikes (e.g. from load_spikes).
    t_start, t_stop: time window (ms); default the union of the populations' windows.
    rate_bin_ms: bin of the rate strip (ms); default 1/200 of the window, wider for a population
        with few spikes in it (at least MIN_SPIKES_PER_BIN per bin on average).
    max_points: above this many spikes in the window, the raster is drawn as a 2-D histogram
        image (one pixel column per time bin, rows grouping neighbouring neurons, colour
        intensity = spike count) instead of one point per spike; default: the raster's area in
        pixels / PIXELS_PER_POINT, the point where markers would overlap anyway.
    overview: a (start, stop) span, e.g. the whole run, wider than the window: adds a strip below
        with each population's rate over the span and the window marked (the spikes must
        cover the span).
    boundaries: times of pattern repetition starts, drawn as dotted lines.
    spans: (start, stop) spans in which a teacher acts, drawn as a light background.
    title: text above the raster.
    """
    if isinstance(spikes, Spikes):
        populations = [spikes]
    else:
        populations = list(spikes.values() if isinstance(spikes, dict) else spikes)
    if not populations:
        raise SettleAnalysisError("no spike populations to plot")
    t0 = min(s.t_start for s in populations) if t_start is None else float(t_start)
    t1 = max(s.t_stop for s in populations) if t_stop is None else float(t_stop)
    if not t1 > t0:
        raise SettleAnalysisError(f"empty raster window [{t0:g}, {t1:g}) ms")
    if overview is not None and not (overview[1] > overview[0]):
        overview = None

    if figsize is None:
        figsize = (10.0, 7.5) if overview is not None else (10.0, 6.0)
    fig = Figure(figsize=figsize, dpi=dpi)
    top = 0.93 if title else 0.96
    if overview is None:
        grid = fig.add_gridspec(2, 1, height_ratios=(4, 1), hspace=0.08, left=0.1, right=0.97, top=top, bottom=0.09)
        ax = fig.add_subplot(grid[0])
        ax_rate = fig.add_subplot(grid[1], sharex=ax)
        ax_overview = None
    else:
        outer = fig.add_gridspec(2, 1, height_ratios=(5, 1.1), hspace=0.32, left=0.1, right=0.97, top=top,
                                 bottom=0.075)
        inner = outer[0].subgridspec(2, 1, height_ratios=(4, 1), hspace=0.08)
        ax = fig.add_subplot(inner[0])
        ax_rate = fig.add_subplot(inner[1], sharex=ax)
        ax_overview = fig.add_subplot(outer[1])

    box = ax.get_window_extent()
    in_window = [int(np.searchsorted(s.timestamps, t1) - np.searchsorted(s.timestamps, t0))
                 if s.sorting == "by_time" else np.count_nonzero((s.timestamps >= t0) & (s.timestamps < t1))
                 for s in populations]
    limit = int(box.width * box.height / PIXELS_PER_POINT) if max_points is None else max_points
    as_image = sum(in_window) > limit
    sizes = [max(s.n_nodes, 1) for s in populations]
    # Each population gets a band of rows: its size, but at least MIN_BAND of the total, so that a
    # lone output neuron stays visible next to hundreds of inputs.
    bands = [max(n, MIN_BAND * sum(sizes)) for n in sizes]
    total_rows = sum(bands)
    # Points (area in pt^2) stay visible when few and do not merge into blobs when many.
    marker_area = 8.0 if 20 * sum(in_window) <= limit else 2.0
    row_points = box.height * 72.0 / dpi / total_rows  # height of one row of the axes, in points

    for a in (ax, ax_rate):
        _shade(a, clip_spans(spans, t0, t1), label="teacher on" if a is ax_rate else None)
    offset = 0
    centres = []
    max_rate = 0.0
    for i, (s, n_in, n_nodes, band) in enumerate(zip(populations, in_window, sizes, bands)):
        colour = population_colour(i)
        row = band / n_nodes  # rows per neuron: 1 unless the band was widened
        if as_image:
            n_rows = max(1, min(n_nodes, round(box.height * band / total_rows)))
            _raster_image(ax, s, colour, (t0, t1), offset, max(1, int(box.width)), n_rows, band)
        else:
            keep = (s.timestamps >= t0) & (s.timestamps < t1)
            y = offset + (s.node_ids[keep] + 0.5) * row
            if row * row_points >= TICK_ROW_POINTS:  # tall rows: a vertical tick per spike
                ax.scatter(s.timestamps[keep], y, s=(0.7 * row * row_points) ** 2, color=colour, marker="|",
                           linewidths=1.5, rasterized=True, label=s.population)
            else:
                ax.scatter(s.timestamps[keep], y, s=marker_area, color=colour, linewidths=0, rasterized=True,
                           label=s.population)
        bin_ms = _rate_bin(n_in, t0, t1) if rate_bin_ms is None else float(rate_bin_ms)
        edges, rate = population_rate(s.timestamps, n_nodes, bin_ms, t0, t1)
        max_rate = max(max_rate, float(rate.max()))
        ax_rate.plot(0.5 * (edges[:-1] + edges[1:]), rate, color=colour, lw=1.0, drawstyle="steps-mid",
                     label=s.population)
        centres.append(offset + band / 2)
        offset += band
        if i + 1 < len(populations):
            ax.axhline(offset, color="lightgrey", lw=0.8)

    ax.set_xlim(t0, t1)
    ax.set_ylim(0, total_rows)
    ax.set_yticks(centres, [s.population for s in populations])
    ax.set_ylabel("population (one row per node)" if len(populations) > 1 else "node")
    ax.tick_params(labelbottom=False)
    if title:
        ax.set_title(title, fontsize="medium")
    ax_rate.set_xlabel("time (ms)")
    ax_rate.set_ylabel("rate (Hz)")
    ax_rate.set_ylim(0.0, 1.15 * max_rate if max_rate > 0 else 1.0)
    for a in (ax, ax_rate):
        _boundaries(a, boundaries)
    if len(populations) > 1 or clip_spans(spans, t0, t1):
        ax_rate.legend(loc="upper right", fontsize="small", ncols=min(len(populations) + 1, 5), frameon=False)
    if ax_overview is not None:
        _overview_rates(ax_overview, populations, overview, (t0, t1), spans)
    return fig


def _fold_groups(taught: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """Repetitions split by the teacher: before its first, with it, after its last, between."""
    if not taught.any():
        return [("all repetitions", np.ones_like(taught))]
    index = np.arange(taught.size)
    first, last = index[taught][0], index[taught][-1]
    return [("before teacher", index < first), ("teacher on", taught), ("after teacher", index > last),
            ("teacher off between", ~taught & (index > first) & (index < last))]


def raster_by_repetition(spikes: Spikes, period_ms: float, start_ms: float, repetitions: int, spans=(),
                         figsize=(10.0, 7.0), dpi: float = 100.0) -> Figure:
    """The spikes of a few neurons folded by a repeated pattern: one row per repetition k (spikes
    in [start + k period, start + (k + 1) period)), numbered from 1 at the bottom, x the time
    within the pattern. Repetitions inside a teacher span (`spans`) are shaded. Below, the rate
    against time in the pattern, averaged separately over the repetitions before, with and after
    the teacher (groups of at least MIN_FOLD_REPETITIONS). Neurons' blocks of rows are stacked."""
    if not period_ms > 0 or repetitions < 1:
        raise SettleAnalysisError("a repetition raster needs a pattern period and at least one repetition")
    n_nodes = max(spikes.n_nodes, 1)
    ts, ids = spikes.timestamps, spikes.node_ids
    rep = np.floor((ts - start_ms) / period_ms + 1e-9).astype(np.int64)
    keep = (rep >= 0) & (rep < repetitions)
    ts, ids, rep = ts[keep], ids[keep], rep[keep]
    phase = ts - (start_ms + rep * period_ms)
    starts = start_ms + period_ms * np.arange(repetitions)
    taught = np.array([any(a <= s + 1e-9 and s + period_ms <= b + 1e-9 for a, b in spans) for s in starts])

    fig = Figure(figsize=figsize, dpi=dpi, layout="constrained")
    ax, ax_rate = fig.subplots(2, 1, sharex=True, height_ratios=(3, 1))
    rows = ids * repetitions + rep + 1
    for k in np.flatnonzero(np.diff(np.concatenate([[0], taught.astype(int)])) == 1):
        stop = k + int(np.argmin(np.append(taught[k:], False)))  # taught repetitions k .. stop - 1
        for n in range(n_nodes):
            label = f"teacher on (repetitions {k + 1}\N{EN DASH}{stop})" if n == 0 and not ax.patches else None
            ax.axhspan(n * repetitions + k + 0.5, n * repetitions + stop + 0.5, color=TEACHER_COLOUR, lw=0, zorder=0,
                       label=label)
    row_points = ax.get_window_extent().height * 72.0 / dpi / (n_nodes * repetitions)
    ax.scatter(phase, rows, s=float(np.clip(0.9 * row_points, 2.0, 10.0)) ** 2, marker="|",
               color=population_colour(0), linewidths=1.0, rasterized=True)
    for n in range(1, n_nodes):
        ax.axhline(n * repetitions + 0.5, color="grey", lw=0.8)
    ax.set_ylim(0.5, n_nodes * repetitions + 0.5)
    ax.set_xlim(0.0, period_ms)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    if n_nodes == 1:
        ax.set_ylabel("repetition")
    else:
        ax.set_ylabel("repetition, per node (node 0 at the bottom)")
    ax.set_title(f"{spikes.population}: spikes in each of {repetitions} repetitions of the {period_ms:g} ms pattern "
                 "(first at the bottom)", fontsize="medium")
    ax.tick_params(labelbottom=False)
    if taught.any():
        ax.legend(loc="upper right", fontsize="small", frameon=True, framealpha=0.9)

    colours = {"before teacher": "C1", "teacher on": "C2", "after teacher": "C0", "teacher off between": "C7",
               "all repetitions": "C0"}
    for label, which in _fold_groups(taught):
        if which.sum() < MIN_FOLD_REPETITIONS:
            continue
        phases = phase[which[rep]]
        n_bins = int(np.clip(phases.size // (2 * MIN_SPIKES_PER_BIN), 5, 50))
        edges = np.linspace(0.0, period_ms, n_bins + 1)
        rate = np.histogram(phases, edges)[0] / (which.sum() * n_nodes * (period_ms / n_bins) / 1000.0)
        ax_rate.stairs(rate, edges, color=colours[label], lw=1.2, label=f"{label} ({which.sum()} repetitions)")
    ax_rate.set_xlabel("time in pattern (ms)")
    ax_rate.set_ylabel("rate (Hz)")
    ax_rate.set_ylim(bottom=0.0)
    ax_rate.set_title("rate by time in the pattern", fontsize="medium", loc="left")
    if ax_rate.patches:
        ax_rate.legend(loc="upper right", fontsize="small", frameon=False, ncols=2)
    return fig


def _envelope(times: np.ndarray, values: np.ndarray, n_bins: int):
    """(bin centres, min, max) of `values` in n_bins equal groups of samples; the samples themselves
    when there are fewer."""
    if times.size <= 2 * n_bins:
        return times, values, values
    starts = np.linspace(0, times.size, n_bins + 1).astype(np.int64)[:-1]  # every sample in some group
    t = np.add.reduceat(times, starts) / np.diff(np.append(starts, times.size))
    return t, np.minimum.reduceat(values, starts), np.maximum.reduceat(values, starts)


def _element_label(element: str, unit: str) -> str:
    return f"{element} ({unit})" if unit else element


def potential_traces(report: Report, node_ids=None, elements=None, max_nodes: int = 8,
                     figsize=None, dpi: float = 100.0, *, overview: Report | None = None, teacher=None,
                     spans=(), boundaries=(), title: str | None = None) -> Figure:
    """Sampled state of a few nodes against time: one panel per element (U, V_w, ...), one line
    per node. node_ids default to the first `max_nodes` nodes of the report; elements to all.

    overview: the same report over a longer span (e.g. the whole run, with max_samples): adds a
        strip with the range (min to max) of one element (V_star if it has it, else its first)
        of the first node, the window of `report` marked.
    teacher: (times, values) of the teacher-matched potential U_M (mV), drawn on the V_star
        panel (else the U panel) as a black line; NaN where no teacher acts.
    spans, boundaries: teacher spans (light background) and pattern repetition starts (dotted).
    """
    elements = report.elements if elements is None else list(elements)
    if not elements or report.values.shape[0] == 0:
        raise SettleAnalysisError(f"report '{report.name}' has no samples to plot")
    nodes = list(dict.fromkeys(report.node_ids.tolist()))[:max_nodes] if node_ids is None else list(node_ids)
    if figsize is None:
        figsize = (10.0, min(9.0, 1.6 + 2.2 * len(elements) + (1.8 if overview is not None else 0.0)))
    fig = Figure(figsize=figsize, dpi=dpi, layout="constrained")
    n_rows = len(elements) + (overview is not None)
    ratios = [1.0] * len(elements) + ([0.55] if overview is not None else [])
    grid = fig.add_gridspec(n_rows, 1, height_ratios=ratios)
    axes = [fig.add_subplot(grid[0])]
    axes += [fig.add_subplot(grid[i], sharex=axes[0]) for i in range(1, len(elements))]
    t0, t1 = float(report.times[0]), float(report.times[-1])
    teacher_element = next((e for e in ("V_star", "U") if e in elements), None)
    for ax, element in zip(axes, elements):
        _shade(ax, clip_spans(spans, t0, t1), label=None)
        for i, node in enumerate(nodes):
            ax.plot(report.times, report.column(node, element), color=f"C{i % 10}", lw=1.0, label=f"node {node}")
        if teacher is not None and element == teacher_element and np.isfinite(teacher[1]).any():
            ax.plot(teacher[0], teacher[1], color="black", lw=1.3, label="teacher $U_M$")
        _boundaries(ax, boundaries)
        ax.set_ylabel(_element_label(element, report.unit(element)))
        if element in ELEMENT_DESCRIPTIONS:
            ax.set_title(ELEMENT_DESCRIPTIONS[element], loc="left", fontsize="medium")
        if ax is not axes[-1]:
            ax.tick_params(labelbottom=False)
        handles, _ = ax.get_legend_handles_labels()
        if len(nodes) > 1 or (teacher is not None and element == teacher_element):
            ax.legend(loc="upper right", fontsize="small", ncols=min(len(handles), 5), frameon=True,
                      framealpha=0.85, edgecolor="none")
    if spans and clip_spans(spans, t0, t1):
        axes[-1].text(0.995, 0.03, "shaded: teacher on", transform=axes[-1].transAxes, ha="right", va="bottom",
                      fontsize="small", color="#4a7a4a")
    axes[0].set_xlim(t0, t1)
    fig.suptitle(title or f"{report.name}")
    axes[-1].set_xlabel("time (ms)")
    if overview is not None and overview.values.shape[0] > 0:
        ax = fig.add_subplot(grid[-1])
        element = "V_star" if "V_star" in overview.element_names else overview.element_names[0]
        node = nodes[0] if nodes[0] in overview.node_ids else int(overview.node_ids[0])
        s0, s1 = float(overview.times[0]), float(overview.times[-1])
        _shade(ax, clip_spans(spans, s0, s1), label=None)
        _mark_window(ax, t0, t1)
        t, lo, hi = _envelope(overview.times, np.asarray(overview.column(node, element), dtype=np.float64), 800)
        ax.fill_between(t, lo, hi, color="C0", lw=0.4, label=f"node {node}, min to max")
        ax.set_xlim(s0, s1)
        ax.set_ylabel(_element_label(element, overview.unit(element)))
        ax.set_xlabel("time (ms)")
        ax.set_title(f"whole run ({_time_label(s0, s1)}): {element} of node {node}, range in short bins; "
                     "framed: the window above", fontsize="medium", loc="left")
    return fig


def _weight_columns(report: Report) -> np.ndarray:
    columns = np.flatnonzero(np.array(report.element_names, dtype=object) == WEIGHT_ELEMENT)
    if columns.size == 0:
        raise SettleAnalysisError(f"report '{report.name}' has no weights (element '{WEIGHT_ELEMENT}')")
    return columns


def weight_trajectories(report: Report, max_synapses: int = 50, figsize=(10.0, 5.0), dpi: float = 100.0) -> Figure:
    """Weights against time: up to `max_synapses` synapses (evenly chosen) as thin lines and the
    mean over all synapses of the report as a thick one."""
    columns = _weight_columns(report)
    shown = columns[np.unique(np.linspace(0, columns.size - 1, min(max_synapses, columns.size)).round().astype(int))]
    fig = Figure(figsize=figsize, dpi=dpi, layout="constrained")
    ax = fig.add_subplot()
    for c in shown:
        ax.plot(report.times, report.values[:, c], color="C0", lw=0.6, alpha=0.5)
    ax.plot(report.times, report.values[:, columns].mean(axis=1), color="black", lw=2.0,
            label=f"mean of {columns.size} synapses")
    ax.set_title(f"{report.name}: {shown.size} of {columns.size} synapses")
    ax.set_xlabel("time (ms)")
    unit = report.unit(WEIGHT_ELEMENT)
    ax.set_ylabel(f"w ({unit})" if unit else "w")
    ax.legend(loc="best", fontsize="small", frameon=False)
    return fig


def weight_histogram(report: Report, bins: int = 40, figsize=(7.0, 4.5), dpi: float = 100.0) -> Figure:
    """Histograms of all weights of the report at its first and at its last sample."""
    columns = _weight_columns(report)
    if report.values.shape[0] == 0:
        raise SettleAnalysisError(f"report '{report.name}' has no samples")
    rows = [0] if report.values.shape[0] == 1 else [0, report.values.shape[0] - 1]
    samples = [np.asarray(report.values[r, columns], dtype=np.float64) for r in rows]
    edges = np.histogram_bin_edges(np.concatenate(samples), bins=bins)
    fig = Figure(figsize=figsize, dpi=dpi, layout="constrained")
    ax = fig.add_subplot()
    for r, w, colour in zip(rows, samples, ("C0", "C3")):
        ax.hist(w, edges, color=colour, alpha=0.5, label=f"t = {report.times[r]:g} ms")
    ax.set_title(f"{report.name}: {columns.size} synapses")
    unit = report.unit(WEIGHT_ELEMENT)
    ax.set_xlabel(f"w ({unit})" if unit else "w")
    ax.set_ylabel("synapses")
    ax.legend(loc="best", fontsize="small", frameon=False)
    return fig


def _plot_series(ax, name: str, values: np.ndarray) -> None:
    """A per-repetition/epoch series (x from 1) as a line; a single value as a dashed level."""
    values = np.atleast_1d(np.asarray(values, dtype=np.float64))
    if values.size == 1:
        ax.axhline(values[0], ls="--", color="grey", label=f"{name} = {values[0]:.4g}")
    else:
        ax.plot(np.arange(1, values.size + 1), values, marker="o" if values.size <= 50 else None, ms=3, label=name)


def learning_curves(metrics: dict, figsize=(8.0, 7.0), dpi: float = 100.0) -> Figure:
    """Learning progress from experiment metrics: one panel each for the learning curve per
    repetition (learning_curve_mV, with and without plasticity), the training loss per epoch and
    the accuracies per epoch; panels whose metrics are absent are left out."""
    panels = [
        (LEARNING_CURVE_METRICS, "repetition", "learning curve (mV)"),
        (LOSS_METRICS, "epoch", "loss"),
        (ACCURACY_METRICS, "epoch", "accuracy"),
    ]
    panels = [(tuple(n for n in names if n in metrics), x, y) for names, x, y in panels]
    panels = [p for p in panels if p[0]]
    if not panels:
        known = LEARNING_CURVE_METRICS + LOSS_METRICS + ACCURACY_METRICS
        raise SettleAnalysisError("no learning metrics (" + ", ".join(known) + ")")
    n_epochs = max([np.size(metrics[n]) for n in LOSS_METRICS + ACCURACY_METRICS if n in metrics] + [1])
    fig = Figure(figsize=figsize, dpi=dpi, layout="constrained")
    axes = fig.subplots(len(panels), 1, squeeze=False)[:, 0]
    for ax, (names, xlabel, ylabel) in zip(axes, panels):
        for name in names:
            _plot_series(ax, name, metrics[name])
        if xlabel == "epoch" and n_epochs > 1:
            ax.set_xlim(0.5, n_epochs + 0.5)  # a single final value spans the epochs of the others
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.legend(loc="best", fontsize="small", frameon=False)
    return fig


def stdp_window(dt_ms, dw, figsize=(7.0, 4.5), dpi: float = 100.0) -> Figure:
    """The STDP window of a pairing experiment: weight change against t_post - t_pre (ms),
    points joined in order of dt (the metrics window_dt_ms and window_dw)."""
    dt_ms = np.atleast_1d(np.asarray(dt_ms, dtype=np.float64))
    dw = np.atleast_1d(np.asarray(dw, dtype=np.float64))
    if dt_ms.size != dw.size or dt_ms.size == 0:
        raise SettleAnalysisError(f"STDP window needs as many dw as dt values (got {dw.size} and {dt_ms.size})")
    order = np.argsort(dt_ms, kind="stable")
    fig = Figure(figsize=figsize, dpi=dpi, layout="constrained")
    ax = fig.add_subplot()
    ax.axhline(0.0, color="grey", lw=0.8)
    ax.axvline(0.0, color="grey", lw=0.8)
    ax.plot(dt_ms[order], dw[order], marker="o", ms=4, color="C0", label="window")
    ax.set_xlabel("t_post - t_pre (ms)")
    ax.set_ylabel("weight change")
    return fig


def angles(metrics: dict, figsize=(8.0, 6.0), dpi: float = 100.0) -> Figure:
    """The temporal-derivative test per layer: the cosine between the rate change after the
    teacher comes on and -dLoss/dh (td_cosine, with td_ci_low/td_ci_high as its confidence
    interval), and the angle in degrees (td_angle_deg, else arccos of the cosine), together with
    update_angle_deg (angle between the circuit's weight update and back-prop's) when present.
    When only td_angle_deg is given, td_ci_low/td_ci_high bound the angle."""
    if not any(n in metrics for n in ANGLE_METRICS):
        raise SettleAnalysisError("no angle metrics (" + ", ".join(ANGLE_METRICS) + ")")
    metric = {n: np.atleast_1d(np.asarray(v, dtype=np.float64)) for n, v in metrics.items()}
    cosine = metric.get("td_cosine")
    angle = metric.get("td_angle_deg")
    ci = (metric["td_ci_low"], metric["td_ci_high"]) if "td_ci_low" in metric and "td_ci_high" in metric else None
    cos_ci = angle_ci = None
    if cosine is not None:
        if angle is None:
            angle = np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0)))
        if ci is not None and ci[0].size == cosine.size:
            cos_ci = ci
            angle_ci = tuple(np.degrees(np.arccos(np.clip(b, -1.0, 1.0))) for b in (ci[1], ci[0]))
    elif ci is not None and angle is not None and ci[0].size == angle.size:
        angle_ci = ci

    def errorbar(ax, values, bounds, label, colour):
        layers = np.arange(1, values.size + 1)
        yerr = None if bounds is None else np.vstack([values - bounds[0], bounds[1] - values])
        ax.errorbar(layers, values, yerr=yerr, fmt="o-", capsize=4, color=colour, label=label)

    n_panels = 2 if cosine is not None else 1
    fig = Figure(figsize=figsize, dpi=dpi, layout="constrained")
    axes = fig.subplots(n_panels, 1, sharex=True, squeeze=False)[:, 0]
    if cosine is not None:
        axes[0].axhline(0.0, color="grey", lw=0.8)
        errorbar(axes[0], cosine, cos_ci, "temporal derivative vs -dL/dh", "C0")
        axes[0].set_ylim(-1.05, 1.05)
        axes[0].set_ylabel("cosine")
        axes[0].legend(loc="best", fontsize="small", frameon=False)
    ax = axes[-1]
    ax.axhline(90.0, color="grey", lw=0.8)
    if angle is not None:
        errorbar(ax, angle, angle_ci, "temporal derivative vs -dL/dh", "C0")
    if "update_angle_deg" in metric:
        errorbar(ax, metric["update_angle_deg"], None, "weight update vs back-prop", "C3")
    n_layers = max(v.size for n, v in metric.items() if n in ANGLE_METRICS)
    ax.set_xticks(np.arange(1, n_layers + 1))
    ax.set_ylim(0.0, 180.0)
    ax.set_ylabel("angle (deg)")
    ax.set_xlabel("layer")
    ax.legend(loc="best", fontsize="small", frameon=False)
    return fig


def plot_dendritic_prediction_learning(u_m, v_star_first, v_star_last, learning_curve=None,
                                       learning_curve_no_plasticity=None, dt_ms: float = 0.1,
                                       figsize=(10.0, 7.0), dpi: float = 100.0) -> Figure:
    """Dendritic prediction learning in the style of Urbanczik & Senn (2014) Fig. 1: the
    teacher's matching potential U_M and the dendritic prediction V*_w over one pattern
    presentation, early (first teacher repetition) and late (last), and the learning curve (RMS
    of V*_w - U_M per repetition, with and without plasticity when given).

    u_m, v_star_first, v_star_last: samples (mV) every dt_ms from the start of a repetition
    (the urbanczik_senn experiment's /settle/arrays U_M_mV, V_star_first_repetition_mV,
    V_star_last_repetition_mV); learning_curve(_no_plasticity): mV per repetition.
    """
    series = [np.ravel(np.asarray(a, dtype=np.float64)) for a in (u_m, v_star_first, v_star_last)]
    if any(a.size == 0 for a in series):
        raise SettleAnalysisError("dendritic prediction figure needs non-empty U_M and V* samples")
    u_m, first, last = series
    curves = [(name, np.atleast_1d(np.asarray(c, dtype=np.float64))) for name, c in
              (("with plasticity", learning_curve), ("without plasticity (eta = 0)", learning_curve_no_plasticity))
              if c is not None]
    fig = Figure(figsize=figsize, dpi=dpi, layout="constrained")
    grid = fig.add_gridspec(2, 2, height_ratios=(1.0, 1.0)) if curves else fig.add_gridspec(1, 2)
    ax_early = fig.add_subplot(grid[0, 0])
    ax_late = fig.add_subplot(grid[0, 1], sharey=ax_early)
    for ax, v, when in ((ax_early, first, "early: first teacher repetition"),
                        (ax_late, last, "late: last teacher repetition")):
        n = min(v.size, u_m.size)
        t = np.arange(n) * dt_ms
        ax.plot(t, u_m[:n], color="black", lw=1.5, label="teacher $U_M$")
        ax.plot(t, v[:n], color="C3" if v is first else "C0", lw=1.2, label="prediction $V^*_w$")
        ax.set_title(when)
        ax.set_xlabel("time in pattern (ms)")
        ax.set_xlim(0.0, t[-1] if n > 1 else 1.0)
        ax.legend(loc="upper right", fontsize="small", frameon=False)
    ax_early.set_ylabel("potential (mV)")
    ax_late.tick_params(labelleft=False)
    if curves:
        ax = fig.add_subplot(grid[1, :])
        for (name, c), colour in zip(curves, ("C0", "grey")):
            ax.plot(np.arange(1, c.size + 1), c, color=colour, lw=1.5, marker="o" if c.size <= 50 else None, ms=3,
                    label=name)
        ax.set_xlabel("teacher repetition")
        ax.set_ylabel("RMS of $V^*_w - U_M$ (mV)")
        ax.set_title("learning curve")
        top = max((float(np.nanmax(c)) for _, c in curves if np.isfinite(c).any()), default=1.0)
        ax.set_ylim(0.0, 1.35 * top if top > 0 else 1.0)  # room for the legend above the curves
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(loc="upper right", fontsize="small", frameon=False, ncols=2)
    fig.suptitle("Dendritic prediction learning (Urbanczik & Senn 2014, Fig. 1)")
    return fig


def circuit_raster(spikes, layers, onset_ms: float, before_ms: float = 150.0, after_ms: float = 100.0,
                   figsize=(10.0, 7.0), dpi: float = 100.0) -> Figure:
    """Raster of replica 0 of a learning circuit (settle's event engine) around a teacher onset.

    spikes: Spikes of the circuit's populations, in order input, layer1 .. layer<L>, then
        interneuron<l> (lateral nudge) and feedback<l> (learned feedback), any subset, named as
        in the file.
    layers: the layer sizes n_0 (inputs) .. n_L (output), the file summary's "layers".
    Replica 0's node ids are 0 .. n_0 - 1 for the input and, for layer l (and the interneurons or
    feedback units of hidden layer l), 0 .. n_l - 1 on the somatic channel and n_l .. 2 n_l - 1 on
    the prediction channel (drawn above the somatic rows); the two channels differ only while a
    teacher or nudge acts. The dashed line is the teacher onset.
    """
    selected = []
    for s in spikes:
        layer_of = None
        for prefix in ("layer", "interneuron", "feedback"):
            if s.population.startswith(prefix) and s.population[len(prefix):].isdigit():
                layer_of = int(s.population[len(prefix):])
        if s.population == "input":
            n = int(layers[0])
            rows = n
        elif layer_of is not None and 0 < layer_of < len(layers):
            n = int(layers[layer_of])
            rows = 2 * n
        else:
            continue
        keep = s.node_ids < rows
        selected.append(Spikes(population=s.population, timestamps=s.timestamps[keep], node_ids=s.node_ids[keep],
                               n_nodes=rows, t_start=s.t_start, t_stop=s.t_stop, sorting=s.sorting))
    if not selected:
        raise SettleAnalysisError("no circuit populations (input, layer<l>) among the spikes")

    def circuit_order(s):  # bottom to top: input, the layers, then interneurons and feedback units
        for rank, prefix in ((1, "layer"), (2, "interneuron"), (3, "feedback")):
            if s.population.startswith(prefix):
                return (rank, int(s.population[len(prefix):]))
        return (0, 0)
    selected.sort(key=circuit_order)
    t0 = max(onset_ms - before_ms, min(s.t_start for s in selected))
    fig = raster(selected, t_start=t0, t_stop=onset_ms + after_ms, figsize=figsize, dpi=dpi)
    for ax in fig.axes:
        ax.axvline(onset_ms, color="black", ls="--", lw=1.0)
    fig.axes[0].set_title(f"replica 0, teacher on at {onset_ms:.1f} ms (layers: somatic channel below, "
                          "prediction channel above)", fontsize="medium")
    return fig
