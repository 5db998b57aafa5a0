"""The plasticity benchmark's network written for Brian2 (cpp_standalone, clock-driven, dt = 0.1 ms).

N two-compartment neurons (settle's urbanczik_senn with NEST's defaults, no teacher), each with
synapses from all M Poisson sources (rate R) on its dendrite, learning with the dendritic
prediction rule (Urbanczik & Senn 2014, NEST's convention, tau_Delta = 100 ms), the same
equations as settle's plasticity/dendritic_prediction_rule.hpp:
  per synapse  x_L, x_s: spike traces (decay tau_L, tau_s), PSP = psp_scale (x_L - x_s)
               dI/dt = G_post PSP,  dE/dt = -E/tau_Delta + G_post PSP      (G = -phi(V*) h(V*))
               at a post spike  I += h(V*) PSP,  E += h(V*) PSP
               w = clip(w0 + eta_eff (I - E), w_min, w_max), used by each pre spike
Time-driven: every synapse's four state variables are integrated every step (Euler, the
cheapest Brian2 method; accuracy is not measured here).

Usage: /usr/bin/python3 bench/brian2_plasticity.py N M RATE_HZ DURATION_MS PROJECT_DIR
Generates and compiles the standalone project (not timed) and prints one JSON line with the
binary to run (`cwd`, `cmd`) and the files its spike counts are written to; bench/brian2_compare.py
runs and measures the binary itself (bench/measure.py).
"""
import json
import sys
import warnings

warnings.filterwarnings("ignore")


def nest_parameters():
    from brian2 import ms, mV, pF, nS, pA
    c_d, gl_d, ts = 300.0, 30.0, 3.0  # pF, nS, ms
    tl = c_d / gl_d
    return dict(g_L=30 * nS, E_L=-70 * mV, g_sp=600 * nS, C=300 * pF, g_L_d=gl_d * nS, C_d=c_d * pF,
                tau_s=ts * ms, tau_L=tl * ms, phi_max=0.15 / ms, k=0.5, beta=1 / (3 * mV),
                theta=-55 * mV, tau_Delta=100 * ms, psp_scale=ts / (gl_d * (tl - ts)) * mV / pA,
                eta_eff=225.0 * c_d * 0.07 * pA * pA, w_min=0 * pA, w_max=100 * pA)


def main():
    n, m, rate_hz, duration_ms, workdir = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
    import brian2 as b2
    from brian2 import ms, mV, pA, Hz

    b2.prefs.logging.console_log_level = "ERROR"
    b2.set_device("cpp_standalone", directory=workdir, build_on_run=False)
    b2.defaultclock.dt = 0.1 * ms
    params = nest_parameters()
    eqs = """
    dU/dt = (-g_L*(U - E_L) + g_sp*(V_w - U)) / C : volt
    dV_w/dt = (-g_L_d*(V_w - E_L) + I_d) / C_d : volt
    dI_d/dt = -I_d / tau_s : amp
    V_star = (g_L*E_L + g_sp*V_w) / (g_L + g_sp) : volt
    q = beta*(theta - V_star) + log(k) : 1
    h_V = beta / (1 + exp(-q)) : 1/volt
    G = -phi_max*beta / (4*cosh(q/2)**2) : hertz/volt
    """
    neurons = b2.NeuronGroup(n, eqs, threshold="rand() < phi_max / (1 + k*exp(beta*(theta - U))) * dt",
                             refractory=3 * ms, method="exact", namespace=params)
    neurons.U = -70 * mV
    neurons.V_w = -70 * mV
    sources = b2.PoissonGroup(m, rates=rate_hz * Hz)
    syn = b2.Synapses(sources, neurons, model="""
        w0 : amp (constant)
        dx_L/dt = -x_L / tau_L : 1 (clock-driven)
        dx_s/dt = -x_s / tau_s : 1 (clock-driven)
        dI/dt = G_post * psp_scale * (x_L - x_s) : 1/amp (clock-driven)
        dE/dt = -E / tau_Delta + G_post * psp_scale * (x_L - x_s) : 1/amp (clock-driven)
        """, on_pre="""
        I_d_post += clip(w0 + eta_eff*(I - E), w_min, w_max)
        x_L += 1
        x_s += 1
        """, on_post="""
        I += h_V_post * psp_scale * (x_L - x_s)
        E += h_V_post * psp_scale * (x_L - x_s)
        """, method="euler", delay=1 * ms, namespace=params)
    syn.connect()
    syn.w0 = "10*pA + 3*pA*randn()"
    # Named: Brian2's run() collects the objects it sees in this frame.
    post = b2.SpikeMonitor(neurons, record=False, name="post_spikes")  # noqa: F841
    pre = b2.SpikeMonitor(sources, record=False, name="pre_spikes")  # noqa: F841
    b2.run(duration_ms * ms)
    b2.device.build(directory=workdir, compile=True, run=False, debug=False)
    print(json.dumps({"cwd": workdir, "cmd": ["./main"], "synapses": n * m,
                      "count_prefix": {"post": "results/_array_post_spikes_N_", "pre": "results/_array_pre_spikes_N_"}}))


if __name__ == "__main__":
    main()
