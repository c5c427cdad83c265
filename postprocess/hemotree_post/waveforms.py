"""Pressure and flow at named sites: from /probes (every time step) or, at a vessel position
without a probe, from /fields (output times only). Statistics over the last cycle."""
from . import io, plotting


def series(f, at=None, vessel=None, x=None):
    """{label, source, time [s], pressure [Pa], flow [m^3/s]} at a probe/site or vessel + x
    (x None: the vessel's midpoint)."""
    if at is not None:
        where = io.resolve_site(f, at)
        if where[0] == "probe":
            p = io.read_probe(f, where[1])
            return {"label": at, "source": "probe %s" % where[1], "time": p["time"],
                    "pressure": p["pressure"], "flow": p["flow"]}
        _, vessel, x = where
        label = at
    else:
        if x is None:
            x = io.vessel_cells(io.mesh(f), vessel, f.filename)[2] / 2
        label = "%s x=%.4g m" % (vessel, x)
    t = io.read(f, "time")
    return {"label": label, "source": "fields %s x=%.4g m" % (vessel, x), "time": t,
            "pressure": io.field_at(f, "pressure", vessel, x), "flow": io.field_at(f, "flow", vessel, x)}


def stats(s, t0, t1):
    """Max, min, time-weighted mean of pressure (mmHg) and flow (mL/s) over [t0, t1]."""
    out = {}
    for key, scale, name in (("pressure", 1 / io.PA_PER_MMHG, "pressure_mmHg"),
                             ("flow", 1 / io.M3_PER_ML, "flow_mL_s")):
        tw, yw = io.window(s["time"], s[key] * scale, t0, t1)
        out[name] = {"max": float(yw.max()), "min": float(yw.min()), "mean": io.time_mean(tw, yw)}
    out["pulse_pressure_mmHg"] = out["pressure_mmHg"]["max"] - out["pressure_mmHg"]["min"]
    return out


def analyse(path, ats=(), places=(), period=None):
    """ats: probe or site names; places: (vessel, x [m] or None for the midpoint)."""
    with io.open_output(path) as f:
        sel = [series(f, at=a) for a in ats] + [series(f, vessel=v, x=x) for v, x in places]
        if not sel:
            raise io.PostError("%s: name a site (--at, probes: %s) or --vessel and --x"
                               % (path, ", ".join(io.probe_names(f)) or "none"))
        T = io.period(f, period)
        t0, t1, span = io.last_cycle(sel[0]["time"], T)
        res = {"file": path, "case": io.case_name(f), "period_s": T, "window_s": [t0, t1], "window": span,
               "sites": {}}
        for s in sel:
            res["sites"][s["label"]] = dict(source=s["source"], **stats(s, t0, t1))
    return res, sel


def plot(res, sel, fig=None):
    fig, ax = plotting.figure(2, 1, size=(9, 6.5), sharex=True)
    t0, t1 = res["window_s"]
    for s in sel:
        ax[0, 0].plot(s["time"], s["pressure"] / io.PA_PER_MMHG, lw=1.2, label="%s (%s)" % (s["label"], s["source"]))
        ax[1, 0].plot(s["time"], s["flow"] / io.M3_PER_ML, lw=1.2, label=s["label"])
    for a in ax[:, 0]:
        plotting.shade(a, t0, t1, res["window"] + " (statistics)")
        a.grid(alpha=0.3)
        a.legend(fontsize=8, loc="best")
    ax[0, 0].set_ylabel("pressure [mmHg]")
    ax[1, 0].set_ylabel("flow [mL/s]")
    ax[1, 0].set_xlabel("time [s]")
    plotting.title(fig, res["case"], "pressure and flow")
    return fig


def text(res):
    lines = ["%s (%s): %s %.4g-%.4g s%s" % (
        res["case"], res["file"], res["window"], res["window_s"][0], res["window_s"][1],
        ", T = %g s" % res["period_s"] if res["period_s"] else ", no period")]
    lines.append("%-24s %8s %8s %8s %8s | %8s %8s %8s  %s" % (
        "site", "P max", "P min", "P mean", "PP", "Q max", "Q min", "Q mean", "source"))
    lines.append("%-24s %35s | %26s" % ("", "[mmHg]", "[mL/s]"))
    for name, s in res["sites"].items():
        p, q = s["pressure_mmHg"], s["flow_mL_s"]
        lines.append("%-24s %8.2f %8.2f %8.2f %8.2f | %8.2f %8.2f %8.2f  %s" % (
            name, p["max"], p["min"], p["mean"], s["pulse_pressure_mmHg"], q["max"], q["min"], q["mean"],
            s["source"]))
    return "\n".join(lines)
