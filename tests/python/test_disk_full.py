"""A full disk during a run: exit 3, one line naming the file, no crash; the file stays, is not
marked complete, opens in every reader, and what readers see of it was written (no zero rows
presented as data, no file end recorded beyond the real one).

Two ways to fill the disk: a file-size limit (RLIMIT_FSIZE with SIGXFSZ ignored; the write fails
with EFBIG), and, when running as root, a real 1 MiB tmpfs (the write fails with ENOSPC). The
limit is 1 MiB, not less, because settle reserves the space a flush can take before it writes
(the flush's data uncompressed, plus metadata) and refuses the flush when it does not fit: a
smaller limit ends the run before its first flush, which the contract allows but tests less."""
import os
import resource
import signal
import subprocess
import tempfile

import h5py
import numpy as np
import pytest

from conftest import SETTLE, SOURCE

sys_path = str(SOURCE / "analysis")
LIMIT = 1 << 20


def demo_args(out, recording):
    args = ["run", SOURCE / "examples" / "demo.toml", "--out", out, "-q", "--set", "simulation.duration_ms=400000",
            "--set", "output.flush_interval_s=0.05"]
    if not recording:
        args += ["--set", "record={spikes = \"all\"}"]
    return [SETTLE, *map(str, args)]


def run_with_file_limit(args, limit_bytes):
    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))
    return subprocess.run(args, capture_output=True, text=True, timeout=120, preexec_fn=limit)


def check_honest_incomplete_file(proc, out, recording):
    assert proc.returncode == 3, (proc.returncode, proc.stderr)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"settle: error: {out}: writing failed"), proc.stderr
    assert out.exists()
    info = subprocess.run([SETTLE, "info", out], capture_output=True, text=True, timeout=60)
    assert info.returncode == 0 and "INCOMPLETE" in info.stdout, info.stdout + info.stderr
    written = 0
    with h5py.File(out, "r", swmr=True) as f:  # fails on a recorded end beyond the real one
        assert "complete" not in f["settle"].attrs
        for population in ("inputs", "neuron"):
            ts = f[f"spikes/{population}/timestamps"][:]
            ids = f[f"spikes/{population}/node_ids"][:]
            assert len(ts) == len(ids)
            assert np.all(np.diff(ts) >= 0), "timestamps sorted"
            assert not np.any(ts == 0.0), "no never-written rows read as spikes at t = 0"
            written += len(ts)
    assert written > 0, "the flushes before the disk filled are in the file"
    if recording:
        import sys
        sys.path.insert(0, sys_path)
        import settle_analysis
        with settle_analysis.SettleFile(out) as f:
            report = f.report("neuron")
            assert len(report.times) > 0
            assert not np.any(np.all(report.values == 0.0, axis=1)), "only written rows are presented"


@pytest.mark.parametrize("recording", [False, True], ids=["spikes only", "spikes and reports"])
def test_file_size_limit_leaves_an_honest_incomplete_file(tmp_path, recording):
    out = tmp_path / "full.h5"
    proc = run_with_file_limit(demo_args(out, recording), LIMIT)
    check_honest_incomplete_file(proc, out, recording)
    assert out.stat().st_size <= LIMIT


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")
@pytest.mark.parametrize("recording", [False, True], ids=["spikes only", "spikes and reports"])
def test_full_tmpfs_leaves_an_honest_incomplete_file(recording):
    mount = tempfile.mkdtemp(prefix="settle-full-")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={LIMIT}", "tmpfs", mount], capture_output=True)
    if mounted.returncode != 0:
        os.rmdir(mount)
        pytest.skip("cannot mount a tmpfs here: " + mounted.stderr.decode().strip())
    try:
        from pathlib import Path
        out = Path(mount) / "full.h5"
        proc = subprocess.run(demo_args(out, recording), capture_output=True, text=True, timeout=120)
        assert "No space left on device" in proc.stderr, proc.stderr
        check_honest_incomplete_file(proc, out, recording)
    finally:
        subprocess.run(["umount", mount], check=False)
        os.rmdir(mount)
