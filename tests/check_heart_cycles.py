#!/usr/bin/env python3
"""Physiology of a run with the 0D heart: the last complete beat of /metrics/cycles against
the target ranges of its preset, and the closed loop's volume account.

    check_heart_cycles.py OUT.h5 --preset healthy|cardiogenic-shock [--min-beats N]

Target ranges (docs/heart.md, "Targets"; the same as tests/test_heart.c, which checks the 0D
loop with its windkessel stand-in):
  healthy            CO 4.5-5.5 L/min, MAP 90-95 mmHg, EF 55-65 %, LVEDP 8-12 mmHg
                     (resting adult: CO ~5 L/min, Guyton & Hall, Textbook of Medical
                     Physiology; EF 52-72 %, Lang et al., J Am Soc Echocardiogr 2015;28:1;
                     LVEDP <= 12 mmHg normal filling pressure)
  cardiogenic-shock  CO 2-3 L/min, MAP 55-65 mmHg, EF 15-25 %, LVEDP 20-30 mmHg
                     (ranges chosen inside the SHOCK trial / SCAI definitions: SBP < 90 or
                     MAP < 65 mmHg, CI < 2.2 L/min/m^2, PCWP > 15 mmHg; van Diepen et al.,
                     Circulation 2017;136:e232)
Also: the whole loop's volume (1D + outlet compliances + 0D) drifts < 1e-9 relative.
Exit status 0 when every check passes, 1 otherwise.
"""
import argparse
import sys

import h5py
import numpy as np

MMHG = 133.322387415
RANGES = {
    "healthy": {"co": (4.5, 5.5), "map": (90, 95), "ef": (55, 65), "lvedp": (8, 12)},
    "cardiogenic-shock": {"co": (2, 3), "map": (55, 65), "ef": (15, 25), "lvedp": (20, 30)},
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("h5")
    ap.add_argument("--preset", required=True, choices=sorted(RANGES))
    ap.add_argument("--min-beats", type=int, default=3)
    a = ap.parse_args()
    bad = []
    with h5py.File(a.h5, "r") as f:
        c = f["/metrics/cycles"]
        n = len(c["beat"])
        if n < a.min_beats:
            bad.append("only %d complete beats (need %d)" % (n, a.min_beats))
        got = {
            "co": c["cardiac_output"][-1] * 6e4,
            "map": c["map"][-1] / MMHG,
            "ef": 100 * c["ejection_fraction"][-1],
            "lvedp": c["lvedp"][-1] / MMHG,
        }
        units = {"co": "L/min", "map": "mmHg", "ef": "%", "lvedp": "mmHg"}
        for k, (lo, hi) in RANGES[a.preset].items():
            ok = lo <= got[k] <= hi
            print("%-18s beat %d: %-5s %8.2f %-5s in [%g, %g]: %s" % (a.preset, n - 1, k.upper(), got[k], units[k],
                                                                   lo, hi, "ok" if ok else "OUTSIDE"))
            if not ok:
                bad.append("%s %.2f %s outside [%g, %g]" % (k, got[k], units[k], lo, hi))
        for k in ("edv_change", "esv_change"):
            print("%-18s beat %d: %s %.2e" % (a.preset, n - 1, k, c[k][-1]))
        v = f["/metrics/volume"]
        drift = float(v["total_relative_drift"][0])
        print("%-18s closed-loop volume drift %.2e" % (a.preset, drift))
        if not abs(drift) < 1e-9 or not np.isfinite(drift):
            bad.append("closed-loop volume drift %.2e" % drift)
    for b in bad:
        print("FAIL: " + b, file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
