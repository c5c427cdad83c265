"""Left-ventricular pressure-volume loops from /heart (lv_pressure [Pa], lv_volume [m^3] over
/heart/time [s]), with the numbers read off the last beat, the solver's /metrics/cycles, and
the LV's end-systolic and end-diastolic pressure-volume relations (ESPVR p = Ees (V - V0),
EDPVR p = Emin (V - V0) + P0 (exp(lambda (V - V0)) - 1)) from the /heart attributes lv_Ees,
lv_V0, lv_Emin, lv_P0, lv_lambda (SI) when the run wrote them: the lines of Fig. 1 of the
ECMELLA editorial, against which support modes move the loop."""
import numpy as np

from . import io, plotting, support

J_PER_MMHG_ML = io.PA_PER_MMHG * io.M3_PER_ML


def loop_area(v, p):
    """Area enclosed by the closed polygon (v, p) (shoelace). For a ventricle the loop runs
    counter-clockwise in the (V, p) plane and the area is the external stroke work."""
    return 0.5 * abs(float(np.dot(v, np.roll(p, -1)) - np.dot(p, np.roll(v, -1))))


def analyse_file(path, period=None):
    with io.open_output(path) as f:
        if "heart" not in f:
            raise io.PostError("%s has no /heart group (run a case with a heart)" % path)
        t = io.read(f, "heart/time")
        p = io.read(f, "heart/lv_pressure") / io.PA_PER_MMHG
        v = io.read(f, "heart/lv_volume") / io.M3_PER_ML
        if not (len(t) == len(p) == len(v)) or len(t) < 3:
            raise io.PostError("%s: /heart/time, lv_pressure and lv_volume must have the same length >= 3 "
                               "(have %d, %d, %d)" % (path, len(t), len(p), len(v)))
        cycles = io.read_table(f, "metrics/cycles") if "metrics/cycles" in f else None
        # the beat length: --period, else the solver's beats (a heart sets its own rate)
        T = period
        starts = [d for n, _, d in (cycles or []) if n == "t_start"]
        if not T and starts and len(starts[0]) >= 2:
            T = float(starts[0][1] - starts[0][0])
        T = io.period(f, T)
        t0, t1, span = io.last_cycle(t, T)
        name = io.case_name(f)
        rel = {k: float(f["heart"].attrs[k]) for k in ("lv_Ees", "lv_V0", "lv_Emin", "lv_P0", "lv_lambda")
               if k in f["heart"].attrs}
        mode = support.support_mode(f)  # shock / ECMO x L/min / Impella / ECMELLA, when derivable
    sel = (t >= t0 - 1e-12) & (t <= t1 + 1e-12)
    pc, vc = p[sel], v[sel]
    iedv = int(np.argmax(vc))
    edv, esv = float(vc[iedv]), float(vc.min())
    # end-systole: the loop's upper-left corner, where p/V peaks (maximal elastance); the
    # smallest volume alone would not say which pressure, as V stays there during relaxation
    ies = int(np.argmax(pc / np.where(vc > 0, vc, np.inf)))
    sw = loop_area(vc, pc)
    res = {
        "file": path, "case": name, "mode": mode, "period_s": T, "window_s": [t0, t1], "window": span,
        "EDV_mL": edv, "ESV_mL": esv, "SV_mL": edv - esv,
        "EF": (edv - esv) / edv if edv > 0 else float("nan"),
        "stroke_work_mmHg_mL": sw, "stroke_work_J": sw * J_PER_MMHG_ML,
        "P_max_mmHg": float(pc.max()), "EDP_mmHg": float(pc[iedv]), "ESP_mmHg": float(pc[ies]),
        "cycles": None if cycles is None else {n: {"units": u, "values": np.asarray(d).tolist()}
                                                for n, u, d in cycles},
        "pv_relations": rel if len(rel) == 5 else None,
    }
    return res, {"time": t, "p": p, "v": v, "sel": sel}


def analyse(paths, period=None):
    return [analyse_file(p, period) for p in paths]


def relations(rel, v_ml):
    """ESPVR and EDPVR (mmHg) at volumes v_ml (mL) from SI parameters."""
    x = (np.asarray(v_ml) - rel["lv_V0"] / io.M3_PER_ML) * io.M3_PER_ML
    es = rel["lv_Ees"] * x
    ed = rel["lv_Emin"] * x + rel["lv_P0"] * (np.exp(rel["lv_lambda"] * x) - 1)
    return es / io.PA_PER_MMHG, ed / io.PA_PER_MMHG


def plot(results):
    fig, ax = plotting.figure(1, 1, size=(7.5, 6))
    a = ax[0, 0]
    pmax = max(float(d["p"].max()) for _, d in results)
    for res, d in results:
        line, = a.plot(d["v"][d["sel"]], d["p"][d["sel"]], lw=1.8,
                       label="%s%s (%s): SV %.1f mL, SW %.3f J" % (
                           res["case"], " [%s]" % res["mode"] if res.get("mode") else "", res["window"],
                           res["SV_mL"], res["stroke_work_J"]))
        rel = res["pv_relations"]
        if rel:
            v0 = rel["lv_V0"] / io.M3_PER_ML
            vv = np.linspace(v0, max(float(d["v"].max()) * 1.15, v0 + 1), 200)
            es, ed = relations(rel, vv)
            keep = es <= 1.3 * pmax
            a.plot(vv[keep], es[keep], ls="--", lw=1, color=line.get_color(),
                   label="%s: ESPVR, Ees %.2f mmHg/mL" % (res["case"], rel["lv_Ees"] * io.M3_PER_ML / io.PA_PER_MMHG))
            keep = ed <= 1.3 * pmax
            a.plot(vv[keep], ed[keep], ls=":", lw=1, color=line.get_color(), label="%s: EDPVR" % res["case"])
    a.set_xlabel("LV volume [mL]")
    a.set_ylabel("LV pressure [mmHg]")
    a.grid(alpha=0.3)
    a.legend(fontsize=8, loc="best")
    plotting.title(fig, [r["case"] for r, _ in results], "LV pressure-volume loop")
    return fig


def text(results):
    lines = ["%-24s %8s %8s %8s %6s %9s %8s %8s %8s %8s  %s" % (
        "case", "EDV", "ESV", "SV", "EF", "SW", "SW", "P max", "EDP", "ESP", "support"),
        "%-24s %8s %8s %8s %6s %9s %8s %8s %8s %8s" % ("", "[mL]", "[mL]", "[mL]", "[%]", "[mmHg mL]", "[J]",
                                                     "[mmHg]", "[mmHg]", "[mmHg]")]
    for r, _ in results:
        lines.append("%-24s %8.2f %8.2f %8.2f %6.1f %9.1f %8.4f %8.2f %8.2f %8.2f  %s" % (
            r["case"][:24], r["EDV_mL"], r["ESV_mL"], r["SV_mL"], 100 * r["EF"], r["stroke_work_mmHg_mL"],
            r["stroke_work_J"], r["P_max_mmHg"], r["EDP_mmHg"], r["ESP_mmHg"], r.get("mode") or "-"))
    for r, _ in results:
        if r["cycles"]:
            lines.append("%s: /metrics/cycles" % r["case"])
            names = list(r["cycles"])
            lines.append("  " + " ".join("%14s" % n[:14] for n in names))
            lines.append("  " + " ".join("%14s" % ("[%s]" % r["cycles"][n]["units"])[:14] for n in names))
            for row in zip(*(r["cycles"][n]["values"] for n in names)):
                lines.append("  " + " ".join("%14.6g" % x if isinstance(x, (int, float)) else "%14s" % x
                                             for x in row))
    return "\n".join(lines)
