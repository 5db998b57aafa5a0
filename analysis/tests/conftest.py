"""Shared fixtures: a settle-like file holding one of everything, written by hand with h5py."""

import numpy as np
import pytest

import sonata_files as sf

DURATION_MS = 1000.0
CONFIG = """seed = 7
[simulation]
duration_ms = 1000.0

[[population]]
name = "inp"
model = "spike_train_source"
times_ms = [[10.0, 250.5, 900.0], [], [500.25]]

[[population]]
name = "exc"
model = "urbanczik_senn"
size = 20

[[population]]
name = "quiet"
model = "urbanczik_senn"
size = 5
"""


class RichFile:
    """Everything written into the file, for the tests to compare against."""

    def __init__(self, path):
        rng = np.random.default_rng(12345)
        self.path = path
        self.spikes = {
            "inp": (np.array([10.0, 250.5, 500.25, 900.0]), np.array([0, 0, 2, 0])),
            "exc": sf.poisson_population(rng, 20, 15.0, DURATION_MS),
            "quiet": (np.zeros(0), np.zeros(0, dtype=np.int64)),
        }
        self.sizes = {"inp": 3, "exc": 20, "quiet": 5}
        self.state_dt, self.state_nodes = 0.5, [0, 3, 7]
        n_times = int(DURATION_MS / self.state_dt)
        self.state = rng.normal(size=(n_times, 2 * len(self.state_nodes))).astype(np.float32)
        self.weight_dt = 10.0
        n_syn, n_w = 30, int(DURATION_MS / self.weight_dt)
        self.weights = (0.5 + np.cumsum(rng.normal(0, 0.01, size=(n_w, n_syn)), axis=0)).astype(np.float32)
        self.metrics = {
            "learning_curve_mV": np.linspace(3.0, 0.5, 10),
            "learning_curve_mV_no_plasticity": np.full(10, 3.0),
            "train_loss": np.array([1.0, 0.6, 0.4, 0.3, 0.25]),
            "test_accuracy": np.array([0.93]),
            "window_dt_ms": np.array([20.0, -20.0, 5.0, -5.0, 0.0]),
            "window_dw": np.array([0.1, -0.05, 0.4, -0.3, 0.0]),
            "td_cosine": np.array([0.9, 0.5]),
            "td_ci_low": np.array([0.85, 0.4]),
            "td_ci_high": np.array([0.95, 0.6]),
            "update_angle_deg": np.array([30.0, 60.0, 10.0]),
        }
        self.array = rng.normal(size=(4, 6))

    def write(self, complete=True):
        with sf.open_sonata(self.path) as f:
            sf.write_settle_metadata(f, CONFIG, duration_ms=DURATION_MS, complete=complete, metrics=self.metrics,
                                     arrays={"w_final": self.array},
                                     spike_counts={p: len(ts) for p, (ts, _) in self.spikes.items()})
            for pop, (ts, ids) in self.spikes.items():
                sf.write_spikes(f, pop, ts, ids)
            sf.write_report(f, "exc", 0.0, self.state_dt, self.state, self.state_nodes, [0, 1],
                            ["U", "V_w"], ["mV", "mV"])
            sf.write_report(f, "inp->exc", 0.0, self.weight_dt, self.weights, list(range(self.weights.shape[1])),
                            [0], ["w"], ["1"], units="1")
        return self


@pytest.fixture
def rich_file(tmp_path):
    """A complete settle-like file with spikes, state and weight reports, metrics and arrays."""
    return RichFile(str(tmp_path / "run.h5")).write()
