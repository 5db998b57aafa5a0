"""`python3 -m settle_analysis plot|info`: default figure set, --what, index.html, bad input."""

import argparse
import os
import subprocess
import sys

import h5py
import numpy as np
import pytest

import sonata_files as sf
from settle_analysis import SettleFile, cli
from settle_analysis.cli import main

ANALYSIS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_FIGURES = ["raster", "traces_exc", "weights_inp_to_exc", "weight_hist_inp_to_exc", "learning",
                   "stdp_window", "angles"]


def run_module(*args, cwd):
    """Runs the command as users do: the package found through PYTHONPATH, from another directory."""
    env = dict(os.environ, PYTHONPATH=ANALYSIS_DIR)
    return subprocess.run([sys.executable, "-m", "settle_analysis", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_default_figure_set_from_another_directory(rich_file, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = run_module("plot", rich_file.path, cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    out_dir = os.path.join(os.path.dirname(rich_file.path), "run_figures")
    expected = [os.path.join(out_dir, f"{name}.png") for name in DEFAULT_FIGURES]
    expected.append(os.path.join(out_dir, "index.html"))
    assert result.stdout.splitlines() == expected
    for path in expected:
        assert os.path.getsize(path) > 0
    with open(expected[-1], encoding="utf-8") as f:
        page = f.read()
    for name in DEFAULT_FIGURES:
        assert f'<img src="{name}.png"' in page
    assert "settle 0.1.0 (abc1234)" in page and "<td>seed</td><td>7</td>" in page
    assert "report inp-&gt;exc" in page and "[[population]]" in page


def test_what_out_and_formats(rich_file, tmp_path, capsys):
    out = tmp_path / "figs"
    assert main(["plot", rich_file.path, "--out", str(out), "--what", "stdp,raster", "--format", "svg,pdf"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed == [str(out / name) for name in
                       ["stdp_window.svg", "stdp_window.pdf", "raster.svg", "raster.pdf", "index.html"]]
    page = (out / "index.html").read_text()
    assert '<img src="stdp_window.svg"' in page and '<a href="raster.pdf">' in page


def test_time_window_reaches_the_figures(rich_file):
    args = argparse.Namespace(t_start=200.0, t_stop=300.0)
    with SettleFile(rich_file.path) as f:
        ((_, _, raster),) = cli._figures(f, "raster", args)
        ((_, _, traces),) = cli._figures(f, "traces", args)
    assert raster.axes[0].get_xlim() == (200.0, 300.0)
    ts = rich_file.spikes["exc"][0]
    (exc,) = [c for c in raster.axes[0].collections if c.get_label() == "exc"]
    offsets = exc.get_offsets()
    np.testing.assert_array_equal(offsets[:, 0], ts[(ts >= 200.0) & (ts < 300.0)])
    np.testing.assert_allclose(traces.axes[0].lines[0].get_xdata(), np.arange(200.0, 300.0, 0.5))


def assert_one_line_error(stderr, *fragments):
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("settle-analysis: error: ")
    for fragment in fragments:
        assert fragment in lines[0]


def test_absent_figure_is_an_error_naming_it(tmp_path, capsys):
    path = str(tmp_path / "spikes_only.h5")
    with sf.open_sonata(path) as f:
        sf.write_spikes(f, "pop", [1.0], [0])
    assert main(["plot", path, "--what", "raster,weights,learning"]) == 2
    captured = capsys.readouterr()
    assert_one_line_error(captured.err, "cannot plot weights, learning", "no weight reports", "no learning metrics")
    assert captured.out == ""


def test_unknown_figure_kind(rich_file, capsys):
    assert main(["plot", rich_file.path, "--what", "rastr"]) == 2
    assert_one_line_error(capsys.readouterr().err, "unknown figure rastr (choose from prediction, raster, circuit, traces")


@pytest.mark.parametrize("kind", ["text", "plain_hdf5", "missing", "directory"])
def test_bad_files_give_one_line_and_exit_2(tmp_path, kind):
    path = tmp_path / "input.h5"
    if kind == "text":
        path.write_text("not HDF5\n")
    elif kind == "plain_hdf5":
        with h5py.File(path, "w") as f:
            f["x"] = np.arange(3)
    elif kind == "directory":
        path.mkdir()
    result = run_module("plot", str(path), cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    message = {"text": "not an HDF5 file", "plain_hdf5": "not a settle/SONATA file", "missing": "no such file",
               "directory": "is a directory"}[kind]
    assert_one_line_error(result.stderr, str(path), message)


def test_incomplete_file_warns_and_plots(rich_file, tmp_path, capsys):
    rich_file.write(complete=False)
    out = tmp_path / "figs"
    assert main(["plot", rich_file.path, "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        f"settle-analysis: warning: {rich_file.path}: incomplete (the run did not end cleanly); "
        "using the data up to its last flush"]
    # An incomplete file has no metrics (they are written at the clean end): spikes and reports only.
    assert [os.path.basename(p) for p in captured.out.splitlines()] == [
        "raster.png", "traces_exc.png", "weights_inp_to_exc.png", "weight_hist_inp_to_exc.png", "index.html"]
    assert "This file is incomplete" in (out / "index.html").read_text()


def test_info(rich_file):
    result = run_module("info", rich_file.path, cwd=os.path.dirname(rich_file.path))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["file", rich_file.path]
    text = "\n".join(lines)
    assert "finished at 1000 of 1000 ms" in text
    assert "spikes quiet" in text and "0 spikes, sorted by_time" in text
    assert "2000 samples x 6 columns (U, V_w) every 0.5 ms" in text
    assert "metric test_accuracy" in text and "0.93" in text


def test_large_file_raster_is_downsampled(tmp_path):
    from bench_large_raster import write_spike_file

    path = str(tmp_path / "large.h5")
    n_spikes = write_spike_file(path, n_neurons=2000, duration_ms=10_000.0, rate_hz=10.0)
    assert 190_000 < n_spikes < 210_000
    with SettleFile(path) as f:
        ((_, _, fig),) = cli._figures(f, "raster", argparse.Namespace(t_start=0.0, t_stop=10_000.0))
        ((_, _, default),) = cli._figures(f, "raster", argparse.Namespace(t_start=None, t_stop=None))
    ax = fig.axes[0]
    assert not ax.collections, "200k spikes must not be scattered one by one"
    (image,) = ax.images
    assert np.asarray(image.get_array()).sum() == n_spikes
    # By default (no pattern in the file): the last second in detail, the whole run below it.
    raster_ax, _, overview_ax = default.axes
    assert raster_ax.get_xlim() == (9000.0, 10_000.0) and overview_ax.get_xlim() == (0.0, 10_000.0)


def test_reports_without_samples_are_skipped(tmp_path, capsys):
    path = str(tmp_path / "just_started.h5")
    with sf.open_sonata(path) as f:
        sf.write_settle_metadata(f, complete=False)
        sf.write_spikes(f, "pop", [], [])
        sf.write_report(f, "pop", 0.0, 0.1, np.zeros((0, 2)), [0, 1], [0])
    assert main(["plot", path, "--out", str(tmp_path / "figs")]) == 0
    assert [os.path.basename(p) for p in capsys.readouterr().out.splitlines()] == ["raster.png", "index.html"]


def test_file_with_nothing_to_plot_still_gets_an_index(tmp_path, capsys):
    path = str(tmp_path / "empty.h5")
    with h5py.File(path, "w") as f:
        sf.write_spikes(f, "pop", [], [])
    assert main(["plot", path, "--out", str(tmp_path / "figs")]) == 0
    assert capsys.readouterr().out.splitlines() == [str(tmp_path / "figs" / "index.html")]
    assert "The file holds nothing to plot" in (tmp_path / "figs" / "index.html").read_text()


def test_dendritic_prediction_figure_comes_first_when_its_arrays_exist(tmp_path, capsys):
    path = str(tmp_path / "us.h5")
    n = 200
    arrays = {"U_M_mV": np.linspace(-70, -50, n)[None, :], "V_star_first_repetition_mV": np.full((1, n), -60.0),
              "V_star_last_repetition_mV": np.linspace(-69, -51, n)[None, :]}
    metrics = {"learning_curve_mV": np.linspace(8, 3, 10), "learning_curve_mV_no_plasticity": np.full(10, 9.0)}
    with sf.open_sonata(path) as f:
        sf.write_settle_metadata(f, config='experiment = "urbanczik_senn"\n[protocol]\nsample_dt_ms = 1.0\n',
                                 metrics=metrics, arrays=arrays)
    assert main(["plot", path, "--out", str(tmp_path / "figs")]) == 0
    assert [os.path.basename(p) for p in capsys.readouterr().out.splitlines()] == [
        "dendritic_prediction_fig1.png", "learning.png", "index.html"]
    with SettleFile(path) as f:
        ((_, _, fig),) = cli._figures(f, "prediction", argparse.Namespace(t_start=None, t_stop=None))
    np.testing.assert_allclose(fig.axes[0].lines[0].get_xdata(), np.arange(n) * 1.0)  # sample_dt_ms from the config
