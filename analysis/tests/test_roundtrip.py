"""Round trip through the simulator: explicit spike times in, the same spikes read back.

Needs the settle binary: SETTLE_BIN (ctest sets it), or build/settle of this source tree. A
missing binary fails the test: a round trip that silently does not run checks nothing.
"""

import os
import subprocess

import numpy as np
import pytest

import settle_analysis as sa

SETTLE_BIN = os.environ.get("SETTLE_BIN") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "build", "settle")


@pytest.fixture(autouse=True)
def _settle_binary_exists():
    assert os.path.isfile(SETTLE_BIN), f"no settle binary at {SETTLE_BIN}: build it (make build) or set SETTLE_BIN"

TIMES_MS = {
    "src": [[1.0, 5.5, 80.125], [], [0.5, 99.0, 99.5], [2.25]],
    "other": [[3.0], [4.0], [0.1 * k for k in range(1, 20)]],
}


def toml_rows(rows):
    return "[" + ", ".join("[" + ", ".join(repr(t) for t in row) + "]" for row in rows) + "]"


def test_explicit_spike_times_are_read_back_exactly(tmp_path):
    config = tmp_path / "roundtrip.toml"
    populations = "".join(
        f'\n[[population]]\nname = "{name}"\nmodel = "spike_train_source"\ntimes_ms = {toml_rows(rows)}\n'
        for name, rows in TIMES_MS.items())
    config.write_text(f'seed = 11\n[simulation]\nduration_ms = 100.0\n{populations}\n[record]\nspikes = "all"\n')
    out = tmp_path / "roundtrip.h5"
    run = subprocess.run([SETTLE_BIN, "run", str(config), "--out", str(out), "--force", "-q"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr

    with sa.SettleFile(out) as f:
        assert f.metadata.complete and f.metadata.seed == 11
        assert f.run_window() == (0.0, 100.0)
        assert sorted(f.spike_populations) == sorted(TIMES_MS)
        for name, rows in TIMES_MS.items():
            spikes = f.spikes(name)
            assert spikes.sorting == "by_time" and spikes.n_nodes == len(rows)
            assert np.all(np.diff(spikes.timestamps) >= 0)
            for train, expected in zip(spikes.trains(), rows):
                np.testing.assert_array_equal(train, expected)  # exact: the times are not rounded
            assert f.metadata.spike_counts[name] == sum(len(r) for r in rows)
