"""A file's summary (for `info` and the index page) and the index.html that shows the figures
together with the run's metadata."""

from __future__ import annotations

import html
import os
from dataclasses import dataclass

from .io import SettleFile

# Figures the page shows inline, in order of preference; other formats are linked.
INLINE_FORMATS = (".svg", ".png")


@dataclass
class FigureFiles:
    """One figure, written in one or more formats."""

    title: str
    paths: list[str]


def _metric_text(values) -> str:
    return f"{values[0]:.6g}" if values.size == 1 else f"[{values.size} values] " + ", ".join(
        f"{v:.4g}" for v in values[:8]) + (", ..." if values.size > 8 else "")


def summarize(f: SettleFile) -> list[tuple[str, str]]:
    """(label, text) rows describing what the file holds; reads no spike or sample data."""
    meta = f.metadata
    rows = [("file", f.path)]
    if f.is_settle_file:
        rows.append(("written by", f"settle {meta.settle_version} ({meta.git_revision})"))
        rows.append(("seed", str(meta.seed)))
        if meta.complete:
            rows.append(("run", f"{meta.stop_reason} at {meta.simulated_ms:g} of {meta.duration_ms:g} ms, "
                                f"{meta.events} events in {meta.wall_seconds:.3g} s wall"))
        else:
            rows.append(("run", f"INCOMPLETE: did not end cleanly; data up to the last flush "
                                f"(planned {meta.duration_ms:g} ms)"))
    else:
        rows.append(("written by", "not settle (no /settle group)"))
    for pop in f.spike_populations:
        rows.append((f"spikes {pop}", f"{f.spike_count(pop)} spikes, sorted {f.sorting(pop)}"))
    for name in f.report_names:
        layout = f.report_layout(name)
        rows.append((f"report {name}", f"{layout.n_times} samples x {len(layout.element_names)} columns "
                                       f"({', '.join(layout.elements)}) every {layout.dt:g} ms "
                                       f"from {layout.start:g} ms"))
    for name, values in f.metrics().items():
        rows.append((f"metric {name}", _metric_text(values)))
    for name in f.array_names:
        rows.append((f"array {name}", " x ".join(str(n) for n in f.array_shape(name))))
    return rows


def write_index(out_dir: str, f: SettleFile, figures: list[FigureFiles]) -> str:
    """Writes out_dir/index.html with the figures (inline SVG or PNG, links to every format), the
    file's summary and its configuration. Returns the path."""
    esc = html.escape
    title = f"settle: {os.path.basename(f.path)}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{esc(title)}</title>",
        "<style>body{font-family:sans-serif;margin:2em;max-width:1100px}"
        "table{border-collapse:collapse}td{padding:2px 12px 2px 0;vertical-align:top}"
        "td:first-child{color:#555}img{max-width:100%;border:1px solid #ddd}"
        ".warning{background:#fee;border:1px solid #c00;padding:0.5em}pre{background:#f6f6f6;padding:1em}</style>",
        "</head><body>",
        f"<h1>{esc(title)}</h1>",
    ]
    if f.is_settle_file and not f.metadata.complete:
        parts.append('<p class="warning">This file is incomplete: the run did not end cleanly, and the '
                     "figures show the data up to its last flush.</p>")
    parts.append("<h2>Run</h2><table>")
    parts += [f"<tr><td>{esc(label)}</td><td>{esc(text)}</td></tr>" for label, text in summarize(f)]
    parts.append("</table>")
    parts.append("<h2>Figures</h2>")
    if not figures:
        parts.append("<p>The file holds nothing to plot.</p>")
    for figure in figures:
        names = [os.path.basename(p) for p in figure.paths]
        inline = next((n for ext in INLINE_FORMATS for n in names if n.endswith(ext)), None)
        parts.append(f"<h3>{esc(figure.title)}</h3>")
        if inline:
            parts.append(f'<img src="{esc(inline)}" alt="{esc(figure.title)}">')
        parts.append("<p>" + " ".join(f'<a href="{esc(n)}">{esc(n)}</a>' for n in names) + "</p>")
    if f.metadata.config:
        parts.append("<h2>Configuration</h2>")
        parts.append(f"<pre>{esc(f.metadata.config)}</pre>")
    parts.append("</body></html>")
    path = os.path.join(out_dir, "index.html")
    with open(path, "w", encoding="utf-8") as out:
        out.write("\n".join(parts) + "\n")
    return path
