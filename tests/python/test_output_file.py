"""The output file: SONATA layout, metadata, determinism, and survival of killed runs."""
import json
import os
import signal
import subprocess
import time

import h5py
import numpy as np
import pytest

from conftest import SETTLE


def test_sonata_layout(settle, small_config, tmp_path):
    out = tmp_path / "run.h5"
    proc = settle("run", small_config(), "--out", out, "--quiet")
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    with h5py.File(out, "r") as f:
        assert f.attrs["magic"] == 0x0A7A
        assert list(f.attrs["version"]) == [0, 1]
        for pop in ("inputs", "neurons"):
            g = f["spikes"][pop]
            sorting = g.attrs["sorting"]
            enum = h5py.check_enum_dtype(g.attrs.get_id("sorting").dtype)
            assert enum == {"none": 0, "by_id": 1, "by_time": 2}
            assert sorting == enum["by_time"]
            ts, ids = g["timestamps"], g["node_ids"]
            assert ts.dtype == np.float64 and ts.attrs["units"] in (b"ms", "ms")
            assert ids.dtype == np.uint64
            assert len(ts) == len(ids) == summary["spikes"][pop] > 0
            assert np.all(np.diff(ts[:]) >= 0)
            assert ts[:].min() >= 0 and ts[:].max() <= 500.0
        assert f["spikes/inputs/node_ids"][:].max() < 50
        rep = f["report/neurons"]
        data = rep["data"]
        assert data.dtype == np.float32 and data.shape == (501, 4)
        m = rep["mapping"]
        assert list(m["node_ids"][:]) == [0, 2]
        assert list(m["index_pointers"][:]) == [0, 2, 4]
        assert list(m["element_ids"][:]) == [0, 2, 0, 2]
        assert list(m["time"][:]) == [0.0, 501.0, 1.0]
        assert [n.decode() if isinstance(n, bytes) else n for n in data.attrs["element_names"]] == ["U", "V_star"] * 2
        meta = f["settle"]
        assert meta.attrs["complete"] == 1
        assert meta.attrs["seed"] == 3
        assert meta.attrs["events"] == summary["events"]
        assert "duration_ms = 500.0" in meta["config"][()].decode()
        assert json.loads(meta["summary"][()].decode()) == summary


def spike_arrays(path):
    with h5py.File(path, "r") as f:
        return {pop: (f["spikes"][pop]["timestamps"][:].tobytes(), f["spikes"][pop]["node_ids"][:].tobytes())
                for pop in f["spikes"]}


def report_arrays(path):
    with h5py.File(path, "r") as f:
        return {pop: f["report"][pop]["data"][:].tobytes() for pop in f["report"]}


def test_same_seed_same_spike_and_report_bytes(settle, small_config, tmp_path):
    # The datasets' bytes, not the file's: the file also holds its creation time and wall times.
    cfg = small_config()
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        settle("run", cfg, "--out", tmp_path / f"{name}.h5", "--seed", seed, "--quiet")
    a, b, c = (spike_arrays(tmp_path / f"{n}.h5") for n in "abc")
    assert a == b
    assert a["neurons"] != c["neurons"] and a["inputs"] != c["inputs"]
    ra, rb, rc = (report_arrays(tmp_path / f"{n}.h5") for n in "abc")
    assert ra and ra == rb and ra != rc


def wait_for_flushed_spikes(path, proc, timeout=60.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        assert proc.poll() is None, "run ended before it was killed"
        if path.exists():
            try:
                with h5py.File(path, "r", swmr=True) as f:
                    if f["spikes/neurons/timestamps"].shape[0] > 0:
                        return
            except (OSError, KeyError):
                pass
        time.sleep(0.1)
    raise AssertionError("no flush seen")


def test_killed_run_leaves_readable_incomplete_file(small_config, tmp_path):
    out = tmp_path / "killed.h5"
    cfg = small_config(duration=1e9, flush=0.2, n_inputs=2000, n_neurons=200)
    proc = subprocess.Popen([SETTLE, "run", cfg, "--out", out, "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for_flushed_spikes(out, proc)
        time.sleep(0.5)
    finally:
        proc.kill()
        proc.wait()
    # A killed SWMR writer leaves the file's "open for writing" flag set: SWMR readers (and
    # settle's own tools) open it as it is; `h5clear -s` clears the flag for other readers.
    with h5py.File(out, "r", swmr=True) as f:
        assert "complete" not in f["settle"].attrs
        ts = f["spikes/neurons/timestamps"][:]
        assert len(ts) > 0 and np.all(np.diff(ts) >= 0)
        assert len(f["spikes/neurons/node_ids"]) == len(ts)
        rows = f["report/neurons/data"].shape[0]
        t = f["report/neurons/mapping/time"][:]
        assert rows > 0 and t[1] == t[0] + rows * t[2]
    info = subprocess.run([SETTLE, "info", out], capture_output=True, text=True)
    assert info.returncode == 0 and "INCOMPLETE" in info.stdout


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_stop_signals_stop_cleanly(small_config, tmp_path, sig):
    # Ctrl-C, `timeout` / job schedulers (SIGTERM) and a closed terminal (SIGHUP) all stop the run
    # with a flush, an "interrupted" file and exit code 128 + the signal.
    out = tmp_path / "interrupted.h5"
    cfg = small_config(duration=1e9, flush=0.2, n_inputs=2000, n_neurons=200)
    proc = subprocess.Popen([SETTLE, "run", cfg, "--out", out, "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    wait_for_flushed_spikes(out, proc)
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 128 + sig, stderr
    summary = json.loads(stdout.strip().splitlines()[-1])
    assert summary["status"] == "interrupted"
    with h5py.File(out, "r") as f:
        assert f["settle"].attrs["complete"] == 1
        assert f["settle"].attrs["stop_reason"] in (b"interrupted", "interrupted")
        ts = f["spikes/neurons/timestamps"][:]
        assert len(ts) == summary["spikes"]["neurons"]
        assert ts.max() <= summary["simulated_ms"]


def test_info_summarises(settle, small_config, tmp_path):
    out = tmp_path / "run.h5"
    settle("run", small_config(), "--out", out, "--quiet")
    text = settle("info", out).stdout
    assert "complete: finished" in text and "neurons:" in text and "inputs:" in text


def test_demo_config_runs(settle, source_dir, tmp_path):
    out = tmp_path / "demo.h5"
    proc = settle("run", source_dir / "examples" / "demo.toml", "--out", out, "--quiet", "--set", "simulation.duration_ms=300")
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["status"] == "finished" and summary["simulated_ms"] == 300.0
    with h5py.File(out, "r") as f:
        assert f["report/neuron/data"].shape == (3001, 4)


def test_second_writer_on_one_path_is_refused(settle, small_config, tmp_path):
    # The first run holds an advisory lock on its file until it closes it; a second run on the
    # same path is refused before it truncates anything, with or without --force, while SWMR
    # readers still read the file.
    out = tmp_path / "shared.h5"
    cfg = small_config(duration=1e9, flush=0.2, n_inputs=2000, n_neurons=200)
    first = subprocess.Popen([SETTLE, "run", cfg, "--out", out, "--quiet"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        wait_for_flushed_spikes(out, first)
        for extra in (["--force"], []):
            second = settle("run", small_config(), "--out", out, "--quiet", *extra, check=False)
            assert second.returncode == 2, second.stderr
            message = second.stderr.strip()
            assert "another settle run is writing this file" in message or "exists" in message, message
            if extra:
                assert "another settle run" in message
        assert first.poll() is None, "the first run must not be disturbed"
        with h5py.File(out, "r", swmr=True) as f:  # the lock is invisible to readers
            assert f["spikes/neurons/timestamps"].shape[0] > 0
    finally:
        first.send_signal(signal.SIGINT)
        stdout, stderr = first.communicate(timeout=60)
    assert first.returncode == 128 + signal.SIGINT, stderr
    summary = json.loads(stdout.strip().splitlines()[-1])
    with h5py.File(out, "r") as f:
        assert f["settle"].attrs["complete"] == 1
        assert len(f["spikes/neurons/timestamps"]) == summary["spikes"]["neurons"]
    # Once the first run has closed its file, --force may overwrite it.
    assert settle("run", small_config(), "--out", out, "--quiet", "--force").returncode == 0
