"""Measuring one process the same way on both sides of a comparison.

Every benchmark that compares settle with another simulator measures each side as one process
started by this module, so that the figures belong to the simulating
process alone:
  - wall seconds from its start to its exit,
  - CPU seconds (user + system) of that process,
  - its peak resident memory. Measured by GNU time (/usr/bin/time, Debian package `time`)
    around the command, not by this script: Linux carries a parent's peak memory over fork and
    exec into the child's ru_maxrss, so a child of this Python process (about 30 MiB with numpy)
    could never report less; GNU time's own footprint (about 2 MiB) is the floor instead. And
    not RUSAGE_CHILDREN, which keeps the largest child ever (a compiler, for instance).
`runs()` adds one untimed warm-up run before the timed ones, on both sides alike, so that
neither side is measured with its binary and libraries still on disk (warm on both sides).
"""
import os
import platform
import statistics
import subprocess
import tempfile
import time


def run_process(cmd, cwd=None, env=None):
    """Runs cmd to its end; returns (stdout text, {"wall_s", "cpu_s", "peak_mib"}). Raises on failure."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as usage_file:
        start = time.perf_counter()
        proc = subprocess.run(["/usr/bin/time", "-f", "%U %S %M", "-o", usage_file.name, *map(str, cmd)], cwd=cwd, env=env,
                              capture_output=True, text=True)
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(map(str, cmd))} exited {proc.returncode}: {proc.stderr.strip()[-2000:]}")
        user, system, peak_kib = usage_file.read().split()[-3:]
    return proc.stdout, {"wall_s": wall, "cpu_s": float(user) + float(system), "peak_mib": float(peak_kib) / 1024.0}


def runs(fn, repeats):
    """fn() once untimed (warm-up), then `repeats` times; returns the timed results."""
    fn()
    return [fn() for _ in range(repeats)]


def median(rows, key):
    return statistics.median(r[key] for r in rows)


def spread(rows, key):
    values = [r[key] for r in rows]
    return min(values), max(values)


def machine():
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def load_average():
    return os.getloadavg()[0]


def check_same_rate(what, settle_rate, other_rate, tolerance=0.05):
    """The comparison is void unless both simulators ran the same model: rates within 5 %."""
    rel = abs(settle_rate - other_rate) / other_rate
    if rel > tolerance:
        raise SystemExit(f"{what}: settle fires at {settle_rate:.4g} Hz, Brian2 at {other_rate:.4g} Hz "
                         f"({100 * rel:.1f} % apart, more than {100 * tolerance:.0f} %): not the same model, no timing reported")
    return rel
