#!/usr/bin/python3
"""The Python API's overhead: one network run by `settle run` and by settle.Simulator, same script.

The network: 1,000 Urbanczik-Senn neurons with 100 independent Poisson sources each (fixed
in-degree 100, 10 Hz, 100 pA), spikes of the neurons recorded, for --duration ms. Each side is
timed around its simulation loop only (the CLI's own summary `wall_seconds`; Python: the call to
Simulator.run), alternating, --repeats times after one warm-up each; medians are reported and the
ratio Python / CLI. The spikes of the two must be identical (checked). From the repository root
after `make build`:

    /usr/bin/python3 bench/python_overhead.py [--duration 5000] [--repeats 3]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "build", "python"))
import settle  # noqa: E402

CONFIG = """seed = 1
[simulation]
duration_ms = {duration}
[[population]]
name = "inputs"
model = "poisson_source"
size = 100000
rate_hz = 10.0
[[population]]
name = "neurons"
model = "urbanczik_senn"
size = 1000
[[projection]]
source = "inputs"
target = "neurons"
connect = {{ rule = "fixed_indegree", indegree = 100 }}
weight = 100.0
[record]
spikes = ["neurons"]
"""


def cli(tmp, duration):
    cfg = os.path.join(tmp, "net.toml")
    with open(cfg, "w") as f:
        f.write(CONFIG.format(duration=duration))
    out = os.path.join(tmp, "net.h5")
    proc = subprocess.run([os.path.join(ROOT, "build", "settle"), "run", cfg, "--out", out, "--force", "-q"],
                          capture_output=True, text=True, check=True)
    with h5py.File(out, "r") as f:
        spikes = f["spikes/neurons/timestamps"][:]
    return json.loads(proc.stdout.strip().splitlines()[-1])["wall_seconds"], spikes


def python(tmp, duration):
    net, _ = settle.load_config(os.path.join(tmp, "net.toml"))
    sim = settle.Simulator(net)
    t0 = time.perf_counter()
    sim.run(duration)
    wall = time.perf_counter() - t0
    return wall, sim.spikes("neurons")[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--duration", type=float, default=5000.0)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cli(tmp, args.duration)
        python(tmp, args.duration)
        c, p = [], []
        for _ in range(args.repeats):
            wc, sc = cli(tmp, args.duration)
            wp, sp = python(tmp, args.duration)
            assert np.array_equal(sc, sp), "the CLI and the Python API fired different spikes"
            c.append(wc)
            p.append(wp)
    result = {"commit": subprocess.run(["git", "-C", ROOT, "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True).stdout.strip(),
              "command": " ".join(["/usr/bin/python3", "bench/python_overhead.py"] + sys.argv[1:]),
              "load_average_at_start": os.getloadavg()[0], "duration_ms": args.duration, "cli_loop_s": c, "python_run_s": p,
              "median_cli_s": statistics.median(c), "median_python_s": statistics.median(p),
              "python_over_cli": statistics.median(p) / statistics.median(c)}
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
