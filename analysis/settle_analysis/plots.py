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


def _raster_image(ax, spikes: Spikes, colour: str, window, offset: int, n_time_bins: int, n_rows: int):
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
              extent=(t0, t1, offset, offset + max(spikes.n_nodes, 1)), label=spikes.population)


def raster(spikes, t_start: float | None = None, t_stop: float | None = None, rate_bin_ms: float | None = None,
           max_points: int | None = None, figsize=(10.0, 6.0), dpi: float = 100.0) -> Figure:
    """Spike raster of one or more populations, stacked bottom to top in their given order and
    coloured per population, above a strip with each population's rate (Hz per neuron). Neuron i
    of a population starting at row `offset` is drawn at height offset + i + 0.5.

    spikes: a Spikes, a list of them, or a dict name -> Spikes (e.g. from load_spikes).
    t_start, t_stop: time window (ms); default the union of the populations' windows.
    rate_bin_ms: bin of the rate strip (ms); default 1/200 of the window.
    max_points: above this many spikes in the window, the raster is drawn as a 2-D histogram
        image (one pixel column per time bin, rows grouping neighbouring neurons, colour
        intensity = spike count) instead of one point per spike; default: the raster's area in
        pixels / PIXELS_PER_POINT, the point where markers would overlap anyway.
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
    bin_ms = (t1 - t0) / 200 if rate_bin_ms is None else float(rate_bin_ms)

    fig = Figure(figsize=figsize, dpi=dpi)
    grid = fig.add_gridspec(2, 1, height_ratios=(4, 1), hspace=0.08, left=0.1, right=0.97, top=0.96, bottom=0.09)
    ax = fig.add_subplot(grid[0])
    ax_rate = fig.add_subplot(grid[1], sharex=ax)

    box = ax.get_window_extent()
    in_window = [int(np.searchsorted(s.timestamps, t1) - np.searchsorted(s.timestamps, t0))
                 if s.sorting == "by_time" else np.count_nonzero((s.timestamps >= t0) & (s.timestamps < t1))
                 for s in populations]
    limit = int(box.width * box.height / PIXELS_PER_POINT) if max_points is None else max_points
    as_image = sum(in_window) > limit
    total_nodes = sum(max(s.n_nodes, 1) for s in populations)
    # Points (area in pt^2) stay visible when few and do not merge into blobs when many.
    marker_area = 8.0 if 20 * sum(in_window) <= limit else 2.0

    offset = 0
    centres = []
    max_rate = 0.0
    for i, s in enumerate(populations):
        colour = population_colour(i)
        n_nodes = max(s.n_nodes, 1)
        if as_image:
            n_rows = max(1, min(n_nodes, round(box.height * n_nodes / total_nodes)))
            _raster_image(ax, s, colour, (t0, t1), offset, max(1, int(box.width)), n_rows)
        else:
            keep = (s.timestamps >= t0) & (s.timestamps < t1)
            ax.scatter(s.timestamps[keep], s.node_ids[keep] + (offset + 0.5), s=marker_area, color=colour, linewidths=0,
                       rasterized=True, label=s.population)
        edges, rate = population_rate(s.timestamps, n_nodes, bin_ms, t0, t1)
        max_rate = max(max_rate, float(rate.max()))
        ax_rate.plot(0.5 * (edges[:-1] + edges[1:]), rate, color=colour, lw=1.0, label=s.population)
        centres.append(offset + n_nodes / 2)
        offset += n_nodes
        if i + 1 < len(populations):
            ax.axhline(offset, color="lightgrey", lw=0.8)

    ax.set_xlim(t0, t1)
    ax.set_ylim(0, total_nodes)
    ax.set_yticks(centres, [s.population for s in populations])
    ax.set_ylabel("neuron")
    ax.tick_params(labelbottom=False)
    ax_rate.set_xlabel("time (ms)")
    ax_rate.set_ylabel("rate (Hz)")
    ax_rate.set_ylim(0.0, 1.15 * max_rate if max_rate > 0 else 1.0)
    if len(populations) > 1:
        ax_rate.legend(loc="upper right", fontsize="small", ncols=min(len(populations), 5), frameon=False)
    return fig


def potential_traces(report: Report, node_ids=None, elements=None, max_nodes: int = 8,
                     figsize=(10.0, 6.0), dpi: float = 100.0) -> Figure:
    """Sampled state of a few nodes against time: one panel per element (U, V_w, ...), one line
    per node. node_ids default to the first `max_nodes` nodes of the report; elements to all."""
    elements = report.elements if elements is None else list(elements)
    if not elements or report.values.shape[0] == 0:
        raise SettleAnalysisError(f"report '{report.name}' has no samples to plot")
    nodes = list(dict.fromkeys(report.node_ids.tolist()))[:max_nodes] if node_ids is None else list(node_ids)
    fig = Figure(figsize=figsize, dpi=dpi, layout="constrained")
    axes = fig.subplots(len(elements), 1, sharex=True, squeeze=False)[:, 0]
    for ax, element in zip(axes, elements):
        for i, node in enumerate(nodes):
            ax.plot(report.times, report.column(node, element), color=f"C{i % 10}", lw=1.0, label=f"node {node}")
        unit = report.unit(element)
        ax.set_ylabel(f"{element} ({unit})" if unit else element)
    axes[0].set_title(f"{report.name}")
    if len(nodes) > 1:
        axes[0].legend(loc="upper right", fontsize="small", ncols=min(len(nodes), 4), frameon=False)
    axes[-1].set_xlabel("time (ms)")
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

    spikes: Spikes of the circuit's populations, in order input, layer1 .. layer<L> (any subset,
        named as in the file).
    layers: the layer sizes n_0 (inputs) .. n_L (output), the file summary's "layers".
    Replica 0's node ids are 0 .. n_0 - 1 for the input and, for layer l, 0 .. n_l - 1 on the
    somatic channel and n_l .. 2 n_l - 1 on the prediction channel (drawn above the somatic
    rows); the two channels differ only while a teacher or nudge acts. The dashed line is the
    teacher onset.
    """
    selected = []
    for s in spikes:
        if s.population == "input":
            n = int(layers[0])
            rows = n
        elif s.population.startswith("layer") and s.population[5:].isdigit():
            n = int(layers[int(s.population[5:])])
            rows = 2 * n
        else:
            continue
        keep = s.node_ids < rows
        selected.append(Spikes(population=s.population, timestamps=s.timestamps[keep], node_ids=s.node_ids[keep],
                               n_nodes=rows, t_start=s.t_start, t_stop=s.t_stop, sorting=s.sorting))
    if not selected:
        raise SettleAnalysisError("no circuit populations (input, layer<l>) among the spikes")
    t0 = max(onset_ms - before_ms, min(s.t_start for s in selected))
    fig = raster(selected, t_start=t0, t_stop=onset_ms + after_ms, figsize=figsize, dpi=dpi)
    for ax in fig.axes:
        ax.axvline(onset_ms, color="black", ls="--", lw=1.0)
    fig.axes[0].set_title(f"replica 0, teacher on at {onset_ms:.1f} ms (layers: somatic channel below, "
                          "prediction channel above)", fontsize="medium")
    return fig
