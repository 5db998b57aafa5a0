"""Spikes as Neo objects: one SpikeTrain per node with the file's times, in ms, over the run."""

import sys

import numpy as np
import pytest

import settle_analysis as sa

neo = pytest.importorskip("neo")
pq = pytest.importorskip("quantities")


def node_times(rich_file, population, node):
    ts, ids = rich_file.spikes[population]
    return np.sort(ts[ids == node])


@pytest.mark.parametrize("population", ["inp", "exc", "quiet"])
def test_one_train_per_node_with_the_files_times(rich_file, population):
    trains = sa.to_neo_spiketrains(rich_file.path, population)
    assert len(trains) == rich_file.sizes[population]  # the config's size, silent nodes included
    for node, train in enumerate(trains):
        assert isinstance(train, neo.SpikeTrain)
        assert train.units == pq.ms and train.dtype == np.float64
        np.testing.assert_array_equal(train.magnitude, node_times(rich_file, population, node))
        assert train.t_start == 0.0 * pq.ms and train.t_stop == 1000.0 * pq.ms  # the simulated span
        assert train.annotations == {"population": population, "node_id": node}
        assert train.name == f"{population}[{node}]"
        assert train.file_origin == rich_file.path


def test_empty_node_gets_an_empty_train(rich_file):
    trains = sa.to_neo_spiketrains(rich_file.path, "inp")
    assert [len(t) for t in trains] == [3, 0, 1]  # node 1 of "inp" never fires
    empty = trains[1]
    assert empty.units == pq.ms and empty.t_stop == 1000.0 * pq.ms
    assert empty.annotations["node_id"] == 1
    quiet = sa.to_neo_spiketrains(rich_file.path, "quiet")
    assert len(quiet) == 5 and all(len(t) == 0 for t in quiet)


def test_node_selection_order_and_window(rich_file):
    with sa.SettleFile(rich_file.path) as f:  # an open file is accepted and left open
        trains = sa.to_neo_spiketrains(f, "exc", node_ids=[7, 2], t_start=200.0, t_stop=600.0)
        assert f.spike_populations
    assert [t.annotations["node_id"] for t in trains] == [7, 2]
    for node, train in zip([7, 2], trains):
        times = node_times(rich_file, "exc", node)
        np.testing.assert_array_equal(train.magnitude, times[(times >= 200.0) & (times < 600.0)])
        assert train.t_start == 200.0 * pq.ms and train.t_stop == 600.0 * pq.ms
    # A node beyond the spikes in the file still gets its (empty) train.
    (beyond,) = sa.to_neo_spiketrains(rich_file.path, "inp", node_ids=[2])
    np.testing.assert_array_equal(beyond.magnitude, [500.25])


def test_times_convert_to_other_units(rich_file):
    (train, *_) = sa.to_neo_spiketrains(rich_file.path, "inp")
    np.testing.assert_allclose(train.rescale(pq.s).magnitude, [0.010, 0.2505, 0.9])


def test_block_holds_every_population_in_one_segment(rich_file):
    block = sa.to_neo_block(rich_file.path)
    assert block.annotations == {"seed": 7, "settle_version": "0.1.0", "complete": True}
    (segment,) = block.segments
    assert len(segment.spiketrains) == sum(rich_file.sizes.values())
    assert [g.name for g in block.groups] == ["exc", "inp", "quiet"]  # /spikes order (HDF5: by name)
    for group in block.groups:
        assert [t.annotations["node_id"] for t in group.spiketrains] == list(range(rich_file.sizes[group.name]))
        for t in group.spiketrains:
            assert t.annotations["population"] == group.name and t.segment is segment
            np.testing.assert_array_equal(t.magnitude, node_times(rich_file, group.name, t.annotations["node_id"]))
    only = sa.to_neo_block(rich_file.path, populations=["inp"])
    assert len(only.segments[0].spiketrains) == 3


def test_unknown_population_is_a_settle_error(rich_file):
    with pytest.raises(sa.SettleAnalysisError, match="no spike population 'nope'"):
        sa.to_neo_spiketrains(rich_file.path, "nope")


def test_missing_neo_is_a_one_line_error(rich_file, monkeypatch):
    monkeypatch.setitem(sys.modules, "neo", None)  # import neo now raises ImportError
    with pytest.raises(sa.SettleAnalysisError, match="python3-neo"):
        sa.to_neo_spiketrains(rich_file.path, "inp")
