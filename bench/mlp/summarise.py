#!/usr/bin/env python3
"""Mean and standard deviation over seeds of the validation runs in bench/mlp/results."""
import glob, json, math, os, re, sys
from collections import defaultdict

root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "results")
runs = defaultdict(list)
for path in sorted(glob.glob(os.path.join(root, "*.json"))):
    m = re.match(r"(.+)_e(\d+)_s(\d+)\.json$", os.path.basename(path))
    if m:
        runs[(m.group(1), int(m.group(2)))].append(json.load(open(path)))

def stats(xs):
    n = len(xs)
    mean = sum(xs) / n
    sd = math.sqrt(sum((x - mean) ** 2 for x in xs) / (n - 1)) if n > 1 else float("nan")
    return mean, sd

print("| config | epochs | seeds | test acc. % (mean ± sd) | valid. acc. % | final train loss | s/epoch | update angle (deg) per layer W1.. |")
print("| --- | --- | --- | --- | --- | --- | --- | --- |")
for (cfg, epochs), rs in sorted(runs.items()):
    test = stats([100 * r["metrics"]["test_accuracy"] for r in rs])
    val = stats([100 * r["metrics"]["validation_accuracy"] for r in rs])
    loss = stats([r["metrics"]["train_loss"][-1] for r in rs])
    sec = stats([sum(r["metrics"]["epoch_seconds"]) / len(r["metrics"]["epoch_seconds"]) for r in rs])
    ang = ""
    if "update_angle_deg" in rs[0]["metrics"]:
        layers = zip(*[r["metrics"]["update_angle_deg"] for r in rs])
        ang = " ".join(f"{stats(list(l))[0]:.0f}" for l in layers)
    seeds = ",".join(str(r["seed"]) for r in rs)
    print(f"| {cfg} | {epochs} | {seeds} | {test[0]:.2f} ± {test[1]:.2f} | {val[0]:.2f} ± {val[1]:.2f} | "
          f"{loss[0]:.4f} | {sec[0]:.1f} | {ang} |")
