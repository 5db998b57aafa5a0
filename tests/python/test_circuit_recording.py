"""A circuit run on the event engine writes its spikes and state to the SONATA file, readable by
h5py and settle_analysis, and only within the recording window; bad [record] keys are refused."""
import json
import os
import signal
import subprocess
import sys
import time

import h5py
import numpy as np

from conftest import SETTLE, SOURCE

CIRCUIT = """
name = "moons_recording"
experiment = "circuit"
seed = 2
[task]
kind = "two_moons"
n_train = 200
n_test = 40
n_in = 6
[circuit]
mode = "spiking"
engine = "event"
hidden = [8]
streams = 3
[training]
presentations = {presentations}
checkpoints = 1
control_output_only = false
control_frozen = false
test_window_ms = 100.0
[record]
spikes = {spikes}
window_presentations = 6
weights = true
[[record.report]]
population = "layer1"
variables = ["U", "Vbar"]
nodes = [0, 1, 17]
dt_ms = 1.0
"""


def write(tmp_path, presentations=60, spikes='"all"'):
    path = tmp_path / "circuit.toml"
    path.write_text(CIRCUIT.format(presentations=presentations, spikes=spikes))
    return path


def test_circuit_spikes_and_reports_in_the_window(settle, tmp_path):
    out = tmp_path / "run.h5"
    proc = settle("run", write(tmp_path), "-o", out, "--quiet")
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    metrics = summary["metrics"]
    start = metrics["circuit_record_start_ms"]
    assert 0 < start < summary["simulated_ms"]
    with h5py.File(out, "r") as f:
        assert sorted(f["spikes"].keys()) == ["input", "layer1", "layer2"]
        sizes = {"input": 6, "layer1": 8, "layer2": 2}
        channels = {"input": 1, "layer1": 2, "layer2": 2}
        for name, n in sizes.items():
            t = f[f"spikes/{name}/timestamps"][:]
            ids = f[f"spikes/{name}/node_ids"][:]
            assert t.size > 100, name
            assert np.all(np.diff(t) >= 0), name                      # sorted by time
            assert t[0] >= start and t[-1] <= summary["simulated_ms"], name
            assert ids.min() >= 0 and ids.max() < n * channels[name] * 3, name  # 3 replicas
            assert np.unique(ids // (n * channels[name])).size == 3, name     # every replica fired
        # Without a teacher the two channels agree: in the recording window some somatic spikes
        # have no prediction twin only while a teacher or nudge acts (teacher onsets are recorded).
        assert len(metrics["circuit_teacher_onsets_ms"]) >= 1
        rep = f["report/layer1"]
        assert list(rep["mapping/node_ids"][:]) == [0, 1, 17]
        data = rep["data"][:]
        assert data.shape[1] == 6 and data.shape[0] > 10
        t0, t1, dt = rep["mapping/time"][:]
        assert dt == 1.0 and t0 >= start
        assert np.all(np.isfinite(data))
        # Weight snapshots at the one checkpoint equal the final weights (it is the last one).
        assert f["settle/arrays/W1_checkpoint_1"].shape == (8, 6)
        assert np.array_equal(f["settle/arrays/W2_checkpoint_1"][:], f["settle/arrays/W2"][:])
    # settle_analysis reads the same spikes.
    env = dict(os.environ, PYTHONPATH=str(SOURCE / "analysis"))
    code = ("import sys, settle_analysis as sa; f = sa.SettleFile(sys.argv[1]); "
            "print(len(f.spikes('layer1')), sorted(f.spike_populations))")
    read = subprocess.run([sys.executable if sys.executable.startswith("/usr/bin/") else "/usr/bin/python3", "-c", code,
                           str(out)], capture_output=True, text=True, env=env, check=True)
    with h5py.File(out, "r") as f:
        assert read.stdout.split()[0] == str(f["spikes/layer1/timestamps"].shape[0])
    info = settle("info", out).stdout
    assert "layer1:" in info and "finished at" in info


def test_circuit_plot_draws_the_raster(settle, tmp_path):
    out = tmp_path / "run.h5"
    settle("run", write(tmp_path), "-o", out, "--quiet")
    figures = tmp_path / "figures"
    proc = settle("plot", out, "--out", figures, "--what", "circuit")
    assert (figures / "circuit_raster.png").stat().st_size > 10_000, proc.stdout


def test_bad_record_keys_name_the_key_and_write_no_file(settle, tmp_path):
    out = tmp_path / "run.h5"
    proc = settle("run", write(tmp_path, spikes='["layer3"]'), "-o", out, check=False)
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("settle: error: "), proc.stderr
    assert "spikes" in lines[0] and "layer3" in lines[0] and "layer1" in lines[0], lines[0]
    assert not out.exists()
    stepped = tmp_path / "stepped.toml"
    stepped.write_text(CIRCUIT.format(presentations=60, spikes='"all"').replace('engine = "event"', 'engine = "stepped"'))
    proc = settle("run", stepped, "-o", out, check=False)
    assert proc.returncode == 2 and "engine" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_killed_circuit_run_leaves_a_readable_file(tmp_path):
    out = tmp_path / "run.h5"
    config = write(tmp_path, presentations=200000)
    text = config.read_text().replace("window_presentations = 6", "window_presentations = 199999")
    config.write_text(text.replace("[training]", "[output]\nflush_interval_s = 0.2\n[training]"))
    proc = subprocess.Popen([SETTLE, "run", str(config), "-o", str(out), "--quiet"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    deadline = time.time() + 60
    spikes = 0
    while time.time() < deadline and spikes == 0:
        time.sleep(0.5)
        try:
            with h5py.File(out, "r", swmr=True) as f:
                spikes = f["spikes/layer1/timestamps"].shape[0]
        except (OSError, KeyError):
            pass
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert spikes > 0
    with h5py.File(out, "r", swmr=True) as f:
        assert f["spikes/layer1/timestamps"].shape[0] >= spikes
        assert "complete" not in f["settle"].attrs


def test_learned_feedback_and_interneurons_are_recorded_like_layers(settle, tmp_path):
    # 'all' adds the feedback units (learned feedback) or interneurons (lateral nudge) after the
    # layers; a report on them reads their potentials; the circuit raster draws them too.
    for extra, population in (('feedback = "learned"', "feedback1"), ('nudge = "lateral"', "interneuron1")):
        config = tmp_path / f"{population}.toml"
        config.write_text(CIRCUIT.format(presentations=60, spikes='"all"')
                          .replace('engine = "event"', f'engine = "event"\n{extra}')
                          .replace('population = "layer1"', f'population = "{population}"'))
        out = tmp_path / f"{population}.h5"
        settle("run", config, "-o", out, "--quiet")
        with h5py.File(out, "r") as f:
            assert sorted(f["spikes"]) == sorted(["input", "layer1", "layer2", population])
            s = f["spikes"][population]
            assert len(s["timestamps"]) > 100 and s["node_ids"][()].max() < 3 * 2 * 8  # 3 replicas, 2 channels, 8 units
            report = f[f"report/{population}/data"][()]
            assert report.shape[1] == 3 * 2 and np.all(np.isfinite(report))  # nodes 0, 1, 17 x (U, Vbar)
        figures = tmp_path / f"figures_{population}"
        settle("plot", out, "--out", figures, "--what", "circuit")
        assert (figures / "circuit_raster.png").stat().st_size > 10_000
