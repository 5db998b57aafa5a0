"""The numbers of docs/results.md, re-measured: one test per documented row or table.

Each claim runs the command its section of docs/results.md gives (same config, keys and seeds)
and checks two things:
  - the claim the number supports, at the precision the document states it (an acceptance
    bound, "below its output-only control", "within 15 %", "mean over seeds 1-5 at least 92 %");
  - that the documented number itself still comes out, within a tolerance that is written next
    to it with its reason. A run is deterministic for a seed and a commit, so the tolerance only
    has to cover changes of the code that alter rounding or the use of random numbers: for the
    spiking circuit, whose spikes any such change redraws, two seed-to-seed standard deviations
    of the quantity (measured over seeds 1-5 and documented beside it), divided by sqrt(seeds)
    for a mean; for the rate mode, which draws no spikes, 1 % of an error or 0.3 points of an
    accuracy. A failure here means the document no longer describes the code: re-measure and
    update the row (its command is beside it), or find the regression.
The document names each row's test id, e.g. `documented_results[spiking-moons-5-seeds]`.

These runs take from a minute (rate mode) to an hour (one Fashion-MNIST epoch): ctest label
`long` (`make test LONG=1`, or `ctest -L long -R documented_results`). One claim:
`/usr/bin/python3 -m pytest tests/results -k 'rate-task1-random'`.
"""
import json
import math
import os
import pathlib
import statistics
import subprocess

import pytest

SETTLE = os.environ.get("SETTLE_BIN", str(pathlib.Path(__file__).resolve().parents[2] / "build" / "settle"))
SOURCE = pathlib.Path(os.environ.get("SETTLE_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))

TS = "examples/circuit_teacher_student.toml"
MOONS = "examples/circuit_moons.toml"
FMNIST = "examples/circuit_fmnist.toml"
SPIKING = ["circuit.mode=spiking"]
EVENT = SPIKING + ["circuit.engine=event"]
STEPPED = SPIKING + ["circuit.engine=stepped"]
ONE_PASS = ["training.checkpoints=1", "training.control_frozen=false"]

# Seed-to-seed standard deviations of the spiking circuit (docs/results.md, "Tasks 1 and 2, seeds
# 1-5"; the larger of the two engines'): moons accuracy 1.7 points; task 1 final MSE as a fraction
# of the initial 1.1 points of a percent.
SD_MOONS = 0.017
SD_TS_FRACTION = 0.011
# Rate mode: deterministic, no spikes; the tolerance covers rounding changes only.
RATE_REL = 0.01
RATE_ACC = 0.003

_cache = {}


def run(config, sets=(), seed=1):
    """One `settle run` with --set keys; returns its JSON summary's metrics (cached per session)."""
    key = (config, tuple(sets), seed)
    if key not in _cache:
        args = [SETTLE, "run", str(SOURCE / config), "--seed", str(seed), "-q"]
        for s in sets:
            args += ["--set", s]
        out = pathlib.Path(os.environ.get("TMPDIR", "/tmp")) / f"documented_{os.getpid()}.h5"
        proc = subprocess.run(args + ["--out", str(out), "--force"], capture_output=True, text=True)
        if out.exists():
            out.unlink()
        assert proc.returncode == 0, f"{' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip()}"
        _cache[key] = json.loads(proc.stdout.strip().splitlines()[-1])["metrics"]
    return _cache[key]


def near(what, value, documented, tolerance):
    assert abs(value - documented) <= tolerance, (
        f"{what}: {value:.4g} against the documented {documented:.4g} (tolerance {tolerance:.3g}): "
        "docs/results.md no longer describes the code")


def fraction(m):
    return m["test_error_final"] / m["test_error_initial"]


# --- Rate mode (docs/results.md, "The circuit in rate mode"), seed 1, 48,000 presentations.

def rate_task1(sets, final, output_only, initial=1.134):
    def check():
        m = run(TS, sets)
        near("initial MSE", m["test_error_initial"], initial, RATE_REL * initial)
        near("final MSE", m["test_error_final"], final, RATE_REL * final)
        near("output-only MSE", m["test_error_output_only"], output_only, RATE_REL * output_only)
        assert m["test_error_final"] < m["test_error_output_only"]
    return check


def rate_moons(sets, accuracy, output_only):
    def check():
        m = run(MOONS, sets)
        near("accuracy", m["test_accuracy"], accuracy, RATE_ACC)
        near("output-only accuracy", m["test_accuracy_output_only"], output_only, RATE_ACC)
    return check


def rate_task1_twin_equals_static():
    m = run(TS)
    # "the settled circuit equals the static network with its weights (max |output difference|
    # 0.0024 after 50 ms of settling)": no larger than the documented value, rounded up.
    assert m["circuit_static_max_abs_difference"] <= 0.0025


def rate_task4():
    random_d = run(TS)["test_error_final"]
    fixed = run(TS, ["schedule.duration_min_ms=100", "schedule.duration_max_ms=100"])["test_error_final"]
    near("fixed 100 ms, final MSE", fixed, 0.0881, RATE_REL * 0.0881)
    assert abs(fixed - random_d) / random_d <= 0.15  # acceptance: within 15 %


def rate_all_off():
    m = run(MOONS)
    near("all plasticity off", m["test_accuracy_frozen"] if "test_accuracy_frozen" in m else 1 - m["test_error_frozen"],
         0.16, 0.01)


# --- Spiking mode, seeds 1-5, both engines (docs/results.md, "Tasks 1 and 2, seeds 1-5").

def spiking_moons_5_seeds():
    ev = [run(MOONS, EVENT + ONE_PASS + ["training.control_output_only=false"], s)["test_accuracy"] for s in range(1, 6)]
    st = [run(MOONS, STEPPED + ONE_PASS + ["training.control_output_only=false"], s)["test_accuracy"] for s in range(1, 6)]
    tol = 2 * SD_MOONS / math.sqrt(5)
    near("event mean", statistics.mean(ev), 0.949, tol)
    near("stepped mean", statistics.mean(st), 0.941, tol)
    assert abs(statistics.mean(ev) - statistics.mean(st)) <= 0.015, f"event {ev}, stepped {st}"
    assert statistics.mean(ev) >= 0.92 and min(ev) >= 0.90, f"event {ev}"


def spiking_task1_5_seeds():
    ev = [run(TS, EVENT + ONE_PASS, s) for s in range(1, 6)]
    st = [run(TS, STEPPED + ONE_PASS + ["training.control_output_only=false"], s) for s in range(1, 6)]
    tol = 2 * SD_TS_FRACTION / math.sqrt(5)
    ev_mean, st_mean = statistics.mean(map(fraction, ev)), statistics.mean(map(fraction, st))
    near("event mean fraction", ev_mean, 0.109, tol)
    near("stepped mean fraction", st_mean, 0.113, tol)
    assert abs(ev_mean - st_mean) / st_mean <= 0.15
    for m in ev:
        assert fraction(m) <= 0.35 and m["test_error_final"] < m["test_error_output_only"]


# --- Spiking rows on the event engine and the stepped loop, seed 1 (docs/results.md, "The other
# spiking rows on the event engine" and "Every spiking row on the stepped loop").

def spiking_task1_row(engine, sets, documented_fraction, learned=None):
    def check():
        m = run(TS, engine + ONE_PASS + sets)
        near("final MSE / initial", fraction(m), documented_fraction, 2 * SD_TS_FRACTION)
        assert fraction(m) <= 0.35 and m["test_error_final"] < m["test_error_output_only"]  # acceptance
        if learned:
            check_reconstruction(m, learned)
    return check


def check_reconstruction(m, documented):
    # The initial error depends on the initial weights only (no spikes): rounding tolerance. The
    # final one was measured on seed 1 only (both engines gave the same three digits); 30 % is a
    # bound on its seed spread that is stated, not measured.
    near("reconstruction error, initial", m["reconstruction_error_initial"][0], documented[0], RATE_REL * documented[0])
    near("reconstruction error, final", m["reconstruction_error_final"][0], documented[1], 0.3 * documented[1])
    assert m["reconstruction_error_final"][0] < m["reconstruction_error_initial"][0] / 3


def spiking_moons_row(engine, sets, documented, at_least=0.92, control_below_by=None, learned=None):
    def check():
        m = run(MOONS, engine + ONE_PASS + sets)
        near("accuracy", m["test_accuracy"], documented, 2 * SD_MOONS)
        assert m["test_accuracy"] >= at_least
        if control_below_by is not None:
            assert m["test_accuracy"] - m["test_accuracy_output_only"] >= control_below_by
        if learned:
            check_reconstruction(m, learned)
    return check


def spiking_task4(engine, documented_apart):
    def check():
        random_d = run(TS, engine + ONE_PASS)["test_error_final"]
        fixed = run(TS, engine + ONE_PASS + ["schedule.duration_min_ms=200", "schedule.duration_max_ms=200"])["test_error_final"]
        apart = abs(fixed - random_d) / random_d
        assert apart <= 0.15, f"fixed 200 ms {fixed:.4f} against random durations {random_d:.4f}"  # acceptance
        # One final MSE (about 0.11 of the initial) varies by SD_TS_FRACTION / 0.11 relative over
        # seeds; the relative difference of two runs by sqrt(2) times that.
        near("relative difference", apart, documented_apart, 2 * math.sqrt(2) * SD_TS_FRACTION / 0.11)
    return check


# --- Task 3, Fashion-MNIST (docs/results.md, "Task 3: Fashion-MNIST"), seed 1, 10,000 test images.

def fmnist_rate_2_epochs():
    m = run(FMNIST)  # the example: 120,000 presentations
    near("test accuracy", m["test_accuracy"], 0.855, RATE_ACC)


def fmnist_spiking_1_epoch(engine):
    def check():
        m = run(FMNIST, engine + ["training.presentations=60000", "circuit.eta_hidden=3e-2", "training.checkpoints=1",
                                  "training.control_output_only=false"])
        assert m["test_accuracy"] >= 0.80  # acceptance
        # One seed per engine (81.6 % on both, from different spike draws): their agreement, and
        # the test set's binomial standard error (0.4 points), put the spread near 0.5 points.
        near("test accuracy", m["test_accuracy"], 0.816, 0.01)
    return check


def fmnist_row(sets, accuracy, output_only=None, tolerance=RATE_ACC):
    def check():
        m = run(FMNIST, sets)
        near("test accuracy", m["test_accuracy"], accuracy, tolerance)
        if output_only is not None:
            near("output-only test accuracy", m["test_accuracy_output_only"], output_only, tolerance)
    return check


# --- Rate references (docs/results.md, "Rate references on Fashion-MNIST"): 100 epochs, seeds 1-3.

def rate_reference(name, mean, sd):
    def check():
        acc = [run(f"examples/fmnist_{name}.toml", [], s)["test_accuracy"] for s in (1, 2, 3)]
        near("mean test accuracy over seeds 1-3", statistics.mean(acc), mean, 2 * max(sd, 0.001) / math.sqrt(3))
    return check


# --- The temporal-derivative test (docs/results.md, "The temporal-derivative test").

DERIVATIVE = "examples/circuit_derivative_test.toml"


def derivative_cells(m, tag):
    """{(g, delay): (cos_l1, ci_l1, cos_l2, ci_l2, shuffled_l1, shuffled_ci_l1, shuffled_l2, shuffled_ci_l2)}."""
    p = f"derivative_{tag}_"
    keys = ["cos_l1", "cos_ci95_l1", "cos_l2", "cos_ci95_l2", "shuffled_cos_l1", "shuffled_cos_ci95_l1",
            "shuffled_cos_l2", "shuffled_cos_ci95_l2"]
    return {(g, d): tuple(m[p + k][i] for k in keys)
            for i, (g, d) in enumerate(zip(m[p + "teacher_strength"], m[p + "delay_ms"]))}


def derivative_rate_symmetric():
    m = run(DERIVATIVE)
    for tag in ("untrained", "trained"):
        for (g, d), c in derivative_cells(m, tag).items():
            # "0.997-1.000 in both hidden layers for every teacher strength at readouts of 1-5 ms,
            # and untrained at 10 ms too" (documented to three digits: 0.0005 of rounding)
            if d <= 5 or (d <= 10 and tag == "untrained"):
                assert min(c[0], c[2]) >= 0.997 - 0.0005, f"{tag}, g {g}, {d} ms: {c[0]:.4f} / {c[2]:.4f}"
            for l1 in (4, 6):  # the control's CI straddles 0 in every cell
                assert abs(c[l1]) <= c[l1 + 1], f"{tag}, g {g}, {d} ms: shuffled {c[l1]:.3f} +- {c[l1 + 1]:.3f}"
    trained = derivative_cells(m, "trained")
    # "layer 2 at 10 ms: 0.996, 0.997, 0.954 for g 0.02, 0.06, 0.2; at 20 ms: 0.97, -0.14, -0.91"
    # (deterministic: the tolerance is the documented digits' rounding)
    for g, at_10, at_20 in ((0.02, 0.996, 0.97), (0.06, 0.997, -0.14), (0.2, 0.954, -0.91)):
        near(f"trained, g {g}, 10 ms, layer 2", trained[(g, 10.0)][2], at_10, 0.0005)
        near(f"trained, g {g}, 20 ms, layer 2", trained[(g, 20.0)][2], at_20, 0.005)


# Symmetric feedback, 100 inputs x 100 trials, stepped engine (commit 75d9988): (g, delay) ->
# untrained L1, L2, trained L1, L2 as (mean, 95 % CI); the table of docs/results.md.
SPIKING_DERIVATIVE_TABLE = {
    (0.02, 1.0): ((0, 0), (0, 0), (0, 0), (0, 0)),
    (0.02, 2.0): ((0, 0), (0, 0), (0, 0), (0, 0)),
    (0.02, 5.0): ((0, 0), (0.041, 0.021), (0, 0), (0.037, 0.021)),
    (0.02, 10.0): ((0.009, 0.016), (0.210, 0.030), (0.026, 0.021), (0.240, 0.035)),
    (0.02, 20.0): ((0.047, 0.032), (0.542, 0.024), (0.154, 0.033), (0.590, 0.031)),
    (0.06, 10.0): ((0.011, 0.018), (0.359, 0.027), (0.044, 0.028), (0.419, 0.028)),
    (0.06, 20.0): ((0.094, 0.034), (0.757, 0.019), (0.296, 0.033), (0.793, 0.018)),
    (0.2, 5.0): ((0, 0), (0.163, 0.033), (0.011, 0.010), (0.216, 0.033)),
    (0.2, 10.0): ((0.036, 0.028), (0.584, 0.025), (0.082, 0.030), (0.632, 0.026)),
    (0.2, 20.0): ((0.190, 0.030), (0.918, 0.007), (0.486, 0.036), (0.917, 0.008)),
}


def derivative_spiking_symmetric():
    m = run(DERIVATIVE, STEPPED + ["derivative_test.inputs=100"])
    cells = {"untrained": derivative_cells(m, "untrained"), "trained": derivative_cells(m, "trained")}
    agree, total, misses = 0, 0, []
    for key, documented in SPIKING_DERIVATIVE_TABLE.items():
        for i, (tag, layer) in enumerate((("untrained", 0), ("untrained", 2), ("trained", 0), ("trained", 2))):
            mean, ci = cells[tag][key][layer], cells[tag][key][layer + 1]
            # Two estimates of one cosine agree when they differ by at most the combined 95 % half-width.
            ok = abs(mean - documented[i][0]) <= math.hypot(ci, documented[i][1])
            agree += ok
            total += 1
            if not ok:
                misses.append(f"{tag} g {key[0]} {key[1]} ms L{1 + layer // 2}: {mean:.3f} +- {ci:.3f} against {documented[i]}")
    # 95 % intervals: about 1 in 20 comparisons may miss by chance.
    assert agree >= math.floor(0.95 * total), f"{agree} of {total} cells agree; misses: {misses}"
    # The claim itself: at 20 ms, g 0.2, the last hidden layer moves along -dLoss/dr (0.918).
    mean, ci = cells["untrained"][(0.2, 20.0)][2:4]
    assert mean - ci > 0.85


SINGLE_TS = ["circuit.streams=1", "circuit.eta_hidden=1.25e-4", "circuit.eta_out=3.125e-4"]
SINGLE_MOONS = ["circuit.streams=1", "circuit.eta_hidden=6.25e-4", "circuit.eta_out=3.125e-4"]
NARROW = ["circuit.hidden=[8]", "training.presentations=96000", "training.eta_final_fraction=0.1"]
LATERAL_MOONS = ["circuit.nudge=lateral", "circuit.interneuron_range=[-0.4,0.4]"]

CLAIMS = {
    # rate mode, task 1
    "rate-task1-random": rate_task1([], 0.0854, 0.345),
    "rate-task1-symmetric": rate_task1(["circuit.feedback=symmetric"], 0.0859, 0.455),
    "rate-task1-single-stream": rate_task1(["circuit.streams=1"], 0.0992, 0.186),
    "rate-task1-learned": rate_task1(["circuit.feedback=learned"], 0.0857, 0.251),
    "rate-task1-lateral": rate_task1(["circuit.nudge=lateral"], 0.0928, 0.349, initial=1.130),
    "rate-task1-twin-equals-static": rate_task1_twin_equals_static,
    "rate-task4": rate_task4,
    # rate mode, task 2
    "rate-moons-random": rate_moons([], 0.978, 0.974),
    "rate-moons-symmetric": rate_moons(["circuit.feedback=symmetric"], 0.976, 0.943),
    "rate-moons-single-stream": rate_moons(["circuit.streams=1"], 0.993, 0.989),
    "rate-moons-learned": rate_moons(["circuit.feedback=learned"], 0.978, 0.955),
    "rate-moons-lateral": rate_moons(["circuit.nudge=lateral"], 0.975, 0.974),
    "rate-moons-all-off": rate_all_off,
    "rate-moons-narrow-random": rate_moons(["circuit.hidden=[8]", "training.presentations=96000"], 0.990, 0.939),
    "rate-moons-narrow-symmetric": rate_moons(["circuit.hidden=[8]", "training.presentations=96000",
                                              "circuit.feedback=symmetric"], 0.982, 0.921),
    "rate-moons-narrow-learned": rate_moons(["circuit.hidden=[8]", "training.presentations=96000",
                                            "circuit.feedback=learned"], 0.986, 0.924),
    # spiking, seeds 1-5, both engines
    "spiking-moons-5-seeds": spiking_moons_5_seeds,
    "spiking-task1-5-seeds": spiking_task1_5_seeds,
    # spiking rows, event engine, seed 1
    "event-task1-symmetric": spiking_task1_row(EVENT, ["circuit.feedback=symmetric"], 0.117),
    "event-task1-single-stream": spiking_task1_row(EVENT, SINGLE_TS, 0.120),
    "event-task4": spiking_task4(EVENT, 0.113),
    "event-moons-symmetric": spiking_moons_row(EVENT, ["circuit.feedback=symmetric"], 0.958),
    "event-moons-single-stream": spiking_moons_row(EVENT, SINGLE_MOONS, 0.934),
    "event-moons-narrow": spiking_moons_row(EVENT, NARROW, 0.943, at_least=0.90, control_below_by=0.03),
    "event-task1-learned": spiking_task1_row(EVENT, ["circuit.feedback=learned"], 0.128, learned=(0.425, 0.069)),
    "event-moons-learned": spiking_moons_row(EVENT, ["circuit.feedback=learned"], 0.973, learned=(7.48, 1.92)),
    "event-task1-lateral": spiking_task1_row(EVENT, ["circuit.nudge=lateral"], 0.284),
    "event-moons-lateral": spiking_moons_row(EVENT, LATERAL_MOONS, 0.923),
    # spiking rows, stepped loop, seed 1
    "stepped-task1-symmetric": spiking_task1_row(STEPPED, ["circuit.feedback=symmetric"], 0.11),
    "stepped-task1-single-stream": spiking_task1_row(STEPPED, SINGLE_TS, 0.13),
    "stepped-task1-learned": spiking_task1_row(STEPPED, ["circuit.feedback=learned"], 0.13, learned=(0.425, 0.069)),
    "stepped-task4": spiking_task4(STEPPED, 0.024),
    "stepped-moons-symmetric": spiking_moons_row(STEPPED, ["circuit.feedback=symmetric"], 0.963),
    "stepped-moons-single-stream": spiking_moons_row(STEPPED, SINGLE_MOONS, 0.939),
    "stepped-moons-narrow": spiking_moons_row(STEPPED, NARROW, 0.944, at_least=0.90, control_below_by=0.03),
    "stepped-moons-learned": spiking_moons_row(STEPPED, ["circuit.feedback=learned"], 0.975, learned=(7.48, 1.92)),
    "stepped-task1-lateral": spiking_task1_row(STEPPED, ["circuit.nudge=lateral"], 0.27),
    "stepped-moons-lateral": spiking_moons_row(STEPPED, LATERAL_MOONS, 0.931),
    # the temporal-derivative test
    "derivative-rate-symmetric": derivative_rate_symmetric,
    "derivative-spiking-symmetric": derivative_spiking_symmetric,
    # task 3
    "fmnist-rate-2-epochs": fmnist_rate_2_epochs,
    "fmnist-event-1-epoch": fmnist_spiking_1_epoch(EVENT),
    "fmnist-stepped-1-epoch": fmnist_spiking_1_epoch(STEPPED),
    "fmnist-rate-output-only": fmnist_row(["circuit.eta_hidden=0", "training.control_output_only=false"], 0.755),
    "fmnist-rate-single-stream": fmnist_row(["circuit.streams=1", "circuit.eta_hidden=0.0125", "circuit.eta_out=1.875e-4",
                                             "training.presentations=10000"], 0.808, output_only=0.685),
    # Stepped engine (the default when it was measured); 2,000 test images, binomial SE 0.9 points.
    "fmnist-stepped-single-stream": fmnist_row(STEPPED + ["circuit.streams=1", "circuit.eta_hidden=1.875e-3",
                                                          "circuit.eta_out=1.875e-4", "training.presentations=10000",
                                                          "task.n_test=2000", "training.control_output_only=false"],
                                               0.772, tolerance=0.02),
    # rate references, mean +- sd over seeds 1-3
    "reference-bp": rate_reference("bp", 0.8869, 0.0009),
    "reference-dtp": rate_reference("dtp", 0.8858, 0.0013),
    "reference-fa": rate_reference("fa", 0.8693, 0.0031),
    "reference-dtp-discrete": rate_reference("dtp_discrete", 0.8477, 0.0011),
    "reference-tp": rate_reference("tp", 0.1000, 0.0),  # chance: one class of ten, 1,000 test images each
}


@pytest.mark.parametrize("claim", sorted(CLAIMS))
def test_documented_results(claim):
    assert os.path.isfile(SETTLE), f"no settle binary at {SETTLE}: build it (make build) or set SETTLE_BIN"
    CLAIMS[claim]()
