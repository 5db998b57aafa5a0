#!/usr/bin/python3
"""Figure of the circuit's temporal-derivative test (docs/science.md, section 5).

Reads /settle/metrics/derivative_{untrained,trained}_* from settle output files (run with
examples/circuit_derivative_test.toml) and draws, per file, the mean cosine between d rate/dt and
-dLoss/dr (95 % CI) against the readout delay, one line per teacher strength and hidden layer,
with the shuffled-error control in grey.

    /usr/bin/python3 networks/circuit/plot_derivative_test.py d_sym.h5 d_random.h5 --out derivative.png
"""
import argparse

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np


def load(path, tag):
    with h5py.File(path, "r", swmr=True) as f:
        m = f["settle/metrics"]
        p = f"derivative_{tag}_"
        if p + "delay_ms" not in m:
            return None
        feedback = "?"
        try:
            import json
            feedback = json.loads(f["settle/summary"][()]).get("feedback", "?")
        except Exception:
            pass
        layers = sorted(int(k.rsplit("_l", 1)[1]) for k in m if k.startswith(p + "cos_l"))
        get = lambda k: np.asarray(m[p + k][:])
        return feedback, get("teacher_strength"), get("delay_ms"), {
            l: {q: get(f"{q}_l{l}") for q in ("cos", "cos_ci95", "shuffled_cos", "shuffled_cos_ci95")} for l in layers}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="+")
    ap.add_argument("--out", default="derivative_test.png")
    args = ap.parse_args()
    panels = [(path, tag) for path in args.files for tag in ("untrained", "trained") if load(path, tag)]
    if not panels:
        raise SystemExit("no derivative_test metrics in the given files")
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 3.4), squeeze=False, sharey=True)
    for ax, (path, tag) in zip(axes[0], panels):
        feedback, g, d, layers = load(path, tag)
        for l, v in layers.items():
            for gi, gs in enumerate(np.unique(g)):
                sel = g == gs
                ax.errorbar(d[sel], v["cos"][sel], yerr=v["cos_ci95"][sel], marker="o", ms=3, capsize=2,
                            ls="-" if l == max(layers) else "--", label=f"layer {l}, g {gs:g}")
                ax.errorbar(d[sel], v["shuffled_cos"][sel], yerr=v["shuffled_cos_ci95"][sel], color="0.6",
                            marker=".", ms=2, lw=0.8, capsize=1)
        ax.axhline(0, color="k", lw=0.5)
        ax.set_xscale("log")
        ax.set_xlabel("readout delay after teacher onset (ms)")
        ax.set_title(f"{feedback} feedback, {tag}", fontsize=9)
    axes[0][0].set_ylabel("cos(d rate/dt, -dLoss/dr)")
    axes[0][-1].legend(fontsize=6, loc="lower left")
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    print(args.out)


if __name__ == "__main__":
    main()
