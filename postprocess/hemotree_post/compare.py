"""Two outputs of the same mesh: the largest difference in pressure and flow at each probe and
over each /fields dataset, relative to the largest magnitude of that quantity in the first
file (the reference), and an overlay of the probe waveforms."""
import numpy as np

from . import io, plotting

FIELDS = ("pressure", "flow", "area", "velocity", "ecmo_fraction")


def same_mesh(fa, fb):
    ma, mb = io.mesh(fa), io.mesh(fb)
    if ma["names"] != mb["names"] or ma["vessel_id"].shape != mb["vessel_id"].shape \
            or not np.array_equal(ma["vessel_id"], mb["vessel_id"]) \
            or not np.allclose(ma["x"], mb["x"], rtol=0, atol=1e-12):
        raise io.PostError("%s and %s do not have the same mesh (%d vs %d cells, vessels %s vs %s)" % (
            fa.filename, fb.filename, len(ma["x"]), len(mb["x"]), ",".join(ma["names"][:5]),
            ",".join(mb["names"][:5])))


def on_times(t_ref, t, y):
    """y(t) at the reference times inside the overlap (interpolated when the times differ)."""
    inside = (t_ref >= t[0] - 1e-12) & (t_ref <= t[-1] + 1e-12)
    if len(t) == len(t_ref) and np.array_equal(t, t_ref):
        return inside, y
    return inside, np.interp(t_ref[inside], t, y)


def rel_diff(a, b):
    scale = float(np.max(np.abs(a))) if a.size else 0.0
    d = float(np.max(np.abs(a - b))) if a.size else 0.0
    return d / scale if scale > 0 else (0.0 if d == 0 else float("inf"))


def compare_probes(fa, fb):
    out = {}
    for name in sorted(set(io.probe_names(fa)) & set(io.probe_names(fb))):
        pa, pb = io.read_probe(fa, name), io.read_probe(fb, name)
        r = {}
        for q in ("pressure", "flow"):
            inside, yb = on_times(pa["time"], pb["time"], pb[q])
            r[q] = rel_diff(pa[q][inside], yb)
        out[name] = r
    return out


def compare_fields(fa, fb, block=256):
    ta, tb = io.read(fa, "time"), io.read(fb, "time")
    # rows at the same output times (an unfinished run has a prefix of the other's times)
    ia, ib = [], []
    j = 0
    for i, t in enumerate(ta):
        while j < len(tb) and tb[j] < t - 1e-9:
            j += 1
        if j < len(tb) and abs(tb[j] - t) <= 1e-9:
            ia.append(i)
            ib.append(j)
    if not ia:
        raise io.PostError("%s and %s have no output time in common" % (fa.filename, fb.filename))
    out = {}
    for name in FIELDS:
        key = "fields/" + name
        if key not in fa or key not in fb:
            continue
        da, db = fa[key], fb[key]
        num, scale, where = 0.0, 0.0, None
        # blocks of rows: a large network's field does not need to fit in memory twice
        for k in range(0, len(ia), block):
            a = np.asarray(da[ia[k:k + block], :], float)
            b = np.asarray(db[ib[k:k + block], :], float)
            diff = np.abs(a - b)
            if diff.size and diff.max() > num:
                num = float(diff.max())
                r, c = np.unravel_index(int(np.argmax(diff)), diff.shape)
                where = (float(ta[ia[k + r]]), int(c))
            scale = max(scale, float(np.max(np.abs(a))) if a.size else 0.0)
        out[name] = {"max_rel": num / scale if scale > 0 else (0.0 if num == 0 else float("inf")),
                     "max_abs": num, "units": io.units(da),
                     "at_time_s": where[0] if where else None, "at_cell": where[1] if where else None}
    return out, len(ia)


def analyse(path_a, path_b):
    with io.open_output(path_a) as fa, io.open_output(path_b) as fb:
        same_mesh(fa, fb)
        fields, n_common = compare_fields(fa, fb)
        res = {"a": path_a, "b": path_b, "case_a": io.case_name(fa), "case_b": io.case_name(fb),
               "probes": compare_probes(fa, fb), "fields": fields, "common_output_times": n_common}
        if fields:
            m = io.mesh(fa)
            for v in fields.values():
                if v["at_cell"] is not None:
                    c = v["at_cell"]
                    v["at"] = "%s x=%.4g m" % (m["names"][m["vessel_id"][c]], m["x"][c])
        series = {}
        names = list(res["probes"])[:4]
        for n in names:
            series[n] = (io.read_probe(fa, n), io.read_probe(fb, n))
        if not names:  # no common probe: the fields at the middle of the first vessels
            m = io.mesh(fa)
            ta, tb = io.read(fa, "time"), io.read(fb, "time")
            for v in m["names"][:4]:
                _, _, length = io.vessel_cells(m, v)
                sa = {"time": ta, "pressure": io.field_at(fa, "pressure", v, length / 2),
                      "flow": io.field_at(fa, "flow", v, length / 2)}
                sb = {"time": tb, "pressure": io.field_at(fb, "pressure", v, length / 2),
                      "flow": io.field_at(fb, "flow", v, length / 2)}
                series["%s mid" % v] = (sa, sb)
    vals = [v for p in res["probes"].values() for v in p.values()] + [v["max_rel"] for v in fields.values()]
    res["max_rel"] = max(vals) if vals else 0.0
    return res, series


def plot(res, series):
    n = max(1, len(series))
    fig, ax = plotting.figure(n, 2, size=(11, 2.6 * n + 1), sharex=True)
    la = "A: %s (%s)" % (res["case_a"], res["a"])
    lb = "B: %s (%s)" % (res["case_b"], res["b"])
    for k, (name, (sa, sb)) in enumerate(series.items()):
        for j, (q, scale, unit) in enumerate((("pressure", io.PA_PER_MMHG, "mmHg"), ("flow", io.M3_PER_ML, "mL/s"))):
            a = ax[k, j]
            a.plot(sa["time"], sa[q] / scale, lw=1.4, label=la)
            a.plot(sb["time"], sb[q] / scale, "--", lw=1.2, label=lb)
            a.set_ylabel("%s %s [%s]" % (name, q, unit))
            a.grid(alpha=0.3)
            rel = res["probes"].get(name, {}).get(q)
            if rel is not None:
                a.set_title("max |A-B| / max |A| = %.3g" % rel, fontsize=9)
    ax[0, 0].legend(fontsize=8, loc="best")
    for j in range(2):
        ax[-1, j].set_xlabel("time [s]")
    plotting.title(fig, [res["case_a"], res["case_b"]], "A vs B")
    return fig


def text(res):
    lines = ["A = %s (%s), B = %s (%s); differences relative to max |A|" % (
        res["a"], res["case_a"], res["b"], res["case_b"])]
    lines.append("%-28s %12s %12s" % ("probe", "pressure", "flow"))
    for n, r in res["probes"].items():
        lines.append("%-28s %12.3e %12.3e" % (n, r["pressure"], r["flow"]))
    if not res["probes"]:
        lines.append("(no probe in both files)")
    lines.append("%-28s %12s %12s  %s" % ("field (%d common times)" % res["common_output_times"], "max rel",
                                          "max abs", "where"))
    for n, r in res["fields"].items():
        lines.append("%-28s %12.3e %12.3e  %s" % ("%s [%s]" % (n, r["units"]), r["max_rel"], r["max_abs"],
                                                  "t=%.4g s, %s" % (r["at_time_s"], r.get("at", "")) if r["at_time_s"]
                                                  is not None else ""))
    lines.append("largest relative difference: %.3e" % res["max_rel"])
    return "\n".join(lines)
