"""Reading spikes, reports, metadata and metrics; laziness; bad input."""

import h5py
import numpy as np
import pytest

import settle_analysis as sa
import sonata_files as sf
from settle_analysis import io


def test_loads_every_population_exactly(rich_file):
    spikes = sa.load_spikes(rich_file.path)
    assert sorted(spikes) == sorted(rich_file.spikes)
    for pop, (ts, ids) in rich_file.spikes.items():
        np.testing.assert_array_equal(spikes[pop].timestamps, ts)
        np.testing.assert_array_equal(spikes[pop].node_ids, ids)
        assert spikes[pop].n_nodes == rich_file.sizes[pop]
        assert spikes[pop].sorting == "by_time"
        assert (spikes[pop].t_start, spikes[pop].t_stop) == (0.0, 1000.0)


def test_per_neuron_trains_include_silent_neurons(rich_file):
    inp = sa.load_spikes(rich_file.path, "inp")
    trains = inp.trains()
    assert len(trains) == 3
    np.testing.assert_array_equal(trains[0], [10.0, 250.5, 900.0])
    assert trains[1].size == 0
    np.testing.assert_array_equal(trains[2], [500.25])
    quiet = sa.load_spikes(rich_file.path, "quiet")
    assert len(quiet) == 0 and quiet.n_nodes == 5
    assert [t.size for t in quiet.trains()] == [0] * 5


def test_trains_of_chosen_nodes_are_time_sorted(rich_file):
    exc = sa.load_spikes(rich_file.path, "exc")
    ts, ids = rich_file.spikes["exc"]
    for node, train in zip([4, 0, 19], exc.trains([4, 0, 19])):
        np.testing.assert_array_equal(train, np.sort(ts[ids == node]))


def write_single(path, ts, ids, sorting, sorting_as, chunk=4096, with_magic=True):
    with (sf.open_sonata(path) if with_magic else h5py.File(path, "w")) as f:
        sf.write_spikes(f, "pop", ts, ids, sorting=sorting, sorting_as=sorting_as, chunk=chunk)


@pytest.mark.parametrize("sorting_as", ["enum", "string"])
def test_hand_made_file_with_either_kind_of_sorting_attribute(tmp_path, sorting_as):
    path = str(tmp_path / "other.h5")
    ts, ids = np.array([0.5, 1.5, 1.5, 7.0]), np.array([3, 1, 2, 3])
    with h5py.File(path, "w") as f:  # another simulator: no magic, no /settle
        sf.write_spikes(f, "v1", ts, ids, sorting="by_time", sorting_as=sorting_as)
        sf.write_spikes(f, "empty", [], [], sorting="by_time", sorting_as=sorting_as)
    with sa.SettleFile(path) as f:
        assert not f.is_settle_file
        assert f.metadata == sa.RunMetadata()
        assert f.sorting("v1") == "by_time" and f.sorting("empty") == "by_time"
        v1 = f.spikes("v1")
        np.testing.assert_array_equal(v1.timestamps, ts)
        np.testing.assert_array_equal(v1.node_ids, ids)
        assert v1.n_nodes == 4
        assert v1.t_stop > 7.0  # the window of a file without metadata ends just after its last spike
        empty = f.spikes("empty")
        assert len(empty) == 0 and empty.n_nodes == 0 and empty.trains() == []


def test_enum_sorting_values_are_read_by_name(tmp_path):
    path = str(tmp_path / "by_id.h5")
    write_single(path, [3.0, 1.0, 2.0], [0, 1, 1], "by_id", "enum")
    with sa.SettleFile(path) as f:
        assert f.sorting("pop") == "by_id"


@pytest.fixture(scope="module")
def big_population():
    """300k spikes of 1000 neurons at 10 Hz over 30 s, time-sorted."""
    return sf.poisson_population(np.random.default_rng(5), 1000, 10.0, 30_000.0)


class ReadCounter:
    """Counts the dataset elements h5py returns while installed."""

    def __init__(self, monkeypatch):
        self.elements = 0
        original = h5py.Dataset.__getitem__

        def counting(dataset, key, **kwargs):
            out = original(dataset, key, **kwargs)
            self.elements += np.size(out)
            return out

        monkeypatch.setattr(h5py.Dataset, "__getitem__", counting)


def test_time_window_reads_only_its_slice(tmp_path, big_population, monkeypatch):
    ts, ids = big_population
    path = str(tmp_path / "big.h5")
    write_single(path, ts, ids, "by_time", "enum")
    with sa.SettleFile(path) as f:
        counter = ReadCounter(monkeypatch)
        window = f.spikes("pop", t_start=12_000.0, t_stop=12_500.0)
        keep = (ts >= 12_000.0) & (ts < 12_500.0)
        np.testing.assert_array_equal(window.timestamps, ts[keep])
        np.testing.assert_array_equal(window.node_ids, ids[keep])
        # Two binary searches (one in-memory block each, plus single reads) and the slice itself.
        bound = 2 * (2 * (1 << 16) + 64) + 2 * keep.sum()
        assert counter.elements <= bound < ts.size


def test_bisection_matches_searchsorted(tmp_path, big_population):
    ts, ids = big_population
    path = str(tmp_path / "big.h5")
    write_single(path, ts, ids, "by_time", "enum")
    with h5py.File(path) as f:
        ds = f["spikes/pop/timestamps"]
        for value in [-1.0, 0.0, ts[0], ts[123_456], 15_000.0, ts[-1], 40_000.0]:
            for side in ("left", "right"):
                assert io._bisect_dataset(ds, value, 0, ts.size, side, block=1000) == np.searchsorted(ts, value, side)


@pytest.mark.parametrize("sorting", ["by_time", "by_id", "none"])
def test_node_and_time_selection_for_every_sorting(tmp_path, big_population, sorting):
    ts, ids = big_population
    order = {"by_time": np.arange(ts.size), "by_id": np.lexsort((ts, ids)),
             "none": np.random.default_rng(1).permutation(ts.size)}[sorting]
    ts, ids = ts[order], ids[order]
    path = str(tmp_path / f"{sorting}.h5")
    write_single(path, ts, ids, sorting, "string")
    nodes = [999, 3, 500]
    with sa.SettleFile(path) as f:
        got = f.spikes("pop", node_ids=nodes)
        keep = np.isin(ids, nodes)
        assert sorted(zip(got.timestamps, got.node_ids)) == sorted(zip(ts[keep], ids[keep]))
        got = f.spikes("pop", t_start=1000.0, t_stop=2000.0, node_ids=nodes)
        keep &= (ts >= 1000.0) & (ts < 2000.0)
        assert sorted(zip(got.timestamps, got.node_ids)) == sorted(zip(ts[keep], ids[keep]))
        got = f.spikes("pop", t_start=29_000.0)
        keep = ts >= 29_000.0
        assert sorted(zip(got.timestamps, got.node_ids)) == sorted(zip(ts[keep], ids[keep]))


def test_missing_sorting_attribute_means_none(tmp_path):
    path = str(tmp_path / "nosort.h5")
    write_single(path, [2.0, 1.0], [0, 0], "none", None)
    with sa.SettleFile(path) as f:
        assert f.sorting("pop") == "none"
        np.testing.assert_array_equal(f.spikes("pop", t_start=1.5).timestamps, [2.0])


def test_state_report_with_time_axis(rich_file):
    report = sa.load_report(rich_file.path, "exc")
    n_times = rich_file.state.shape[0]
    np.testing.assert_allclose(report.times, rich_file.state_dt * np.arange(n_times))
    np.testing.assert_array_equal(report.values, rich_file.state)
    assert report.element_names == ["U", "V_w"] * 3 and report.element_units == ["mV"] * 6
    np.testing.assert_array_equal(report.node_ids, [0, 0, 3, 3, 7, 7])
    np.testing.assert_array_equal(report.column(3, "V_w"), rich_file.state[:, 3])
    assert not report.is_weight
    with pytest.raises(sa.SettleAnalysisError, match="no element 'U' for node 5"):
        report.column(5, "U")


def test_report_selection_and_decimation(rich_file):
    with sa.SettleFile(rich_file.path) as f:
        layout = f.report_layout("exc")
        assert (layout.n_times, layout.dt, layout.elements) == (2000, 0.5, ["U", "V_w"])
        part = f.report("exc", t_start=100.0, t_stop=200.0, node_ids=[7], elements=["U"])
        np.testing.assert_allclose(part.times, np.arange(100.0, 200.0, 0.5))
        np.testing.assert_array_equal(part.values[:, 0], rich_file.state[200:400, 4])
        sparse = f.report("exc", max_samples=7)
        assert sparse.times.size <= 7
        assert sparse.times[0] == 0.0 and sparse.times[-1] == 999.5
        rows = (sparse.times / 0.5).astype(int)
        np.testing.assert_array_equal(sparse.values, rich_file.state[rows])
        node_sparse = f.report("exc", node_ids=[3], max_samples=7)
        np.testing.assert_array_equal(node_sparse.values, rich_file.state[rows][:, 2:4])
        ends = f.report("inp->exc", max_samples=2)
        np.testing.assert_array_equal(ends.values, rich_file.weights[[0, -1]])
        assert ends.is_weight and f.report_layout("inp->exc").is_weight


def test_element_names_fall_back_to_element_ids(tmp_path):
    path = str(tmp_path / "noname.h5")
    with sf.open_sonata(path) as f:
        sf.write_settle_metadata(f)
        sf.write_report(f, "pop", 1.0, 0.1, np.zeros((4, 4)), [0, 1], [0, 3])
    with sa.SettleFile(path) as f:
        layout = f.report_layout("pop")
        assert layout.element_names == ["U", "phi", "U", "phi"]
        assert layout.element_units == ["mV"] * 4
        np.testing.assert_allclose(layout.times, [1.0, 1.1, 1.2, 1.3])


def test_metadata_metrics_and_arrays(rich_file):
    meta = sa.load_metadata(rich_file.path)
    assert (meta.settle_version, meta.git_revision, meta.seed) == ("0.1.0", "abc1234", 7)
    assert meta.complete and meta.stop_reason == "finished" and meta.events == 12345
    assert meta.duration_ms == meta.simulated_ms == 1000.0
    assert meta.summary == {"status": "finished", "seed": 7}
    assert meta.spike_counts == {"inp": 4, "exc": len(rich_file.spikes["exc"][0]), "quiet": 0}
    assert meta.config_table()["population"][1] == {"name": "exc", "model": "urbanczik_senn", "size": 20}
    metrics = sa.load_metrics(rich_file.path)
    assert sorted(metrics) == sorted(rich_file.metrics)
    for name, values in rich_file.metrics.items():
        np.testing.assert_array_equal(metrics[name], values)
    with sa.SettleFile(rich_file.path) as f:
        assert f.array_names == ["w_final"] and f.array_shape("w_final") == (4, 6)
        np.testing.assert_array_equal(f.array("w_final"), rich_file.array)


def test_incomplete_file_warns_and_loads(rich_file):
    rich_file.write(complete=False)
    with pytest.warns(sa.IncompleteFileWarning, match="incomplete"):
        f = sa.SettleFile(rich_file.path)
    with f:
        assert f.metadata.complete is False and f.metadata.simulated_ms is None
        exc = f.spikes("exc")
        np.testing.assert_array_equal(exc.timestamps, rich_file.spikes["exc"][0])
        # The window ends with the last data in the file: the report's last sample.
        assert exc.t_stop == pytest.approx(1000.0)


@pytest.mark.parametrize("content, message", [
    (b"this is not HDF5\n", "not an HDF5 file"),
    (None, "no such file"),
])
def test_unreadable_files(tmp_path, content, message):
    path = tmp_path / "bad.h5"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(sa.SettleAnalysisError, match=message):
        sa.SettleFile(path)


def test_hdf5_that_is_not_sonata(tmp_path):
    path = str(tmp_path / "plain.h5")
    with h5py.File(path, "w") as f:
        f["x"] = np.arange(3)
    with pytest.raises(sa.SettleAnalysisError, match="not a settle/SONATA file"):
        sa.SettleFile(path)
    with h5py.File(path, "w") as f:
        f.attrs["magic"] = np.uint32(0x1234)
    with pytest.raises(sa.SettleAnalysisError, match="magic is 0x1234"):
        sa.SettleFile(path)


def test_missing_groups_are_named(rich_file):
    with sa.SettleFile(rich_file.path) as f:
        with pytest.raises(sa.SettleAnalysisError, match=r"no spike population 'inh' \(the file has: exc, inp, quiet"):
            f.spikes("inh")
        with pytest.raises(sa.SettleAnalysisError, match="no report 'nope'"):
            f.report("nope")
        with pytest.raises(sa.SettleAnalysisError, match="no array 'nope'"):
            f.array("nope")
