"""The kernel benchmark's two-compartment model written for Brian2 (cpp_standalone, dt = 0.1 ms).

Same equations and parameters as settle's urbanczik_senn neuron with NEST's defaults (no teacher):
soma C dU/dt = -g_L (U - E_L) + g_sp (V_w - U); dendrite C_d dV_w/dt = -g_L_d (V_w - E_L) + I_d,
tau_s dI_d/dt = -I_d, each input spike adds its weight to I_d; Poisson spiking at
phi(U) = phi_max / (1 + k exp(beta (theta - U))) with a 3 ms dead time and no reset.
The 100 inputs per neuron at 10 Hz are Brian2's PoissonInput (independent per neuron).

Usage: /usr/bin/python3 bench/brian2_kernel.py N DURATION_MS PROJECT_DIR
Generates and compiles the standalone project (not timed) and prints one JSON line with the
binary to run (`cwd`, `cmd`) and the file its spike count is written to; bench/brian2_compare.py
runs and measures the binary itself (bench/measure.py).
"""
import json
import sys
import warnings

warnings.filterwarnings("ignore")

MONITOR = "neuron_spikes"


def main():
    n, duration_ms, workdir = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
    import brian2 as b2
    from brian2 import ms, mV, pF, nS, pA, Hz

    b2.prefs.logging.console_log_level = "ERROR"
    b2.set_device("cpp_standalone", directory=workdir, build_on_run=False)
    b2.defaultclock.dt = 0.1 * ms
    # No `(unless refractory)`: the dead time only blocks spiking, U is integrated always.
    eqs = """
    dU/dt = (-g_L*(U - E_L) + g_sp*(V_w - U)) / C : volt
    dV_w/dt = (-g_L_d*(V_w - E_L) + I_d) / C_d : volt
    dI_d/dt = -I_d / tau_s : amp
    """
    params = dict(g_L=30 * nS, E_L=-70 * mV, g_sp=600 * nS, C=300 * pF, g_L_d=30 * nS, C_d=300 * pF,
                  tau_s=3 * ms, phi_max=0.15 / ms, k=0.5, beta=1 / (3 * mV), theta=-55 * mV)
    group = b2.NeuronGroup(n, eqs, threshold="rand() < phi_max / (1 + k*exp(beta*(theta - U))) * dt",
                           refractory=3 * ms, method="exact", namespace=params)
    group.U = -70 * mV
    group.V_w = -70 * mV
    # Named: Brian2's run() collects the objects it sees in this frame.
    inputs = b2.PoissonInput(group, "I_d", N=100, rate=10 * Hz, weight=100 * pA)  # noqa: F841
    monitor = b2.SpikeMonitor(group, record=False, name=MONITOR)  # noqa: F841
    b2.run(duration_ms * ms)
    b2.device.build(directory=workdir, compile=True, run=False, debug=False)
    print(json.dumps({"cwd": workdir, "cmd": ["./main"], "count_prefix": f"results/_array_{MONITOR}_N_"}))


if __name__ == "__main__":
    main()
