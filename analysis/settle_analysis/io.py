"""Reading settle's output files (HDF5, SONATA layout; see docs/file-format.md).

Everything here works on any file that follows the SONATA output layout, not only on files
written by settle: ``/spikes/<population>/{timestamps, node_ids}`` with a ``sorting`` attribute
(an HDF5 enum or a plain string) and ``/report/<population>/{data, mapping/...}``. settle's own
metadata (``/settle``) is read when present.

Datasets are read lazily: asking for a time window of time-sorted spikes reads only that slice
(found by binary search on the timestamps dataset), and asking for a few neurons scans the file
in fixed-size blocks, so memory stays bounded by what is returned.

Times are in ms throughout.
"""

from __future__ import annotations

import json
import os
import tomllib
import warnings
from dataclasses import dataclass, field

import h5py
import numpy as np

SONATA_MAGIC = 0x0A7A
SORTING_NAMES = ("none", "by_id", "by_time")
# Element ids of settle's two-compartment neuron (docs/file-format.md), used when a report has
# no element_names attribute.
TWO_COMPARTMENT_ELEMENTS = {0: "U", 1: "V_w", 2: "V_star", 3: "phi"}
WEIGHT_ELEMENT = "w"
# Entries read per block when scanning spike datasets (8 MB per float64 block).
SCAN_BLOCK = 1 << 20


class SettleAnalysisError(Exception):
    """Bad input (unreadable file, missing group...): the message is one line for the user."""


class IncompleteFileWarning(UserWarning):
    """The file has a /settle group but no `complete` flag: the run did not end cleanly."""


@dataclass
class Spikes:
    """The spikes of one population, in file order, restricted to a time window.

    Attributes:
        population: population name.
        timestamps: spike times (ms), float64.
        node_ids: node index of each spike, 0-based within the population, int64.
        n_nodes: population size when known (from settle's config), else 1 + the largest node id
            in the file's selection (0 when there are no spikes).
        t_start, t_stop: the window the spikes were selected from (ms), half-open
            [t_start, t_stop); used as the observation interval by rate statistics.
        sorting: the file's sorting attribute: "none", "by_id" or "by_time".
    """

    population: str
    timestamps: np.ndarray
    node_ids: np.ndarray
    n_nodes: int
    t_start: float
    t_stop: float
    sorting: str = "none"

    def __len__(self) -> int:
        return int(self.timestamps.size)

    def trains(self, node_ids=None) -> list[np.ndarray]:
        """Per-neuron spike trains: one sorted array of times (ms) per entry of `node_ids`.

        `node_ids` defaults to range(n_nodes); a neuron without spikes gets an empty array.
        """
        wanted = np.arange(self.n_nodes) if node_ids is None else np.asarray(node_ids, dtype=np.int64)
        order = np.lexsort((self.timestamps, self.node_ids))
        ids_sorted = self.node_ids[order]
        times_sorted = self.timestamps[order]
        starts = np.searchsorted(ids_sorted, wanted, side="left")
        stops = np.searchsorted(ids_sorted, wanted, side="right")
        return [times_sorted[a:b] for a, b in zip(starts, stops)]


@dataclass
class ReportLayout:
    """What a report holds, without its samples.

    Attributes:
        name: report (population or projection) name.
        start, dt: time of the first sample and sampling interval (ms).
        n_times: number of samples (rows of `data`).
        node_ids: node (or synapse) of each column, int64 [n_columns].
        element_names: variable of each column, e.g. "U" or "w" [n_columns].
        element_units: unit of each column, e.g. "mV" [n_columns].
    """

    name: str
    start: float
    dt: float
    n_times: int
    node_ids: np.ndarray
    element_names: list[str]
    element_units: list[str]

    @property
    def times(self) -> np.ndarray:
        """Sample times (ms) [n_times]."""
        return self.start + self.dt * np.arange(self.n_times)

    @property
    def elements(self) -> list[str]:
        """Distinct element names, in column order."""
        return list(dict.fromkeys(self.element_names))

    @property
    def is_weight(self) -> bool:
        """True for weight reports (an element named "w")."""
        return WEIGHT_ELEMENT in self.element_names


@dataclass
class Report:
    """Samples of a report on its time axis.

    Attributes:
        name: report name.
        times: sample times (ms) [n_samples].
        values: samples as stored (float32 in settle's files) [n_samples, n_columns].
        node_ids, element_names, element_units: per column, as in ReportLayout.
    """

    name: str
    times: np.ndarray
    values: np.ndarray
    node_ids: np.ndarray
    element_names: list[str]
    element_units: list[str]

    @property
    def elements(self) -> list[str]:
        """Distinct element names, in column order."""
        return list(dict.fromkeys(self.element_names))

    @property
    def is_weight(self) -> bool:
        """True for weight reports (an element named "w")."""
        return WEIGHT_ELEMENT in self.element_names

    def column_index(self, node_id: int, element: str) -> int:
        """Column of (`node_id`, `element`); SettleAnalysisError if the report lacks it."""
        for c, (n, e) in enumerate(zip(self.node_ids, self.element_names)):
            if n == node_id and e == element:
                return c
        raise SettleAnalysisError(f"report '{self.name}' has no element '{element}' for node {node_id}")

    def column(self, node_id: int, element: str) -> np.ndarray:
        """The samples of one node's element [n_samples]."""
        return self.values[:, self.column_index(node_id, element)]

    def unit(self, element: str) -> str:
        """Unit of `element` ("" when unknown)."""
        return self.element_units[self.element_names.index(element)]


@dataclass
class RunMetadata:
    """settle's /settle group; fields are None for files settle did not write.

    Times in ms, wall time in s. `complete` is False for a settle file whose run did not end
    cleanly, None when the file has no /settle group.
    """

    settle_version: str | None = None
    git_revision: str | None = None
    seed: int | None = None
    duration_ms: float | None = None
    complete: bool | None = None
    stop_reason: str | None = None
    simulated_ms: float | None = None
    wall_seconds: float | None = None
    events: int | None = None
    config: str | None = None
    summary: dict | None = None
    spike_counts: dict[str, int] = field(default_factory=dict)

    def config_table(self) -> dict:
        """The configuration parsed as TOML ({} when absent or unparsable)."""
        if not self.config:
            return {}
        try:
            return tomllib.loads(self.config)
        except tomllib.TOMLDecodeError:
            return {}


def _text(value) -> str:
    """An HDF5 string (bytes, numpy bytes or str) as str."""
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value[()]
    if isinstance(value, (bytes, np.bytes_)):
        return bytes(value).decode("utf-8", errors="replace").rstrip("\0")
    return str(value)


def _texts(value) -> list[str]:
    """An HDF5 string array as a list of str."""
    return [_text(v) for v in np.atleast_1d(value)]


def _bisect_dataset(dataset, value: float, lo: int, hi: int, side: str = "left", block: int = 1 << 16) -> int:
    """np.searchsorted on a non-decreasing 1-D dataset, restricted to [lo, hi), without loading it.

    Halves the range with single-element reads until it is at most `block` long, then searches
    that block in memory.
    """
    while hi - lo > block:
        mid = (lo + hi) // 2
        v = dataset[mid]
        if v < value or (side == "right" and v == value):
            lo = mid + 1
        else:
            hi = mid
    return lo + int(np.searchsorted(dataset[lo:hi], value, side=side))


def _in_window(times: np.ndarray, window) -> np.ndarray:
    """Mask of window[0] <= times < window[1]; all True when window is None."""
    if window is None:
        return np.ones(times.shape, dtype=bool)
    return (times >= window[0]) & (times < window[1])


def _scan(ts_ds, id_ds, lo: int, hi: int, wanted, window):
    """Spikes in entries [lo, hi) whose node is in `wanted` (all if None) and time in `window`
    (all if None), reading SCAN_BLOCK entries at a time."""
    times, ids = [], []
    for a in range(lo, hi, SCAN_BLOCK):
        b = min(a + SCAN_BLOCK, hi)
        block_ids = id_ds[a:b]
        block_times = ts_ds[a:b]
        keep = _in_window(block_times, window)
        if wanted is not None:
            keep &= np.isin(block_ids.astype(np.int64), wanted)
        times.append(block_times[keep])
        ids.append(block_ids[keep])
    return np.concatenate(times or [np.empty(0)]), np.concatenate(ids or [np.empty(0, np.int64)])


def _read_nodes_by_bisection(ts_ds, id_ds, n: int, wanted, window):
    """Spikes of the nodes in `wanted` from id-sorted datasets, each node's run found by binary
    search, filtered to `window` (all if None)."""
    times, ids = [], []
    for node in wanted:
        a = _bisect_dataset(id_ds, node, 0, n, "left")
        b = _bisect_dataset(id_ds, node, a, n, "right")
        node_times = ts_ds[a:b]
        keep = _in_window(node_times, window)
        times.append(node_times[keep])
        ids.append(id_ds[a:b][keep])
    return np.concatenate(times or [np.empty(0)]), np.concatenate(ids or [np.empty(0, np.int64)])


class SettleFile:
    """An open settle/SONATA output file. Use as a context manager, or call close().

    >>> with SettleFile("run.h5") as f:
    ...     exc = f.spikes("exc", t_start=1000.0, t_stop=2000.0)

    Raises SettleAnalysisError when the file is missing, not HDF5 or not SONATA; warns
    (IncompleteFileWarning) when settle's run did not end cleanly.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = os.fspath(path)
        if not os.path.exists(self.path):
            raise SettleAnalysisError(f"{self.path}: no such file")
        if os.path.isdir(self.path):
            raise SettleAnalysisError(f"{self.path}: is a directory, not an HDF5 file")
        if not h5py.is_hdf5(self.path):
            raise SettleAnalysisError(f"{self.path}: not an HDF5 file")
        try:
            self._file = h5py.File(self.path, "r", swmr=True)
        except OSError as e:
            raise SettleAnalysisError(f"{self.path}: cannot open the HDF5 file ({e})") from None
        self._check_layout()
        self._metadata: RunMetadata | None = None
        self._run_stop: float | None = None
        self._sizes: dict[str, int] | None = None
        if self.is_settle_file and not self.metadata.complete:
            warnings.warn(
                f"{self.path}: incomplete (the run did not end cleanly); using the data up to its last flush",
                IncompleteFileWarning,
                stacklevel=2,
            )

    def _check_layout(self) -> None:
        root = self._file
        magic = root.attrs.get("magic")
        problem = None
        if magic is not None and int(np.asarray(magic).ravel()[0]) != SONATA_MAGIC:
            problem = f"not a SONATA file (magic is {int(np.asarray(magic).ravel()[0]):#x}, expected {SONATA_MAGIC:#x})"
        elif magic is None and not any(name in root for name in ("spikes", "report", "settle")):
            problem = "not a settle/SONATA file (no magic attribute, no /spikes or /report)"
        if problem:
            self.close()
            raise SettleAnalysisError(f"{self.path}: {problem}")

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> "SettleFile":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- metadata -------------------------------------------------------------------------

    @property
    def is_settle_file(self) -> bool:
        """True when the file has settle's /settle metadata group."""
        return "settle" in self._file

    @property
    def metadata(self) -> RunMetadata:
        """The run's metadata (config, seed, version, completion)."""
        if self._metadata is None:
            self._metadata = self._read_metadata()
        return self._metadata

    def _read_metadata(self) -> RunMetadata:
        if "settle" not in self._file:
            return RunMetadata()
        g = self._file["settle"]
        a = g.attrs

        def attr(name, convert):
            return convert(a[name]) if name in a else None

        summary = None
        if "summary" in g:
            try:
                summary = json.loads(_text(g["summary"][()]))
            except json.JSONDecodeError:
                summary = None
        counts = {}
        if "spike_counts" in g:
            counts = {k: int(v) for k, v in g["spike_counts"].attrs.items()}
        return RunMetadata(
            settle_version=attr("settle_version", _text),
            git_revision=attr("git_revision", _text),
            seed=attr("seed", int),
            duration_ms=attr("duration_ms", float),
            complete=bool(a.get("complete", 0)),
            stop_reason=attr("stop_reason", _text),
            simulated_ms=attr("simulated_ms", float),
            wall_seconds=attr("wall_seconds", float),
            events=attr("events", int),
            config=_text(g["config"][()]) if "config" in g else None,
            summary=summary,
            spike_counts=counts,
        )

    @property
    def metric_names(self) -> list[str]:
        """Names of the datasets under /settle/metrics."""
        return list(self._file["settle/metrics"].keys()) if "settle/metrics" in self._file else []

    def metrics(self) -> dict[str, np.ndarray]:
        """All of /settle/metrics as 1-D float64 arrays (a scalar metric has one element)."""
        return {name: np.atleast_1d(np.asarray(self._file["settle/metrics"][name][()], dtype=np.float64))
                for name in self.metric_names}

    @property
    def array_names(self) -> list[str]:
        """Names of the 2-D datasets under /settle/arrays."""
        return list(self._file["settle/arrays"].keys()) if "settle/arrays" in self._file else []

    def _array_dataset(self, name: str):
        if name not in self.array_names:
            raise SettleAnalysisError(f"{self.path}: no array '{name}' in /settle/arrays")
        return self._file["settle/arrays"][name]

    def array(self, name: str) -> np.ndarray:
        """One /settle/arrays dataset (2-D float64)."""
        return np.asarray(self._array_dataset(name)[()], dtype=np.float64)

    def array_shape(self, name: str) -> tuple[int, ...]:
        """Shape of one /settle/arrays dataset (reads no data)."""
        return tuple(self._array_dataset(name).shape)

    def population_sizes(self) -> dict[str, int]:
        """Population sizes from settle's resolved config ([[population]] size, or the number of
        rows of an explicit `times_ms`); {} for files without a readable config."""
        if self._sizes is None:
            self._sizes = {}
            for pop in self.metadata.config_table().get("population", []):
                if not isinstance(pop, dict) or not isinstance(pop.get("name"), str):
                    continue
                if isinstance(pop.get("size"), int):
                    self._sizes[pop["name"]] = pop["size"]
                elif isinstance(pop.get("times_ms"), list):
                    self._sizes[pop["name"]] = len(pop["times_ms"])
        return self._sizes

    def run_window(self) -> tuple[float, float]:
        """(0, end of the data) in ms: the simulated time of a clean run, else the latest spike
        or report sample in the file (a partial run), else (no data yet) the planned duration,
        else 0."""
        if self._run_stop is None:
            meta = self.metadata
            if meta.simulated_ms is not None:
                self._run_stop = meta.simulated_ms
            else:
                # Just past the latest spike, so that the half-open window keeps it.
                ends = [np.nextafter(t, np.inf) for t in map(self._last_spike_time, self.spike_populations)
                        if t is not None]
                for name in self.report_names:
                    layout = self.report_layout(name)
                    ends.append(layout.start + layout.n_times * layout.dt)
                end = float(max(ends)) if ends else 0.0
                self._run_stop = end if end > 0 else (meta.duration_ms or 0.0)
        return 0.0, self._run_stop

    # ---- spikes ---------------------------------------------------------------------------

    @property
    def spike_populations(self) -> list[str]:
        """Names of the populations under /spikes."""
        return list(self._file["spikes"].keys()) if "spikes" in self._file else []

    def _spike_group(self, population: str):
        if population not in self.spike_populations:
            have = ", ".join(self.spike_populations) or "none"
            raise SettleAnalysisError(f"{self.path}: no spike population '{population}' (the file has: {have})")
        g = self._file["spikes"][population]
        for name in ("timestamps", "node_ids"):
            if name not in g:
                raise SettleAnalysisError(f"{self.path}: /spikes/{population} has no '{name}' dataset")
        return g

    def sorting(self, population: str) -> str:
        """The population's `sorting` attribute ("none", "by_id", "by_time"), read whether it is
        an HDF5 enum or a string; "none" when absent."""
        g = self._spike_group(population)
        if "sorting" not in g.attrs:
            return "none"
        value = g.attrs["sorting"]
        if isinstance(value, (str, bytes, np.bytes_)):
            name = _text(value)
        else:
            mapping = h5py.check_enum_dtype(g.attrs.get_id("sorting").dtype)
            code = int(np.asarray(value).ravel()[0])
            names = {v: k for k, v in mapping.items()} if mapping else dict(enumerate(SORTING_NAMES))
            name = names.get(code, "none")
        if name not in SORTING_NAMES:
            raise SettleAnalysisError(f"{self.path}: /spikes/{population} has an unknown sorting '{name}'")
        return name

    def spike_count(self, population: str) -> int:
        """Number of spikes stored for `population` (reads no data)."""
        g = self._spike_group(population)
        return min(g["timestamps"].shape[0], g["node_ids"].shape[0])

    def _last_spike_time(self, population: str) -> float | None:
        n = self.spike_count(population)
        if n == 0:
            return None
        ts = self._spike_group(population)["timestamps"]
        if self.sorting(population) == "by_time":
            return float(ts[n - 1])
        return max(float(ts[i:min(i + SCAN_BLOCK, n)].max()) for i in range(0, n, SCAN_BLOCK))

    def spikes(self, population: str, t_start: float | None = None, t_stop: float | None = None,
               node_ids=None) -> Spikes:
        """Spikes of `population` with t_start <= t < t_stop (ms; default: the run window) and,
        if given, node id in `node_ids`. Reads only the needed slice of time-sorted data (or of
        id-sorted data for a few neurons); otherwise scans the file in blocks of SCAN_BLOCK
        entries, keeping only the matches."""
        g = self._spike_group(population)
        ts_ds, id_ds = g["timestamps"], g["node_ids"]
        n = self.spike_count(population)
        sorting = self.sorting(population)
        window = (0.0 if t_start is None else float(t_start),
                  self.run_window()[1] if t_stop is None else float(t_stop))
        time_filter = window if (t_start is not None or t_stop is not None) else None
        wanted = None if node_ids is None else np.unique(np.asarray(node_ids, dtype=np.int64))

        if sorting == "by_time":
            lo = 0 if t_start is None else _bisect_dataset(ts_ds, window[0], 0, n, "left")
            hi = n if t_stop is None else _bisect_dataset(ts_ds, window[1], lo, n, "left")
            if wanted is None:
                times, ids = ts_ds[lo:hi], id_ds.astype(np.int64)[lo:hi]  # converted while reading
            else:
                times, ids = _scan(ts_ds, id_ds, lo, hi, wanted, None)
        elif sorting == "by_id" and wanted is not None:
            times, ids = _read_nodes_by_bisection(ts_ds, id_ds, n, wanted, time_filter)
        else:
            times, ids = _scan(ts_ds, id_ds, 0, n, wanted, time_filter)
        times = np.asarray(times, dtype=np.float64)
        ids = np.asarray(ids).astype(np.int64, copy=False)

        size = max(self.population_sizes().get(population, 0), int(ids.max()) + 1 if ids.size else 0)
        return Spikes(population, times, ids, size, window[0], window[1], sorting)

    # ---- reports --------------------------------------------------------------------------

    @property
    def report_names(self) -> list[str]:
        """Names of the reports under /report."""
        return list(self._file["report"].keys()) if "report" in self._file else []

    def _report_group(self, name: str):
        if name not in self.report_names:
            have = ", ".join(self.report_names) or "none"
            raise SettleAnalysisError(f"{self.path}: no report '{name}' (the file has: {have})")
        g = self._file["report"][name]
        for needed in ("data", "mapping/node_ids", "mapping/index_pointers", "mapping/time"):
            if needed not in g:
                raise SettleAnalysisError(f"{self.path}: /report/{name} has no '{needed}'")
        return g

    def report_layout(self, name: str) -> ReportLayout:
        """Time axis and columns of report `name` (reads no samples)."""
        g = self._report_group(name)
        data = g["data"]
        if data.ndim != 2:
            raise SettleAnalysisError(f"{self.path}: /report/{name}/data is not 2-D")
        n_columns = data.shape[1]
        nodes = np.asarray(g["mapping/node_ids"][()], dtype=np.int64)
        pointers = np.asarray(g["mapping/index_pointers"][()], dtype=np.int64)
        if pointers.size != nodes.size + 1 or pointers[-1] != n_columns:
            raise SettleAnalysisError(f"{self.path}: /report/{name}/mapping/index_pointers does not match its data")
        column_nodes = np.repeat(nodes, np.diff(pointers))
        start, stop, dt = (float(x) for x in g["mapping/time"][()][:3])
        n_times = data.shape[0]
        if dt > 0 and stop >= start:
            # settle writes the time span at every flush: rows beyond it were never written (a run
            # that failed to write, e.g. on a full disk, may leave them as zeros).
            n_times = min(n_times, int(round((stop - start) / dt)))

        element_ids = (np.asarray(g["mapping/element_ids"][()], dtype=np.int64)
                       if "mapping/element_ids" in g else np.zeros(n_columns, dtype=np.int64))
        if "element_names" in data.attrs and len(_texts(data.attrs["element_names"])) == n_columns:
            names = _texts(data.attrs["element_names"])
        elif self.is_settle_file:
            names = [TWO_COMPARTMENT_ELEMENTS.get(int(e), f"element {e}") for e in element_ids]
        else:
            names = [f"element {e}" for e in element_ids]
        if "element_units" in data.attrs and len(_texts(data.attrs["element_units"])) == n_columns:
            units = _texts(data.attrs["element_units"])
        else:
            units = [_text(data.attrs["units"]) if "units" in data.attrs else ""] * n_columns
        return ReportLayout(name, start, dt, n_times, column_nodes, names, units)

    def report(self, name: str, t_start: float | None = None, t_stop: float | None = None,
               node_ids=None, elements=None, max_samples: int | None = None) -> Report:
        """Samples of report `name` with t_start <= t < t_stop (ms), for the columns of `node_ids`
        and `elements` (default all). With `max_samples`, rows are taken with an even stride so
        that at most `max_samples` remain, always including the first and last row. Only the
        selected rows and columns are read."""
        layout = self.report_layout(name)
        times = layout.times
        r0 = 0 if t_start is None else int(np.searchsorted(times, t_start, side="left"))
        r1 = layout.n_times if t_stop is None else int(np.searchsorted(times, t_stop, side="left"))
        r1 = max(r0, r1)

        selected = np.ones(len(layout.element_names), dtype=bool)
        if node_ids is not None:
            selected &= np.isin(layout.node_ids, np.asarray(node_ids, dtype=np.int64))
        if elements is not None:
            missing = [e for e in elements if e not in layout.element_names]
            if missing:
                raise SettleAnalysisError(f"{self.path}: report '{name}' has no element {', '.join(missing)}")
            selected &= np.isin(np.array(layout.element_names, dtype=object), list(elements))
        columns = np.flatnonzero(selected)

        step = 1
        if max_samples is not None and r1 - r0 > max_samples:
            step = -(-(r1 - r0 - 1) // max(max_samples - 1, 1))
        rows = np.arange(r0, r1, step)
        add_last = rows.size > 0 and rows[-1] != r1 - 1

        data = self._report_group(name)["data"]
        if rows.size == 0 or columns.size == 0:
            values = np.empty((rows.size + add_last, columns.size), dtype=data.dtype)
        else:
            cols = slice(None) if columns.size == data.shape[1] else columns
            values = data[r0:r1:step, cols]
            if add_last:
                values = np.concatenate([values, data[r1 - 1:r1, cols]])
        if add_last:
            rows = np.append(rows, r1 - 1)
        return Report(
            name=name,
            times=times[rows],
            values=values,
            node_ids=layout.node_ids[columns],
            element_names=[layout.element_names[c] for c in columns],
            element_units=[layout.element_units[c] for c in columns],
        )


def load_spikes(path, population: str | None = None, t_start: float | None = None, t_stop: float | None = None,
                node_ids=None):
    """Spikes of one population (a Spikes), or of all populations (dict name -> Spikes).

    >>> exc = load_spikes("run.h5", "exc")          # exc.timestamps, exc.node_ids, exc.trains()
    """
    with SettleFile(path) as f:
        if population is not None:
            return f.spikes(population, t_start, t_stop, node_ids)
        return {p: f.spikes(p, t_start, t_stop, node_ids) for p in f.spike_populations}


def load_report(path, name: str, t_start: float | None = None, t_stop: float | None = None, node_ids=None,
                elements=None, max_samples: int | None = None) -> Report:
    """One report with its time axis; see SettleFile.report."""
    with SettleFile(path) as f:
        return f.report(name, t_start, t_stop, node_ids, elements, max_samples)


def load_metadata(path) -> RunMetadata:
    """The run's metadata (config, seed, version, completion)."""
    with SettleFile(path) as f:
        return f.metadata


def load_metrics(path) -> dict[str, np.ndarray]:
    """/settle/metrics as a dict of 1-D float64 arrays."""
    with SettleFile(path) as f:
        return f.metrics()
