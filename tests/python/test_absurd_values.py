"""Absurd but finite values: refused with a message naming the key or population (exit 2, no
file), never a hang, a crash or an early stop marked complete."""
import json
import signal
import subprocess
import time

import h5py
import pytest

from conftest import SETTLE, SOURCE

DEMO = SOURCE / "examples" / "demo.toml"


def one_error_line(proc):
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("settle: error: "), proc.stderr
    return lines[0]


def test_huge_population_is_refused_before_allocating(settle, tmp_path):
    out = tmp_path / "x.h5"
    proc = settle("run", DEMO, "--set", "population.inputs.size=1000000000000", "--out", out, check=False, timeout=30)
    assert proc.returncode == 2
    line = one_error_line(proc)
    assert "population.inputs.size" in line and "GB" in line
    assert not out.exists()


def test_huge_projection_is_refused_before_allocating(settle, tmp_path):
    proc = settle("validate", DEMO, "--set", "population.inputs.size=100000000", "--set", "population.neuron.size=100000",
                  check=False, timeout=30)
    assert proc.returncode == 2
    assert "projection.inputs->neuron.connect" in one_error_line(proc)


def test_runaway_weight_is_an_error_naming_the_population(settle, tmp_path):
    # 1e50 pA drives the soma so hard that the error-controlled integrator cannot advance.
    out = tmp_path / "x.h5"
    proc = settle("run", DEMO, "--set", "projection.inputs->neuron.weight=1e50", "--out", out, check=False, timeout=60)
    assert proc.returncode == 2
    line = one_error_line(proc)
    assert "population 'neuron'" in line and "weights" in line
    assert not out.exists()


def test_a_delay_beyond_the_run_delivers_nothing_and_the_run_goes_to_its_end(settle, tmp_path):
    out = tmp_path / "x.h5"
    base = json.loads(settle("run", DEMO, "--out", out, "-q", "--force").stdout.splitlines()[-1])
    for delay in ("1e9", "1e300"):
        proc = settle("run", DEMO, "--set", f"projection.inputs->neuron.delay_ms={delay}", "--out", out, "-q", "--force",
                      timeout=60)
        summary = json.loads(proc.stdout.splitlines()[-1])
        assert summary["status"] == "finished" and summary["simulated_ms"] == base["simulated_ms"]
        assert summary["spikes"]["inputs"] == base["spikes"]["inputs"], "inputs spike as without the delay"


# Values that make one step, one epoch or one test pass run for hours: found by the fuzz test's
# long form. Every loop that can run long checks the stop flag, so SIGINT ends them at once.
SHORT_CIRCUIT = ["--set", "training.presentations=64", "--set", "task.n_test=20", "--set", "task.n_train=50",
                 "--set", "training.checkpoints=1"]
ENDLESS = [
    ("circuit_moons.toml", "circuit.tau_ms=1e12"),  # rate mode: settling lasts 1e12 ms
    ("circuit_teacher_student.toml", "circuit.input_rate_hz=1e12"),  # event engine: 1e9 spikes per ms
    ("circuit_teacher_student.toml", "circuit.rate_max_hz=1e300"),
    ("circuit_teacher_student.toml", "circuit.synapse_tau_ms=1e300"),
    ("circuit_teacher_student.toml", "training.test_settle_ms=1e300"),  # the test pass never ends
]


@pytest.mark.parametrize("example, setting", ENDLESS)
def test_an_endless_circuit_run_stops_at_once_on_sigint(tmp_path, example, setting):
    out = tmp_path / "x.h5"
    engine = [] if example == "circuit_moons.toml" else ["--set", "circuit.mode=spiking", "--set", "circuit.engine=event"]
    proc = subprocess.Popen([SETTLE, "run", SOURCE / "examples" / example, *SHORT_CIRCUIT, *engine, "--set", setting,
                             "--out", out, "-q"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    assert proc.poll() is None, f"{setting}: ended by itself: {proc.communicate()[1]}"
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=10)  # a timeout here is the failure: unresponsive
    assert proc.returncode == 128 + signal.SIGINT, stderr
    assert json.loads(stdout.strip().splitlines()[-1])["status"] == "interrupted"
    with h5py.File(out, "r") as f:
        assert f["settle"].attrs["complete"] == 1
