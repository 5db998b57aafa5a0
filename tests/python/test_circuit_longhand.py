"""A learning circuit written out longhand runs the same spikes as its compact [circuit] form.

examples/circuit_longhand.toml is `settle expand` of a small moons circuit: its populations
(pooled_poisson_source, two_channel_unit), dense projections (forward with the lag_compensated
rule, feedback), and the [drive] that presents the task's samples. Run as a plain network, it
must give bit for bit the training spikes of the compact form (which records every spike here).
"""
import shlex

import h5py
import numpy as np
import pytest

from conftest import SOURCE

EXAMPLE = SOURCE / "examples" / "circuit_longhand.toml"


def expand_args(path):
    """The `settle expand` arguments written in the file's first line."""
    first = path.read_text().splitlines()[0]
    assert first.startswith("# settle expand "), first
    return shlex.split(first[len("# settle expand "):])


def compact_run(settle, args, out, presentations):
    """The compact circuit on the event engine, recording every spike of its training network."""
    config, sets = args[0], args[1:]
    settle("run", SOURCE / config, *sets, "--set", "circuit.engine=event", "--set", "training.checkpoints=1",
           "--set", "training.control_output_only=false", "--set", "training.control_frozen=false",
           "--set", "task.n_test=10", "--set", "record.spikes=all",
           "--set", f"record.window_presentations={presentations}", "--out", out, "-q", "--force", timeout=300)


def same_spikes(a_path, b_path, populations):
    with h5py.File(a_path, "r") as a, h5py.File(b_path, "r") as b:
        for p in populations:
            ta, tb = a[f"spikes/{p}/timestamps"][:], b[f"spikes/{p}/timestamps"][:]
            na, nb = a[f"spikes/{p}/node_ids"][:], b[f"spikes/{p}/node_ids"][:]
            assert len(ta) > 100, f"{p}: {len(ta)} spikes"
            assert np.array_equal(ta, tb) and np.array_equal(na, nb), f"{p}: {len(ta)} against {len(tb)} spikes"


def test_the_example_is_what_expand_writes(settle, tmp_path):
    out = tmp_path / "again.toml"
    settle("expand", *expand_args(EXAMPLE), "--out", out, cwd=SOURCE)
    assert out.read_text() == EXAMPLE.read_text(), "examples/circuit_longhand.toml is stale: run the command in its first line"


def test_longhand_example_runs_the_compact_circuits_spikes(settle, tmp_path):
    settle("run", EXAMPLE, "--out", tmp_path / "longhand.h5", "-q")
    compact_run(settle, expand_args(EXAMPLE), tmp_path / "compact.h5", 20)
    same_spikes(tmp_path / "longhand.h5", tmp_path / "compact.h5", ["input", "layer1", "layer2"])


@pytest.mark.parametrize("sets", [
    # two hidden layers, feedback tied to the learning forward matrices, annealed rates, 3 replicas
    ["examples/circuit_teacher_student.toml", "--set", "circuit.mode=spiking", "--set", "circuit.hidden=[12,8]",
     "--set", "circuit.feedback=symmetric", "--set", "circuit.streams=3", "--set", "training.presentations=30",
     "--set", "training.eta_final_fraction=0.1"],
    # random feedback, another seed
    ["examples/circuit_teacher_student.toml", "--set", "circuit.mode=spiking", "--set", "circuit.hidden=[12,8]",
     "--set", "circuit.streams=2", "--set", "training.presentations=30", "--seed", "7"],
    # learned feedback: feedback units coupled to their layer's soma, Q tied to the nudge's matrix
    ["examples/circuit_teacher_student.toml", "--set", "circuit.mode=spiking", "--set", "circuit.hidden=[12,8]",
     "--set", "circuit.feedback=learned", "--set", "circuit.streams=2", "--set", "training.presentations=30"],
    # the lateral nudge: interneurons learning with apical_mismatch, source offsets, one-to-one inhibition
    ["examples/circuit_teacher_student.toml", "--set", "circuit.mode=spiking", "--set", "circuit.hidden=[12,8]",
     "--set", "circuit.nudge=lateral", "--set", "circuit.streams=2", "--set", "training.presentations=30"],
])
def test_expanded_circuits_run_the_same_spikes(settle, tmp_path, sets):
    longhand = tmp_path / "longhand.toml"
    settle("expand", *sets, "--out", longhand, cwd=SOURCE)
    settle("run", longhand, "--out", tmp_path / "longhand.h5", "-q")
    compact_run(settle, sets, tmp_path / "compact.h5", 30)
    with h5py.File(tmp_path / "longhand.h5", "r") as f:
        populations = list(f["spikes"])
    assert {"input", "layer1", "layer2", "layer3"} <= set(populations)
    same_spikes(tmp_path / "longhand.h5", tmp_path / "compact.h5", populations)


def test_expand_refuses_what_it_cannot_write_in_one_line(settle, tmp_path):
    for args, key in (([SOURCE / "examples" / "circuit_moons.toml"], "circuit.mode"),  # rate mode
                      ([SOURCE / "examples" / "demo.toml"], "experiment")):  # not a circuit
        proc = settle("expand", *args, "--out", tmp_path / "x.toml", check=False)
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 2 and len(lines) == 1 and key in lines[0], proc.stderr
        assert not (tmp_path / "x.toml").exists()
