import os
import pathlib
import subprocess

import pytest

SETTLE = os.environ.get("SETTLE_BIN", str(pathlib.Path(__file__).resolve().parents[2] / "build" / "settle"))
SOURCE = pathlib.Path(os.environ.get("SETTLE_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))


def run_settle(*args, check=True, timeout=120, **kw):
    proc = subprocess.run([SETTLE, *map(str, args)], capture_output=True, text=True, timeout=timeout, **kw)
    if check and proc.returncode != 0:
        raise AssertionError(f"settle {' '.join(map(str, args))} failed ({proc.returncode}):\n{proc.stderr}")
    return proc


@pytest.fixture
def settle():
    return run_settle


@pytest.fixture
def source_dir():
    return SOURCE


SMALL_NETWORK = """
seed = 3
[simulation]
duration_ms = {duration}
[output]
flush_interval_s = {flush}
[[population]]
name = "inputs"
model = "poisson_source"
size = {n_inputs}
rate_hz = 10.0
[[population]]
name = "neurons"
model = "urbanczik_senn"
size = {n_neurons}
[[projection]]
source = "inputs"
target = "neurons"
connect = {{ rule = "fixed_indegree", indegree = 20 }}
weight = {{ dist = "normal", mean = 300.0, std = 50.0 }}
delay_ms = {{ dist = "uniform", low = 0.0, high = 2.0 }}
[record]
spikes = "all"
[[record.report]]
population = "neurons"
variables = ["U", "V_star"]
nodes = [0, 2]
dt_ms = 1.0
"""


@pytest.fixture
def small_config(tmp_path):
    def make(duration=500.0, flush=5.0, n_inputs=50, n_neurons=5, extra=""):
        path = tmp_path / "net.toml"
        path.write_text(SMALL_NETWORK.format(duration=duration, flush=flush, n_inputs=n_inputs,
                                             n_neurons=n_neurons) + extra)
        return path
    return make
