"""One self-contained HTML page per set of outputs: run facts, waveform figures and their
statistics, the PV loop and ECMO front when the file has them, and every /metrics table;
across the files, with device runs (/metrics/watershed), the watershed against the ECMO flow,
the delivered ECMO fraction and saturation, and the PV loops of all runs with a heart.
Figures are embedded as base64 PNG and the style is inline, so the page opens offline and
can be mailed as one file."""
import base64
import datetime
import html

import numpy as np

from . import io, plotting, pvloop, support, waveforms, watershed

MAX_SITES = 6

CSS = """
body { font-family: sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #aaa; margin-top: 2em; } h3 { margin-top: 1.4em; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.9em; }
th, td { border: 1px solid #bbb; padding: 0.2em 0.6em; text-align: right; }
th { background: #eee; } td.l, th.l { text-align: left; }
img { max-width: 100%; border: 1px solid #ddd; }
p.note { color: #666; font-size: 0.9em; }
"""


def esc(x):
    return html.escape(str(x))


def img(fig):
    return '<img alt="figure" src="data:image/png;base64,%s">' % base64.b64encode(plotting.png_bytes(fig)).decode()


def table(header, rows, units=None):
    out = ["<table><tr>%s</tr>" % "".join('<th class="l">%s</th>' % esc(header[0]) if i == 0 else
                                        "<th>%s</th>" % esc(h) for i, h in enumerate(header))]
    if units:
        out.append("<tr>%s</tr>" % "".join("<th>%s</th>" % esc(u) for u in units))
    for r in rows:
        out.append("<tr>%s</tr>" % "".join('<td class="l">%s</td>' % esc(v) if i == 0 else "<td>%s</td>" % esc(v)
                                         for i, v in enumerate(r)))
    out.append("</table>")
    return "\n".join(out)


def fmt(v):
    if isinstance(v, (float, np.floating)):
        return "%.6g" % v
    if isinstance(v, (bytes, np.bytes_)):
        return v.decode("utf-8", "replace")
    return str(v)


def facts(path, period=None):
    with io.open_output(path) as f:
        m = io.mesh(f) if "mesh/vessel_names" in f else {"names": [], "x": []}
        t = io.read(f, "time") if "time" in f else np.array([])
        cfg = f["config"].attrs if "config" in f else {}
        rows = [("file", path), ("case", io.case_name(f)),
                ("status", io.text(f.attrs.get("status", "?"))), ("format", io.text(f.attrs.get("format", "?"))),
                ("hemotree version", io.text(cfg.get("version", "?"))), ("git hash", io.text(cfg.get("git_hash", "?"))),
                ("vessels / cells", "%d / %d" % (len(m["names"]), len(m["x"]))),
                ("output times", "%d (%.4g to %.4g s)" % (len(t), t[0], t[-1]) if len(t) else "0"),
                ("period", "%g s" % io.period(f, period) if io.period(f, period) else "none (not periodic)"),
                ("fields", ", ".join(sorted(f["fields"].keys())) if "fields" in f else "none"),
                ("probes", ", ".join(io.probe_names(f)) or "none")]
        tabs = [(p, io.read_table(f, p)) for p in io.tables(f)]
        probes = io.probe_names(f)[:MAX_SITES]
        has_heart = "heart" in f
        has_tracer = "fields/ecmo_fraction" in f
        mids = [] if probes else m["names"][:4]
        vessels = m["names"]
    return rows, tabs, probes, mids, has_heart, has_tracer, vessels


def pressure_flow(path, probes, mids, period):
    """Waveforms at the probes; a run without probes is shown at the middle of its first vessels."""
    out = ["<h3>Pressure and flow</h3>"]
    res, sel = waveforms.analyse(path, ats=probes, places=[(v, None) for v in mids], period=period)
    out.append(img(waveforms.plot(res, sel)))
    out.append('<p class="note">Statistics over the %s, %.4g to %.4g s; means are time-weighted.</p>'
               % (esc(res["window"]), res["window_s"][0], res["window_s"][1]))
    out.append(table(["site", "P max", "P min", "P mean", "pulse pressure", "Q max", "Q min", "Q mean", "source"],
                     [(n, "%.2f" % s["pressure_mmHg"]["max"], "%.2f" % s["pressure_mmHg"]["min"],
                       "%.2f" % s["pressure_mmHg"]["mean"], "%.2f" % s["pulse_pressure_mmHg"],
                       "%.2f" % s["flow_mL_s"]["max"], "%.2f" % s["flow_mL_s"]["min"],
                       "%.2f" % s["flow_mL_s"]["mean"], s["source"]) for n, s in res["sites"].items()],
                     ["", "mmHg", "mmHg", "mmHg", "mmHg", "mL/s", "mL/s", "mL/s", ""]))
    return "\n".join(out)


def section(path, path_vessels=None, period=None):
    rows, tabs, probes, mids, has_heart, has_tracer, vessels = facts(path, period)
    case = rows[1][1]
    out = ["<h2>%s</h2>" % esc(case), table(["item", "value"], rows)]

    if probes or mids:
        out.append(pressure_flow(path, probes, mids, period))
    if has_heart:
        out.append("<h3>Left ventricle</h3>")
        r = pvloop.analyse([path], period)
        p = r[0][0]
        out.append(img(pvloop.plot(r)))
        out.append(table(["quantity", "value", "unit"], [
            ("end-diastolic volume", "%.2f" % p["EDV_mL"], "mL"), ("end-systolic volume", "%.2f" % p["ESV_mL"], "mL"),
            ("stroke volume", "%.2f" % p["SV_mL"], "mL"), ("ejection fraction", "%.1f" % (100 * p["EF"]), "%"),
            ("stroke work", "%.4f" % p["stroke_work_J"], "J"), ("peak LV pressure", "%.2f" % p["P_max_mmHg"], "mmHg"),
            ("end-diastolic pressure", "%.2f" % p["EDP_mmHg"], "mmHg")]))
    missing = [v for v in path_vessels or () if v not in vessels]
    if has_tracer and path_vessels and missing:
        # a report over several networks: the path belongs to one of them
        out.append('<p class="note">No ECMO front section: this mesh has no vessel %s of --path.</p>'
                   % esc(", ".join(missing)))
    elif has_tracer and path_vessels:
        out.append("<h3>ECMO / native blood front</h3>")
        r = watershed.analyse([path], path_vessels)
        w = r[0][0]
        out.append(img(watershed.plot(r)))

        def cm(v):
            return "-" if v is None else "%.2f" % (100 * v)
        out.append(table(["path", "front mean", "front min", "front max", "times with a front"],
                         [(" > ".join(w["path"]), cm(w["front_mean_m"]), cm(w["front_min_m"]), cm(w["front_max_m"]),
                           "%d of %d" % (w["times_with_front"], w["times"]))], ["", "cm", "cm", "cm", ""]))

    out.append("<h3>Metrics</h3>")
    if not tabs:
        out.append("<p>No /metrics tables in this file.</p>")
    for tpath, cols in tabs:
        out.append("<h4>/%s</h4>" % esc(tpath))
        n = max((len(c[2]) for c in cols), default=0)
        out.append(table([c[0] for c in cols], [[fmt(c[2][i]) if i < len(c[2]) else "" for c in cols]
                                                for i in range(n)], [c[1] for c in cols]))
    return "\n".join(out)


def devices_section(ws_paths, heart_paths, period=None):
    """Across runs: watershed vs ECMO flow and delivered fraction / saturation of the files with
    /metrics/watershed, and the PV loops of every file with /heart (support mode in the legend)."""
    out = ["<h2>Mechanical circulatory support across runs</h2>"]

    def dash(v, fmt="%.2f"):
        return "-" if v is None else fmt % v
    r = support.analyse_flow(ws_paths, period)
    out.append("<h3>Watershed vs ECMO flow</h3>")
    out.append(img(support.plot_flow(r)))
    out.append(table(["case", "ECMO flow", "front mean", "front min", "front max", "Impella flow", "front vessel",
                      "support"],
                     [(x["case"], dash(x["ecmo_flow_L_min"], "%.3f"), dash(x["front_mean_cm"]), dash(x["front_min_cm"]),
                       dash(x["front_max_cm"]), dash(x["impella_flow_L_min"], "%.3f"), x["front_vessel"] or "-",
                       x["mode"] or "-") for x in r],
                     ["", "L/min", "cm", "cm", "cm", "L/min", "", ""]))
    out.append('<p class="note">Last beat: the last row of /metrics/watershed (front from the aortic root) and '
               'the last beat mean of the ECMO and Impella flows (/metrics/cycles).</p>')
    s = support.analyse_sat(ws_paths)
    out.append("<h3>Delivered ECMO fraction and oxygen saturation</h3>")
    out.append(img(support.plot_sat(s)))
    rows = [(x["case"], b, dash(d["delivered_fraction"], "%.4f"), dash(None if d["saturation"] is None
                                                                        else 100 * d["saturation"]))
            for x in s for b, d in x["branches"].items()]
    out.append(table(["case", "branch", "ECMO fraction", "saturation"], rows, ["", "", "1", "%"]))
    out.append('<p class="note">%s</p>' % esc("; ".join("%s: S_oxy %.3g, S_native %.3g (%s)" % (
        x["case"], x["S_oxy"], x["S_native"], x["saturation_source"]) for x in s)))
    if len(heart_paths) > 1:
        out.append("<h3>Left-ventricular pressure-volume loops</h3>")
        out.append(img(pvloop.plot(pvloop.analyse(heart_paths, period))))
    return "\n".join(out)


def build(paths, path_vessels=None, period=None):
    names, ws_paths, heart_paths = [], [], []
    for p in paths:
        with io.open_output(p) as f:
            names.append(io.case_name(f))
            if "metrics/watershed" in f:
                ws_paths.append(p)
            if "heart" in f:
                heart_paths.append(p)
    body = [section(p, path_vessels, period) for p in paths]
    if ws_paths:
        body.append(devices_section(ws_paths, heart_paths, period))
    when = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    title = "hemotree report: " + ", ".join(dict.fromkeys(names))
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>%s</title><style>%s</style></head><body>\n"
            "<h1>%s</h1>\n<p class=\"note\">Made by hemotree-post on %s. Pressures in mmHg, flows in mL/s "
            "(the files are in SI units).</p>\n%s\n</body></html>\n" % (esc(title), CSS, esc(title), when,
                                                                     "\n".join(body)))
