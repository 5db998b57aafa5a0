#!/usr/bin/python3
"""settle's demo (examples/demo.toml) built from Python: one Urbanczik-Senn two-compartment neuron
(NEST's parameters) driven by 200 Poisson inputs at 10 Hz on its dendrite, with a sinusoidal
excitatory and a constant inhibitory teacher conductance on its soma.

It writes the same SONATA file as `settle run examples/demo.toml` (the same spikes, byte for byte,
for the same seed) and a figure: the input raster, the neuron's spikes, and its somatic potential
U against the dendritic prediction V*_w. Run from the repository root after `make build`:

    PYTHONPATH=build/python /usr/bin/python3 examples/python/demo.py --out demo_python.h5
"""
import argparse

import settle


def demo_network(seed):
    net = settle.Network(seed=seed)
    net.population("inputs", "poisson_source", 200, rate_hz=10.0)
    # The teacher as in NEST's urbanczik_synapse_example, as continuous conductances (nS).
    net.population("neuron", "urbanczik_senn", 1, preset="nest",
                   teacher_exc={"kind": "sinusoid", "mean": 164.8, "amplitude": 146.5, "period_ms": 100.0},
                   teacher_inh={"kind": "constant", "value": 549.3})
    net.projection("inputs", "neuron", receptor="dendrite", weight={"dist": "normal", "mean": 90.0, "std": 30.0},  # pA
                   delay=0.1)
    net.record(spikes="all", reports=[{"population": "neuron", "variables": ["U", "V_w", "V_star", "phi"], "dt_ms": 0.1}])
    return net


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--duration-ms", type=float, default=2000.0)
    ap.add_argument("--out", default="demo_python.h5", help="the SONATA file")
    ap.add_argument("--figure", default="demo_python.png")
    ap.add_argument("--force", action="store_true", help="overwrite the SONATA file")
    args = ap.parse_args()
    with settle.Simulator(demo_network(args.seed), out=args.out, force=args.force) as sim:
        sim.run(args.duration_ms)
        t_in, n_in = sim.spikes("inputs")
        t_out, _ = sim.spikes("neuron")
        t, data, names, _ = sim.report("neuron")
    rate = len(t_out) / (args.duration_ms * 1e-3)
    print(f"{len(t_in)} input spikes, {len(t_out)} output spikes ({rate:.1f} Hz); file: {args.out}")

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (a, b) = plt.subplots(2, 1, figsize=(8, 5), sharex=True, gridspec_kw={"height_ratios": [2, 1]})
    a.plot(t_in, n_in, "|", ms=2, color="0.4")
    a.plot(t_out, [205] * len(t_out), "|", ms=8, color="C3")
    a.set_ylabel("input node (red: the neuron)")
    b.plot(t, data[:, names.index("U")], lw=0.7, label="U (soma)")
    b.plot(t, data[:, names.index("V_star")], lw=0.7, label="V*_w (dendritic prediction)")
    b.set_xlabel("time [ms]")
    b.set_ylabel("potential [mV]")
    b.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    fig.savefig(args.figure, dpi=120)
    print(f"figure: {args.figure}")


if __name__ == "__main__":
    main()
