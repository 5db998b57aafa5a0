"""Command line: `python3 -m settle_analysis plot FILE.h5 [--out DIR] [--what ...]` and
`python3 -m settle_analysis info FILE.h5`.

Bad input ends with one line `settle-analysis: error: ...` on stderr and exit code 2; warnings
(e.g. an incomplete file) are one line `settle-analysis: warning: ...` and the command goes on.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import warnings
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")

from . import plots, timing  # noqa: E402  (after choosing the backend)
from .io import SettleAnalysisError, SettleFile  # noqa: E402
from .report import FigureFiles, summarize, write_index  # noqa: E402

PROG = "settle-analysis"
# What `plot --what` accepts, in the order figures are written.
FIGURE_KINDS = ("prediction", "raster", "circuit", "traces", "weights", "learning", "stdp", "angles")
TRACE_NODES = 8
TRACE_SAMPLES = 10_000
# Samples read for the whole-run strip of a trace figure (its min-to-max band).
OVERVIEW_SAMPLES = 40_000
# Populations up to this size also get a raster folded by the pattern (one row per repetition).
REPETITION_RASTER_NODES = 4
WEIGHT_SAMPLES = 2000
# Weight samples read at most (rows x synapses), to bound memory for large projections.
WEIGHT_VALUES_BUDGET = 20_000_000


def _available(f: SettleFile) -> set[str]:
    """The figure kinds the file has data for."""
    layouts = [layout for layout in map(f.report_layout, f.report_names) if layout.n_times > 0]
    metrics = set(f.metric_names)
    kinds = set()
    if f.spike_populations and f.run_window()[1] > 0:
        kinds.add("raster")
        summary = f.metadata.summary or {}
        if "circuit_teacher_onsets_ms" in metrics and "layers" in summary and f.metrics()["circuit_teacher_onsets_ms"].size:
            kinds.add("circuit")
    if any(not layout.is_weight for layout in layouts):
        kinds.add("traces")
    if any(layout.is_weight for layout in layouts):
        kinds.add("weights")
    if metrics & set(plots.LEARNING_CURVE_METRICS + plots.LOSS_METRICS + plots.ACCURACY_METRICS):
        kinds.add("learning")
    if {"window_dt_ms", "window_dw"} <= metrics:
        kinds.add("stdp")
    if metrics & set(plots.ANGLE_METRICS):
        kinds.add("angles")
    if set(plots.PREDICTION_ARRAYS) <= set(f.array_names) and all(f.array_shape(a)[-1] > 0 for a in plots.PREDICTION_ARRAYS):
        kinds.add("prediction")
    return kinds


# Why a kind is not available, for the error message of `--what`.
MISSING = {
    "prediction": "no dendritic prediction arrays (" + ", ".join(plots.PREDICTION_ARRAYS) + ") under /settle/arrays",
    "raster": "no /spikes populations, or nothing simulated yet",
    "circuit": "no recorded circuit spikes with a teacher onset (a circuit run with engine = \"event\" and [record] spikes)",
    "traces": "no state reports under /report",
    "weights": "no weight reports (element 'w') under /report",
    "learning": "no learning metrics (" + ", ".join(plots.LEARNING_CURVE_METRICS + plots.LOSS_METRICS
                                                  + plots.ACCURACY_METRICS) + ") under /settle/metrics",
    "stdp": "no STDP window (window_dt_ms and window_dw) under /settle/metrics",
    "angles": "no angle metrics (" + ", ".join(plots.ANGLE_METRICS) + ") under /settle/metrics",
}


@dataclass
class _TimeCourse:
    """The time structure the figures follow: the run, its pattern and teacher, the detail window."""

    span: tuple[float, float]
    pattern: timing.Pattern | None
    spans: list[tuple[float, float]]
    user_window: tuple[float | None, float | None]

    def window(self, span: tuple[float, float]) -> tuple[float, float]:
        """The detail window within `span`: --t-start/--t-stop when given, else chosen by timing."""
        start, stop = self.user_window
        if start is not None or stop is not None:
            return (span[0] if start is None else start), (span[1] if stop is None else stop)
        return timing.detail_window(span, self.pattern)

    def describe(self, window: tuple[float, float]) -> str:
        """Caption of a detail window: its span and, for a pattern, the repetitions it shows."""
        text = f"{window[0]:g}\N{EN DASH}{window[1]:g} ms"
        if self.pattern is not None:
            n = (window[1] - window[0]) / self.pattern.period_ms
            if abs(n - round(n)) < 1e-6 and round(n) >= 1:
                text += f" ({round(n)} repetitions of the {self.pattern.period_ms:g} ms pattern)"
        return text


def _time_course(f: SettleFile, args) -> _TimeCourse:
    config = f.metadata.config_table()
    run = f.run_window()
    return _TimeCourse(run, timing.find_pattern(config), timing.teacher_spans(config, run),
                       (getattr(args, "t_start", None), getattr(args, "t_stop", None)))


def _unrecorded(f: SettleFile) -> list[str]:
    """Populations that spiked in the run (settle's spike counts) but whose spikes are not stored."""
    return [p for p, n in f.metadata.spike_counts.items() if n > 0 and p not in f.spike_populations]


def _figures(f: SettleFile, kind: str, args):
    """Yields (file stem, title, Figure) for one kind of figure."""
    window = dict(t_start=args.t_start, t_stop=args.t_stop)
    if kind == "raster":
        course = _time_course(f, args)
        span = course.span
        detail = course.window(span)
        user = args.t_start is not None or args.t_stop is not None
        # The overview needs every spike of the run; a user's window alone needs only its own.
        overview = span if timing.wants_overview(detail, span) else None
        spikes = [f.spikes(p) if overview else f.spikes(p, **window) for p in f.spike_populations]
        caption = f"spikes, {course.describe(detail)}"
        missing = _unrecorded(f)
        if missing:
            caption += f"; spikes of {', '.join(missing)} not recorded"
        boundaries = course.pattern.boundaries(*detail) if course.pattern else ()
        yield "raster", "Spike raster and population rates", plots.raster(
            spikes, t_start=detail[0] if (overview or user) else None, t_stop=detail[1] if (overview or user) else None,
            overview=overview, boundaries=boundaries, spans=course.spans, title=caption)
        pattern = course.pattern
        if pattern is not None and pattern.start_ms is not None:
            end = span[1] if pattern.stop_ms is None else min(span[1], pattern.stop_ms)
            repetitions = pattern.repetitions(pattern.start_ms, end)
            for s in spikes:
                if 0 < s.n_nodes <= REPETITION_RASTER_NODES and repetitions >= 3 and len(s):
                    if overview is None and user:
                        s = f.spikes(s.population)
                    yield (f"repetitions_{s.population}", f"Spikes of {s.population} in each pattern repetition",
                           plots.raster_by_repetition(s, pattern.period_ms, pattern.start_ms, repetitions,
                                                      spans=course.spans))
    elif kind == "circuit":
        onset = float(f.metrics()["circuit_teacher_onsets_ms"][-1])
        spikes = [f.spikes(p) for p in f.spike_populations]
        yield ("circuit_raster", "Circuit raster around the last recorded teacher onset",
               plots.circuit_raster(spikes, f.metadata.summary["layers"], onset))
    elif kind == "traces":
        course = _time_course(f, args)
        for name in f.report_names:
            layout = f.report_layout(name)
            if layout.is_weight or layout.n_times == 0:
                continue
            nodes = list(dict.fromkeys(layout.node_ids.tolist()))[:TRACE_NODES]
            end = layout.start + layout.n_times * layout.dt  # just past the last sample
            span = (layout.start, min(end, course.span[1]) if course.span[1] > layout.start else end)
            detail = course.window(span)
            report = f.report(name, node_ids=nodes, max_samples=TRACE_SAMPLES, t_start=detail[0], t_stop=detail[1])
            if report.times.size == 0:  # nothing sampled yet, or nothing in the window
                continue
            overview = None
            if timing.wants_overview(detail, span):
                element = "V_star" if "V_star" in layout.elements else layout.elements[0]
                overview = f.report(name, node_ids=nodes[:1], elements=[element], max_samples=OVERVIEW_SAMPLES)
            teacher = timing.teacher_potential(f, name, float(report.times[0]), float(report.times[-1]) + 1e-9,
                                               layout.dt)
            boundaries = course.pattern.boundaries(*detail) if course.pattern else ()
            yield f"traces_{name}", f"Sampled state: {name}", plots.potential_traces(
                report, overview=overview, teacher=teacher, spans=course.spans, boundaries=boundaries,
                title=f"{name}, {course.describe(detail)}")
    elif kind == "weights":
        for name in f.report_names:
            layout = f.report_layout(name)
            if not layout.is_weight:
                continue
            n_synapses = layout.element_names.count("w")
            samples = min(WEIGHT_SAMPLES, max(2, WEIGHT_VALUES_BUDGET // max(n_synapses, 1)))
            report = f.report(name, elements=["w"], max_samples=samples, **window)
            if report.times.size == 0:
                continue
            yield f"weights_{name}", f"Weights: {name}", plots.weight_trajectories(report)
            yield f"weight_hist_{name}", f"Weight distribution: {name}", plots.weight_histogram(report)
    elif kind == "learning":
        yield "learning", "Learning", plots.learning_curves(f.metrics())
    elif kind == "stdp":
        metrics = f.metrics()
        yield "stdp_window", "STDP window", plots.stdp_window(metrics["window_dt_ms"], metrics["window_dw"])
    elif kind == "angles":
        yield "angles", "Temporal-derivative test and update angles", plots.angles(f.metrics())
    elif kind == "prediction":
        metrics = f.metrics()
        protocol = f.metadata.config_table().get("protocol", {})
        dt = protocol.get("sample_dt_ms", 0.1) if isinstance(protocol, dict) else 0.1
        fig = plots.plot_dendritic_prediction_learning(
            *(f.array(a) for a in plots.PREDICTION_ARRAYS), metrics.get("learning_curve_mV"),
            metrics.get("learning_curve_mV_no_plasticity"), dt_ms=float(dt))
        yield "dendritic_prediction_fig1", "Dendritic prediction learning (Urbanczik & Senn 2014 Fig. 1)", fig


def _file_stem(stem: str, taken: set[str]) -> str:
    """A file-name-safe, unused version of `stem`."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", stem.replace("->", "_to_")).strip("._") or "figure"
    candidate, k = safe, 2
    while candidate in taken:
        candidate, k = f"{safe}_{k}", k + 1
    taken.add(candidate)
    return candidate


def _parse_list(text: str, allowed: tuple[str, ...], what: str) -> list[str]:
    items = [w.strip() for w in text.split(",") if w.strip()]
    unknown = [w for w in items if w not in allowed]
    if unknown:
        raise SettleAnalysisError(f"unknown {what} {', '.join(unknown)} (choose from {', '.join(allowed)})")
    return list(dict.fromkeys(items))


def run_plot(args) -> int:
    formats = _parse_list(args.format, plots.FIGURE_FORMATS, "format")
    requested = None if args.what is None else _parse_list(args.what, FIGURE_KINDS, "figure")
    with SettleFile(args.file) as f:
        available = _available(f)
        if requested is None:
            kinds = [k for k in FIGURE_KINDS if k in available]
        else:
            missing = [k for k in requested if k not in available]
            if missing:
                raise SettleAnalysisError(f"{f.path}: cannot plot {', '.join(missing)}: "
                                          + "; ".join(MISSING[k] for k in missing))
            kinds = requested
        stem = os.path.splitext(os.path.basename(f.path))[0]
        out_dir = args.out or os.path.join(os.path.dirname(os.path.abspath(f.path)), f"{stem}_figures")
        os.makedirs(out_dir, exist_ok=True)
        written, taken = [], set()
        for kind in kinds:
            for name, title, fig in _figures(f, kind, args):
                file_stem = _file_stem(name, taken)
                paths = [plots.save_figure(fig, os.path.join(out_dir, f"{file_stem}.{fmt}")) for fmt in formats]
                for path in paths:
                    print(path, flush=True)
                written.append(FigureFiles(title, paths))
        print(write_index(out_dir, f, written))
    return 0


def run_info(args) -> int:
    with SettleFile(args.file) as f:
        rows = summarize(f)
    width = max(len(label) for label, _ in rows)
    for label, text in rows:
        print(f"{label:<{width}}  {text}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Figures and summaries of settle's output files.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    plot = sub.add_parser("plot", help="write figures and an index.html for a result file",
                          description="Writes a default set of figures for whatever FILE holds, and an index.html "
                                      "showing them with the run's metadata. Prints the written paths.")
    plot.add_argument("file", metavar="FILE.h5")
    plot.add_argument("--out", metavar="DIR", help="output directory (default: <FILE stem>_figures next to FILE)")
    plot.add_argument("--what", metavar="LIST",
                      help=f"comma-separated figures to draw, from {','.join(FIGURE_KINDS)} "
                           "(default: all the file has)")
    plot.add_argument("--format", default="png", metavar="LIST",
                      help=f"comma-separated formats from {','.join(plots.FIGURE_FORMATS)} (default: png)")
    plot.add_argument("--t-start", type=float, metavar="MS",
                      help="start of the time window of raster, traces and weights")
    plot.add_argument("--t-stop", type=float, metavar="MS", help="end of that window")
    plot.set_defaults(run=run_plot)

    info = sub.add_parser("info", help="print a short summary of a result file")
    info.add_argument("file", metavar="FILE.h5")
    info.set_defaults(run=run_info)
    return parser


def _one_line_warning(message, category, filename, lineno, file=None, line=None):
    print(f"{PROG}: warning: {message}", file=sys.stderr)


def main(argv=None) -> int:
    """Entry point; returns the exit code (0 ok, 2 bad input or usage, 130 interrupted)."""
    args = build_parser().parse_args(argv)
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.showwarning = _one_line_warning
        try:
            return args.run(args)
        except SettleAnalysisError as e:
            message = str(e)
        except OSError as e:
            message = f"{e.filename + ': ' if e.filename else ''}{e.strerror or e}"
        except KeyboardInterrupt:
            print(f"{PROG}: interrupted", file=sys.stderr)
            return 130
        except Exception as e:  # malformed input that the checks above did not anticipate
            message = f"{args.file}: cannot read ({type(e).__name__}: {e})"
    print(f"{PROG}: error: {' '.join(message.split())}", file=sys.stderr)
    return 2
