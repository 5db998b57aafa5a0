#!/usr/bin/python3
"""settle against Brian2 (2.5, cpp_standalone, dt = 0.1 ms) on the same models, in one command.

Rules every figure here follows (bench/measure.py does the measuring):
  - the same model first: each settle run's neuron rate must be within 5 % of Brian2's, or the
    script stops without a timing;
  - the same simulated duration on both sides;
  - each side is one process measured alone (bench/measure.py): wall and CPU seconds of the whole
    process (set-up, network construction and loop) and its own peak memory; settle's binary
    `settle run`, Brian2's compiled standalone binary (code generation and compilation are done
    before and not timed). The loop time each reports about itself is shown beside;
  - warm on both sides: one untimed run of each before its timed ones;
  - medians of --repeats runs, with the range; the load average when each section started.

Sections:
  kernel       N unconnected two-compartment neurons (NEST's urbanczik_senn parameters, no
               teacher), each with 100 Poisson inputs at 10 Hz of 100 pA on its dendrite.
               Brian2: PoissonInput (bench/brian2_kernel.py). settle, three inputs, one stochastic
               process: 100 independent source nodes per neuron; one 1 kHz source node per
               neuron; the neuron's own background input (what PoissonInput is).
  plasticity   N neurons x M plastic dendritic-prediction synapses (all to all from M Poisson
               sources, 10 Hz, delay 1 ms, eta 0.07, tau_Delta 100 ms; bench/brian2_plasticity.py
               for Brian2, clock-driven synapses). Also settle alone: synaptic updates per second
               over a longer run, and the cost per update against the time between a synapse's
               spikes (1 Hz against 50 Hz inputs).

From the repository root after `make build` (Brian2: `bash .ci/install-deps --bench`):

    /usr/bin/python3 bench/brian2_compare.py [--only kernel plasticity] [--repeats 3] [--update-results]

--update-results writes the tables, machine, commit and command into bench/RESULTS.md between
the markers of the section "settle against Brian2"; every run also writes
bench/results/brian2_compare.json.
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

import measure

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BEGIN, END = "<!-- brian2_compare: begin -->", "<!-- brian2_compare: end -->"

KERNEL_BACKGROUND = """seed = {seed}
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

KERNEL_SOURCES = """seed = {seed}
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

PLASTIC = """seed = {seed}
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

KERNEL_DURATION_MS = {1000: 10000.0, 10000: 2000.0, 100000: 500.0}


class Settle:
    def __init__(self, binary, workdir):
        self.binary, self.workdir, self.calls = binary, workdir, 0

    def run(self, config_text, populations):
        """One `settle run` (seed 1 + the call count, so repeats differ): measures plus spikes per population."""
        self.calls += 1
        cfg = os.path.join(self.workdir, "bench.toml")
        with open(cfg, "w") as f:
            f.write(config_text.replace("{seed}", str(self.calls)))
        out = os.path.join(self.workdir, "bench.h5")
        stdout, m = measure.run_process([self.binary, "run", cfg, "--out", out, "--force", "--quiet"])
        os.remove(out)
        summary = json.loads(stdout.strip().splitlines()[-1])
        m["loop_s"] = summary["wall_seconds"]
        m["events"] = summary["events"]
        m.update({f"spikes_{p}": summary["spikes"][p] for p in populations})
        return m


class Brian2Binary:
    """A compiled Brian2 standalone project (built by one of bench/brian2_*.py), run and measured here."""

    def __init__(self, script, args, workdir):
        proc = subprocess.run(["/usr/bin/python3", os.path.join(HERE, script), *map(str, args), workdir],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"Brian2 build failed ({script}): {proc.stderr.strip()[-2000:]}")
        self.info = json.loads(proc.stdout.strip().splitlines()[-1])
        self.cwd = self.info["cwd"]

    def count(self, prefix):
        (path,) = glob.glob(os.path.join(self.cwd, prefix + "*"))
        return int(np.fromfile(path, dtype=np.int32)[0])

    def run(self, counts):
        _, m = measure.run_process(self.info["cmd"], cwd=self.cwd)
        with open(os.path.join(self.cwd, "results", "last_run_info.txt")) as f:
            m["loop_s"] = float(f.read().split()[0])
        m.update({f"spikes_{name}": self.count(prefix) for name, prefix in counts.items()})
        return m


def summarise(label, runs, extra=None):
    row = {"runner": label, "runs": runs}
    for key in ("wall_s", "cpu_s", "loop_s"):
        row[key] = measure.median(runs, key)
        row[key + "_range"] = measure.spread(runs, key)
    row["peak_mib"] = max(r["peak_mib"] for r in runs)
    row.update(extra or {})
    return row


def fmt_range(row, key):
    lo, hi = row[key + "_range"]
    return f"{row[key]:.2f} [{lo:.2f}, {hi:.2f}]"


def kernel_section(settle, tmp, sizes, repeats):
    out = {"load_average_at_start": measure.load_average(), "rows": []}
    for n in sizes:
        duration = KERNEL_DURATION_MS.get(n, 1000.0)
        brian = Brian2Binary("brian2_kernel.py", [n, duration], os.path.join(tmp, f"brian_kernel_{n}"))
        b_runs = measure.runs(lambda: brian.run({"neurons": brian.info["count_prefix"]}), repeats)
        rate = lambda r: r["spikes_neurons"] / n / (duration / 1000.0)  # noqa: E731
        b_row = summarise("Brian2 cpp_standalone", b_runs, {"n": n, "duration_ms": duration,
                                                             "rate_hz": float(np.median([rate(r) for r in b_runs]))})
        rows = []
        for label, variant in (("settle, 100 source nodes/neuron", "sources"),
                               ("settle, one 1 kHz source node/neuron", "merged"),
                               ("settle, neuron-local background input", "background")):
            if variant == "background":
                text = KERNEL_BACKGROUND.format(seed="{seed}", duration=duration, n=n)
            else:
                merged = variant == "merged"
                text = KERNEL_SOURCES.format(seed="{seed}", duration=duration, n=n, n_sources=n if merged else 100 * n,
                                             rate=1000.0 if merged else 10.0,
                                             connect='{ rule = "one_to_one" }' if merged else
                                             '{ rule = "fixed_indegree", indegree = 100 }')
            s_runs = measure.runs(lambda: settle.run(text, ["neurons"]), repeats)
            s_rate = float(np.median([rate(r) for r in s_runs]))
            rel = measure.check_same_rate(f"kernel N = {n}, {label}", s_rate, b_row["rate_hz"])
            rows.append(summarise(label, s_runs, {"n": n, "duration_ms": duration, "rate_hz": s_rate, "rate_rel_diff": rel,
                                                  "events_per_loop_s": measure.median(s_runs, "events") / measure.median(s_runs, "loop_s")}))
        for r in rows + [b_row]:
            r["brian2_over_runner_wall"] = b_row["wall_s"] / r["wall_s"]
            r["brian2_over_runner_cpu"] = b_row["cpu_s"] / r["cpu_s"]
            out["rows"].append(r)
            print(json.dumps({k: v for k, v in r.items() if k != "runs"}), flush=True)
    return out


def kernel_table(section):
    lines = ["| N | simulated s | runner | process wall s, median [range] | process CPU s | loop s (own timer) | peak MiB | rate Hz | Brian2 / runner, wall | Brian2 / runner, CPU |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in section["rows"]:
        lines.append(f"| {r['n']} | {r['duration_ms'] / 1000:g} | {r['runner']} | {fmt_range(r, 'wall_s')} | {r['cpu_s']:.2f} | "
                     f"{r['loop_s']:.2f} | {r['peak_mib']:.0f} | {r['rate_hz']:.2f} | {r['brian2_over_runner_wall']:.2f} | "
                     f"{r['brian2_over_runner_cpu']:.2f} |")
    return "\n".join(lines)


def plasticity_section(settle, tmp, n, m, rate, duration, long_duration, repeats):
    out = {"load_average_at_start": measure.load_average(), "n": n, "m": m, "rate_hz": rate, "duration_ms": duration}
    brian = Brian2Binary("brian2_plasticity.py", [n, m, rate, duration], os.path.join(tmp, "brian_plastic"))
    b_runs = measure.runs(lambda: brian.run(brian.info["count_prefix"]), repeats)
    post_rate = lambda r: r["spikes_post"] / n / (duration / 1000.0)  # noqa: E731
    b_row = summarise("Brian2 cpp_standalone", b_runs, {"post_rate_hz": float(np.median([post_rate(r) for r in b_runs])),
                                                         "pre_rate_hz": float(np.median([r["spikes_pre"] for r in b_runs])) / m / (duration / 1000.0)})
    text = PLASTIC.format(seed="{seed}", n=n, m=m, rate=rate, duration=duration)
    s_runs = measure.runs(lambda: settle.run(text, ["inputs", "neurons"]), repeats)
    for r in s_runs:
        r["spikes_post"], r["spikes_pre"] = r["spikes_neurons"], r["spikes_inputs"]
    s_post = float(np.median([post_rate(r) for r in s_runs]))
    rel = measure.check_same_rate(f"plasticity {n} x {m}", s_post, b_row["post_rate_hz"])
    s_row = summarise("settle", s_runs, {"post_rate_hz": s_post, "rate_rel_diff": rel,
                                         "pre_rate_hz": float(np.median([r["spikes_pre"] for r in s_runs])) / m / (duration / 1000.0)})
    out["rows"] = []
    for r in (s_row, b_row):
        # One synaptic update per delivered input spike: every input spike reaches n synapses.
        r["updates_per_loop_s"] = float(np.median([x["spikes_pre"] * n / x["loop_s"] for x in r["runs"]]))
        r["brian2_over_runner_wall"] = b_row["wall_s"] / r["wall_s"]
        r["brian2_over_runner_cpu"] = b_row["cpu_s"] / r["cpu_s"]
        out["rows"].append(r)
        print(json.dumps({k: v for k, v in r.items() if k != "runs"}), flush=True)

    # settle alone: a longer run, and the cost per update against the silence between a synapse's spikes.
    def settle_case(rate_hz, inputs, dur):
        runs = measure.runs(lambda: settle.run(PLASTIC.format(seed="{seed}", n=n, m=inputs, rate=rate_hz, duration=dur),
                                               ["inputs", "neurons"]), repeats)
        row = summarise(f"settle, {n} x {inputs} at {rate_hz:g} Hz, {dur / 1000:g} s", runs,
                        {"rate_hz": rate_hz, "inputs": inputs, "duration_ms": dur})
        row["updates"] = float(np.median([x["spikes_inputs"] * n for x in runs]))
        row["updates_per_loop_s"] = float(np.median([x["spikes_inputs"] * n / x["loop_s"] for x in runs]))
        row["cpu_ns_per_update"] = float(np.median([1e9 * x["cpu_s"] / (x["spikes_inputs"] * n) for x in runs]))
        row["loop_ns_per_update"] = float(np.median([1e9 * x["loop_s"] / (x["spikes_inputs"] * n) for x in runs]))
        print(json.dumps({k: v for k, v in row.items() if k != "runs"}), flush=True)
        return row

    out["settle_long"] = settle_case(rate, m, long_duration)
    slow, fast = 1.0, 50.0
    out["isi"] = [settle_case(slow, m, long_duration), settle_case(fast, m, long_duration * slow / fast),
                  settle_case(fast, max(1, round(m * slow / fast)), long_duration)]
    return out


def plasticity_tables(section):
    n, m = section["n"], section["m"]
    lines = [f"| runner | simulated s | process wall s, median [range] | process CPU s | loop s (own timer) | peak MiB | post rate Hz | synaptic updates / loop s | Brian2 / runner, wall | Brian2 / runner, CPU |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in section["rows"]:
        lines.append(f"| {r['runner']} | {section['duration_ms'] / 1000:g} | {fmt_range(r, 'wall_s')} | {r['cpu_s']:.2f} | "
                     f"{r['loop_s']:.2f} | {r['peak_mib']:.0f} | {r['post_rate_hz']:.2f} | {r['updates_per_loop_s']:.3g} | "
                     f"{r['brian2_over_runner_wall']:.2f} | {r['brian2_over_runner_cpu']:.2f} |")
    lines += ["", f"settle alone ({n} neurons):", "",
              "| run | synaptic updates | process wall s, median [range] | process CPU s | loop s | updates / loop s | loop ns / update | CPU ns / update |",
              "|---|---|---|---|---|---|---|---|"]
    for r in [section["settle_long"]] + section["isi"]:
        lines.append(f"| {r['runner']} | {r['updates']:.3g} | {fmt_range(r, 'wall_s')} | {r['cpu_s']:.2f} | {r['loop_s']:.2f} | "
                     f"{r['updates_per_loop_s']:.3g} | {r['loop_ns_per_update']:.0f} | {r['cpu_ns_per_update']:.0f} |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", nargs="+", choices=["kernel", "plasticity"], default=["kernel", "plasticity"])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000], help="kernel: neuron counts")
    ap.add_argument("--neurons", type=int, default=1000, help="plasticity: N")
    ap.add_argument("--inputs", type=int, default=1000, help="plasticity: M")
    ap.add_argument("--plastic-ms", type=float, default=1000.0, help="plasticity: simulated ms of the comparison (both)")
    ap.add_argument("--long-ms", type=float, default=10000.0, help="plasticity: simulated ms of settle's own runs")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--settle", default=os.path.join(ROOT, "build", "settle"))
    ap.add_argument("--update-results", action="store_true")
    args = ap.parse_args()
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True).stdout.strip()
    result = {"machine": measure.machine(), "commit": commit + (" (with local changes)" if dirty else ""),
              "command": " ".join(["/usr/bin/python3", os.path.relpath(os.path.abspath(sys.argv[0]), ROOT)] + sys.argv[1:]),
              "repeats": args.repeats}
    with tempfile.TemporaryDirectory(prefix="settle-brian2-") as tmp:
        settle = Settle(args.settle, tmp)
        if "kernel" in args.only:
            result["kernel"] = kernel_section(settle, tmp, args.sizes, args.repeats)
        if "plasticity" in args.only:
            result["plasticity"] = plasticity_section(settle, tmp, args.neurons, args.inputs, 10.0, args.plastic_ms,
                                                      args.long_ms, args.repeats)
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", "brian2_compare.json"), "w") as f:
        json.dump(result, f, indent=1)
    text = [BEGIN, f"Machine: {result['machine']}. Commit {result['commit']}. Command: `{result['command']}`.", ""]
    if "kernel" in result:
        text += [f"Kernel (load average {result['kernel']['load_average_at_start']:.2f} at start):", "", kernel_table(result["kernel"]), ""]
    if "plasticity" in result:
        text += [f"Plasticity (load average {result['plasticity']['load_average_at_start']:.2f} at start):", "",
                 plasticity_tables(result["plasticity"]), ""]
    text.append(END)
    block = "\n".join(text)
    print(block)
    if args.update_results:
        path = os.path.join(HERE, "RESULTS.md")
        with open(path) as f:
            doc = f.read()
        if BEGIN not in doc or END not in doc:
            raise SystemExit(f"{path}: no '{BEGIN}' ... '{END}' markers to write between")
        head, rest = doc.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        with open(path, "w") as f:
            f.write(head + block + tail)


if __name__ == "__main__":
    main()
