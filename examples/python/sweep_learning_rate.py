#!/usr/bin/python3
"""A parameter sweep from Python: the dendritic prediction rule's learning rate against how well a
neuron's dendrite learns to predict the potential a teacher imposes on its soma.

The protocol of Urbanczik & Senn's Fig. 1, built from the API: 200 inputs replay one frozen
200 ms Poisson pattern (10 Hz); one urbanczik_senn neuron (NEST's parameters) gets a sinusoidal
excitatory and a constant inhibitory teacher conductance on its soma (the steady values of the
demo's conductance increments: 162 +- 144 nS and 540 nS), and its dendritic synapses learn with
the dendritic prediction rule. The error of a repetition is the RMS difference between the
dendritic prediction V* and the teacher's matching potential U_M = (g_E E_E + g_I E_I) /
(g_E + g_I), the potential the teacher alone would impose. Run from the repository root after `make build`:

    PYTHONPATH=build/python /usr/bin/python3 examples/python/sweep_learning_rate.py --out sweep.png
"""
import argparse

import numpy as np

import settle

PATTERN_MS = 200.0
G_EXC_MEAN, G_EXC_AMPLITUDE, G_INH = 162.0, 144.0, 540.0  # nS
E_EX, E_IN = 0.0, -75.0  # mV, NEST's defaults


def run(eta, repetitions, seed):
    net = settle.Network(seed=seed)
    net.population("inputs", "spike_train_source", 200, frozen_poisson={"rate_hz": 10.0, "period_ms": PATTERN_MS},
                   repeat={"period_ms": PATTERN_MS, "count": repetitions})
    net.population("neuron", "urbanczik_senn", 1,
                   teacher_exc={"kind": "sinusoid", "mean": G_EXC_MEAN, "amplitude": G_EXC_AMPLITUDE,
                                "period_ms": PATTERN_MS},
                   teacher_inh={"kind": "constant", "value": G_INH})
    net.projection("inputs", "neuron", receptor="dendrite", weight=90.0, delay=0.1,
                   plasticity={"rule": "dendritic_prediction", "eta": eta, "w_max": 1350.0})
    net.record(reports=[{"population": "neuron", "variables": ["V_star"], "dt_ms": 0.5}])
    sim = settle.Simulator(net)
    sim.run(repetitions * PATTERN_MS)
    t, data, _, _ = sim.report("neuron")
    g_exc = G_EXC_MEAN + G_EXC_AMPLITUDE * np.sin(2 * np.pi * t / PATTERN_MS)
    matching = (g_exc * E_EX + G_INH * E_IN) / (g_exc + G_INH)
    per_rep = int(PATTERN_MS / 0.5)
    error = data[:, 0] - matching  # V* - U_M, mV
    n = len(error) // per_rep
    rms = np.sqrt((error[: n * per_rep].reshape(n, per_rep) ** 2).mean(axis=1))
    return rms


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--etas", type=float, nargs="+", default=[0.0, 0.03, 0.1, 0.3, 1.0])
    ap.add_argument("--repetitions", type=int, default=40)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default="sweep_learning_rate.png")
    args = ap.parse_args()
    curves = {}
    for eta in args.etas:
        curves[eta] = run(eta, args.repetitions, args.seed)
        first, last = curves[eta][:5].mean(), curves[eta][-5:].mean()
        print(f"eta {eta:g}: RMS(V* - U_M) {first:.2f} -> {last:.2f} mV (first and last 5 repetitions)")
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.5))
    for eta, rms in curves.items():
        a.plot(np.arange(1, len(rms) + 1), rms, label=f"eta {eta:g}")
    a.set_xlabel("pattern repetition")
    a.set_ylabel("RMS(V* - U_M) [mV]")
    a.legend(fontsize=8)
    b.semilogx([e for e in curves if e > 0], [curves[e][-5:].mean() for e in curves if e > 0], "o-")
    b.set_xlabel("learning rate eta")
    b.set_ylabel("final RMS(V* - U_M) [mV]")
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    print(f"figure: {args.out}")


if __name__ == "__main__":
    main()
