"""A full disk during a run (here a file size limit, RLIMIT_FSIZE with SIGXFSZ ignored): exit 3,
one line naming the file, no crash; the file stays, is not marked complete, and what readers see
of it was written (no zero rows presented as data)."""
import resource
import signal
import subprocess

import h5py
import numpy as np
import pytest

from conftest import SETTLE, SOURCE

sys_path = str(SOURCE / "analysis")


def run_with_file_limit(args, limit_bytes):
    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))
    return subprocess.run([SETTLE, *map(str, args)], capture_output=True, text=True, timeout=120, preexec_fn=limit)


@pytest.mark.parametrize("recording", [
    pytest.param(False, marks=pytest.mark.xfail(strict=True, reason=(
        "known failure: with spikes only, HDF5 has already recorded a file end beyond the limit when the "
        "write fails, and refuses to open the file ('truncated file'); the run itself exits 3 without a crash"))),
    True,
])
def test_full_disk_leaves_an_honest_incomplete_file(tmp_path, recording):
    out = tmp_path / "full.h5"
    args = ["run", SOURCE / "examples" / "demo.toml", "--out", out, "-q", "--set", "simulation.duration_ms=400000",
            "--set", "output.flush_interval_s=0.05"]
    if not recording:
        args += ["--set", "record={spikes = \"all\"}"]
    proc = run_with_file_limit(args, 200 * 1024)
    assert proc.returncode == 3, (proc.returncode, proc.stderr)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"settle: error: {out}: writing failed"), proc.stderr
    assert out.exists()
    info = subprocess.run([SETTLE, "info", out], capture_output=True, text=True, timeout=60)
    assert info.returncode == 0 and "INCOMPLETE" in info.stdout
    with h5py.File(out, "r", swmr=True) as f:
        assert "complete" not in f["settle"].attrs
        for population in ("inputs", "neuron"):
            ts = f[f"spikes/{population}/timestamps"][:]
            ids = f[f"spikes/{population}/node_ids"][:]
            assert len(ts) == len(ids)
            assert np.all(np.diff(ts) >= 0), "timestamps sorted"
            assert not np.any(ts == 0.0), "no never-written rows read as spikes at t = 0"
    if recording:
        import sys
        sys.path.insert(0, sys_path)
        import settle_analysis
        with settle_analysis.SettleFile(out) as f:
            report = f.report("neuron")
            assert len(report.times) > 0
            assert not np.any(np.all(report.values == 0.0, axis=1)), "only written rows are presented"
