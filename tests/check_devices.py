#!/usr/bin/env python3
"""Qualitative targets of mechanical circulatory support on ADAN56 in cardiogenic shock
(research note ecmo-impella-models.md section 5.2; docs/devices.md section 4.5), from the
last complete beat of /metrics/cycles and /metrics/watershed of four runs:

  SHOCK.h5 (cases/ecmella/shock.yaml), ECMO.h5 (ecmo-4.yaml), IMPELLA.h5 (impella-cp-p8.yaml),
  ECMELLA.h5 (ecmella.yaml)

  VA-ECMO 4 L/min vs shock:   LVEDP and ESV rise (LV afterload: Hala 2020 LVEDP 7 -> 15 mmHg,
                              ESV 139 -> 167 mL; Ostadal 2015 ESV 64 -> 83 mL), MAP rises
                              (Donker 2019: to 85 mmHg), pulse pressure falls (note 5.2)
  Impella CP P-8 vs shock:    LVEDP and EDV fall (unloading; note 5.2, De Lazzari 2023)
  ECMELLA vs VA-ECMO:         LVEDP and EDV fall (Donker 2019: adding Impella, EDV -23 %,
                              PCWP -41 %); the Impella pumps less than without ECMO (higher
                              afterload, note 5.2: "Impella flow at a given P-level is lower on
                              ECMO"); the watershed front lies farther from the root (Impella
                              flow is native and pushes the mixing zone distally, note 5.2/4.2)
  every run:                  closed-loop volume conserved (|drift| < 1e-9)

Usage: check_devices.py SHOCK.h5 ECMO.h5 IMPELLA.h5 ECMELLA.h5
"""
import sys

import h5py

MMHG = 133.322387415
ML = 1e-6
LPM = 1e-3 / 60


def last(path):
    with h5py.File(path, "r") as f:
        c = f["/metrics/cycles"]
        r = {k: float(c[k][-1]) for k in c}
        r["beats"] = len(c["beat"])
        r["drift"] = float(f["/metrics/volume/total_relative_drift"][0])
        if "/metrics/watershed" in f:
            w = f["/metrics/watershed"]
            r["front"] = float(w["front_mean"][-1])
            r["front_vessel"] = w["front_vessel"][-1].decode() if isinstance(w["front_vessel"][-1], bytes) \
                else str(w["front_vessel"][-1])
            r["delivered"] = {k[len("delivered_"):]: float(w[k][-1]) for k in w if k.startswith("delivered_")}
    return r


def main():
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    s, e, i, b = (last(p) for p in sys.argv[1:])
    fails = []

    def check(ok, what):
        print(("ok    " if ok else "FAIL  ") + what)
        if not ok:
            fails.append(what)

    for name, r in (("shock", s), ("ECMO 4", e), ("Impella P-8", i), ("ECMELLA", b)):
        w = ""
        if "front" in r:
            w = "; watershed %.1f cm (%s)" % (100 * r["front"], r["front_vessel"])
        print("%-12s beat %d: LVEDP %.2f mmHg, EDV %.1f mL, ESV %.1f mL, SV %.1f mL, CO %.2f L/min, MAP %.1f mmHg, "
              "PP %.1f mmHg, Impella %.2f L/min, ECMO %.2f L/min, drift %.1e%s" %
              (name, r["beats"], r["lvedp"] / MMHG, r["edv"] / ML, r["esv"] / ML, r["stroke_volume"] / ML,
               r["cardiac_output"] / LPM, r["map"] / MMHG, r["pulse_pressure"] / MMHG, r["impella_flow"] / LPM,
               r["ecmo_flow"] / LPM, r["drift"], w))
        check(abs(r["drift"]) < 1e-9, "%s: closed-loop volume drift %.2e < 1e-9" % (name, r["drift"]))
    check(e["lvedp"] > s["lvedp"], "ECMO raises LVEDP (note 5.2; Hala 2020)")
    check(e["esv"] > s["esv"], "ECMO raises ESV (note 5.2; Ostadal 2015, Hala 2020)")
    check(e["map"] > s["map"], "ECMO raises MAP (note 5.2; Donker 2019)")
    check(e["pulse_pressure"] < s["pulse_pressure"], "ECMO lowers the pulse pressure (note 5.2)")
    check(i["lvedp"] < s["lvedp"], "Impella lowers LVEDP (note 5.2)")
    check(i["edv"] < s["edv"], "Impella lowers EDV (note 5.2; De Lazzari 2023)")
    check(b["lvedp"] < e["lvedp"], "ECMELLA: LVEDP below ECMO alone (Donker 2019)")
    check(b["edv"] < e["edv"], "ECMELLA: EDV below ECMO alone (Donker 2019)")
    check(b["impella_flow"] < i["impella_flow"], "ECMELLA: Impella flow below the Impella alone (note 5.2)")
    check(b["front"] > e["front"], "ECMELLA: watershed farther from the root than ECMO alone (note 5.2, 4.2)")
    if fails:
        print("%d check(s) failed" % len(fails))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
