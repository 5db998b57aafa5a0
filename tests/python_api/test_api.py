"""The Python API (python/settle) against the CLI and against itself.

Run by ctest (python_api) with PYTHONPATH=<build>/python and SETTLE_BIN set.
"""
import json
import os
import pathlib
import signal
import subprocess
import sys
import textwrap
import threading

import h5py
import numpy as np
import pytest

import settle

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "python"))
from terminal import run_on_pty  # noqa: E402

SETTLE = os.environ.get("SETTLE_BIN", str(pathlib.Path(__file__).resolve().parents[2] / "build" / "settle"))
SOURCE = pathlib.Path(__file__).resolve().parents[2]


# demo_network() as a TOML config, and its report.
DEMO_TOML = textwrap.dedent("""
    seed = 3
    [simulation]
    duration_ms = 2000.0
    [[population]]
    name = "inputs"
    model = "poisson_source"
    size = 200
    rate_hz = 10.0
    [[population]]
    name = "neurons"
    model = "urbanczik_senn"
    size = 20
    [[projection]]
    source = "inputs"
    target = "neurons"
    connect = { rule = "fixed_indegree", indegree = 20 }
    weight = { dist = "normal", mean = 300.0, std = 50.0 }
    delay_ms = { dist = "uniform", low = 0.0, high = 2.0 }
    [record]
    spikes = "all"
""")
DEMO_TOML_REPORT = textwrap.dedent("""
    [[record.report]]
    population = "neurons"
    variables = ["U", "V_star"]
    nodes = [0, 2]
    dt_ms = 1.0
""")


def demo_network(seed=3):
    net = settle.Network(seed=seed)
    net.population("inputs", "poisson_source", 200, rate_hz=10.0)
    net.population("neurons", "urbanczik_senn", 20)
    net.projection("inputs", "neurons", weight={"dist": "normal", "mean": 300.0, "std": 50.0},
                   connect={"rule": "fixed_indegree", "indegree": 20}, delay={"dist": "uniform", "low": 0.0, "high": 2.0})
    net.record(spikes="all", reports=[{"population": "neurons", "variables": ["U", "V_star"], "nodes": [0, 2], "dt_ms": 1.0}])
    return net


def plastic_network():
    net = settle.Network(seed=5)
    net.population("inputs", "poisson_source", 50, rate_hz=20.0)
    net.population("neurons", "urbanczik_senn", 3,
                   teacher_exc={"kind": "sinusoid", "mean": 20.0, "amplitude": 10.0, "period_ms": 100.0})
    net.projection("inputs", "neurons", weight={"dist": "normal", "mean": 10.0, "std": 3.0}, receptor="dendrite",
                   plasticity={"rule": "dendritic_prediction", "eta": 0.5}, name="plastic")
    net.record(spikes="all", reports=[{"population": "neurons", "dt_ms": 0.5}])
    return net


def cli_spikes(config_text, tmp_path):
    cfg = tmp_path / "net.toml"
    cfg.write_text(config_text)
    out = tmp_path / "net.h5"
    subprocess.run([SETTLE, "run", cfg, "--out", out, "-q", "--force"], check=True, capture_output=True)
    with h5py.File(out, "r") as f:
        return {p: (f[f"spikes/{p}/timestamps"][:], f[f"spikes/{p}/node_ids"][:]) for p in f["spikes"]}


def test_python_and_toml_give_the_same_spikes(tmp_path):
    cli = cli_spikes(DEMO_TOML, tmp_path)
    sim = settle.Simulator(demo_network())
    sim.run(2000.0)
    for p in ("inputs", "neurons"):
        t, n = sim.spikes(p)
        assert len(t) > 100
        assert t.tobytes() == cli[p][0].tobytes() and n.tobytes() == cli[p][1].astype(np.uint64).tobytes(), p
    # load_config reads the same file into the same network
    net, duration = settle.load_config(tmp_path / "net.toml")
    assert duration == 2000.0
    again = settle.Simulator(net)
    again.run(duration)
    assert again.spikes("neurons")[0].tobytes() == cli["neurons"][0].tobytes()


def test_continued_runs_equal_one_run_with_plasticity_and_reports():
    one = settle.Simulator(plastic_network())
    one.run(200.0)
    two = settle.Simulator(plastic_network())
    two.run(100.0)
    two.run(37.5)
    two.run(62.5)
    assert one.now == two.now == 200.0
    for p in ("inputs", "neurons"):
        assert one.spikes(p)[0].tobytes() == two.spikes(p)[0].tobytes()
        assert one.spikes(p)[1].tobytes() == two.spikes(p)[1].tobytes()
    assert len(one.spikes("neurons")[0]) > 0
    t1, d1, names, nodes = one.report("neurons")
    t2, d2, _, _ = two.report("neurons")
    assert names == ["U", "V_w", "V_star", "phi"]  # every state variable of urbanczik_senn by default
    assert d1.shape == d2.shape and d1.shape[0] == len(t1) and np.array_equal(d1, d2) and np.array_equal(t1, t2)
    w1, w2 = one.weights("plastic"), two.weights("plastic")
    assert w1.dtype == np.float64 and len(w1) == 150
    assert np.array_equal(w1, w2)
    src, tgt = one.connections("plastic")
    assert src.dtype == np.uint64 and len(src) == len(w1)


def test_dtypes_and_units():
    sim = settle.Simulator(demo_network())
    sim.run(300.0)
    t, n = sim.spikes("neurons")
    assert t.dtype == np.float64 and n.dtype == np.uint64
    assert np.all(np.diff(t) >= 0) and (len(t) == 0 or (t[0] >= 0 and t[-1] <= 300.0))  # ms
    times, data, names, nodes = sim.report("neurons")
    assert names == ["U", "V_star"] and list(nodes) == [0, 2]
    assert data.shape == (len(times), 4) and data.dtype == np.float64
    assert np.allclose(np.diff(times), 1.0)  # dt_ms = 1
    assert -90.0 < data.min() and data.max() < 0.0  # mV
    stats = sim.stats()
    assert stats["simulated_ms"] == 300.0 and stats["spikes"]["neurons"] == len(t)


def test_weights_can_be_read_and_set():
    net = demo_network()
    sim = settle.Simulator(net)
    w = sim.weights("inputs->neurons")
    sim.set_weights("inputs->neurons", np.zeros_like(w))
    assert np.all(sim.weights("inputs->neurons") == 0.0)
    sim.run(500.0)
    assert len(sim.spikes("neurons")[0]) < 20  # no input reaches them: only spontaneous spikes
    with pytest.raises(settle.ConfigError, match="needs 400 weights"):
        sim.set_weights("inputs->neurons", np.zeros(3))


@pytest.mark.parametrize("build, exception, message", [
    (lambda n: n.population("x", "urbanczik_senn", 0), settle.ConfigError, "population.x.size: required, must be >= 1"),
    (lambda n: n.population("x", "no_such_model", 3), settle.ConfigError, "unknown value 'no_such_model'"),
    (lambda n: n.population("x", "poisson_source", 3, rate_hz=-1.0), settle.ConfigError, "must be >= 0"),
    (lambda n: n.population("x", "poisson_source", 3, rate_hz=1.0, colour="red"), settle.ConfigError, "colour"),
    (lambda n: n.population("x", "poisson_source", 3, rate_hz=float("nan")), settle.ConfigError, "finite"),
    (lambda n: (n.population("x", "poisson_source", 3, rate_hz=1.0), n.projection("x", "y", weight=1.0)),
     settle.ConfigError, "no population named 'y'"),
])
def test_bad_input_raises_with_the_clis_message(build, exception, message):
    net = settle.Network()
    build(net)
    with pytest.raises(exception) as info:
        settle.Simulator(net)
    assert message in str(info.value)
    assert isinstance(info.value, ValueError) and len(str(info.value).splitlines()) == 1


def test_lookups_and_files():
    sim = settle.Simulator(demo_network())
    with pytest.raises(KeyError):
        sim.spikes("nobody")
    with pytest.raises(KeyError):
        sim.weights("nothing")
    with pytest.raises(FileNotFoundError, match="/nonexistent/net.toml"):
        settle.load_config("/nonexistent/net.toml")
    with pytest.raises(settle.ConfigError):
        sim.run(-1.0)


def test_simulators_share_no_state_and_one_runs_in_one_thread_at_a_time():
    a, b = settle.Simulator(demo_network(seed=1)), settle.Simulator(demo_network(seed=1))
    a.run(100.0)
    b.run(100.0)
    assert a.spikes("neurons")[0].tobytes() == b.spikes("neurons")[0].tobytes()
    # while one thread runs a long simulation, a second call on it raises
    long_net = settle.Network(seed=1)
    long_net.population("inputs", "poisson_source", 2000, rate_hz=50.0)
    long_net.population("neurons", "urbanczik_senn", 200)
    long_net.projection("inputs", "neurons", weight=100.0, connect={"rule": "fixed_indegree", "indegree": 100})
    sim = settle.Simulator(long_net)
    worker = threading.Thread(target=sim.run, args=(20000.0,))
    worker.start()
    errors = []
    for _ in range(200):
        try:
            sim.run(1.0)
        except RuntimeError as e:
            errors.append(str(e))
            break
        threading.Event().wait(0.01)
    worker.join()
    assert errors and "already running" in errors[0]


def test_ctrl_c_raises_keyboard_interrupt_and_keeps_a_consistent_state(tmp_path):
    script = tmp_path / "interrupt.py"
    script.write_text(textwrap.dedent("""
        import os, signal, threading, settle
        net = settle.Network(seed=1)
        net.population("inputs", "poisson_source", 2000, rate_hz=50.0)
        net.population("neurons", "urbanczik_senn", 200)
        net.projection("inputs", "neurons", weight=100.0, connect={"rule": "fixed_indegree", "indegree": 100})
        net.record(spikes=["neurons"])
        sim = settle.Simulator(net)
        threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
        try:
            sim.run(1e7)
            print("not interrupted")
        except KeyboardInterrupt:
            t = sim.now
            n = len(sim.spikes("neurons")[0])
            sim.run(10.0)  # continues from where it stopped
            print("interrupted", t > 0, t < 1e7, sim.now == t + 10.0, len(sim.spikes("neurons")[0]) >= n)
    """))
    env = dict(os.environ)
    proc = subprocess.run([sys.executable, script], capture_output=True, text=True, env=env, timeout=120)
    assert proc.stdout.strip() == "interrupted True True True True", proc.stdout + proc.stderr


def test_sweep_example_learns_and_plots(tmp_path):
    out = tmp_path / "sweep.png"
    env = dict(os.environ)
    proc = subprocess.run([sys.executable, SOURCE / "examples" / "python" / "sweep_learning_rate.py", "--etas", "0", "0.3",
                           "--repetitions", "20", "--out", out], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    lines = {l.split(":")[0]: l for l in proc.stdout.splitlines() if l.startswith("eta ")}
    first, last = (float(x) for x in lines["eta 0.3"].split("RMS(V* - U_M) ")[1].split(" mV")[0].split(" -> "))
    assert last < 0.7 * first  # the dendrite learns to predict the teacher's potential
    first0, last0 = (float(x) for x in lines["eta 0"].split("RMS(V* - U_M) ")[1].split(" mV")[0].split(" -> "))
    assert abs(last0 - first0) < 0.05 * first0  # and without learning it does not
    assert out.stat().st_size > 10000


def test_streaming_to_a_sonata_file_like_the_cli(tmp_path):
    out = tmp_path / "py.h5"
    with settle.Simulator(demo_network(), out=out) as sim:
        sim.run(1000.0)
        sim.run(1000.0)
    with pytest.raises(RuntimeError, match="closed"):
        sim.run(1.0)
    info = subprocess.run([SETTLE, "info", out], capture_output=True, text=True)
    assert info.returncode == 0, info.stderr
    cfg = tmp_path / "net.toml"
    cfg.write_text(DEMO_TOML + DEMO_TOML_REPORT)
    subprocess.run([SETTLE, "run", cfg, "--out", tmp_path / "cli.h5", "-q"], check=True, capture_output=True)
    with h5py.File(out, "r") as a, h5py.File(tmp_path / "cli.h5", "r") as b:
        for p in ("inputs", "neurons"):
            for d in ("timestamps", "node_ids"):
                assert a[f"spikes/{p}/{d}"][:].tobytes() == b[f"spikes/{p}/{d}"][:].tobytes(), (p, d)
        n = a["report/neurons/data"].shape[0]
        assert n >= 1999 and np.array_equal(a["report/neurons/data"][:n - 1], b["report/neurons/data"][:n - 1])
    # an existing file is refused unless force
    with pytest.raises(OSError):
        settle.Simulator(demo_network(), out=out)
    settle.Simulator(demo_network(), out=out, force=True).close()


def test_run_config_equals_the_cli(tmp_path):
    cfg = SOURCE / "examples" / "demo.toml"
    summary = settle.run_config(cfg, out=tmp_path / "py.h5", overrides=["simulation.duration_ms=1500"], seed=4)
    assert summary["status"] == "finished" and summary["simulated_ms"] == 1500.0
    subprocess.run([SETTLE, "run", cfg, "--set", "simulation.duration_ms=1500", "--seed", "4", "--out", tmp_path / "cli.h5",
                    "-q"], check=True, capture_output=True)
    with h5py.File(tmp_path / "py.h5", "r") as a, h5py.File(tmp_path / "cli.h5", "r") as b:
        assert set(a["spikes"]) == set(b["spikes"])
        for p in a["spikes"]:
            for d in ("timestamps", "node_ids"):
                assert a[f"spikes/{p}/{d}"][:].tobytes() == b[f"spikes/{p}/{d}"][:].tobytes()
    # a circuit too: the same metrics as the CLI's summary
    moons = SOURCE / "examples" / "circuit_moons.toml"
    sets = ["training.presentations=1000", "task.n_test=100", "training.control_frozen=false"]
    py = settle.run_config(moons, out=tmp_path / "m.h5", overrides=sets)
    cli = subprocess.run([SETTLE, "run", moons, *sum((["--set", s] for s in sets), []), "--out", tmp_path / "m2.h5", "-q"],
                         check=True, capture_output=True, text=True)
    cli_metrics = json.loads(cli.stdout.strip().splitlines()[-1])["metrics"]
    for key in ("test_accuracy", "test_error_initial", "test_accuracy_output_only"):
        assert py["metrics"][key] == cli_metrics[key], key
    # bad input: the CLI's message, no file
    with pytest.raises(settle.ConfigError, match="training.presentations"):
        settle.run_config(moons, out=tmp_path / "bad.h5", overrides=["training.presentations=-3"])
    assert not (tmp_path / "bad.h5").exists()
    with pytest.raises(OSError, match="exists"):
        settle.run_config(moons, out=tmp_path / "m.h5", overrides=sets)


def test_ctrl_c_in_run_config_keeps_an_interrupted_file(tmp_path):
    out = tmp_path / "long.h5"
    script = tmp_path / "interrupt.py"
    script.write_text(textwrap.dedent(f"""
        import os, signal, threading, settle
        threading.Timer(1.0, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
        try:
            settle.run_config({str(SOURCE / "examples" / "demo.toml")!r}, out={str(out)!r},
                              overrides=["simulation.duration_ms=1e9"])
            print("not interrupted")
        except KeyboardInterrupt:
            print("interrupted")
    """))
    proc = subprocess.run([sys.executable, script], capture_output=True, text=True, timeout=120)
    assert proc.stdout.strip() == "interrupted", proc.stdout + proc.stderr
    info = subprocess.run([SETTLE, "info", out], capture_output=True, text=True)
    assert info.returncode == 0 and "interrupted" in info.stdout, info.stdout + info.stderr


def test_progress_bar_on_a_terminal_only(tmp_path):
    script = tmp_path / "bar.py"
    script.write_text(textwrap.dedent("""
        import sys, settle
        net = settle.Network(seed=1)
        net.population("inputs", "poisson_source", 20000, rate_hz=20.0)
        net.population("neurons", "urbanczik_senn", 200)
        net.projection("inputs", "neurons", weight=100.0, connect={"rule": "fixed_indegree", "indegree": 100})
        settle.Simulator(net).run(3000.0, progress=sys.argv[1] == "on")
    """))
    for mode in ("on", "off"):
        code, text = run_on_pty([sys.executable, script, mode], "stderr")
        assert code == 0
        if mode == "on":
            assert "ev/s" in text and "%" in text, text[:300]
        else:
            assert "ev/s" not in text, text[:300]
    # piped stderr: no bar even when asked
    proc = subprocess.run([sys.executable, script, "on"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "ev/s" not in proc.stderr


# A small spiking circuit on the event engine (as tests/python/test_circuit_recording.py's).
CIRCUIT_TOML = textwrap.dedent("""
    name = "moons_python"
    experiment = "circuit"
    seed = 2
    [task]
    kind = "two_moons"
    n_train = 200
    n_test = 40
    n_in = 6
    [circuit]
    mode = "spiking"
    engine = "event"
    hidden = [8]
    streams = 3
    [training]
    presentations = {presentations}
    checkpoints = 1
    control_output_only = false
    control_frozen = false
    test_window_ms = 100.0
    [record]
    spikes = "all"
    window_presentations = 6
    weights = true
    [[record.report]]
    population = "layer1"
    variables = ["U", "Vbar"]
    nodes = [0, 1, 17]
    dt_ms = 1.0
    [derivative_test]
    enabled = true
    inputs = 5
    trials = 4
    teacher_strengths = [0.2]
    delays_ms = [5.0, 10.0]
    on = "trained"
""")


def circuit_config(tmp_path, presentations=60):
    path = tmp_path / "circuit.toml"
    path.write_text(CIRCUIT_TOML.format(presentations=presentations))
    return path


def test_circuit_equals_the_cli_in_parts_and_evaluation_changes_nothing(tmp_path):
    config = circuit_config(tmp_path)
    out = tmp_path / "circuit.h5"
    subprocess.run([SETTLE, "run", config, "--out", out, "-q", "--force"], check=True, capture_output=True)
    c = settle.Circuit(config)
    assert c.populations == ["input", "layer1", "layer2"] and c.presentations == 60
    initial = c.evaluate()
    c.train(25, progress=False)
    assert c.presentations_done == 25
    c.evaluate()  # between two parts: a separate frozen network, the training state untouched
    c.weights()
    c.train(progress=False)  # on to the configured 60
    assert c.presentations_done == 60
    final = c.evaluate()
    with h5py.File(out, "r") as f:
        metrics = f["settle/metrics"]
        assert initial["test_error"] == metrics["test_error_initial"][0]
        assert final["test_error"] == metrics["test_error_final"][0]
        assert final["test_accuracy"] == metrics["test_accuracy"][0]
        assert final["outputs"].shape == (2, 40) and final["outputs"].dtype == np.float64
        for name, w in c.weights().items():
            assert w.tobytes() == f[f"settle/arrays/{name}"][:].astype(np.float64).tobytes(), name
        for p in c.populations:
            t, n = c.spikes(p)
            assert len(t) > 100, p
            assert t.tobytes() == f[f"spikes/{p}/timestamps"][:].tobytes(), p
            assert n.tobytes() == f[f"spikes/{p}/node_ids"][:].astype(np.uint64).tobytes(), p
        times, data, names, nodes = c.report("layer1")
        assert names == ["U", "Vbar"] and nodes.tolist() == [0, 1, 17] and data.shape == (len(times), 6)
        # the file stores reports as float32, as SONATA does
        assert np.array_equal(data.astype(np.float32), f["report/layer1/data"][:])
        assert np.array_equal(c.teacher_onsets, metrics["circuit_teacher_onsets_ms"][:])
        # the temporal-derivative table of the trained circuit, as the run computed it
        table = c.derivative_test()
        assert table["teacher_strength"].tolist() == [0.2, 0.2] and table["delay_ms"].tolist() == [5.0, 10.0]
        for key in ("cos", "cos_ci95", "angle_deg", "shuffled_cos", "unpaired_cos"):
            assert table[key].shape == (2, 1)
            assert table[key][:, 0].tolist() == metrics[f"derivative_trained_{key}_l1"][:].tolist(), key
    assert c.stats()["presentations"] == 60


def test_circuit_training_past_the_configured_run_and_from_a_dict(tmp_path):
    doc = settle._settle.load_toml(str(circuit_config(tmp_path, presentations=20)), [])
    a = settle.Circuit(doc)
    a.train(progress=False).train(10, progress=False)
    assert a.presentations_done == 30
    b = settle.Circuit(doc)
    b.train(20, progress=False)
    b.train(10, progress=False)
    assert all(a.weights()[k].tobytes() == b.weights()[k].tobytes() for k in a.weights())
    assert settle.Circuit(doc, seed=3).weights()["W1"].tobytes() != a.weights()["W1"].tobytes()


def stepped_without_recording(doc):
    del doc["record"]
    doc["circuit"]["engine"] = "stepped"


def set_key(section, key, value):
    return lambda doc: doc.setdefault(section, {}).__setitem__(key, value) if section else doc.__setitem__(key, value)


@pytest.mark.parametrize("change, message", [
    (set_key("circuit", "mode", "rate"), "circuit.engine: \"event\" runs the spiking mode"),
    (stepped_without_recording, "circuit.engine: a Circuit session runs the event engine"),
    (set_key("circuit", "hidden", [0]), "circuit.hidden"),
    (set_key("circuit", "colour", 1), "circuit.colour"),
    (set_key("circuit", "tau_ms", float("nan")), "circuit.tau_ms"),
    (set_key(None, "experiment", "network"), "experiment"),
])
def test_circuit_bad_input_raises_with_the_clis_message(tmp_path, change, message):
    doc = settle._settle.load_toml(str(circuit_config(tmp_path)), [])
    change(doc)
    with pytest.raises(settle.ConfigError) as info:
        settle.Circuit(doc)
    assert message in str(info.value) and len(str(info.value).splitlines()) == 1


def test_circuit_lookups_and_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        settle.Circuit(tmp_path / "missing.toml")
    c = settle.Circuit(circuit_config(tmp_path, presentations=6))
    with pytest.raises(KeyError):
        c.spikes("nobody")
    with pytest.raises(KeyError):
        c.report("layer2")
    with pytest.raises(settle.ConfigError):
        c.train(-5)
    with pytest.raises(settle.ConfigError, match="trials"):
        c.derivative_test(trials=0)


def test_ctrl_c_in_circuit_training_pauses_at_a_presentation_end(tmp_path):
    config = circuit_config(tmp_path, presentations=3000)
    script = tmp_path / "interrupt_circuit.py"
    script.write_text(textwrap.dedent(f"""
        import os, signal, threading, settle
        c = settle.Circuit({str(config)!r})
        threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
        try:
            c.train(progress=False)
            print("not interrupted")
        except KeyboardInterrupt:
            paused = c.presentations_done
            c.train(progress=False)  # continues from the presentation it paused at
            uninterrupted = settle.Circuit({str(config)!r}).train(progress=False)
            same = all(c.weights()[k].tobytes() == uninterrupted.weights()[k].tobytes() for k in c.weights())
            print("interrupted", 0 < paused < 3000, c.presentations_done == 3000, same)
    """))
    proc = subprocess.run([sys.executable, script], capture_output=True, text=True, env=dict(os.environ), timeout=300)
    assert proc.stdout.strip() == "interrupted True True True", proc.stdout + proc.stderr


def test_quantities_are_converted_to_each_keys_unit(tmp_path):
    pq = pytest.importorskip("quantities")  # python3-quantities: installed by .ci/install-deps

    def network(with_units):
        def v(q, plain):
            return q if with_units else plain
        net = settle.Network(seed=2)
        net.population("inputs", "poisson_source", 50, rate_hz=v(0.02 * pq.kHz, 20.0))
        # E_L in mV, phi_max in 1/ms (a frequency that is not in Hz), tau_syn_d in ms
        net.population("neurons", "urbanczik_senn", 3,
                       params={"E_L": v(-0.07 * pq.V, -70.0), "phi_max": v(150.0 * pq.Hz, 0.15),
                               "tau_syn_d": v(0.003 * pq.s, 3.0)})
        net.projection("inputs", "neurons", weight=10.0, receptor="dendrite",
                       delay={"dist": "uniform", "low": v(1000.0 * pq.us, 1.0), "high": v(0.002 * pq.s, 2.0)})
        net.record(spikes="all")
        return net

    with_units, plain = settle.Simulator(network(True)), settle.Simulator(network(False))
    with_units.run(0.5 * pq.s, progress=False)
    plain.run(500.0, progress=False)
    assert with_units.now == 500.0
    assert len(plain.spikes("neurons")[0]) > 0
    for p in ("inputs", "neurons"):
        assert with_units.spikes(p)[0].tobytes() == plain.spikes(p)[0].tobytes(), p

    wrong = settle.Network()
    wrong.population("x", "poisson_source", 3, rate_hz=3.0 * pq.mV)
    with pytest.raises(settle.ConfigError, match=r"^population\.x\.rate_hz: mV cannot be converted to Hz"):
        settle.Simulator(wrong)
    unitless = settle.Network()
    unitless.population("x", "poisson_source", 3, rate_hz=1.0)
    unitless.population("y", "urbanczik_senn", 3)
    unitless.projection("x", "y", weight=5.0 * pq.pA)  # a weight's unit is its receptor's
    with pytest.raises(settle.ConfigError, match="no unit in settle"):
        settle.Simulator(unitless)

    # a circuit from a dict: tau_ms and the test window in their keys' units
    doc = settle._settle.load_toml(str(circuit_config(tmp_path, presentations=6)), [])
    doc["circuit"]["tau_ms"] = 0.005 * pq.s
    doc["training"]["test_window_ms"] = 0.1 * pq.s
    a = settle.Circuit(doc).train(progress=False)
    doc["circuit"]["tau_ms"], doc["training"]["test_window_ms"] = 5.0, 100.0
    b = settle.Circuit(doc).train(progress=False)
    assert a.spikes("layer1")[0].tobytes() == b.spikes("layer1")[0].tobytes()
    assert a.evaluate()["test_error"] == b.evaluate()["test_error"]


def test_demo_example_writes_the_clis_spikes(tmp_path):
    out, figure = tmp_path / "demo_python.h5", tmp_path / "demo.png"
    proc = subprocess.run([sys.executable, SOURCE / "examples" / "python" / "demo.py", "--out", out, "--figure", figure],
                          capture_output=True, text=True, env=dict(os.environ), timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert figure.stat().st_size > 10000
    subprocess.run([SETTLE, "run", SOURCE / "examples" / "demo.toml", "--out", tmp_path / "cli.h5", "-q"], check=True,
                   capture_output=True)
    with h5py.File(out, "r") as a, h5py.File(tmp_path / "cli.h5", "r") as b:
        assert set(a["spikes"]) == set(b["spikes"]) == {"inputs", "neuron"}
        for p in a["spikes"]:
            assert len(a[f"spikes/{p}/timestamps"]) > 50, p
            for d in ("timestamps", "node_ids"):
                assert a[f"spikes/{p}/{d}"][:].tobytes() == b[f"spikes/{p}/{d}"][:].tobytes(), (p, d)
        assert np.array_equal(a["report/neuron/data"][:], b["report/neuron/data"][:])


def test_urbanczik_senn_protocol_through_run_config_equals_the_cli(tmp_path):
    cfg = SOURCE / "examples" / "urbanczik_senn.toml"
    sets = ["protocol.repetitions=4", "protocol.control=false"]
    settle.run_config(cfg, out=tmp_path / "py.h5", overrides=sets)
    subprocess.run([SETTLE, "run", cfg, *sum((["--set", s] for s in sets), []), "--out", tmp_path / "cli.h5", "-q"],
                   check=True, capture_output=True)
    with h5py.File(tmp_path / "py.h5", "r") as a, h5py.File(tmp_path / "cli.h5", "r") as b:
        assert set(a["spikes"]) == set(b["spikes"]) and len(a["spikes"]) > 0
        for p in a["spikes"]:
            for d in ("timestamps", "node_ids"):
                assert a[f"spikes/{p}/{d}"][:].tobytes() == b[f"spikes/{p}/{d}"][:].tobytes(), (p, d)


def test_circuit_example_learns_and_plots_its_raster(tmp_path):
    figure = tmp_path / "circuit.png"
    proc = subprocess.run([sys.executable, SOURCE / "examples" / "python" / "circuit_raster.py", "--presentations", "400",
                           "--parts", "2", "--n-test", "100", "--figure", figure],
                          capture_output=True, text=True, env=dict(os.environ), timeout=300)
    assert proc.returncode == 0, proc.stderr
    errors = [float(line.split("test error ")[1]) for line in proc.stdout.splitlines() if "test error" in line]
    assert len(errors) == 3
    # two moons: chance is 0.5; 400 presentations of the 10-30-2 circuit reach about 0.06 (seed 1)
    assert errors[-1] < 0.2 < errors[0], proc.stdout
    assert figure.stat().st_size > 10000


def test_inputs_changed_between_runs_equal_a_scheduled_change():
    # rates of a scheduled poisson_source and an urbanczik_senn teacher, changed at 300 ms from
    # Python, against the config that schedules the same change: the same spikes and weights
    def network(scheduled):
        net = settle.Network(seed=4)
        rates = {"times_ms": [0.0, 300.0], "rates_hz": [[10.0], [30.0]]} if scheduled else \
            {"times_ms": [0.0], "rates_hz": [[10.0]]}
        net.population("inputs", "poisson_source", 100, schedule={**rates, "max_rate_hz": 40.0})
        teacher = {"kind": "piecewise", "times_ms": [0.0, 300.0], "values": [100.0, 300.0]} if scheduled else \
            {"kind": "constant", "value": 100.0}
        net.population("neurons", "urbanczik_senn", 3, teacher_exc=teacher, teacher_inh={"kind": "constant", "value": 200.0})
        net.projection("inputs", "neurons", weight=200.0, receptor="dendrite", name="plastic",
                       plasticity={"rule": "dendritic_prediction", "eta": 0.3})
        net.record(spikes="all")
        return net

    scheduled = settle.Simulator(network(True))
    scheduled.run(700.0)
    driven = settle.Simulator(network(False))
    driven.run(300.0)
    driven.set_rates("inputs", 30.0)
    driven.set_teacher("neurons", exc=np.full(3, 300.0))
    driven.run(400.0)
    for p in ("inputs", "neurons"):
        assert len(driven.spikes(p)[0]) > 100, p
        assert driven.spikes(p)[0].tobytes() == scheduled.spikes(p)[0].tobytes(), p
    assert driven.weights("plastic").tobytes() == scheduled.weights("plastic").tobytes()
    assert np.abs(driven.weights("plastic") - 200.0).max() > 1.0  # the weights did learn
    with pytest.raises(settle.ConfigError, match="max_rate_hz"):
        driven.set_rates("inputs", 50.0)
    with pytest.raises(settle.ConfigError, match="set_teacher needs an urbanczik_senn"):
        driven.set_teacher("inputs", exc=1.0)
    with pytest.raises(settle.ConfigError, match="one per node"):
        driven.set_teacher("neurons", exc=[1.0, 2.0])
    constant = settle.Simulator(demo_network())
    with pytest.raises(settle.ConfigError, match="set_rates needs a poisson_source with a schedule"):
        constant.set_rates("inputs", 5.0)


US_PROTOCOL_TOML = textwrap.dedent("""
    seed = 7
    [simulation]
    duration_ms = 600.0
    [[population]]
    name = "inputs"
    model = "spike_train_source"
    size = 200
    frozen_poisson = { rate_hz = 10.0, period_ms = 200.0 }
    repeat = { period_ms = 200.0, count = 3 }
    [[population]]
    name = "neuron"
    model = "urbanczik_senn"
    size = 1
    teacher_exc = { kind = "sinusoid", mean = 162.0, amplitude = 144.0, period_ms = 200.0 }
    teacher_inh = { kind = "constant", value = 540.0 }
    [[projection]]
    name = "plastic"
    source = "inputs"
    target = "neuron"
    receptor = "dendrite"
    weight = 90.0
    delay_ms = 0.1
    plasticity = { rule = "dendritic_prediction", eta = 0.3, w_max = 1350.0 }
    [record]
    spikes = "all"
    [[record.report]]
    population = "neuron"
    variables = ["V_star"]
    dt_ms = 0.5
""")


def test_urbanczik_senn_protocol_from_python_equals_its_toml(tmp_path):
    # the protocol of examples/python/sweep_learning_rate.py, built from the API and as a config
    net = settle.Network(seed=7)
    net.population("inputs", "spike_train_source", 200, frozen_poisson={"rate_hz": 10.0, "period_ms": 200.0},
                   repeat={"period_ms": 200.0, "count": 3})
    net.population("neuron", "urbanczik_senn", 1,
                   teacher_exc={"kind": "sinusoid", "mean": 162.0, "amplitude": 144.0, "period_ms": 200.0},
                   teacher_inh={"kind": "constant", "value": 540.0})
    net.projection("inputs", "neuron", receptor="dendrite", weight=90.0, delay=0.1, name="plastic",
                   plasticity={"rule": "dendritic_prediction", "eta": 0.3, "w_max": 1350.0})
    net.record(spikes="all", reports=[{"population": "neuron", "variables": ["V_star"], "dt_ms": 0.5}])
    out = tmp_path / "py.h5"
    with settle.Simulator(net, out=out) as sim:
        sim.run(250.0)
        sim.run(350.0)
        weights = sim.weights("plastic")
    cli = cli_spikes(US_PROTOCOL_TOML, tmp_path)
    assert len(cli["neuron"][0]) > 10
    with h5py.File(out, "r") as f, h5py.File(tmp_path / "net.h5", "r") as g:
        for p in ("inputs", "neuron"):
            assert f[f"spikes/{p}/timestamps"][:].tobytes() == cli[p][0].tobytes(), p
            assert f[f"spikes/{p}/node_ids"][:].tobytes() == cli[p][1].tobytes(), p
        assert np.array_equal(f["report/neuron/data"][:], g["report/neuron/data"][:])
    assert np.abs(weights - 90.0).max() > 1.0  # it learned
