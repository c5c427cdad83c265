"""Command line: hemotree-post <tool> ... (python3 -m hemotree_post <tool> ...).

Exit status: 0 done, 1 a limit given on the command line was exceeded (compare --max-rel),
2 bad input (the message names the file and the missing dataset, probe or vessel)."""
import argparse
import json
import os
import sys

from . import __version__, io


def default_png(path, tool, extra=""):
    """<stem>_<tool>[_<extra>].png in the current directory (the output's folder may be
    read-only, e.g. a shared results tree)."""
    stem = os.path.splitext(os.path.basename(path))[0]
    return "%s_%s%s.png" % (stem, tool, "_" + io.normal_name(extra) if extra else "")


def write_json(path, obj):
    if path:
        with open(path, "w") as fh:
            json.dump(obj, fh, indent=1, default=float)


def cmd_waveforms(a):
    from . import plotting, waveforms
    places = []
    if a.vessel:
        places.append((a.vessel, io.parse_quantity(a.x) if a.x is not None else None))
    elif a.x is not None:
        raise io.PostError("--x needs --vessel")
    res, sel = waveforms.analyse(a.output, ats=a.at or (), places=places, period=a.period)
    png = a.png or default_png(a.output, "waveforms", (a.at or [a.vessel or ""])[0])
    res["png"] = plotting.save(waveforms.plot(res, sel), png)
    print(waveforms.text(res))
    print("figure: %s" % png)
    write_json(a.json, res)
    return 0


def cmd_pvloop(a):
    from . import plotting, pvloop
    results = pvloop.analyse(a.outputs, a.period)
    png = a.png or default_png(a.outputs[0], "pvloop")
    plotting.save(pvloop.plot(results), png)
    print(pvloop.text(results))
    print("figure: %s" % png)
    write_json(a.json, {"png": png, "cases": [r for r, _ in results]})
    return 0


def cmd_watershed(a):
    from . import plotting, watershed
    vessels = [v.strip() for v in a.path.split(",") if v.strip()]
    results = watershed.analyse(a.outputs, vessels, a.tmin)
    png = a.png or default_png(a.outputs[0], "watershed")
    plotting.save(watershed.plot(results), png)
    print(watershed.text(results))
    print("figure: %s" % png)
    write_json(a.json, {"png": png, "cases": [r for r, _ in results]})
    return 0


def cmd_watershed_vs_flow(a):
    from . import plotting, support
    results = support.analyse_flow(a.outputs, a.period)
    png = a.png or default_png(a.outputs[0], "watershed_vs_flow")
    plotting.save(support.plot_flow(results), png)
    print(support.text_flow(results))
    print("figure: %s" % png)
    write_json(a.json, {"png": png, "cases": results})
    return 0


def cmd_saturation(a):
    from . import plotting, support
    results = support.analyse_sat(a.outputs)
    png = a.png or default_png(a.outputs[0], "saturation")
    plotting.save(support.plot_sat(results), png)
    print(support.text_sat(results))
    print("figure: %s" % png)
    write_json(a.json, {"png": png, "cases": results})
    return 0


def cmd_compare(a):
    from . import compare, plotting
    res, series = compare.analyse(a.a, a.b)
    png = a.png or default_png(a.a, "compare")
    res["png"] = plotting.save(compare.plot(res, series), png)
    print(compare.text(res))
    print("figure: %s" % png)
    write_json(a.json, res)
    if a.max_rel is not None and not res["max_rel"] <= a.max_rel:
        print("LIMIT EXCEEDED: largest relative difference %.3e > %.3e" % (res["max_rel"], a.max_rel))
        return 1
    return 0


def cmd_report(a):
    from . import report
    vessels = [v.strip() for v in a.path.split(",")] if a.path else None
    page = report.build(a.outputs, vessels, a.period)
    out = a.o or os.path.splitext(os.path.basename(a.outputs[0]))[0] + "_report.html"
    with open(out, "w", encoding="utf-8") as fh:
        fh.write(page)
    print("report: %s (%d kB)" % (out, os.path.getsize(out) // 1024))
    return 0


def cmd_validation(a):
    from . import validation
    return validation.main_args(a)


def parser():
    ap = argparse.ArgumentParser(prog="hemotree-post", description="Post-processing of hemotree outputs "
                                 "(figures in PNG, numbers on stdout and with --json; docs/postprocess.md).")
    ap.add_argument("--version", action="version", version="hemotree-post " + __version__)
    sub = ap.add_subparsers(dest="tool", required=True, metavar="TOOL")

    def common(p, png=True):
        if png:
            p.add_argument("--png", help="figure file (default: <OUT>_<tool>.png in the current folder)")
        p.add_argument("--json", help="also write the reported numbers to this JSON file")

    def period(p):
        p.add_argument("--period", type=lambda s: io.parse_quantity(s, "time"),
                       help="cardiac period, e.g. '1.1 s' (default: from the run's input, or its heart's beats)")

    p = sub.add_parser("waveforms", help="pressure [mmHg] and flow [mL/s] at sites; last-cycle statistics")
    p.add_argument("output")
    p.add_argument("--at", action="append", help="probe or site name (repeatable)")
    p.add_argument("--vessel", help="a vessel, with --x: read /fields there (output times only)")
    p.add_argument("--x", help="distance from the vessel start, e.g. '4.3 cm' (default: its midpoint)")
    period(p)
    common(p)
    p.set_defaults(func=cmd_waveforms)

    p = sub.add_parser("pvloop", help="LV pressure-volume loop: EDV, ESV, SV, EF, stroke work")
    p.add_argument("outputs", nargs="+")
    period(p)
    common(p)
    p.set_defaults(func=cmd_pvloop)

    p = sub.add_parser("watershed", help="position of the c = 0.5 ECMO front along a path of vessels")
    p.add_argument("outputs", nargs="+")
    p.add_argument("--path", required=True, help="vessels from the path start, comma separated: v1,v2,...")
    p.add_argument("--tmin", type=lambda s: io.parse_quantity(s, "time"),
                   help="statistics from this time on (default: every output time)")
    common(p)
    p.set_defaults(func=cmd_watershed)

    p = sub.add_parser("watershed-vs-flow", help="watershed (last beat, /metrics/watershed) against the ECMO "
                       "flow [L/min], grouped by Impella level")
    p.add_argument("outputs", nargs="+")
    period(p)
    common(p)
    p.set_defaults(func=cmd_watershed_vs_flow)

    p = sub.add_parser("saturation", help="ECMO fraction and O2 saturation delivered to the arch branches, "
                       "coronaries and renals (last beat)")
    p.add_argument("outputs", nargs="+")
    common(p)
    p.set_defaults(func=cmd_saturation)

    p = sub.add_parser("compare", help="two outputs of one mesh: largest relative differences, overlay")
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--max-rel", type=float, help="exit 1 when a relative difference exceeds this")
    common(p)
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("report", help="one offline HTML page: figures and /metrics tables")
    p.add_argument("outputs", nargs="+")
    p.add_argument("-o", help="HTML file (default: <OUT>_report.html in the current folder)")
    p.add_argument("--path", help="vessels for the ECMO front section, as for watershed")
    period(p)
    p.set_defaults(func=cmd_report)

    from .validation import REPO
    p = sub.add_parser("validation", help="run the benchmark cases, draw them over their references")
    p.add_argument("--hemotree", default=os.path.join(REPO, "build", "hemotree"), help="solver binary")
    p.add_argument("--out", default=os.path.join(REPO, "docs", "figures"), help="figure folder")
    p.add_argument("--runs", default=os.path.join(REPO, "build", "validation"), help="folder for the runs")
    p.add_argument("--cases", help="comma-separated case stems of cases/benchmarks (default: all)")
    p.add_argument("--data", help="Boileau et al. 2015 reference folder (default: tests/data/boileau2015)")
    p.add_argument("--reuse", action="store_true", help="keep runs already in --runs")
    p.set_defaults(func=cmd_validation)
    return ap


def main(argv=None):
    a = parser().parse_args(argv)
    try:
        return a.func(a)
    except io.PostError as e:
        print("hemotree-post %s: %s" % (a.tool, e), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
