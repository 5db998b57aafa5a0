#!/usr/bin/python3
"""Compares two spiking temporal-derivative tables cell by cell (e.g. the event engine's and the
stepped loop's, from examples/circuit_derivative_test.toml with circuit.mode=spiking and
derivative_test.inputs=100): a cell agrees when |difference of the means| <= sqrt(ci1^2 + ci2^2).

    /usr/bin/python3 bench/circuit/engines/compare_derivative.py A.json B.json
(A, B: the JSON summaries `settle run` prints as its last line.)
"""
import json
import math
import sys


def cells(path):
    m = json.load(open(path))["metrics"]
    out = {}
    for state in ("untrained", "trained"):
        p = f"derivative_{state}_"
        if p + "teacher_strength" not in m:
            continue
        gs, ds = m[p + "teacher_strength"], m[p + "delay_ms"]
        layer = 1
        while p + f"cos_l{layer}" in m:
            for i, (g, d) in enumerate(zip(gs, ds)):
                out[(state, g, d, layer)] = (m[p + f"cos_l{layer}"][i], m[p + f"cos_ci95_l{layer}"][i])
            layer += 1
    return out


def main():
    a, b = cells(sys.argv[1]), cells(sys.argv[2])
    agree, rows = 0, []
    for key in sorted(a):
        if key not in b:
            continue
        (ma, ca), (mb, cb) = a[key], b[key]
        ok = abs(ma - mb) <= math.sqrt(ca * ca + cb * cb)
        agree += ok
        rows.append((key, round(ma, 3), round(ca, 3), round(mb, 3), round(cb, 3), ok))
    for r in rows:
        print(*r)
    print(json.dumps({"cells": len(rows), "agree": agree}))


if __name__ == "__main__":
    main()
