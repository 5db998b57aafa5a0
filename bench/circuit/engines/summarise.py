#!/usr/bin/python3
"""Summarises bench/circuit/engines/run.sh: per task and engine, each seed's result, the mean and
the sample sd over seeds, and the acceptance checks of the event engine against the stepped one.

    /usr/bin/python3 bench/circuit/engines/summarise.py [DIR]
"""
import json
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def load(directory, task, engine):
    runs = {}
    for seed in range(1, 6):
        path = os.path.join(directory, f"{task}_{engine}_s{seed}.json")
        if os.path.exists(path) and os.path.getsize(path) > 0:
            with open(path) as f:
                runs[seed] = json.load(f)
    return runs


def main():
    directory = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "results")
    out = {}
    for task, key in (("moons", "accuracy"), ("ts", "mse_ratio")):
        for engine in ("event", "stepped"):
            runs = load(directory, task, engine)
            values = {}
            for seed, r in runs.items():
                m = r["metrics"]
                if key == "accuracy":
                    values[seed] = m["test_accuracy"]
                else:
                    values[seed] = m["test_error_final"] / m["test_error_initial"]
            row = {"per_seed": values}
            if len(values) > 1:
                row["mean"] = statistics.mean(values.values())
                row["sd"] = statistics.stdev(values.values())
                row["min"] = min(values.values())
                row["max"] = max(values.values())
            if task == "ts" and engine == "event":
                row["below_output_only"] = {s: r["metrics"]["test_error_final"] < r["metrics"]["test_error_output_only"]
                                            for s, r in runs.items() if "test_error_output_only" in r["metrics"]}
            out[f"{task}_{engine}"] = row
    checks = {}
    if "mean" in out["moons_event"] and "mean" in out["moons_stepped"]:
        checks["moons_mean_difference_points"] = 100 * (out["moons_event"]["mean"] - out["moons_stepped"]["mean"])
        checks["moons_event_mean_at_least_92"] = out["moons_event"]["mean"] >= 0.92
        checks["moons_event_no_seed_below_90"] = out["moons_event"]["min"] >= 0.90
    if "mean" in out["ts_event"] and "mean" in out["ts_stepped"]:
        checks["ts_relative_difference"] = out["ts_event"]["mean"] / out["ts_stepped"]["mean"] - 1
        checks["ts_event_every_seed_at_most_35_percent"] = out["ts_event"]["max"] <= 0.35
        checks["ts_event_below_output_only_every_seed"] = all(out["ts_event"].get("below_output_only", {}).values())
    out["checks"] = checks
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
