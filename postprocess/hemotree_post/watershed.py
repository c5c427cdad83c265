"""Where ECMO blood meets native blood: the position of the c = 0.5 front of
/fields/ecmo_fraction along a path of vessels, at every output time.

The path is a list of vessels, each starting where the previous one ends; distance is
measured from the start of the first. The front at one time is the first place, walking
from the path start, where c crosses 0.5 (linear between cell centres); a time at which c
stays on one side of 0.5 along the whole path has no front."""
import numpy as np

from . import io, plotting


def path_cells(f, vessels):
    """Cells along the path in order and their distance from the path start [m]."""
    m = io.mesh(f)
    pts = io.read(f, "mesh/points") if "mesh/points" in f else None
    seg = np.asarray(f["mesh/segments"][()], int) if "mesh/segments" in f else None
    cells, dist, offset, prev_end = [], [], 0.0, None
    for name in vessels:
        c, x, length = io.vessel_cells(m, name, f.filename)
        if pts is not None and seg is not None:
            start, end = pts[seg[c[0], 0]], pts[seg[c[-1], 1]]
            # a path that jumps between vessels would make "distance" meaningless
            if prev_end is not None and np.linalg.norm(start - prev_end) > 1e-6 + 1e-6 * length:
                raise io.PostError("%s: vessel '%s' does not start where the previous vessel of --path ends "
                                   "(%.4g m apart)" % (f.filename, name, np.linalg.norm(start - prev_end)))
            prev_end = end
        cells.append(c)
        dist.append(offset + x)
        offset += length
    return np.concatenate(cells), np.concatenate(dist), offset


def fronts(s, c, level=0.5):
    """Per row of c [n_t, n_s]: first crossing of `level` from s[0] (NaN: none), and the
    number of crossings (more than one: several fronts on the path)."""
    d = c - level
    pos = np.full(c.shape[0], np.nan)
    count = np.zeros(c.shape[0], int)
    for k, row in enumerate(d):
        cross = np.nonzero((row[:-1] * row[1:] <= 0) & ~((row[:-1] == 0) & (row[1:] == 0)))[0]
        count[k] = len(cross)
        if len(cross):
            i = cross[0]
            pos[k] = s[i] if row[i] == row[i + 1] else s[i] + (s[i + 1] - s[i]) * row[i] / (row[i] - row[i + 1])
    return pos, count


def analyse_file(path, vessels, tmin=None):
    with io.open_output(path) as f:
        io.need(f, "fields/ecmo_fraction", " (the run had no tracer: set numerics.tracer or a tracer at an inlet)")
        cells, s, length = path_cells(f, vessels)
        t = io.read(f, "time")
        c = np.asarray(f["fields/ecmo_fraction"][()], float)[:, cells]
        name = io.case_name(f)
    pos, count = fronts(s, c)
    use = t >= (tmin if tmin is not None else t[0]) - 1e-12
    have = use & np.isfinite(pos)
    sel = pos[have]
    res = {"file": path, "case": name, "path": list(vessels), "path_length_m": length,
           "t_from_s": float(t[use][0]) if use.any() else None,
           "times": int(use.sum()), "times_with_front": int(have.sum()),
           "front_mean_m": float(sel.mean()) if sel.size else None,
           "front_min_m": float(sel.min()) if sel.size else None,
           "front_max_m": float(sel.max()) if sel.size else None,
           "max_crossings": int(count[use].max()) if use.any() else 0,
           "front_m": [None if not np.isfinite(x) else float(x) for x in pos],
           "time_s": t.tolist()}
    return res, {"t": t, "s": s, "c": c, "pos": pos}


def analyse(paths, vessels, tmin=None):
    return [analyse_file(p, vessels, tmin) for p in paths]


def plot(results):
    first, d0 = results[0]
    fig, ax = plotting.figure(2, 1, size=(9, 7.5), sharex=True)
    for res, d in results:
        ax[0, 0].plot(d["t"], 100 * d["pos"], lw=1.5, label="%s: mean %s" % (
            res["case"], "-" if res["front_mean_m"] is None else "%.1f cm" % (100 * res["front_mean_m"])))
    ax[0, 0].set_ylabel("c = 0.5 front from path start [cm]")
    ax[0, 0].set_ylim(0, 100 * first["path_length_m"])
    ax[0, 0].grid(alpha=0.3)
    ax[0, 0].legend(fontsize=8, loc="best")
    # the c(s, t) map of the first file shows what the front summarises
    im = ax[1, 0].pcolormesh(d0["t"], 100 * d0["s"], d0["c"].T, shading="nearest", cmap="viridis", vmin=0, vmax=1)
    ax[1, 0].plot(d0["t"], 100 * d0["pos"], "w--", lw=1.2, label="c = 0.5 front (%s)" % first["case"])
    ax[1, 0].set_ylabel("distance along %s [cm]" % " > ".join(first["path"]))
    ax[1, 0].set_xlabel("time [s]")
    ax[1, 0].legend(fontsize=8, loc="upper right", facecolor="0.6")
    fig.colorbar(im, ax=ax[1, 0], label="ECMO fraction [1]")
    plotting.title(fig, [r["case"] for r, _ in results], "ECMO / native blood front")
    return fig


def text(results):
    lines = ["%-24s %10s %10s %10s %10s %12s %s" % ("case", "mean", "min", "max", "path", "times", "path vessels"),
             "%-24s %10s %10s %10s %10s %12s" % ("", "[cm]", "[cm]", "[cm]", "[cm]", "front/all")]

    def cm(v):
        return "%10s" % "-" if v is None else "%10.2f" % (100 * v)
    for r, _ in results:
        lines.append("%-24s %s %s %s %10.2f %12s %s" % (
            r["case"][:24], cm(r["front_mean_m"]), cm(r["front_min_m"]), cm(r["front_max_m"]),
            100 * r["path_length_m"], "%d/%d" % (r["times_with_front"], r["times"]), ",".join(r["path"])))
        if r["max_crossings"] > 1:
            lines.append("  note: up to %d crossings of c = 0.5 on the path; the first from its start is reported"
                         % r["max_crossings"])
    return "\n".join(lines)
