#!/usr/bin/python3
"""Kernel benchmark: settle against Brian2 (cpp_standalone, dt = 0.1 ms) on the same model.

N unconnected two-compartment neurons (NEST parameters, Poisson spiking, 3 ms dead time), each
with 100 Poisson inputs at 10 Hz on its dendrite (weight 100 pA). Three runs per N:
  - settle, 100 independent Poisson sources per neuron (100 N source nodes, fixed in-degree 100);
  - settle, one 1 kHz Poisson source per neuron: the superposition of the 100 inputs, exactly
    the same input process as Brian2's PoissonInput when the weights are equal;
  - settle, the neuron's own background input (params.background_rate_hz = 1000, weight 100 pA):
    the same process again, drawn inside the neuron's lazy advance with no queue events, which
    is what Brian2's PoissonInput is;
  - Brian2 with PoissonInput(N=100, rate=10 Hz) (bench/brian2_kernel.py), whose run time is the
    simulation loop only (code generation and compilation excluded).
Each is repeated `--repeats` times; the median wall time of the simulation loop is reported
(settle: its own summary's wall_seconds; Brian2: device._last_run_time), with the settle
process's CPU time (whole process, setup included) and peak memory (max RSS) of each process. Run from the repository root after `make build`:

    /usr/bin/python3 bench/kernel_vs_brian2.py [--sizes 1000 10000 100000] [--repeats 3]
"""
import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

BACKGROUND_CONFIG = """seed = 1
[simulation]
duration_ms = {duration}
[[population]]
name = "neurons"
model = "urbanczik_senn"
size = {n}
params = {{ background_rate_hz = 1000.0, background_weight = 100.0 }}
[record]
spikes = ["neurons"]
"""

CONFIG = """seed = 1
[simulation]
duration_ms = {duration}
[[population]]
name = "inputs"
model = "poisson_source"
size = {n_sources}
rate_hz = {rate}
[[population]]
name = "neurons"
model = "urbanczik_senn"
size = {n}
[[projection]]
source = "inputs"
target = "neurons"
connect = {connect}
weight = 100.0
[record]
spikes = ["neurons"]
"""

DURATION_MS = {1000: 10000.0, 10000: 2000.0, 100000: 500.0}


def run_measured(cmd):
    """Runs cmd, returns (stdout, wall seconds, peak RSS in MiB of that child)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{proc.stderr}")
    # ru_maxrss of children is the largest child so far; children run one at a time and the
    # largest comes last per size, which keeps this meaningful. /usr/bin/time -v confirms it.
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return proc.stdout, wall, max(peak, before) / 1024.0


def settle_run(settle, workdir, n, duration, variant):
    cfg = os.path.join(workdir, f"bench_{n}_{variant}.toml")
    merged = variant == "merged"
    with open(cfg, "w") as f:
        if variant == "background":
            f.write(BACKGROUND_CONFIG.format(duration=duration, n=n))
        else:
            f.write(CONFIG.format(duration=duration, n=n, n_sources=n if merged else 100 * n,
                                  rate=1000.0 if merged else 10.0,
                                  connect='{ rule = "one_to_one" }' if merged else '{ rule = "fixed_indegree", indegree = 100 }'))
    out = os.path.join(workdir, "out.h5")
    # /usr/bin/time -v gives this process's own peak memory.
    stdout, wall, _ = run_measured(["/usr/bin/time", "-v", "-o", out + ".time", settle, "run", cfg, "--out", out,
                                    "--force", "--quiet"])
    summary = json.loads(stdout.strip().splitlines()[-1])
    with open(out + ".time") as f:
        lines = f.readlines()
    field = lambda name: [l for l in lines if name in l][0].split(":")[1]  # noqa: E731
    peak_mib = int(field("Maximum resident set size")) / 1024.0
    cpu = float(field("User time (seconds)")) + float(field("System time (seconds)"))
    return summary["wall_seconds"], summary["events"], summary["spikes"]["neurons"], peak_mib, cpu


def brian_run(workdir, n, duration):
    cmd = ["/usr/bin/time", "-v", "-o", os.path.join(workdir, "brian.time"), "/usr/bin/python3",
           os.path.join(HERE, "brian2_kernel.py"), str(n), str(duration), os.path.join(workdir, f"brian_{n}")]
    stdout, _, _ = run_measured(cmd)
    result = json.loads(stdout.strip().splitlines()[-1])
    with open(os.path.join(workdir, "brian.time")) as f:
        rss = [l for l in f if "Maximum resident set size" in l][0]
    return result["run_seconds"], result["spikes"], int(rss.split(":")[1]) / 1024.0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--settle", default=os.path.join(ROOT, "build", "settle"))
    args = ap.parse_args()
    rev = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True).stdout.strip()
    print(f"# machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores; commit {rev}")
    print("| N | simulated s | runner | loop wall s (median) | process CPU s (median) | sim s / wall s | events/s | neuron spikes | peak MiB | Brian2 / runner (wall) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as workdir:
        for n in args.sizes:
            duration = DURATION_MS.get(n, 1000.0)
            rows = {}
            for label, variant in (("settle, 100 source nodes/neuron", "sources"),
                                   ("settle, one 1 kHz source node/neuron", "merged"),
                                   ("settle, neuron-local background input", "background")):
                fn = lambda: settle_run(args.settle, workdir, n, duration, variant)  # noqa: E731
                runs = [fn() for _ in range(args.repeats)]
                rows[label] = (statistics.median(r[0] for r in runs), runs[0][1], runs[0][2], max(r[3] for r in runs),
                               statistics.median(r[4] for r in runs))
            brian = [brian_run(workdir, n, duration) for _ in range(args.repeats)]
            brian_wall = statistics.median(b[0] for b in brian)
            rows["Brian2 cpp_standalone"] = (brian_wall, None, brian[0][1], max(b[2] for b in brian), None)
            for label, (wall, events, spikes, peak, cpu) in rows.items():
                ev = f"{events / wall:.3g}" if events else "-"
                cpu_text = f"{cpu:.2f}" if cpu is not None else "-"
                print(f"| {n} | {duration / 1000:g} | {label} | {wall:.2f} | {cpu_text} | {duration / 1000 / wall:.3g} | {ev} | "
                      f"{spikes} | {peak:.0f} | {brian_wall / wall:.2f} |", flush=True)


if __name__ == "__main__":
    main()
