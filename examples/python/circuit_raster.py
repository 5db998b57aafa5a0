#!/usr/bin/python3
"""A small learning circuit trained from Python, its learning curve and its raster.

The spiking circuit of docs/science.md (section 4.3, the event-driven engine) on two moons: 10 inputs, 30 hidden units,
2 outputs, random feedback and the twin nudge, 16 streams, on settle's event-driven kernel. The
script trains it in parts, evaluating the test error after each part (a test pass on a separate
frozen network: it changes nothing of the training), then plots the learning curve and the spikes
of every layer of stream 0 around the last recorded teacher onset. Run from the repository root
after `make build`:

    PYTHONPATH=build/python /usr/bin/python3 examples/python/circuit_raster.py --figure circuit.png
"""
import argparse

import numpy as np

import settle

CONFIG = {
    "name": "circuit_raster",
    "experiment": "circuit",
    "task": {"kind": "two_moons", "n_train": 1000, "n_test": 200, "noise": 0.1, "n_in": 10},
    "circuit": {"mode": "spiking", "engine": "event", "nudge": "twin", "feedback": "random", "hidden": [30],
                "streams": 16},
    "training": {"presentations": 4000, "checkpoints": 1, "control_output_only": False, "control_frozen": False},
    # the spikes of every layer (both channels) during the last 48 presentations over all 16 streams
    "record": {"spikes": "all", "window_presentations": 48},
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--presentations", type=int, default=4000)
    ap.add_argument("--parts", type=int, default=8, help="evaluations along the way")
    ap.add_argument("--n-test", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--figure", default="circuit_raster.png")
    args = ap.parse_args()
    CONFIG["training"]["presentations"] = args.presentations
    CONFIG["task"]["n_test"] = args.n_test
    circuit = settle.Circuit(CONFIG, seed=args.seed)
    done, errors = [0], [circuit.evaluate()["test_error"]]
    print(f"before training: test error {errors[0]:.3f}")
    for k in range(1, args.parts + 1):
        circuit.train(args.presentations * k // args.parts - circuit.presentations_done)
        done.append(circuit.presentations_done)
        errors.append(circuit.evaluate()["test_error"])
        print(f"{done[-1]} presentations: test error {errors[-1]:.3f}")

    onset = circuit.teacher_onsets[-1]
    window = (onset - 60.0, onset + 60.0)
    layers = circuit.populations  # input, layer1 (hidden), layer2 (output)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1 + len(layers), 1, figsize=(8, 7), gridspec_kw={"height_ratios": [2] + [1] * len(layers)})
    axes[0].plot(done, errors, "o-")
    axes[0].set_xlabel("presentations")
    axes[0].set_ylabel("test error")
    for ax, name in zip(axes[1:], layers):
        t, ids = circuit.spikes(name)
        # stream 0: node ids 0 .. n - 1 (the input) or 0 .. 2n - 1 (somatic channel, then prediction)
        n = CONFIG["task"]["n_in"] if name == "input" else (
            CONFIG["circuit"]["hidden"][0] if name == "layer1" else 2)
        keep = (t >= window[0]) & (t <= window[1]) & (ids < n)  # stream 0's somatic channel
        ax.plot(t[keep], ids[keep], "|", ms=4)
        ax.axvline(onset, color="C3", lw=0.8)
        ax.set_xlim(*window)
        ax.set_ylabel(name)
    axes[-1].set_xlabel("time [ms] (red: teacher onset)")
    fig.tight_layout()
    fig.savefig(args.figure, dpi=120)
    print(f"figure: {args.figure}; spikes: " +
          ", ".join(f"{name} {len(circuit.spikes(name)[0])}" for name in layers))
    return np.asarray(errors)


if __name__ == "__main__":
    main()
