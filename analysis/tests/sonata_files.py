"""Hand-made SONATA files for the tests, written with h5py (not by settle).

They follow docs/file-format.md: chunked, compressed, extensible datasets, fixed-length UTF-8
strings, the sorting attribute as an HDF5 enum or a plain string.
"""

import json

import h5py
import numpy as np

SORTING_ENUM = h5py.enum_dtype({"none": 0, "by_id": 1, "by_time": 2}, basetype="u1")


def fixed_string(text):
    """A fixed-length, NUL-padded UTF-8 string as settle writes it."""
    data = text.encode("utf-8")
    return np.array(data, dtype=h5py.string_dtype("utf-8", max(len(data), 1)))


def fixed_strings(texts):
    encoded = [t.encode("utf-8") for t in texts]
    width = max([1] + [len(e) for e in encoded])
    return np.array(encoded, dtype=h5py.string_dtype("utf-8", width))


def write_spikes(root, population, timestamps, node_ids, sorting="by_time", sorting_as="enum", chunk=4096):
    """/spikes/<population> with `sorting` as an HDF5 enum ("enum"), a string ("string") or absent (None)."""
    g = root.require_group("spikes").create_group(population)
    if sorting_as == "enum":
        g.attrs.create("sorting", np.uint8({"none": 0, "by_id": 1, "by_time": 2}[sorting]), dtype=SORTING_ENUM)
    elif sorting_as == "string":
        g.attrs["sorting"] = sorting
    timestamps = np.asarray(timestamps, dtype=np.float64)
    ts = g.create_dataset("timestamps", data=timestamps, maxshape=(None,), chunks=(chunk,), compression="gzip")
    ts.attrs["units"] = fixed_string("ms")
    g.create_dataset("node_ids", data=np.asarray(node_ids, dtype=np.uint64), maxshape=(None,), chunks=(chunk,),
                     compression="gzip")


def write_report(root, name, start, dt, values, node_ids, element_ids, element_names=None, element_units=None,
                 units="mV"):
    """/report/<name>: `values` [n_times, n_nodes * len(element_ids)], each node with all elements."""
    g = root.require_group("report").create_group(name)
    values = np.asarray(values, dtype=np.float32)
    data = g.create_dataset("data", data=values, maxshape=(None, values.shape[1]), chunks=True, compression="gzip")
    n_el = len(element_ids)
    if element_names is not None:
        data.attrs["element_names"] = fixed_strings(list(element_names) * len(node_ids))
    if element_units is not None:
        data.attrs["element_units"] = fixed_strings(list(element_units) * len(node_ids))
    data.attrs["units"] = fixed_string(units)
    m = g.create_group("mapping")
    m["node_ids"] = np.asarray(node_ids, dtype=np.uint64)
    m["index_pointers"] = np.arange(len(node_ids) + 1, dtype=np.uint64) * n_el
    m["element_ids"] = np.tile(np.asarray(element_ids, dtype=np.uint32), len(node_ids))
    t = m.create_dataset("time", data=np.array([start, start + values.shape[0] * dt, dt], dtype=np.float64))
    t.attrs["units"] = fixed_string("ms")


def write_settle_metadata(root, config="", seed=7, duration_ms=1000.0, complete=True, metrics=None, arrays=None,
                          spike_counts=None):
    """/settle as settle writes it; without `complete`, only what a killed run leaves."""
    g = root.create_group("settle")
    g.attrs["settle_version"] = fixed_string("0.1.0")
    g.attrs["git_revision"] = fixed_string("abc1234")
    g.attrs.create("seed", seed, dtype=np.uint64)
    g.attrs["duration_ms"] = np.float64(duration_ms)
    g["config"] = fixed_string(config)
    if not complete:
        return
    counts = g.create_group("spike_counts")
    for pop, n in (spike_counts or {}).items():
        counts.attrs.create(pop, n, dtype=np.uint64)
    if metrics:
        m = g.create_group("metrics")
        for name, v in metrics.items():
            m[name] = np.atleast_1d(np.asarray(v, dtype=np.float64))
    if arrays:
        a = g.create_group("arrays")
        for name, v in arrays.items():
            a[name] = np.asarray(v, dtype=np.float64)
    g["summary"] = fixed_string(json.dumps({"status": "finished", "seed": seed}))
    g.attrs["stop_reason"] = fixed_string("finished")
    g.attrs["simulated_ms"] = np.float64(duration_ms)
    g.attrs["wall_seconds"] = np.float64(0.5)
    g.attrs.create("events", 12345, dtype=np.uint64)
    g.attrs.create("complete", 1, dtype=np.uint8)


def open_sonata(path):
    """A new file with the SONATA root attributes."""
    f = h5py.File(path, "w", libver="latest")
    f.attrs.create("magic", 0x0A7A, dtype=np.uint32)
    f.attrs.create("version", [0, 1], dtype=np.uint32)
    return f


def poisson_population(rng, n_nodes, rate_hz, duration_ms):
    """Independent Poisson trains, merged and sorted by time: (timestamps, node_ids)."""
    counts = rng.poisson(rate_hz * duration_ms / 1000.0, size=n_nodes)
    ids = np.repeat(np.arange(n_nodes), counts)
    ts = rng.uniform(0.0, duration_ms, size=ids.size)
    order = np.argsort(ts, kind="stable")
    return ts[order], ids[order]
