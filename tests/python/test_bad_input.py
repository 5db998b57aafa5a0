"""Bad input: a one-line error naming the file, key and value; exit code 2; no output file."""
import pytest


def one_line(stderr):
    lines = [l for l in stderr.splitlines() if l.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("settle: error: ")
    return lines[0]


@pytest.mark.parametrize("override, words", [
    ("projection.inputs->neurons.delay_ms=-2.0", ["delay_ms", "-2"]),
    ("projection.inputs->neurons.connect={rule=\"fixed_probability\", p=1.5}", ["connect.p", "1.5"]),
    ("simulation.duration_ms=-1", ["duration_ms", "-1"]),
    ("projection.inputs->neurons.target=\"neuronz\"", ["neuronz", "did you mean 'neurons'"]),
    ("population.neurons.size=\"five\"", ["population.neurons.size", "five"]),
    ("population.neurons.modle=\"x\"", ["population.neurons.modle", "did you mean 'model'"]),
    ("record.spikes=[\"nope\"]", ["record.spikes", "nope"]),
    ("simulation.duration_ms=nan", ["simulation.duration_ms", "finite", "nan"]),
    ("population.inputs.rate_hz=inf", ["population.inputs.rate_hz", "finite", "inf"]),
    ("projection.inputs->neurons.weight={dist=\"normal\", mean=-inf, std=1.0}", ["weight.mean", "finite"]),
    ("population.inputs.schedule={times_ms=[0.0], rates_hz=[[nan]]}", ["population.inputs.schedule.rates_hz", "finite"]),
])
def test_bad_values(settle, small_config, tmp_path, override, words):
    out = tmp_path / "out.h5"
    proc = settle("run", small_config(), "--out", out, "--set", override, check=False)
    assert proc.returncode == 2, proc.stderr
    line = one_line(proc.stderr)
    for w in words:
        assert w in line
    assert not out.exists()
    val = settle("validate", small_config(), "--set", override, check=False)
    assert val.returncode == 2, val.stderr
    val_line = one_line(val.stderr)
    for w in words:
        assert w in val_line


def test_missing_config(settle, tmp_path):
    proc = settle("run", tmp_path / "nope.toml", "--out", tmp_path / "o.h5", check=False)
    assert proc.returncode == 2
    assert "nope.toml" in one_line(proc.stderr)
    assert not (tmp_path / "o.h5").exists()


def test_syntax_error(settle, tmp_path):
    cfg = tmp_path / "broken.toml"
    cfg.write_text("[simulation\nduration_ms = 1\n")
    proc = settle("run", cfg, "--out", tmp_path / "o.h5", check=False)
    assert proc.returncode == 2
    assert "broken.toml" in one_line(proc.stderr)


def test_unwritable_output(settle, small_config, tmp_path):
    proc = settle("run", small_config(), "--out", tmp_path / "no" / "such" / "dir" / "o.h5", check=False)
    assert proc.returncode == 2
    assert "does not exist" in one_line(proc.stderr)


def test_existing_output_needs_force(settle, small_config, tmp_path):
    out = tmp_path / "o.h5"
    out.write_bytes(b"precious")
    proc = settle("run", small_config(), "--out", out, check=False)
    assert proc.returncode == 2
    assert "--force" in one_line(proc.stderr)
    assert out.read_bytes() == b"precious"
    settle("run", small_config(), "--out", out, "--force", "--quiet")
    assert out.read_bytes()[:8] == b"\x89HDF\r\n\x1a\n"


def test_info_on_non_hdf5(settle, tmp_path):
    bad = tmp_path / "x.h5"
    bad.write_text("not hdf5")
    proc = settle("info", bad, check=False)
    assert proc.returncode == 2
    assert "not an HDF5 file" in one_line(proc.stderr)


def test_bad_cli_option(settle, small_config, tmp_path):
    out = tmp_path / "o.h5"
    proc = settle("run", small_config(), "--seed", "-4", "--out", out, check=False)
    assert proc.returncode == 2, proc.stderr
    first = proc.stderr.splitlines()[0]
    assert "--seed" in first and "-4" in first, proc.stderr
    assert not out.exists()


def test_bad_cli_option_is_one_line(settle, small_config):
    proc = settle("run", small_config(), "--seed", "-4", check=False)
    assert proc.returncode == 2
    line = one_line(proc.stderr)
    assert "--seed" in line and "-4" in line
