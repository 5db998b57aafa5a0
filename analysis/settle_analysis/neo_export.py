"""Spikes as Neo objects (https://neuralensemble.org/neo/), for Elephant and other Neo-based tools.

    trains = to_neo_spiketrains("run.h5", "exc")        # [neo.SpikeTrain], one per node
    block = to_neo_block("run.h5")                      # one Segment with every population's trains

Neo and quantities are imported only when these functions are called (Debian: python3-neo,
python3-quantities), so the rest of settle_analysis works without them.
"""

from __future__ import annotations

import os

import numpy as np

from .io import SettleAnalysisError, SettleFile


def _neo_modules():
    try:
        import neo
        import quantities as pq
    except ImportError as e:
        raise SettleAnalysisError(f"Neo export needs the neo and quantities packages "
                                  f"(Debian: python3-neo python3-quantities): {e}") from None
    return neo, pq


class _Opened:
    """`source` as an open SettleFile: opened (and closed on exit) for a path, used as is otherwise."""

    def __init__(self, source):
        self._own = not isinstance(source, SettleFile)
        self.file = SettleFile(source) if self._own else source

    def __enter__(self) -> SettleFile:
        return self.file

    def __exit__(self, *exc) -> None:
        if self._own:
            self.file.close()


def _trains(f: SettleFile, population: str, node_ids, t_start, t_stop, neo, pq) -> list:
    run_start, run_stop = f.run_window()
    t0 = run_start if t_start is None else float(t_start)
    t1 = run_stop if t_stop is None else float(t_stop)
    if not t1 >= t0:
        raise SettleAnalysisError(f"{f.path}: empty time window [{t0:g}, {t1:g}] ms")
    # Without a window every stored spike is kept (a spike at exactly the run's end included).
    spikes = f.spikes(population, t_start, t_stop, node_ids)
    nodes = np.arange(spikes.n_nodes) if node_ids is None else np.asarray(node_ids, dtype=np.int64)
    trains = []
    for node, times in zip(nodes.tolist(), spikes.trains(nodes)):
        trains.append(neo.SpikeTrain(times, t_stop=t1, units=pq.ms, t_start=t0, dtype=np.float64,
                                     name=f"{population}[{node}]", file_origin=f.path,
                                     population=population, node_id=int(node)))
    return trains


def to_neo_spiketrains(source, population: str, node_ids=None, t_start: float | None = None,
                       t_stop: float | None = None) -> list:
    """The spikes of `population` as one neo.SpikeTrain per node, times in ms (quantities).

    source: a path or an open SettleFile.
    node_ids: nodes to return, in this order (default: every node 0 .. n_nodes - 1, where n_nodes
        is the population size from settle's config, else 1 + the largest node id with spikes).
        A node without spikes gets an empty train.
    t_start, t_stop: keep spikes with t_start <= t < t_stop (ms) and use them as the trains'
        bounds; by default the trains span the file's simulated time, SettleFile.run_window()
        (0 to the simulated duration of a clean run; to the latest data of a partial one).

    Each train is named "<population>[<node>]" and annotated with `population` and `node_id`.
    """
    neo, pq = _neo_modules()
    with _Opened(source) as f:
        return _trains(f, population, node_ids, t_start, t_stop, neo, pq)


def to_neo_block(source, populations=None, t_start: float | None = None, t_stop: float | None = None):
    """A neo.Block with one Segment holding the spike trains of `populations` (default all under
    /spikes), one per node as in to_neo_spiketrains, and one neo.Group per population with its
    trains. The block is annotated with the run's seed, settle version and completion when the
    file has settle's metadata."""
    neo, pq = _neo_modules()
    with _Opened(source) as f:
        names = f.spike_populations if populations is None else list(populations)
        meta = f.metadata
        annotations = {k: v for k, v in (("seed", meta.seed), ("settle_version", meta.settle_version),
                                          ("complete", meta.complete)) if v is not None}
        stem = os.path.splitext(os.path.basename(f.path))[0]
        block = neo.Block(name=stem, file_origin=f.path, **annotations)
        segment = neo.Segment(name="run", file_origin=f.path)
        block.segments.append(segment)
        for name in names:
            trains = _trains(f, name, None, t_start, t_stop, neo, pq)
            segment.spiketrains.extend(trains)
            block.groups.append(neo.Group(trains, name=name, population=name))
        block.create_relationship()
        return block
