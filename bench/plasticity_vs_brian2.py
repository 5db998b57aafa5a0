#!/usr/bin/python3
"""Plasticity benchmark: dendritic prediction synapses, settle against Brian2.

N two-compartment neurons (NEST parameters, no teacher), each with M plastic synapses, all to
all from M Poisson sources, on its dendrite (weights normal(10, 3) pA, delay 1 ms), learning with
the dendritic prediction rule (NEST convention, eta 0.07, tau_Delta 100 ms, w in [0, 100] pA).
  1. settle at RATE Hz for DURATION ms: synaptic updates per second (one update per delivered
     pre-synaptic spike; settle touches a synapse only then) and simulated seconds per wall second.
  2. settle at 1 Hz and at 50 Hz inputs (durations chosen for similar update counts): the wall
     time per synaptic update, which must not grow with the time between a synapse's spikes;
     at 50 Hz both in the same network and with in-degree M/50 (same input rate per neuron).
  3. Brian2 (bench/brian2_plasticity.py; cpp_standalone, clock-driven, dt = 0.1 ms) on the same
     network for BRIAN2_MS ms: its loop time (code generation and compilation excluded). Its cost
     is linear in simulated time (every synapse is integrated every step), so the comparison is in
     simulated seconds per wall second; run it for DURATION to check.
Wall times (what the comparison is stated in) and process CPU times (robust on a shared machine)
are both reported.
Each measurement is repeated `--repeats` times and the median is reported. From the repository
root after `make build`:

    /usr/bin/python3 bench/plasticity_vs_brian2.py [--neurons 1000] [--inputs 1000] [--repeats 3]
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

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

CONFIG = """seed = {seed}
[simulation]
duration_ms = {duration}
[[population]]
name = "inputs"
model = "poisson_source"
size = {m}
rate_hz = {rate}
[[population]]
name = "neurons"
model = "urbanczik_senn"
size = {n}
[[projection]]
name = "plastic"
source = "inputs"
target = "neurons"
receptor = "dendrite"
connect = {{ rule = "all_to_all" }}
weight = {{ dist = "normal", mean = 10.0, std = 3.0 }}
delay_ms = 1.0
plasticity = {{ rule = "dendritic_prediction", eta = 0.07, tau_Delta = 100.0, w_min = 0.0, w_max = 100.0 }}
"""


def machine():
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    load = os.getloadavg()[0]
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, load average {load:.1f} at start"


def run_settle(binary, workdir, n, m, rate, duration, seed):
    cfg = os.path.join(workdir, "plastic.toml")
    with open(cfg, "w") as f:
        f.write(CONFIG.format(n=n, m=m, rate=rate, duration=duration, seed=seed))
    out = os.path.join(workdir, "plastic.h5")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run([binary, "run", cfg, "--out", out, "--force", "--quiet"], capture_output=True, text=True,
                          check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    os.remove(out)
    updates = summary["spikes"]["inputs"] * n  # all to all: every input spike reaches n synapses
    wall = summary["wall_seconds"]
    return {"rate_hz": rate, "duration_ms": duration, "wall_seconds": wall, "synaptic_updates": updates,
            "updates_per_second": updates / wall, "ns_per_update": 1e9 * wall / updates,
            "sim_s_per_wall_s": duration / 1000.0 / wall, "post_spikes": summary["spikes"]["neurons"],
            "process_cpu_seconds": cpu, "sim_s_per_cpu_s": duration / 1000.0 / cpu}


def median_of(runs, key):
    return statistics.median(r[key] for r in runs)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--neurons", type=int, default=1000)
    ap.add_argument("--inputs", type=int, default=1000)
    ap.add_argument("--rate", type=float, default=10.0, help="Hz")
    ap.add_argument("--duration", type=float, default=10_000.0, help="ms")
    ap.add_argument("--slow-rate", type=float, default=1.0, help="Hz")
    ap.add_argument("--fast-rate", type=float, default=50.0, help="Hz")
    ap.add_argument("--brian2-ms", type=float, default=1000.0, help="simulated ms of each Brian2 run")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--settle", default=os.path.join(ROOT, "build", "settle"))
    ap.add_argument("--no-brian2", action="store_true")
    args = ap.parse_args()
    n, m = args.neurons, args.inputs
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    result = {"machine": machine(), "commit": commit, "command": " ".join([os.path.relpath(sys.argv[0], ROOT)] + sys.argv[1:]),
              "neurons": n, "inputs": m, "repeats": args.repeats}
    with tempfile.TemporaryDirectory(prefix="settle-plasticity-bench-") as tmp:
        main_runs = [run_settle(args.settle, tmp, n, m, args.rate, args.duration, seed) for seed in range(1, args.repeats + 1)]
        result["settle"] = {"runs": main_runs, **{k: median_of(main_runs, k) for k in
                                                  ("wall_seconds", "updates_per_second", "ns_per_update", "sim_s_per_wall_s",
                                                   "process_cpu_seconds", "sim_s_per_cpu_s")}}
        print(json.dumps({"settle": result["settle"]}), flush=True)
        # The time between a synapse's spikes: 1 Hz against 50 Hz inputs, the same expected number
        # of updates in each run. (a) same network: the 50 Hz run also has 50 x the input rate per
        # neuron, so the neuron's dendritic segments are 50 x shorter (cheaper quadrature); (b) 50 Hz
        # with in-degree M/50: the same input rate per neuron and segment statistics as 1 Hz x M,
        # so only the synapses' inter-spike intervals differ.
        slow, fast = args.slow_rate, args.fast_rate
        long_ms = args.duration
        cases = [("slow", slow, m, long_ms), ("fast_same_network", fast, m, long_ms * slow / fast),
                 ("fast_same_input_per_neuron", fast, max(1, round(m * slow / fast)), long_ms)]
        isi = {}
        for name, rate, m_case, duration in cases:
            runs = [run_settle(args.settle, tmp, n, m_case, rate, duration, seed) for seed in range(1, args.repeats + 1)]
            isi[name] = {"rate_hz": rate, "inputs": m_case, "duration_ms": duration, "mean_isi_ms": 1000.0 / rate,
                         "runs": runs, "ns_per_update": median_of(runs, "ns_per_update"),
                         "cpu_ns_per_update": statistics.median(1e9 * r["process_cpu_seconds"] / r["synaptic_updates"]
                                                                for r in runs)}
            print(json.dumps({"isi": {name: isi[name]["ns_per_update"]}}), flush=True)
        result["isi"] = isi
        for name in ("fast_same_network", "fast_same_input_per_neuron"):
            result[f"isi_cost_ratio_slow_over_{name}"] = isi["slow"]["ns_per_update"] / isi[name]["ns_per_update"]
            result[f"isi_cpu_cost_ratio_slow_over_{name}"] = isi["slow"]["cpu_ns_per_update"] / isi[name]["cpu_ns_per_update"]
        if not args.no_brian2:
            workdir = os.path.join(tmp, "brian2")
            proc = subprocess.run([sys.executable, os.path.join(HERE, "brian2_plasticity.py"), str(n), str(m), str(args.rate),
                                   str(args.brian2_ms), str(args.repeats), workdir], capture_output=True, text=True, check=True)
            b2 = json.loads(proc.stdout.strip().splitlines()[-1])
            wall = statistics.median(b2["run_seconds"])
            updates = b2["pre_spikes"] * n
            cpu = statistics.median(b2["process_cpu_seconds"])
            b2.update({"wall_seconds": wall, "sim_s_per_wall_s": args.brian2_ms / 1000.0 / wall,
                       "median_process_cpu_seconds": cpu, "sim_s_per_cpu_s": args.brian2_ms / 1000.0 / cpu,
                       "updates_per_second": updates / wall,
                       "synapse_steps_per_second": b2["synapses"] * args.brian2_ms / 0.1 / wall})
            result["brian2"] = b2
            result["speedup_settle_over_brian2"] = result["settle"]["sim_s_per_wall_s"] / b2["sim_s_per_wall_s"]
            # The machine is shared: CPU time of each process (single-threaded both) is robust to
            # other jobs; Brian2's includes building its 1M synapses, settle's its own setup.
            result["speedup_cpu_time"] = result["settle"]["sim_s_per_cpu_s"] / b2["sim_s_per_cpu_s"]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
