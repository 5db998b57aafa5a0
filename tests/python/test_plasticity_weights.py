"""Final weights of plastic projections: saved under /settle/weights/<projection>/, reloaded with
`weight = { from_file = ... }` bit for bit; a missing group or a size mismatch is a one-line
error with exit code 2."""
import h5py
import numpy as np
import pytest

PLASTIC = """
seed = 4
[simulation]
duration_ms = {duration}
[[population]]
name = "inputs"
model = "poisson_source"
size = 40
rate_hz = 20.0
[[population]]
name = "neurons"
model = "urbanczik_senn"
size = 4
teacher_exc = {{ kind = "sinusoid", mean = 160.0, amplitude = 140.0, period_ms = 100.0 }}
teacher_inh = {{ kind = "constant", value = 550.0 }}
[[projection]]
name = "learn"
source = "inputs"
target = "neurons"
receptor = "dendrite"
connect = {{ rule = "fixed_indegree", indegree = {indegree} }}
weight = {weight}
delay_ms = {{ dist = "uniform", low = 0.1, high = 2.0 }}
plasticity = {{ rule = "dendritic_prediction", eta = {eta}, w_min = -1000.0, w_max = 2000.0 }}
"""


def write(tmp_path, name, duration=500.0, indegree=25, weight='{ dist = "normal", mean = 100.0, std = 30.0 }', eta=0.5):
    path = tmp_path / f"{name}.toml"
    path.write_text(PLASTIC.format(duration=duration, indegree=indegree, weight=weight, eta=eta))
    return path


def saved(path, projection="learn"):
    with h5py.File(path, "r") as f:
        g = f[f"settle/weights/{projection}"]
        return g["source"][()], g["target"][()], g["weight"][()]


@pytest.fixture
def first_run(settle, tmp_path):
    out = tmp_path / "first.h5"
    settle("run", write(tmp_path, "first"), "--out", out)
    return out


def test_final_weights_reload_bit_for_bit(settle, tmp_path, first_run):
    src, tgt, w = saved(first_run)
    assert w.dtype == np.float64 and w.size == 4 * 25
    with h5py.File(first_run, "r") as f:  # learning moved the weights away from their start
        assert "settle/weights/learn" in f
    # The second run starts from the saved weights and does not learn (eta = 0): its final
    # weights are the loaded ones, in the same (source, target) pairing, bit for bit.
    out = tmp_path / "second.h5"
    config = write(tmp_path, "second", weight=f'{{ from_file = "{first_run}" }}', eta=0.0)
    settle("run", config, "--out", out)
    src2, tgt2, w2 = saved(out)
    np.testing.assert_array_equal(src2, src)
    np.testing.assert_array_equal(tgt2, tgt)
    assert w2.tobytes() == w.tobytes()


def test_learning_changes_the_weights(settle, tmp_path, first_run):
    # Against a run with eta = 0 from the same initial weights: the saved weights are the learnt
    # ones, not the initial ones (else the reload test would pass trivially).
    out = tmp_path / "frozen.h5"
    settle("run", write(tmp_path, "frozen", eta=0.0), "--out", out)
    w_learnt, w_initial = saved(first_run)[2], saved(out)[2]
    assert np.max(np.abs(w_learnt - w_initial)) > 1e-3


@pytest.mark.parametrize("weight, words", [
    ('{{ from_file = "{f}", projection = "nope" }}', ["from_file", "no saved weights", "'nope'"]),
    ('{{ from_file = "{f}" }}', ["from_file", "holds 100 weights", "has 40 connections"]),
    ('{{ from_file = "{f}.missing" }}', ["from_file", ".missing"]),
])
def test_bad_weight_file_is_one_line_exit_2(settle, tmp_path, first_run, weight, words):
    indegree = 10 if "projection" not in weight and "missing" not in weight else 25
    config = write(tmp_path, "bad", indegree=indegree, weight=weight.format(f=first_run))
    out = tmp_path / "bad.h5"
    proc = settle("run", config, "--out", out, check=False)
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("settle: error: ")
    for w in words:
        assert w in lines[0], lines[0]
    assert not out.exists()


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_saved_weight_is_refused(settle, tmp_path, first_run, bad):
    with h5py.File(first_run, "r+") as f:
        f["settle/weights/learn/weight"][7] = bad
    config = write(tmp_path, "bad", weight=f'{{ from_file = "{first_run}" }}')
    out = tmp_path / "bad.h5"
    proc = settle("run", config, "--out", out, check=False)
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "from_file" in lines[0] and "weight 7" in lines[0] and "not finite" in lines[0], lines
    assert not out.exists()


@pytest.mark.parametrize("plasticity", [
    '{ rule = "pre_post_derivative", pre = "trace", post = "rate", eta = 200.0 }',
    '{ rule = "pre_post_derivative", pre = "spikes", post = "rate", eta = 200.0 }',
    '{ rule = "pre_post_derivative", pre = "trace", post = "trace", eta = 200.0 }',
    '{ rule = "pair_stdp", A_plus = 1.0, A_minus = 1.05, w_min = -1000.0, w_max = 1000.0 }',
])
def test_every_rule_runs_from_the_config_and_saves_learnt_weights(settle, tmp_path, plasticity):
    text = PLASTIC.format(duration=500.0, indegree=25, weight="100.0", eta=0.0)
    text = text.replace('plasticity = { rule = "dendritic_prediction", eta = 0.0, w_min = -1000.0, w_max = 2000.0 }',
                        f"plasticity = {plasticity}")
    assert plasticity in text
    config = tmp_path / "rule.toml"
    config.write_text(text)
    out = tmp_path / "rule.h5"
    settle("run", config, "--out", out)
    w = saved(out)[2]
    assert w.size == 100 and np.all(np.isfinite(w))
    assert np.max(np.abs(w - 100.0)) > 1e-6
