"""Spike-train statistics. Times in ms, rates in Hz (spikes per second).

A "train" is a 1-D array of spike times (ms) of one neuron; "trains" is a sequence of them, e.g.
`Spikes.trains()`. Functions that work on all spikes of a population take the flat timestamps
array (`Spikes.timestamps`).
"""

from __future__ import annotations

import numpy as np

MS_PER_S = 1000.0
# Elements processed at a time by functions that scan all spikes of a population.
BLOCK = 1 << 20


def firing_rates(trains, t_start: float, t_stop: float) -> np.ndarray:
    """Mean firing rate (Hz) of each train over [t_start, t_stop) (ms)."""
    duration_s = (t_stop - t_start) / MS_PER_S
    if duration_s <= 0:
        raise ValueError(f"empty window [{t_start}, {t_stop}) ms")
    counts = [np.count_nonzero((np.asarray(t) >= t_start) & (np.asarray(t) < t_stop)) for t in trains]
    return np.asarray(counts, dtype=np.float64) / duration_s


def isi_cv(trains, min_intervals: int = 2) -> np.ndarray:
    """Coefficient of variation of the inter-spike intervals of each train: sample standard
    deviation (ddof=1) over mean. NaN for trains with fewer than `min_intervals` intervals.
    1 for a Poisson train, 0 for a regular one."""
    cvs = np.full(len(trains), np.nan)
    for i, train in enumerate(trains):
        isi = np.diff(np.sort(np.asarray(train, dtype=np.float64)))
        if isi.size >= max(min_intervals, 2) and isi.mean() > 0:
            cvs[i] = isi.std(ddof=1) / isi.mean()
    return cvs


def spike_counts(train, window_ms: float, t_start: float, t_stop: float) -> np.ndarray:
    """Spike counts of one train in consecutive windows of `window_ms` from t_start; a last
    window that does not fit before t_stop is dropped."""
    n_windows = int(np.floor((t_stop - t_start) / window_ms + 1e-9))
    if n_windows <= 0:
        return np.zeros(0, dtype=np.int64)
    edges = t_start + window_ms * np.arange(n_windows + 1)
    train = np.asarray(train, dtype=np.float64)
    return np.histogram(train[train < edges[-1]], edges)[0]


def fano_factor(trains, window_ms: float, t_start: float, t_stop: float) -> np.ndarray:
    """Fano factor of each train: variance (ddof=1) over mean of its spike counts in consecutive
    windows of `window_ms` (see spike_counts). 1 for a Poisson train. NaN when there are fewer
    than two windows or no spikes."""
    factors = np.full(len(trains), np.nan)
    for i, train in enumerate(trains):
        counts = spike_counts(train, window_ms, t_start, t_stop)
        if counts.size >= 2 and counts.mean() > 0:
            factors[i] = counts.var(ddof=1) / counts.mean()
    return factors


def _uniform_edges(start: float, stop: float, bin_ms: float) -> np.ndarray:
    """Bin edges from start in steps of bin_ms, the last bin ending at or after stop."""
    n_bins = max(1, int(np.ceil((stop - start) / bin_ms - 1e-9)))
    return start + bin_ms * np.arange(n_bins + 1)


def population_rate(timestamps, n_nodes: int, bin_ms: float, t_start: float, t_stop: float):
    """Population rate: spikes per neuron per second in bins of `bin_ms` over [t_start, t_stop).

    Returns (edges (ms) [n_bins + 1], rate (Hz) [n_bins]). The last bin may extend past t_stop
    when the window is not a whole number of bins; it is normalised by its part inside.
    """
    edges = _uniform_edges(t_start, t_stop, bin_ms)
    ts = np.asarray(timestamps, dtype=np.float64)
    counts = np.zeros(edges.size - 1, dtype=np.int64)
    for a in range(0, ts.size, BLOCK):  # in blocks, so that temporaries stay small for huge inputs
        block = ts[a:a + BLOCK]
        block = block[(block >= t_start) & (block < t_stop)]
        index = np.minimum(((block - t_start) / bin_ms).astype(np.int64), edges.size - 2)
        counts += np.bincount(index, minlength=edges.size - 1)
    widths_s = (np.minimum(edges[1:], t_stop) - edges[:-1]) / MS_PER_S
    return edges, counts / (max(n_nodes, 1) * widths_s)


def lag_histogram(reference, events, edges) -> np.ndarray:
    """Counts of all pairs (r, e), r in `reference`, e in `events`, by lag e - r (ms) in the
    bins of `edges` (half-open [edges[i], edges[i+1]))."""
    reference = np.asarray(reference, dtype=np.float64)
    events = np.sort(np.asarray(events, dtype=np.float64))
    edges = np.asarray(edges, dtype=np.float64)
    counts = np.zeros(edges.size - 1, dtype=np.int64)
    block = 1 << 16  # reference spikes per block, to bound the memory of the pair arrays
    for a in range(0, reference.size, block):
        ref = reference[a:a + block]
        lo = np.searchsorted(events, ref + edges[0], side="left")
        hi = np.searchsorted(events, ref + edges[-1], side="left")
        per_ref = hi - lo
        total = int(per_ref.sum())
        if total == 0:
            continue
        owner = np.repeat(np.arange(ref.size), per_ref)
        first_of_owner = np.repeat(lo - (np.cumsum(per_ref) - per_ref), per_ref)
        lags = events[np.arange(total) + first_of_owner] - ref[owner]
        index = np.searchsorted(edges, lags, side="right") - 1
        index = index[(index >= 0) & (index < counts.size)]
        counts += np.bincount(index, minlength=counts.size)
    return counts


def psth(timestamps, triggers, bin_ms: float, window_ms: tuple[float, float], n_nodes: int = 1):
    """Peri-stimulus time histogram of spikes around trigger times (ms).

    `window_ms` = (start, stop) relative to each trigger, e.g. (-50, 200). Returns
    (edges (ms, relative to the trigger) [n_bins + 1], rate (Hz per neuron) [n_bins]): the spike
    count per bin divided by the number of triggers, `n_nodes` and the bin width.
    """
    edges = _uniform_edges(window_ms[0], window_ms[1], bin_ms)
    counts = lag_histogram(triggers, timestamps, edges)
    n_triggers = max(np.size(triggers), 1)
    return edges, counts / (n_triggers * max(n_nodes, 1) * bin_ms / MS_PER_S)


def cross_correlogram(train_a, train_b, bin_ms: float, max_lag_ms: float):
    """Cross-correlogram: counts of spike pairs by lag t_b - t_a (ms) within +-max_lag_ms.

    Bins are centred on 0 (the middle bin covers [-bin_ms/2, bin_ms/2)). Returns
    (edges (ms) [n_bins + 1], counts [n_bins]). For independent Poisson trains of rates
    r_a, r_b (Hz) observed over T (s), the expected count in a bin at lag tau is about
    r_a r_b (bin_ms / 1000) (T - |tau| / 1000).
    """
    half_bins = int(np.ceil(max_lag_ms / bin_ms - 0.5 - 1e-9))
    edges = bin_ms * (np.arange(-half_bins, half_bins + 2) - 0.5)
    return edges, lag_histogram(train_a, train_b, edges)
