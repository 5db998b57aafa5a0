"""`settle run` ends with a summary for people on a terminal and with one JSON line otherwise."""
import json

from conftest import SETTLE, SOURCE
from terminal import run_on_pty


def run_on_terminal(*args, timeout=60):
    """Runs settle with stdout on a pseudo-terminal; returns (exit code, what it printed)."""
    code, text = run_on_pty([SETTLE, *args], "stdout", timeout)
    return code, text.replace("\r\n", "\n")


def test_terminal_gets_a_human_summary(tmp_path):
    out = tmp_path / "demo.h5"
    code, text = run_on_terminal("run", SOURCE / "examples" / "demo.toml", "--out", out, "-q",
                                 "--set", "simulation.duration_ms=500")
    assert code == 0
    lines = text.strip().splitlines()
    assert lines[0].startswith("settle: finished, 500 ms simulated in ")
    assert " events" in lines[0]
    spikes = next(line for line in lines if line.strip().startswith("spikes:"))
    assert "inputs " in spikes and "neuron " in spikes
    assert lines[-1].strip().startswith(f"output: {out}")
    assert not any(line.lstrip().startswith("{") for line in lines), "no JSON on a terminal"


def test_json_flag_and_pipes_keep_the_json_line(tmp_path, settle):
    out = tmp_path / "demo.h5"
    code, text = run_on_terminal("run", SOURCE / "examples" / "demo.toml", "--out", out, "-q", "--json",
                                 "--set", "simulation.duration_ms=500")
    assert code == 0
    summary = json.loads(text.strip().splitlines()[-1])
    assert summary["status"] == "finished" and summary["simulated_ms"] == 500.0
    piped = settle("run", SOURCE / "examples" / "demo.toml", "--out", out, "-q", "--force",
                   "--set", "simulation.duration_ms=500")
    assert json.loads(piped.stdout.strip().splitlines()[-1])["spikes"] == summary["spikes"]


def test_circuit_summary_names_the_task_and_metrics(tmp_path):
    out = tmp_path / "moons.h5"
    code, text = run_on_terminal("run", SOURCE / "examples" / "circuit_moons.toml", "--out", out, "-q",
                                 "--set", "training.presentations=100", "--set", "task.n_test=20")
    assert code == 0
    assert "task two_moons" in text and "mode rate" in text
    assert "test_accuracy " in text
    assert "test_error_curve" in text.splitlines()[-2], "array metrics are named, not printed"


def stderr_on_terminal(*args, timeout=120):
    """Runs settle with stderr on a pseudo-terminal (stdout to /dev/null); returns (exit code, stderr text)."""
    return run_on_pty([SETTLE, *args], "stderr", timeout)


def test_progress_bar_on_a_terminal_and_not_with_quiet(tmp_path):
    # README: "A progress bar goes to stderr (-q turns it off)". It redraws every 100 ms of wall
    # time, so the run must last longer than that: the demo network over 200 s of simulated time.
    args = ["run", SOURCE / "examples" / "demo.toml", "--out", tmp_path / "demo.h5", "--force",
            "--set", "simulation.duration_ms=200000"]
    code, text = stderr_on_terminal(*args)
    assert code == 0
    assert "%" in text and "ev/s" in text and "s left" in text and "[#" in text, f"no progress bar in {text[:300]!r}"
    code, text = stderr_on_terminal(*args, "-q")
    assert code == 0
    assert "ev/s" not in text and "%" not in text, f"-q still draws: {text[:300]!r}"
