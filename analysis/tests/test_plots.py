"""Each figure draws the data it was given (checked on the plotted arrays) and renders to a
non-empty image in every format."""

import io as bytes_io

import matplotlib

matplotlib.use("Agg")

import matplotlib.image  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402

import settle_analysis as sa  # noqa: E402
from settle_analysis import plots, stats  # noqa: E402
from sonata_files import poisson_population  # noqa: E402


def assert_renders(fig, tmp_path, name):
    """The figure renders to a PNG with visible content, and saves as PNG, PDF and SVG."""
    png = bytes_io.BytesIO()
    FigureCanvasAgg(fig).print_png(png)
    pixels = matplotlib.image.imread(bytes_io.BytesIO(png.getvalue()))
    assert pixels.shape[0] > 100 and pixels.shape[1] > 100
    assert (pixels[..., :3] < 0.9).any(), "image is blank"
    magic = {"png": b"\x89PNG", "pdf": b"%PDF", "svg": b"<?xml"}
    for fmt in plots.FIGURE_FORMATS:
        path = plots.save_figure(fig, tmp_path / f"{name}.{fmt}")
        with open(path, "rb") as f:
            assert f.read(5).startswith(magic[fmt])


def test_unknown_figure_format_is_refused(tmp_path):
    with pytest.raises(sa.SettleAnalysisError, match="unknown figure format 'jpg'"):
        plots.save_figure(plots.stdp_window([1.0], [1.0]), tmp_path / "x.jpg")


def test_raster_scatters_every_spike_with_population_offsets(rich_file, tmp_path):
    spikes = sa.load_spikes(rich_file.path)
    order = ["inp", "exc", "quiet"]
    fig = plots.raster([spikes[p] for p in order], rate_bin_ms=50.0)
    ax, ax_rate = fig.axes
    scatters = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert [c.get_label() for c in scatters] == order and not ax.images
    offset = 0
    for pop, collection in zip(order, scatters):
        ts, ids = rich_file.spikes[pop]
        expected = np.column_stack([ts, ids + offset + 0.5]).reshape(-1, 2)  # neuron i at row centre i + 0.5
        np.testing.assert_array_equal(collection.get_offsets(), expected)
        offset += rich_file.sizes[pop]
    assert ax.get_ylim() == (0, offset)
    assert [t.get_text() for t in ax.get_yticklabels()] == order
    for pop, line in zip(order, ax_rate.lines):
        edges, rate = stats.population_rate(rich_file.spikes[pop][0], rich_file.sizes[pop], 50.0, 0.0, 1000.0)
        np.testing.assert_allclose(line.get_xdata(), 0.5 * (edges[:-1] + edges[1:]))
        np.testing.assert_allclose(line.get_ydata(), rate)
    assert_renders(fig, tmp_path, "raster")


def test_raster_downsamples_to_a_count_image_when_points_would_overlap(tmp_path):
    ts, ids = poisson_population(np.random.default_rng(8), 2000, 10.0, 10_000.0)  # 200k spikes
    spikes = sa.Spikes("big", ts, ids, 2000, 0.0, 10_000.0)
    small = sa.Spikes("small", np.array([1.0, 2.0]), np.array([0, 1]), 2, 0.0, 10_000.0)
    fig = plots.raster({"big": spikes, "small": small})
    ax = fig.axes[0]
    assert not [c for c in ax.collections if isinstance(c, PathCollection)]
    counts = [np.asarray(im.get_array()) for im in ax.images]
    assert len(counts) == 2
    assert counts[0].sum() == ts.size and counts[1].sum() == 2
    box = ax.get_window_extent()
    assert counts[0].shape[1] == int(box.width)  # one column per pixel
    assert counts[0].shape[0] < 2000  # neighbouring neurons share a row
    # The 2-neuron population is stretched to MIN_BAND of the rows, so that it stays visible.
    np.testing.assert_allclose(ax.images[1].get_extent(), [0.0, 10_000.0, 2000, 2000 + plots.MIN_BAND * 2002])
    # Time bins: the spikes of the first 1/width of the run land in the first column.
    assert counts[0][:, 0].sum() == np.count_nonzero(ts < 10_000.0 / int(box.width))
    assert_renders(fig, tmp_path, "raster_image")


def test_raster_window_and_threshold():
    spikes = sa.Spikes("p", np.array([5.0, 15.0, 25.0]), np.array([0, 1, 2]), 3, 0.0, 30.0)
    fig = plots.raster(spikes, t_start=10.0, t_stop=20.0)
    np.testing.assert_array_equal(fig.axes[0].collections[0].get_offsets(), [[15.0, 1.5]])
    fig = plots.raster(spikes, max_points=2)
    assert np.asarray(fig.axes[0].images[0].get_array()).sum() == 3


def test_potential_traces_draw_each_node_and_element(rich_file, tmp_path):
    report = sa.load_report(rich_file.path, "exc")
    fig = plots.potential_traces(report)
    assert [ax.get_ylabel() for ax in fig.axes] == ["U (mV)", "V_w (mV)"]
    for e, ax in enumerate(fig.axes):
        assert [line.get_label() for line in ax.lines] == ["node 0", "node 3", "node 7"]
        for n, line in enumerate(ax.lines):
            np.testing.assert_allclose(line.get_xdata(), report.times)
            np.testing.assert_array_equal(line.get_ydata(), rich_file.state[:, 2 * n + e])
    fig = plots.potential_traces(report, node_ids=[7], elements=["V_w"])
    np.testing.assert_array_equal(fig.axes[0].lines[0].get_ydata(), rich_file.state[:, 5])
    assert_renders(fig, tmp_path, "traces")


def test_weight_trajectories_show_chosen_synapses_and_the_mean(rich_file, tmp_path):
    report = sa.load_report(rich_file.path, "inp->exc")
    fig = plots.weight_trajectories(report, max_synapses=4)
    lines = fig.axes[0].lines
    assert len(lines) == 5
    for line, column in zip(lines[:4], [0, 10, 19, 29]):  # evenly spread over 30 synapses
        np.testing.assert_array_equal(line.get_ydata(), rich_file.weights[:, column])
    np.testing.assert_allclose(lines[4].get_ydata(), rich_file.weights.mean(axis=1), rtol=1e-6)
    np.testing.assert_allclose(lines[4].get_xdata(), rich_file.weight_dt * np.arange(100))
    assert_renders(fig, tmp_path, "weights")
    with pytest.raises(sa.SettleAnalysisError, match="no weights"):
        plots.weight_trajectories(sa.load_report(rich_file.path, "exc"))


def test_weight_histogram_at_first_and_last_sample(rich_file, tmp_path):
    report = sa.load_report(rich_file.path, "inp->exc")
    fig = plots.weight_histogram(report, bins=10)
    ax = fig.axes[0]
    assert len(ax.containers) == 2
    first, last = rich_file.weights[0].astype(float), rich_file.weights[-1].astype(float)
    edges = np.histogram_bin_edges(np.concatenate([first, last]), 10)
    for bars, w in zip(ax.containers, (first, last)):
        heights = [patch.get_height() for patch in bars.patches]
        np.testing.assert_array_equal(heights, np.histogram(w, edges)[0])
        assert sum(heights) == 30
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["t = 0 ms", "t = 990 ms"]
    assert_renders(fig, tmp_path, "weight_hist")


def test_learning_curves(rich_file, tmp_path):
    metrics = sa.load_metrics(rich_file.path)
    fig = plots.learning_curves(metrics)
    curve_ax, loss_ax, acc_ax = fig.axes
    for line, name in zip(curve_ax.lines, ["learning_curve_mV", "learning_curve_mV_no_plasticity"]):
        assert line.get_label() == name
        np.testing.assert_array_equal(line.get_xdata(), np.arange(1, 11))
        np.testing.assert_array_equal(line.get_ydata(), rich_file.metrics[name])
    np.testing.assert_array_equal(loss_ax.lines[0].get_ydata(), rich_file.metrics["train_loss"])
    # A single test accuracy is drawn as a level across the panel.
    np.testing.assert_array_equal(acc_ax.lines[0].get_ydata(), [0.93, 0.93])
    assert acc_ax.lines[0].get_label() == "test_accuracy = 0.93"
    assert_renders(fig, tmp_path, "learning")
    only_loss = plots.learning_curves({"train_loss": np.array([2.0, 1.0])})
    assert len(only_loss.axes) == 1
    with pytest.raises(sa.SettleAnalysisError, match="no learning metrics"):
        plots.learning_curves({"td_cosine": np.array([1.0])})


def test_stdp_window_sorted_by_dt(rich_file, tmp_path):
    m = rich_file.metrics
    fig = plots.stdp_window(m["window_dt_ms"], m["window_dw"])
    (line,) = [ln for ln in fig.axes[0].lines if ln.get_label() == "window"]
    np.testing.assert_array_equal(line.get_xdata(), [-20.0, -5.0, 0.0, 5.0, 20.0])
    np.testing.assert_array_equal(line.get_ydata(), [-0.05, -0.3, 0.0, 0.4, 0.1])
    assert_renders(fig, tmp_path, "stdp")
    with pytest.raises(sa.SettleAnalysisError, match="as many dw as dt"):
        plots.stdp_window([1.0, 2.0], [1.0])


def test_angles_with_confidence_intervals(rich_file, tmp_path):
    fig = plots.angles(rich_file.metrics)
    cos_ax, angle_ax = fig.axes
    (cos_bars,) = cos_ax.containers
    data, (segments,) = cos_bars.lines[0], cos_bars.lines[2]
    np.testing.assert_array_equal(data.get_xdata(), [1, 2])
    np.testing.assert_array_equal(data.get_ydata(), [0.9, 0.5])
    np.testing.assert_allclose([s[:, 1] for s in segments.get_segments()], [[0.85, 0.95], [0.4, 0.6]])
    td_bars, update_bars = angle_ax.containers
    np.testing.assert_allclose(td_bars.lines[0].get_ydata(), np.degrees(np.arccos([0.9, 0.5])))
    np.testing.assert_allclose([np.sort(s[:, 1]) for s in td_bars.lines[2][0].get_segments()],
                               np.degrees(np.arccos([[0.95, 0.85], [0.6, 0.4]])))
    np.testing.assert_array_equal(update_bars.lines[0].get_ydata(), [30.0, 60.0, 10.0])
    assert_renders(fig, tmp_path, "angles")


def test_angles_from_angle_metric_alone():
    fig = plots.angles({"td_angle_deg": np.array([40.0]), "td_ci_low": np.array([35.0]),
                        "td_ci_high": np.array([50.0])})
    (ax,) = fig.axes
    (bars,) = ax.containers
    np.testing.assert_array_equal(bars.lines[0].get_ydata(), [40.0])
    np.testing.assert_allclose(bars.lines[2][0].get_segments()[0][:, 1], [35.0, 50.0])
    with pytest.raises(sa.SettleAnalysisError, match="no angle metrics"):
        plots.angles({"train_loss": np.array([1.0])})


def test_dendritic_prediction_learning_plots_teacher_predictions_and_curves(tmp_path):
    t = np.arange(2000) * 0.1
    u_m = -60.0 + 12.0 * np.sin(2 * np.pi * t / 100.0)
    first = -55.0 + np.cos(t)
    last = u_m + 0.5
    curve, curve0 = np.linspace(10.0, 4.0, 100), np.full(100, 12.0)
    fig = plots.plot_dendritic_prediction_learning(u_m[None, :], first[None, :], last[None, :], curve, curve0, dt_ms=0.1)
    ax_early, ax_late, ax_curve = fig.axes
    for ax, v in ((ax_early, first), (ax_late, last)):
        teacher, prediction = ax.lines
        np.testing.assert_allclose(teacher.get_xdata(), t)
        np.testing.assert_array_equal(teacher.get_ydata(), u_m)
        np.testing.assert_array_equal(prediction.get_ydata(), v)
        assert ax.get_xlabel() == "time in pattern (ms)"
        assert [text.get_text() for text in ax.get_legend().get_texts()] == ["teacher $U_M$", "prediction $V^*_w$"]
    assert ax_early.get_ylabel() == "potential (mV)"
    with_learning, without = ax_curve.lines
    np.testing.assert_array_equal(with_learning.get_xdata(), np.arange(1, 101))
    np.testing.assert_array_equal(with_learning.get_ydata(), curve)
    np.testing.assert_array_equal(without.get_ydata(), curve0)
    assert "mV" in ax_curve.get_ylabel() and ax_curve.get_xlabel() == "teacher repetition"
    assert_renders(fig, tmp_path, "fig1")
    # Without learning curves: the two trace panels only.
    assert len(plots.plot_dendritic_prediction_learning(u_m, first, last).axes) == 2
    with pytest.raises(sa.SettleAnalysisError, match="non-empty"):
        plots.plot_dendritic_prediction_learning([], first, last)
