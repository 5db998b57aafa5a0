"""The learning circuit's parts written out in a config: pooled_poisson_source, two_channel_unit,
dense projections (given, drawn and tied matrices) and the dense rules, through the same
registries as every other model and rule."""
import h5py
import numpy as np
import pytest

CIRCUIT = """
seed = 4
[simulation]
duration_ms = 300.0
[[population]]
name = "input"
model = "pooled_poisson_source"
size = 3
replicas = 2
rate_max_hz = 800.0
rates = [0.9, 0.1, 0.5]
[[population]]
name = "hidden"
model = "two_channel_unit"
size = 4
replicas = 2
bias = [0.1, -0.2, 0.0, 0.3]
[[population]]
name = "output"
model = "two_channel_unit"
size = 2
replicas = 2
emission = "linear"
params = {{ lo = -1.0, hi = 1.0 }}
[[population]]
name = "other"
model = "urbanczik_senn"
size = 4
[[projection]]
name = "W1"
kind = "dense"
source = "input"
target = "hidden"
receptor = "dendrite"
weight = {{ dist = "normal", mean = 0.0, std = 2.0 }}
channel_gain = [0.0625]
plasticity = {{ rule = "lag_compensated", eta_per_ms = {eta} }}
[[projection]]
name = "W2"
kind = "dense"
source = "hidden"
target = "output"
receptor = "dendrite"
weights = [[0.5, -1.0, 0.25, 2.0], [-0.5, 1.0, 0.75, -2.0]]
channel_gain = [0.05, 0.0]
plasticity = {{ rule = "lag_compensated", eta_per_ms = {eta} }}
[[projection]]
name = "B1"
kind = "dense"
source = "output"
target = "hidden"
receptor = "nudge"
tied_to = "W2"
channel_gain = [0.1, -0.1]
[record]
spikes = "all"
"""


def run(settle, tmp_path, name, eta=1e-3, **kw):
    cfg = tmp_path / f"{name}.toml"
    cfg.write_text(CIRCUIT.format(eta=eta))
    out = tmp_path / f"{name}.h5"
    return settle("run", cfg, "--out", out, "-q", "--force", **kw), out


def channels(path, population, units, replicas=2):
    with h5py.File(path, "r") as f:
        t = f[f"spikes/{population}/timestamps"][:]
        n = f[f"spikes/{population}/node_ids"][:].astype(np.int64)
    channel = (n // units) % 2
    replica = n // (2 * units)
    unit = n % units
    return t, channel, replica, unit


def test_circuit_parts_from_a_config_run_and_both_channels_agree_without_teacher(settle, tmp_path):
    _, out = run(settle, tmp_path, "a")
    with h5py.File(out, "r") as f:
        assert f["spikes/input/timestamps"].shape[0] > 100
    for population, units in (("hidden", 4), ("output", 2)):
        t, channel, replica, unit = channels(out, population, units)
        assert len(t) > 50, population
        assert set(replica) == {0, 1}
        # No teacher: the nudge is 0 (U and Vbar stay bitwise equal), so every somatic spike has
        # its prediction twin at the same instant and unit.
        somatic = sorted(zip(t[channel == 0], replica[channel == 0], unit[channel == 0]))
        prediction = sorted(zip(t[channel == 1], replica[channel == 1], unit[channel == 1]))
        assert somatic == prediction, population
    # ... so the rule never changes a weight: the same spikes with learning off.
    _, frozen = run(settle, tmp_path, "b", eta=0.0)
    for population in ("input", "hidden", "output"):
        with h5py.File(out, "r") as a, h5py.File(frozen, "r") as b:
            assert np.array_equal(a[f"spikes/{population}/timestamps"][:], b[f"spikes/{population}/timestamps"][:])
            assert np.array_equal(a[f"spikes/{population}/node_ids"][:], b[f"spikes/{population}/node_ids"][:])


def test_same_seed_same_spikes_other_seed_others(settle, tmp_path):
    _, a = run(settle, tmp_path, "a")
    _, b = run(settle, tmp_path, "b")
    settle("run", tmp_path / "b.toml", "--out", tmp_path / "c.h5", "-q", "--force", "--seed", "5")
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb, h5py.File(tmp_path / "c.h5", "r") as fc:
        assert np.array_equal(fa["spikes/hidden/timestamps"][:], fb["spikes/hidden/timestamps"][:])
        assert not np.array_equal(fa["spikes/hidden/timestamps"][:], fc["spikes/hidden/timestamps"][:])


@pytest.mark.parametrize("change, key, message", [
    # a dense projection onto a model that takes no dense input
    (('target = "hidden"\nreceptor = "dendrite"', 'target = "other"\nreceptor = "dendrite"'), "target",
     "cannot take a dense projection"),
    # the tied matrix has the wrong shape for this projection
    (('tied_to = "W2"', 'tied_to = "W2"\ntranspose = false'), "tied_to", "matrix"),
    # a dense rule on a sparse projection
    (('name = "W1"\nkind = "dense"', 'name = "W1"\nkind = "sparse"'), "rule", "dense projections"),
    # a matrix row of the wrong length
    (("[[0.5, -1.0, 0.25, 2.0],", "[[0.5, -1.0, 0.25],"), "weights", "row 0"),
    # replicas that do not match
    (("size = 4\nreplicas = 2", "size = 4\nreplicas = 3"), "target", "replicas"),
    # a rate fraction outside [0, 1]
    (("rates = [0.9, 0.1, 0.5]", "rates = [0.9, 1.5, 0.5]"), "rates", "[0, 1]"),
    # soma coupling to a population defined later (or to one of another size)
    (("bias = [0.1, -0.2, 0.0, 0.3]", 'bias = [0.1, -0.2, 0.0, 0.3]\ncouple_soma_to = { population = "output", g = 0.3 }'),
     "population", "no earlier population"),
    # a channel gain per source channel
    (("channel_gain = [0.05, 0.0]", "channel_gain = [0.05]"), "channel_gain", "one gain per channel"),
])
def test_bad_dense_configs_name_the_key(settle, tmp_path, change, key, message):
    cfg = tmp_path / "bad.toml"
    text = CIRCUIT.format(eta=1e-3)
    assert change[0] in text
    cfg.write_text(text.replace(change[0], change[1], 1))
    out = tmp_path / "bad.h5"
    proc = settle("run", cfg, "--out", out, "-q", check=False)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and key in lines[0] and message in lines[0], proc.stderr
    assert not out.exists()
