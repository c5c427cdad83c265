#!/usr/bin/env python3
"""Compare two hemotree outputs field by field (e.g. the CPU and CUDA backends).

For each of pressure, flow, area and ecmo_fraction: the largest |a - b| over every output
time and cell, relative to the largest |b| of that field. Exit status 1 when a relative
difference exceeds --tol, or when the two files do not have the same times and cells.

usage: compare_outputs.py A.h5 B.h5 [--tol 1e-10] [--json]
"""
import argparse
import json
import sys

import h5py
import numpy as np


def compare(a_path, b_path):
    out = {}
    with h5py.File(a_path, "r") as a, h5py.File(b_path, "r") as b:
        ta, tb = a["/time"][:], b["/time"][:]
        if ta.shape != tb.shape or not np.array_equal(ta, tb):
            raise ValueError("output times differ: %s vs %s samples" % (ta.shape, tb.shape))
        for name in ("pressure", "flow", "area", "ecmo_fraction"):
            key = "/fields/" + name
            if key not in a or key not in b:
                continue
            fa, fb = a[key][:], b[key][:]
            if fa.shape != fb.shape:
                raise ValueError("%s: shapes differ %s vs %s" % (name, fa.shape, fb.shape))
            scale = np.max(np.abs(fb)) or 1.0
            out[name] = float(np.max(np.abs(fa - fb)) / scale)
        out["samples"] = int(ta.shape[0])
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--tol", type=float, default=1e-10)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    try:
        res = compare(args.a, args.b)
    except (OSError, KeyError, ValueError) as e:
        print("compare_outputs: %s" % e, file=sys.stderr)
        return 1
    worst = max(v for k, v in res.items() if k != "samples")
    if args.json:
        print(json.dumps(res))
    else:
        for k, v in res.items():
            print("%-14s %s" % (k, v))
    return 0 if worst <= args.tol else 1


if __name__ == "__main__":
    sys.exit(main())
