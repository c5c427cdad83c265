#!/usr/bin/env python3
"""Check that a finished hemotree run reported its approach to a periodic state.

/metrics/periodicity holds, per completed cycle after the first, the largest change of the
pressure waveform at every vessel's midpoint relative to that site's pulse pressure. A
network started from rest converges towards its periodic state, so the change must fall
from the first reported cycle to the last, and the last must be below --below.

usage: check_periodicity.py OUT.h5 --cycles N [--below X]
"""
import argparse
import sys

import h5py
import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("h5")
    ap.add_argument("--cycles", type=int, required=True)
    ap.add_argument("--below", type=float, default=0.05)
    a = ap.parse_args()
    with h5py.File(a.h5, "r") as f:
        status = f.attrs["status"]
        status = status.decode() if isinstance(status, bytes) else status
        g = f["/metrics/periodicity"]
        cyc = g["cycle"][:]
        rel = g["relative_change"][:]
        ok = True
        if status != "completed":
            print("run status: %s" % status)
            ok = False
        if not np.array_equal(cyc, np.arange(2, a.cycles + 1)):
            print("cycles reported: %s, expected 2..%d" % (cyc, a.cycles))
            ok = False
        for c, r in zip(cyc, rel):
            print("cycle %2d: change %.3e of the pulse pressure" % (c, r))
        if not rel[-1] < rel[0]:
            print("no convergence: last change %.3e >= first %.3e" % (rel[-1], rel[0]))
            ok = False
        if not rel[-1] < a.below:
            print("last change %.3e >= %.3e" % (rel[-1], a.below))
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
