#!/usr/bin/env python3
"""The LV's loading on femoral VA-ECMO once the closed loop has settled (issue 7; docs/validation.md,
"Heart, closed loop and mechanical support"). Reads the last beat of /metrics/cycles and the mean LAP
of the members of tests/data/heart/tiny_shock_series.yaml (cardiogenic-shock preset, ECMO 0..5 L/min,
120 beats) and checks:

  every member periodic: |EDV change| over the last beat < 0.1 mL
  rising ECMO flow 0 -> 5 L/min raises EDV, LVEDP and mean LAP (PCWP proxy) at every step
      Hala et al., J Transl Med 2020;18:75 (swine, ECMO to 5 L/min: LVEDP 7 -> 15 mmHg,
      EDV 189 -> 218 mL); Donker et al., ASAIO J 2019;65:11 (simulated CS, 4 L/min: EDV +10 %,
      PCWP +5 mmHg); a derived expectation: the LV distends until the valve opens again
  ... and raises ESV, lowers native SV (Ostadal et al., J Transl Med 2015;13:266)
  ECMELLA (tests/data/heart/tiny_ecmella.yaml: ECMO 4 L/min + Impella CP P-8, 120 beats) against
  ECMO 4 L/min alone: EDV, LVEDP and mean LAP fall        Donker 2019 (EDV -23 %, PCWP -41 %;
      the magnitudes are printed, not tested: docs/validation.md)
  closed-loop volume conserved (|drift| < 1e-9)

The 7-beat ADAN56 runs of check_devices.py are still distending at beat 7 (the pulmonary side
fills by about a mL per beat); this small tree reaches the periodic state that the published
figures describe. Prints the figures of docs/validation.md.

Usage: check_ecmo_loading.py OUT.h5 ECMELLA.h5   (OUT.h5: the -o of the series run, members
       OUT_m<k>.h5; ECMELLA.h5: the run of tiny_ecmella.yaml)
"""
import os
import sys

from check_devices import ML, MMHG, beat
from checks import Checks


def last_beat(path):
    """The last beat's metrics and mean LAP (check_devices.beat) and its EDV change."""
    r = beat(path, -1)
    r["dedv"] = r["edv"] - beat(path, -2)["edv"]
    return r


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    base = os.path.splitext(sys.argv[1])[0]
    runs = [last_beat("%s_m%d.h5" % (base, k)) for k in range(6)]
    ecm = last_beat(sys.argv[2])
    print("beat %d | ECMO L/min | EDV mL | ESV mL | SV mL | LVEDP mmHg | LAP mmHg | MAP mmHg | AV open s | dEDV mL/beat" %
          runs[0]["beats"])
    for q, r in enumerate(runs):
        print("| %d | %.1f | %.1f | %.1f | %.2f | %.2f | %.1f | %.3f | %+.3f |" %
              (q, r["edv"] / ML, r["esv"] / ML, r["stroke_volume"] / ML, r["lvedp"] / MMHG, r["lap"] / MMHG,
               r["map"] / MMHG, r["aortic_valve_open_time"], r["dedv"] / ML))
    check = Checks()

    print("| ECMELLA | %.1f | %.1f | %.1f | %.2f | %.2f | %.1f | %.3f | %+.3f |" %
          (ecm["edv"] / ML, ecm["esv"] / ML, ecm["stroke_volume"] / ML, ecm["lvedp"] / MMHG, ecm["lap"] / MMHG,
           ecm["map"] / MMHG, ecm["aortic_valve_open_time"], ecm["dedv"] / ML))
    check(all(abs(r["dedv"]) < 0.1 * ML for r in runs + [ecm]),
          "periodic: |EDV change| over the last beat < 0.1 mL (max %.3f mL)" %
          max(abs(r["dedv"]) / ML for r in runs + [ecm]))
    check(all(abs(r["drift"]) < 1e-9 for r in runs + [ecm]),
          "closed-loop volume drift < 1e-9 (max %.1e)" % max(abs(r["drift"]) for r in runs + [ecm]))
    v = lambda key, u: " -> ".join("%.1f" % (r[key] / u) for r in runs)
    up = lambda key: all(b[key] > a[key] for a, b in zip(runs, runs[1:]))
    for key, unit, u in (("edv", "mL", ML), ("lvedp", "mmHg", MMHG), ("lap", "mmHg", MMHG), ("esv", "mL", ML)):
        check(up(key), "ECMO 0..5 L/min: %s rises at every step (%s %s; Hala 2020, Donker 2019)" %
              (key.upper(), v(key, u), unit))
    check(all(b["stroke_volume"] < a["stroke_volume"] for a, b in zip(runs, runs[1:])),
          "ECMO 0..5 L/min: native SV falls at every step (%s mL; Ostadal 2015)" % v("stroke_volume", ML))
    e0, e4 = runs[0], runs[4]
    for key, unit, u in (("edv", "mL", ML), ("lvedp", "mmHg", MMHG), ("lap", "mmHg", MMHG)):
        check(ecm[key] < e4[key], "ECMELLA: %s below ECMO 4 L/min alone (%.2f vs %.2f %s, %+.0f %%; Donker 2019)" %
              (key.upper(), ecm[key] / u, e4[key] / u, unit, 100 * (ecm[key] / e4[key] - 1)))
    print("at 4 L/min vs shock: EDV %+.1f %% (Donker +10 %%), LAP %+.1f mmHg (Donker PCWP +5), "
          "LVEDP %+.1f mmHg (Hala +8 at 5 L/min)" %
          (100 * (e4["edv"] / e0["edv"] - 1), (e4["lap"] - e0["lap"]) / MMHG, (e4["lvedp"] - e0["lvedp"]) / MMHG))
    return check.status()


if __name__ == "__main__":
    sys.exit(main())
