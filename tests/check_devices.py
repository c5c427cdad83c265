#!/usr/bin/env python3
"""Mechanical circulatory support on ADAN56 in cardiogenic shock against physiology and published
figures (issue 7; the sources named with each check below, full references in
docs/validation.md "Heart, closed loop and mechanical support"; docs/devices.md section 4.5).
Reads the last complete beat of /metrics/cycles, /metrics/watershed and /heart/la_pressure of:

  SERIES_m0..m8.h5   the members of cases/ecmella/ecmo-series.yaml (one ensemble launch):
                     m0..m5 VA-ECMO 0..5 L/min (m0 = the shock case, ECMO at 0 L/min),
                     m6, m7 ECMO 0 and 5 L/min with the LV's Ees halved to 0.3 mmHg/mL,
                     m8 ECMO 2 L/min with the LV's Ees doubled to 1.2 mmHg/mL
  IMPELLA.h5         cases/ecmella/impella-cp-p8.yaml
  ECMELLA.h5         cases/ecmella/ecmella.yaml (VA-ECMO 4 L/min + Impella CP P-8)

Checks (each with its source; only directions, and magnitudes where the source gives one that our
model can be expected to reproduce; the published magnitudes we do not reach are listed as "not met"
in docs/validation.md, not tested here):

  rising ECMO flow 0 -> 5 L/min (Ees 0.6 mmHg/mL):
    MAP rises at every step          Ostadal 2015 (SBP 60 -> 97 mmHg, ECMO 1 -> 5 L/min); Donker 2019
    ESV rises at every step          Ostadal 2015 (64 -> 83 mL); Hala 2020 (139 -> 167 mL)
    native SV falls at every step    Ostadal 2015 (48 -> 40 mL); expected with a weak LV (derived)
    pulse pressure below shock       expected on VA-ECMO (derived)
    mean LAP (PCWP proxy) rises at every step; LVEDP and EDV rise at every step to 4 L/min, and
    at 5 L/min (the valve shut) lie above 3 L/min
                                     Hala 2020 (LVEDP 7 -> 15 mmHg, EDV 189 -> 218 mL); Donker 2019
                                     (EDV +10 %, PCWP +5 mmHg at 4 L/min). At beat 7 every ECMO member
                                     is still distending (~1 mL/beat); 4 and 5 L/min lie within
                                     0.1 mL. The rise at every step 0..5 L/min at the periodic state
                                     is tests/check_ecmo_loading.py's (small tree, 120 beats)
  aortic valve, Ees 0.3 mmHg/mL      derived (Emax 0.3: isovolumic LV pressure ~55 mmHg below the
                                     aortic diastolic pressure on ECMO, the valve stays shut): at
                                     5 L/min open time 0 and SV < 1 mL; control: at 0 L/min it opens
                                     (open time > 50 ms, SV > 5 mL)
  watershed (front vessel = the ADAN56 vessel of /metrics/watershed front_vessel):
    ECMO >= 90 % of the total output (ECMO / (ECMO + root output)): front in the aortic arch
      (aortic_sinus, aortic_arch_I..IV)                               Nezami 2021
    ECMO share <= 75 % (Nezami's 75 % and 50 % cases; ECMO 1, 2 L/min and ECMELLA, where the
      Impella's flow is native): front distal to the arch (thoracic or abdominal aorta) and the arch
      branches (brachiocephalic, left common carotid, left subclavian) mostly native (delivered
      ECMO fraction < 0.5)                                            Nezami 2021
    the front moves toward the root as the ECMO flow rises 1 -> 5 L/min   Nezami 2021; Gu 2018
    LV SV > 28 mL on ECMO (Ees 1.2 mmHg/mL, 2 L/min): every arch branch mostly native
                                                                     Stevens 2018
    LV SV (EDV - ESV, valve + Impella) >= 5 mL: the brachiocephalic trunk mostly native
                                                                     Stevens 2018
  Impella CP P-8 vs shock: LVEDP and EDV fall                        Burkhoff 2015; De Lazzari 2023
  ECMELLA vs ECMO 4 L/min: EDV, LVEDP and mean LAP (PCWP proxy) fall Donker 2019 (EDV -23 %,
                                     PCWP -41 %: magnitudes "not met", docs); the Impella pumps less
                                     than without ECMO (its head is higher: derived); the watershed
                                     lies farther from the root (Impella flow is native: derived)
  every run: closed-loop volume conserved (|drift| < 1e-9)

Prints the table of docs/devices.md 4.5 and the per-beat change of the last beat (how far from
periodic). Usage: check_devices.py SERIES.h5 IMPELLA.h5 ECMELLA.h5   (SERIES.h5: the -o of the
ensemble run; the members are SERIES_m<k>.h5)
       check_devices.py --beat K ...   (beat K, 1-based, instead of the last)
"""
import os
import sys

import h5py
import numpy as np

from checks import Checks

MMHG = 133.322387415
ML = 1e-6
LPM = 1e-3 / 60
ARCH = ("aortic_sinus", "aortic_arch_I", "aortic_arch_II", "aortic_arch_III", "aortic_arch_IV")
ARCH_BRANCHES = ("brachiocephalic_trunk", "common_carotid_L", "subclavian_L_I")
CORONARIES = ("left_main_coronary", "right_coronary")


def beat(path, k):
    """Row k (-1: last, -2: the one before) of the run's per-beat metrics, with the beat's mean LAP."""
    r = {}
    with h5py.File(path, "r") as f:
        c = f["/metrics/cycles"]
        r = {n: float(c[n][k]) for n in c}
        r["beats"] = len(c["beat"])
        r["drift"] = float(f["/metrics/volume/total_relative_drift"][0])
        ts = c["t_start"][:]
        period = ts[1] - ts[0] if len(ts) > 1 else 60.0 / 90
        t = f["/heart/time"][:]
        la = f["/heart/la_pressure"][:]
        m = (t >= r["t_start"]) & (t <= r["t_start"] + period)
        r["lap"] = float(np.trapz(la[m], t[m]) / (t[m][-1] - t[m][0]))
        if "/metrics/watershed" in f:
            w = f["/metrics/watershed"]
            r["front"] = float(w["front_mean"][k])
            v = w["front_vessel"][k]
            r["front_vessel"] = v.decode() if isinstance(v, bytes) else str(v)
            r["delivered"] = {n[len("delivered_"):]: float(w[n][k]) for n in w if n.startswith("delivered_")}
    q = r["ecmo_flow"] + r["cardiac_output"]
    r["ecmo_share"] = r["ecmo_flow"] / q if q > 0 else 0.0
    return r


def row(name, r):
    d = r.get("delivered", {})
    fr = lambda n: ("%.2f" % d[n]) if n in d else "-"
    ws = ("%.1f cm (%s)" % (100 * r["front"], r["front_vessel"])) if "front" in r else "-"
    return ("| %s | %.2f | %.1f | %.1f | %.1f | %.2f | %.0f | %.1f | %.1f | %.3f | %.2f | %.2f | %.0f %% | %s | %s / %s / %s | %s / %s |" %
            (name, r["lvedp"] / MMHG, r["edv"] / ML, r["esv"] / ML, r["stroke_volume"] / ML,
             r["cardiac_output"] / LPM, r.get("bronchial_flow", 0.0) / (ML / 60), r["map"] / MMHG,
             r["pulse_pressure"] / MMHG, r["aortic_valve_open_time"],
             r["lap"] / MMHG, r["impella_flow"] / LPM, 100 * r["ecmo_share"], ws,
             fr(ARCH_BRANCHES[0]), fr(ARCH_BRANCHES[1]), fr(ARCH_BRANCHES[2]), fr(CORONARIES[0]), fr(CORONARIES[1])))


def change(name, a, b):
    """Last beat minus the one before: how far from periodic."""
    s = ("%-22s d/beat: LVEDP %+.3f mmHg, EDV %+.2f mL, ESV %+.2f mL, SV %+.2f mL, MAP %+.2f mmHg, LAP %+.3f mmHg" %
         (name, (a["lvedp"] - b["lvedp"]) / MMHG, (a["edv"] - b["edv"]) / ML, (a["esv"] - b["esv"]) / ML,
          (a["stroke_volume"] - b["stroke_volume"]) / ML, (a["map"] - b["map"]) / MMHG, (a["lap"] - b["lap"]) / MMHG))
    if "front" in a:
        s += ", front %+.2f cm" % (100 * (a["front"] - b["front"]))
    return s


def main():
    args = sys.argv[1:]
    k = -1
    if len(args) == 5 and args[0] == "--beat":
        k, args = int(args[1]) - 1, args[2:]
    if len(args) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    base = os.path.splitext(args[0])[0]
    paths = ["%s_m%d.h5" % (base, j) for j in range(9)] + args[1:3]
    names = ["ECMO %d L/min" % q for q in range(6)] + ["Ees 0.3, ECMO 0", "Ees 0.3, ECMO 5", "Ees 1.2, ECMO 2",
                                                        "Impella CP P-8", "ECMELLA (4 L/min + P-8)"]
    runs = [beat(p, k) for p in paths]
    prev = [beat(p, k - 1) for p in paths]
    ser, low0, low5, strong, imp, ecm = runs[:6], runs[6], runs[7], runs[8], runs[9], runs[10]
    print("beat %d of %d; ECMO share = ECMO / (ECMO + root output); delivered: ECMO fraction" %
          (runs[0]["beat"] + 1, runs[0]["beats"]))
    print("| case | LVEDP mmHg | EDV mL | ESV mL | SV mL | CO (root) L/min | bronchial mL/min | MAP mmHg | PP mmHg "
          "| AV open s | LAP mmHg | Impella L/min | ECMO share | watershed (mean, from the root) "
          "| brachioceph. / L carotid / L subclavian | L main / R coronary |")
    print("|---" * 16 + "|")
    for n, r in zip(names, runs):
        print(row(n, r))
    for n, a, b in zip(names, runs, prev):
        print(change(n, a, b))

    check = Checks()

    for n, r in zip(names, runs):
        check(abs(r["drift"]) < 1e-9, "%s: closed-loop volume drift %.2e < 1e-9" % (n, r["drift"]))
    v = lambda key, rs=ser, u=1.0: " -> ".join("%.1f" % (r[key] / u) for r in rs)
    up = lambda key, rs=ser: all(b[key] > a[key] for a, b in zip(rs, rs[1:]))
    check(up("map"), "ECMO 0..5 L/min: MAP rises at every step (%s mmHg; Ostadal 2015, Donker 2019)" % v("map", u=MMHG))
    check(up("esv"), "ECMO 0..5 L/min: ESV rises at every step (%s mL; Ostadal 2015, Hala 2020)" % v("esv", u=ML))
    check(all(b["stroke_volume"] < a["stroke_volume"] for a, b in zip(ser, ser[1:])),
          "ECMO 0..5 L/min: native SV falls at every step (%s mL; Ostadal 2015)" % v("stroke_volume", u=ML))
    check(all(r["pulse_pressure"] < ser[0]["pulse_pressure"] for r in ser[1:]),
          "ECMO 1..5 L/min: pulse pressure below shock (%s mmHg; docs/devices.md 4.5)" % v("pulse_pressure", u=MMHG))
    check(up("lap"), "ECMO 0..5 L/min: mean LAP rises at every step (%s mmHg; Donker 2019)" % v("lap", u=MMHG))
    for key, unit, u in (("lvedp", "mmHg", MMHG), ("edv", "mL", ML)):
        check(up(key, ser[:5]) and ser[5][key] > ser[3][key],
              "ECMO 0..4 L/min: %s rises at every step, 5 L/min above 3 L/min (%s %s; Hala 2020, Donker 2019)" %
              (key.upper(), v(key, u=u), unit))
    check(low5["aortic_valve_open_time"] == 0 and low5["stroke_volume"] < 1 * ML,
          "Ees 0.3 mmHg/mL, ECMO 5 L/min: aortic valve stays shut (open %.3f s, SV %.2f mL; docs/devices.md 4.5)" %
          (low5["aortic_valve_open_time"], low5["stroke_volume"] / ML))
    check(low0["aortic_valve_open_time"] > 0.05 and low0["stroke_volume"] > 5 * ML,
          "Ees 0.3 mmHg/mL, ECMO 0 L/min (control): the valve opens (%.3f s, SV %.1f mL)" %
          (low0["aortic_valve_open_time"], low0["stroke_volume"] / ML))

    ecmo = ser[1:]
    hi = [r for r in ecmo if r["ecmo_share"] >= 0.9]
    check(len(hi) > 0 and all(r["front_vessel"] in ARCH for r in hi),
          "ECMO >= 90 %% of the output: watershed in the aortic arch (%s; Nezami 2021)" %
          ", ".join("%.0f %%: %s" % (100 * r["ecmo_share"], r["front_vessel"]) for r in hi))
    lo = [r for r in ecmo + [ecm] if r["ecmo_share"] <= 0.75]
    check(len(lo) > 0 and all(r["front_vessel"] not in ARCH and max(r["delivered"][b] for b in ARCH_BRANCHES) < 0.5
                              for r in lo),
          "ECMO <= 75 %% of the output: watershed distal to the arch, arch branches native (%s; Nezami 2021)" %
          ", ".join("%.0f %%: %s, max %.2f" % (100 * r["ecmo_share"], r["front_vessel"],
                                               max(r["delivered"][b] for b in ARCH_BRANCHES)) for r in lo))
    check(all(b["front"] < a["front"] for a, b in zip(ecmo, ecmo[1:])),
          "ECMO 1..5 L/min: the watershed moves toward the root (%s cm; Nezami 2021, Gu 2018)" %
          " -> ".join("%.1f" % (100 * r["front"]) for r in ecmo))
    check(strong["stroke_volume"] > 28 * ML and max(strong["delivered"][b] for b in ARCH_BRANCHES) < 0.5,
          "Ees 1.2 mmHg/mL, ECMO 2 L/min: LV SV > 28 mL (%.1f) and every arch branch mostly native (%s; "
          "Stevens 2018)" % (strong["stroke_volume"] / ML,
                             ", ".join("%.2f" % strong["delivered"][b] for b in ARCH_BRANCHES)))
    withw = [r for r in ecmo + [low5, strong, ecm] if "delivered" in r]
    mid = [r for r in withw if r["stroke_volume"] >= 5 * ML]
    check(len(mid) > 0 and all(r["delivered"]["brachiocephalic_trunk"] < 0.5 for r in mid),
          "LV SV >= 5 mL: the brachiocephalic trunk mostly native (SV %s mL: %s; Stevens 2018)" %
          (", ".join("%.1f" % (r["stroke_volume"] / ML) for r in mid),
           ", ".join("%.2f" % r["delivered"]["brachiocephalic_trunk"] for r in mid)))

    e4 = ser[4]
    check(imp["lvedp"] < ser[0]["lvedp"] and imp["edv"] < ser[0]["edv"],
          "Impella CP P-8: LVEDP and EDV below shock (%.2f vs %.2f mmHg, %.1f vs %.1f mL; docs/devices.md 4.5)" %
          (imp["lvedp"] / MMHG, ser[0]["lvedp"] / MMHG, imp["edv"] / ML, ser[0]["edv"] / ML))
    for key, unit, u in (("edv", "mL", ML), ("lvedp", "mmHg", MMHG), ("lap", "mmHg", MMHG)):
        check(ecm[key] < e4[key], "ECMELLA: %s below ECMO 4 L/min alone (%.2f vs %.2f %s, %+.0f %%; Donker 2019)" %
              (key.upper(), ecm[key] / u, e4[key] / u, unit, 100 * (ecm[key] / e4[key] - 1)))
    check(ecm["impella_flow"] < imp["impella_flow"], "ECMELLA: Impella flow below the Impella alone (%.2f vs %.2f "
          "L/min; docs/devices.md 4.5)" % (ecm["impella_flow"] / LPM, imp["impella_flow"] / LPM))
    check(ecm["front"] > e4["front"], "ECMELLA: watershed farther from the root than ECMO 4 L/min (%.1f vs %.1f cm; "
          "docs/devices.md 4.5)" % (100 * ecm["front"], 100 * e4["front"]))
    return check.status()


if __name__ == "__main__":
    sys.exit(main())
