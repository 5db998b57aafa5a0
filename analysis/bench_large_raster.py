"""Benchmark: load and plot the raster of a large spike file.

Writes (with h5py, in settle's layout) a file of N neurons firing as independent Poisson
processes, time-sorted, then measures in fresh processes:
  1. the command `python3 -m settle_analysis plot FILE --what raster`, end to end;
  2. the library: load_spikes + plots.raster + PNG, with wall time per step and peak RSS.

    /usr/bin/python3 analysis/bench_large_raster.py [--neurons 10000] [--duration-ms 100000]
        [--rate-hz 10] [--dir DIR] [--keep]

Defaults: 10,000 neurons x 100 s x 10 Hz = 10 million spikes. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SPIKE_CHUNK = 1 << 15  # entries per chunk, as settle writes them
BLOCK_MS = 1000.0  # spikes are generated and appended one block of simulated time at a time


def write_spike_file(path: str, n_neurons: int, duration_ms: float, rate_hz: float, seed: int = 1) -> int:
    """Writes a complete settle-like file with one population "exc" of `n_neurons` Poisson
    neurons at `rate_hz` over `duration_ms`, sorted by time. Returns the number of spikes."""
    rng = np.random.default_rng(seed)
    sorting = h5py.enum_dtype({"none": 0, "by_id": 1, "by_time": 2}, basetype="u1")
    total = 0
    with h5py.File(path, "w", libver="latest") as f:
        f.attrs.create("magic", 0x0A7A, dtype=np.uint32)
        f.attrs.create("version", [0, 1], dtype=np.uint32)
        g = f.create_group("spikes/exc")
        g.attrs.create("sorting", 2, dtype=sorting)
        options = dict(maxshape=(None,), chunks=(SPIKE_CHUNK,), shuffle=True, compression="gzip", compression_opts=4)
        ts = g.create_dataset("timestamps", shape=(0,), dtype=np.float64, **options)
        ts.attrs["units"] = "ms"
        ids = g.create_dataset("node_ids", shape=(0,), dtype=np.uint64, **options)
        for start in np.arange(0.0, duration_ms, BLOCK_MS):
            stop = min(start + BLOCK_MS, duration_ms)
            counts = rng.poisson(rate_hz * (stop - start) / 1000.0, size=n_neurons)
            block_ids = np.repeat(np.arange(n_neurons, dtype=np.uint64), counts)
            block_ts = rng.uniform(start, stop, size=block_ids.size)
            order = np.argsort(block_ts)
            ts.resize((total + order.size,))
            ids.resize((total + order.size,))
            ts[total:] = block_ts[order]
            ids[total:] = block_ids[order]
            total += order.size
        meta = f.create_group("settle")
        meta["config"] = (f"[simulation]\nduration_ms = {duration_ms}\n\n"
                          f'[[population]]\nname = "exc"\nsize = {n_neurons}\n')
        meta.attrs["settle_version"] = "bench"
        meta.attrs["git_revision"] = "none"
        meta.attrs.create("seed", seed, dtype=np.uint64)
        meta.attrs["duration_ms"] = duration_ms
        meta.attrs["simulated_ms"] = duration_ms
        meta.attrs["stop_reason"] = "finished"
        meta.attrs["wall_seconds"] = 0.0
        meta.attrs.create("events", total, dtype=np.uint64)
        meta.create_group("spike_counts").attrs.create("exc", total, dtype=np.uint64)
        meta.attrs.create("complete", 1, dtype=np.uint8)
    return total


def measure_library(path: str, png: str) -> dict:
    """Loads all spikes and draws the raster in this process; seconds per step, peak RSS (MB)."""
    started = time.perf_counter()
    import settle_analysis as sa
    from settle_analysis import plots

    imported = time.perf_counter()
    spikes = sa.load_spikes(path)
    loaded = time.perf_counter()
    fig = plots.raster(spikes)
    drawn = time.perf_counter()
    plots.save_figure(fig, png)
    saved = time.perf_counter()
    return {
        "spikes": sum(len(s) for s in spikes.values()),
        "downsampled": bool(fig.axes[0].images),
        "import_s": imported - started,
        "load_s": loaded - imported,
        "raster_s": drawn - loaded,
        "png_s": saved - drawn,
        "total_s": saved - started,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--neurons", type=int, default=10_000)
    parser.add_argument("--duration-ms", type=float, default=100_000.0)
    parser.add_argument("--rate-hz", type=float, default=10.0)
    parser.add_argument("--dir", help="where to write the file and figures (default: a temporary directory)")
    parser.add_argument("--keep", action="store_true", help="keep the generated file and figures")
    parser.add_argument("--measure-library", metavar="FILE", help=argparse.SUPPRESS)  # child process mode
    args = parser.parse_args()

    if args.measure_library:
        print(json.dumps(measure_library(args.measure_library, args.measure_library + ".raster.png")))
        return 0

    work = args.dir or tempfile.mkdtemp(prefix="settle-bench-")
    os.makedirs(work, exist_ok=True)
    path = os.path.join(work, "large.h5")
    started = time.perf_counter()
    n = write_spike_file(path, args.neurons, args.duration_ms, args.rate_hz)
    print(f"wrote {path}: {n} spikes, {os.path.getsize(path) / 2**20:.0f} MB, in {time.perf_counter() - started:.1f} s")

    # The command first, so that RUSAGE_CHILDREN (the largest peak of the children so far) is its own.
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "settle_analysis", "plot", path, "--what", "raster"], check=True,
                   env=dict(os.environ, PYTHONPATH=HERE), stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    print(f"command: python3 -m settle_analysis plot FILE --what raster: {wall:.2f} s wall, peak RSS {peak:.0f} MB")

    child = subprocess.run([sys.executable, __file__, "--measure-library", path], capture_output=True, text=True,
                           check=True, env=dict(os.environ, PYTHONPATH=HERE))
    lib = json.loads(child.stdout)
    print("library: import {import_s:.2f} s, load_spikes {load_s:.2f} s, raster {raster_s:.2f} s, "
          "PNG {png_s:.2f} s; total {total_s:.2f} s, peak RSS {peak_rss_mb:.0f} MB, downsampled: {downsampled}"
          .format(**lib))

    if not args.keep:
        for name in os.listdir(os.path.join(work, "large_figures")):
            os.remove(os.path.join(work, "large_figures", name))
        os.rmdir(os.path.join(work, "large_figures"))
        os.remove(path + ".raster.png")
        os.remove(path)
        if not args.dir:
            os.rmdir(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
