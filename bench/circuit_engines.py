#!/usr/bin/python3
"""The spiking learning circuit on its two engines, in one session: the event-driven kernel
(circuit.engine = "event") against the fixed-step loop (circuit.engine = "stepped").

Task: Fashion-MNIST 784-256-10, spiking mode at the example's settings (examples/circuit_fmnist.toml
with mode = "spiking", eta_hidden 3e-2, constant learning rates), a slice of `--presentations`
training presentations over the 16 streams and one evaluation pass on the first `--test` test
images. Each engine runs `--repeats` times, alternating, so a drifting machine load hits both;
reported are medians and ranges of:
  - train_wall_seconds: the training loop alone (the circuit's own timer, checkpoints excluded);
  - eval_wall_seconds: the rest of the process after data loading, i.e. the two evaluation passes
    (the initial and the final one; wall_seconds_total - train_wall_seconds);
  - simulated seconds per wall second of training and synaptic events per second (each engine's
    own count: the event engine counts target units reached by each delivered spike, the stepped
    loop its targets per spike);
and the ratio stepped / event of the medians (> 1: the event engine is faster). CPU time of each
process is reported too. Run from the repository root after `make build`:

    /usr/bin/python3 bench/circuit_engines.py [--presentations 10000] [--test 2000] [--repeats 3]
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def run(engine, presentations, test, seed):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "run.h5")
        cmd = [os.path.join(ROOT, "build", "settle"), "run", os.path.join(ROOT, "examples", "circuit_fmnist.toml"),
               "--set", "circuit.mode=spiking", "--set", f"circuit.engine={engine}",
               "--set", "circuit.eta_hidden=3e-2", "--set", "training.eta_final_fraction=1",
               "--set", f"training.presentations={presentations}", "--set", "training.checkpoints=1",
               "--set", "training.control_output_only=false", "--set", f"task.n_test={test}",
               "--set", f"seed={seed}", "-o", out]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        p = subprocess.run(cmd, capture_output=True, text=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if p.returncode != 0:
            sys.exit(f"{engine}: settle failed ({p.returncode}): {p.stderr.strip()}")
        m = json.loads(p.stdout.strip().splitlines()[-1])["metrics"]
        return {
            "train_wall_seconds": m["train_wall_seconds"],
            "eval_wall_seconds": m["wall_seconds_total"] - m["train_wall_seconds"],
            "simulated_per_wall": m["train_simulated_seconds_per_wall_second"],
            "synaptic_events_per_second": m["train_synaptic_events_per_second"],
            "cpu_seconds": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
            "test_accuracy": m["test_accuracy"],
        }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--presentations", type=int, default=10000)
    ap.add_argument("--test", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    runs = {"event": [], "stepped": []}
    for r in range(args.repeats):
        for engine in ("event", "stepped"):
            runs[engine].append(run(engine, args.presentations, args.test, args.seed))
            print(f"repeat {r + 1} {engine}: " + json.dumps(runs[engine][-1]), flush=True)
    summary = {}
    for engine, rs in runs.items():
        summary[engine] = {k: {"median": statistics.median(x[k] for x in rs), "min": min(x[k] for x in rs),
                               "max": max(x[k] for x in rs)} for k in rs[0]}
    ratio = {k: summary["stepped"][k]["median"] / summary["event"][k]["median"]
             for k in ("train_wall_seconds", "eval_wall_seconds", "cpu_seconds")}
    print(json.dumps({"presentations": args.presentations, "test": args.test, "repeats": args.repeats,
                      "seed": args.seed, "summary": summary, "stepped_over_event": ratio}, indent=1))


if __name__ == "__main__":
    main()
