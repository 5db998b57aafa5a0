"""Seeded fuzzing of the example configs against the exit-code contract (docs/file-format.md).

Every key an example reads (from `settle keys --json`) is a target; a case sets one key to a
hostile value (NaN, infinities, huge, negative, zero, a string, an empty array or table) on top
of a run shortened with --set, then runs `settle validate` and `settle run` under a memory limit.
The contract: exit 0 with a complete file, or exit 2 with one line naming the problem and no
file; never another code, a crash, a traceback or an unresponsive process (a run still going
after its time limit must stop cleanly on SIGINT, exit 130, with its file complete).

ctest runs a short form of 200 cases (`fuzz_configs`, in `make test` and, under ASan+UBSan, in
`make sanitize`) and a long form of 800 (`fuzz_configs_long`, label `long`); SETTLE_FUZZ_CASES=N
sets the number by hand.
"""
import json
import os
import random
import resource
import signal
import subprocess

import h5py
import pytest

from conftest import SETTLE, SOURCE

CASES = int(os.environ.get("SETTLE_FUZZ_CASES", "200"))
TIME_LIMIT_S = 20.0
MEMORY_LIMIT = 4 << 30  # bytes of address space; not under ASan, which reserves terabytes

# Example -> overrides that make a run short; the mutation comes after them, so it wins.
EXAMPLES = {
    "demo.toml": ["simulation.duration_ms=100"],
    "urbanczik_senn.toml": ["protocol.repetitions=3"],
    "stdp_window.toml": ["protocol.repetitions=2", "protocol.dt_step_ms=50"],
    "circuit_moons.toml": ["training.presentations=64", "task.n_test=20", "task.n_train=50", "training.checkpoints=1"],
    "circuit_teacher_student.toml": ["training.presentations=64", "task.n_test=20", "task.n_train=50",
                                     "training.checkpoints=1", "circuit.mode=spiking", "circuit.engine=event"],
}
HOSTILE = ["nan", "inf", "-inf", "1e300", "-1e300", "1e12", "-1", "0", '"text"', "[]", "{}", "true", "-0.5"]


def under_asan():
    try:
        return b"__asan_init" in open(SETTLE, "rb").read()
    except OSError:
        return False


def limits():
    if not under_asan():
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def keys_of(example):
    config = SOURCE / "examples" / example
    out = subprocess.run([SETTLE, "keys", config, "--json", *sum((["--set", o] for o in EXAMPLES[example]), [])],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return [r["key"] for r in json.loads(out.stdout) if r["key"] not in ("seed", "name", "experiment")]


def cases():
    rng = random.Random(20261201)
    targets = [(example, key) for example in EXAMPLES for key in keys_of(example)]
    return [(*rng.choice(targets), rng.choice(HOSTILE)) for _ in range(CASES)]


def check_contract(proc_code, stderr, out, what):
    lines = [line for line in stderr.splitlines() if line.strip() and not line.startswith("[")]  # no progress bar with -q
    assert "Traceback" not in stderr and "internal error" not in stderr, f"{what}: {stderr}"
    if proc_code == 2:
        assert len(lines) == 1 and lines[0].startswith("settle: error: "), f"{what}: {stderr}"
        assert out is None or not out.exists(), f"{what}: exit 2 left a file"
    else:
        assert proc_code == 0, f"{what}: exit {proc_code}: {stderr}"


@pytest.mark.parametrize("example, key, value", cases())
def test_hostile_value_keeps_the_contract(tmp_path, example, key, value):
    config = SOURCE / "examples" / example
    sets = sum((["--set", o] for o in EXAMPLES[example] + [f"{key}={value}"]), [])
    what = f"{example} --set {key}={value}"
    val = subprocess.run([SETTLE, "validate", config, *sets], capture_output=True, text=True, timeout=60,
                         preexec_fn=limits)
    check_contract(val.returncode, val.stderr, None, "validate " + what)
    out = tmp_path / "out.h5"
    proc = subprocess.Popen([SETTLE, "run", config, *sets, "--out", out, "-q"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=limits)
    try:
        stdout, stderr = proc.communicate(timeout=TIME_LIMIT_S)
    except subprocess.TimeoutExpired:
        # Long is allowed (the value may ask for it); unresponsive is not.
        proc.send_signal(signal.SIGINT)
        try:
            stdout, stderr = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()  # never leave it running (it would slow every later test and benchmark)
            proc.communicate()
            raise AssertionError(f"{what}: still running 30 s after SIGINT") from None
        assert proc.returncode == 128 + signal.SIGINT, f"{what}: after SIGINT exit {proc.returncode}: {stderr}"
        with h5py.File(out, "r") as f:
            assert f["settle"].attrs["complete"] == 1
        return
    check_contract(proc.returncode, stderr, out, "run " + what)
    if proc.returncode == 0:
        assert val.returncode == 0, f"{what}: validate refused what run accepted: {val.stderr}"
        with h5py.File(out, "r") as f:
            assert f["settle"].attrs["complete"] == 1
        assert json.loads(stdout.strip().splitlines()[-1])["status"] == "finished"
    # (run may refuse what validate accepted: some inputs show they are out of range only when
    # simulated, e.g. a weight that drives a soma beyond what can be integrated; it still exits 2
    # with no file.)"


# --- Data files. The readers' inputs are mutated too: a Fashion-MNIST IDX file with bytes
# overwritten, truncated or extended (header or body, gzip or plain), and a weights file whose
# saved datasets have the wrong shape, type or values. `settle validate` reads the data before
# anything else, so the contract is checked on it (and `settle run` on the weight files, which
# are small).
DATA_CASES = int(os.environ.get("SETTLE_FUZZ_DATA_CASES", "12"))
FMNIST = "/usr/share/datasets/fashion-mnist"
IDX_FILES = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
             "t10k-labels-idx1-ubyte.gz"]


def idx_mutations():
    rng = random.Random(20261202)
    out = []
    for _ in range(DATA_CASES):
        name = rng.choice(IDX_FILES)
        kind = rng.choice(["header_byte", "body_byte", "truncate", "extend", "plain"])
        out.append((name, kind, rng.randrange(1 << 30)))
    return out


def mutate_idx(raw, kind, r):
    rng = random.Random(r)
    data = bytearray(raw)
    if kind == "header_byte":  # magic, type, rank or a dimension
        data[rng.randrange(16)] = rng.randrange(256)
    elif kind == "body_byte":
        for _ in range(8):
            data[rng.randrange(16, len(data))] = rng.randrange(256)
    elif kind == "truncate":
        data = data[:rng.randrange(len(data))]
    elif kind == "extend":
        data += bytes(rng.randrange(1, 4096))
    return bytes(data)


@pytest.mark.parametrize("name, kind, r", idx_mutations())
def test_mutated_idx_file_keeps_the_contract(tmp_path, name, kind, r):
    # The set-up installs the dataset (.ci/install-deps): without it this is a broken set-up, not a skip.
    assert os.path.isdir(FMNIST), f"{FMNIST} is missing: run .ci/install-deps (Debian package dataset-fashion-mnist)"
    import gzip
    d = tmp_path / "data"
    d.mkdir()
    for f in IDX_FILES:
        if f != name:
            (d / f).symlink_to(f"{FMNIST}/{f}")
    raw = gzip.decompress(open(f"{FMNIST}/{name}", "rb").read())
    mutated = mutate_idx(raw, kind, r)
    if kind == "plain":  # the readers take plain IDX files as well as gzip ones
        (d / name).write_bytes(gzip.compress(mutated[:-1], compresslevel=1))
    else:
        (d / name).write_bytes(gzip.compress(mutated, compresslevel=1))
    what = f"{name} {kind} {r}"
    val = subprocess.run([SETTLE, "validate", SOURCE / "examples" / "fmnist_bp.toml", "--set", f'data.dir="{d}"'],
                         capture_output=True, text=True, timeout=120, preexec_fn=limits)
    check_contract(val.returncode, val.stderr, None, "validate " + what)
    if val.returncode == 2:
        assert "train-" in val.stderr or "t10k-" in val.stderr, f"{what}: the message names no file: {val.stderr}"


WEIGHTS_NETWORK = """
seed = 4
[simulation]
duration_ms = 50
[[population]]
name = "inputs"
model = "poisson_source"
size = 20
rate_hz = 20.0
[[population]]
name = "neurons"
model = "urbanczik_senn"
size = 3
[[projection]]
name = "learn"
source = "inputs"
target = "neurons"
receptor = "dendrite"
connect = {{ rule = "fixed_indegree", indegree = 5 }}
weight = {weight}
plasticity = {{ rule = "dendritic_prediction", eta = 0.1 }}
"""
WEIGHT_MUTATIONS = ["nan", "inf", "short", "long", "int", "2d", "strings", "empty", "target_range", "source_range"]


@pytest.mark.parametrize("mutation", WEIGHT_MUTATIONS)
def test_mutated_weights_file_keeps_the_contract(tmp_path, mutation):
    import numpy as np
    first = tmp_path / "first.toml"
    first.write_text(WEIGHTS_NETWORK.format(weight="100.0"))
    saved = tmp_path / "saved.h5"
    proc = subprocess.run([SETTLE, "run", first, "--out", saved, "-q"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    with h5py.File(saved, "r+") as f:
        g = f["settle/weights/learn"]
        w = g["weight"][()]
        replace = {
            "nan": ("weight", np.where(np.arange(w.size) == 3, np.nan, w)),
            "inf": ("weight", np.where(np.arange(w.size) == 0, np.inf, w)),
            "short": ("weight", w[:-1]),
            "long": ("weight", np.concatenate([w, w])),
            "int": ("weight", w.astype(np.int32)),
            "2d": ("weight", w.reshape(1, -1)),
            "strings": ("weight", np.array([b"x"] * w.size)),
            "empty": ("weight", w[:0]),
            "target_range": ("target", np.full(g["target"].shape, 10 ** 6, dtype=g["target"].dtype)),
            "source_range": ("source", np.full(g["source"].shape, -1, dtype=np.int64)),
        }[mutation]
        del g[replace[0]]
        g[replace[0]] = replace[1]
    second = tmp_path / "second.toml"
    second.write_text(WEIGHTS_NETWORK.format(weight=f'{{ from_file = "{saved}" }}'))
    out = tmp_path / "out.h5"
    what = f"weights file, {mutation}"
    val = subprocess.run([SETTLE, "validate", second], capture_output=True, text=True, timeout=60, preexec_fn=limits)
    check_contract(val.returncode, val.stderr, None, "validate " + what)
    proc = subprocess.run([SETTLE, "run", second, "--out", out, "-q"], capture_output=True, text=True, timeout=60,
                          preexec_fn=limits)
    check_contract(proc.returncode, proc.stderr, out, "run " + what)
    if mutation == "int":  # integers convert to weights exactly: a valid file
        return
    assert proc.returncode == 2, f"{what}: a broken weights file was accepted"
    assert str(saved) in proc.stderr or "saved.h5" in proc.stderr, f"{what}: the message names no file: {proc.stderr}"
