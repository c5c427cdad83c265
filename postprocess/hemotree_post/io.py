"""Reading hemotree output files: the one module that knows the HDF5 layout (README, "Output";
src/output.h). Everything in the files is SI; conversion to display units happens in the tools.
"""
import math
import os
import re

import h5py
import numpy as np

PA_PER_MMHG = 133.322387415
M3_PER_ML = 1e-6


class PostError(Exception):
    """Bad input (missing file, dataset, probe, vessel): reported as is, exit status 2."""


def open_output(path):
    if not os.path.exists(path):
        raise PostError("%s: no such file" % path)
    try:
        return h5py.File(path, "r")
    except OSError as e:
        raise PostError("%s: cannot be read as HDF5 (%s)" % (path, e)) from None


def need(f, dataset, hint=""):
    if dataset not in f:
        raise PostError("%s has no %s%s" % (f.filename, dataset, hint))
    return f[dataset]


def read(f, dataset, hint=""):
    return np.asarray(need(f, dataset, hint)[()], float)


def text(value):
    """h5py hands back attributes and string datasets as bytes or str depending on how they
    were written; the tools want str."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray) and value.shape == ():
        return text(value[()])
    return str(value)


def case_name(f):
    if "config" in f and "case_name" in f["config"].attrs:
        return text(f["config"].attrs["case_name"])
    return os.path.splitext(os.path.basename(f.filename))[0]


def units(dset):
    return text(dset.attrs["units"]) if "units" in dset.attrs else "?"


def config_text(f):
    return text(f["config/input"][()]) if "config/input" in f else ""


# --- quantities written in the input's style ("4.3 cm", "1.1 s") --------------------------

_LENGTH = {"m": 1.0, "cm": 1e-2, "mm": 1e-3}
_TIME = {"s": 1.0, "ms": 1e-3}


def parse_quantity(value, kind="length"):
    """'4.3 cm' -> 0.043; a bare number is SI (m or s)."""
    table = _LENGTH if kind == "length" else _TIME
    m = re.fullmatch(r"\s*([-+0-9.eE]+)\s*([a-zA-Z]*)\s*", str(value))
    if not m:
        raise PostError("expected a %s such as '4.3 %s', got '%s'" % (kind, "cm" if kind == "length" else "s", value))
    unit = m.group(2) or ("m" if kind == "length" else "s")
    if unit not in table:
        raise PostError("unknown %s unit '%s' in '%s' (known: %s)" % (kind, unit, value, ", ".join(table)))
    try:
        return float(m.group(1)) * table[unit]
    except ValueError:
        raise PostError("not a number: '%s'" % value) from None


def period(f, override=None):
    """The cardiac period [s]: --period; else the resolved input's (an override of a period
    first, then the first `period:` key outside comments); else, for a run with a heart, the
    heart's (heart_period). None for non-periodic runs."""
    if override:
        return override
    cfg = config_text(f)
    # overrides are listed as comments "# key.path.period=1.1 s" after the case file
    for line in cfg.splitlines():
        m = re.match(r"#\s*\S*period\s*=\s*(.+)$", line)
        if m:
            return parse_quantity(m.group(1), "time")
    for line in cfg.splitlines():
        m = re.search(r"\bperiod:\s*([-+0-9.eE]+\s*(?:ms|s)?)\b", line.split("#", 1)[0])
        if m:
            return parse_quantity(m.group(1), "time")
    return heart_period(f)


# the presets' heart rates [1/s] (kernels/heart_presets.h: 75 and 90 beats per minute)
PRESET_RATE = {"healthy": 75 / 60.0, "cardiogenic-shock": 90 / 60.0}
_FREQ = {"": 1.0, "hz": 1.0, "/s": 1.0, "1/s": 1.0, "bpm": 1 / 60.0, "/min": 1 / 60.0, "1/min": 1 / 60.0}


def parse_rate(value):
    """'75 /min', '75 bpm', '1.25 Hz' -> 1/s (a bare number is SI: Hz), as the solver reads
    heart.heart_rate."""
    m = re.fullmatch(r"\s*([-+0-9.eE]+)\s*(\S*)\s*", str(value).strip("'\" "))
    unit = m.group(2).lower() if m else None
    if not m or unit not in _FREQ:
        raise PostError("expected a heart rate such as '75 /min', got '%s'" % value)
    try:
        return float(m.group(1)) * _FREQ[unit]
    except ValueError:
        raise PostError("not a number: '%s'" % value) from None


def heart_section(cfg):
    """{key: text} of the scalar keys of the resolved input's top-level `heart:` section
    (block or inline map), with the `--set heart.KEY=...` overrides applied in order."""
    lines = cfg.splitlines()
    body = None
    for i, line in enumerate(lines):
        m = re.match(r"heart:(.*)$", line.split("#", 1)[0].rstrip())
        if m:
            body = [m.group(1)]
            for nxt in lines[i + 1:]:
                code = nxt.split("#", 1)[0].rstrip()
                if code and not code[0].isspace():
                    break
                body.append(code)
            break
    if body is None:
        return None
    keys = {k: v.strip().strip("'\"") for k, v in
            re.findall(r"\b(preset|heart_rate):\s*([^,{}\n]+)", "\n".join(body))}
    overrides = False
    for line in lines:
        if line.startswith("# ---- "):
            overrides = line.startswith("# ---- overrides")
        m = re.match(r"#\s*heart\.(preset|heart_rate)\s*=\s*(.+?)\s*$", line)
        if overrides and m:
            keys[m.group(1)] = m.group(2).strip("'\"")
    return keys


def heart_period(f):
    """A run with a heart beats at its heart rate: the spacing of the beat starts
    (/metrics/cycles t_start) when the file has two or more beats, else 60 / heart rate from
    the input's heart section (heart_rate, else the preset's). None without a heart."""
    if "metrics/cycles/t_start" in f:
        starts = np.asarray(f["metrics/cycles/t_start"][()], float)
        if len(starts) >= 2:
            return float(np.median(np.diff(starts)))
    keys = heart_section(config_text(f))
    if keys is None:
        return None
    if keys.get("heart_rate"):
        rate = parse_rate(keys["heart_rate"])
    else:
        rate = PRESET_RATE.get(keys.get("preset"))
    return 1.0 / rate if rate and rate > 0 else None


def last_cycle(t, T):
    """[t0, t1] of the last full cycle (as tests/validate_benchmarks.py: t1 = the last whole
    multiple of T), or the whole record when there is no period or no full cycle."""
    if T and T > 0:
        t1 = math.floor(t[-1] / T + 1e-9) * T
        t0 = t1 - T
        if t0 >= t[0] - 1e-9 and t1 > t0:
            return t0, t1, "last cycle"
    return float(t[0]), float(t[-1]), "whole record"


def window(t, y, t0, t1):
    """Samples of y in [t0, t1], with the two ends interpolated, for time-weighted means."""
    inside = (t > t0) & (t < t1)
    tw = np.concatenate(([t0], t[inside], [t1]))
    yw = np.concatenate(([np.interp(t0, t, y)], y[inside], [np.interp(t1, t, y)]))
    return tw, yw


_trapz = getattr(np, "trapezoid", None) or np.trapz  # numpy 2 renamed it


def time_mean(t, y):
    return float(_trapz(y, t) / (t[-1] - t[0])) if t[-1] > t[0] else float(y[0])


# --- probes, sites, fields -----------------------------------------------------------------

def normal_name(name):
    """Site and probe names compare as the solver compares site names: ignoring case, with
    space, '_' and '-' the same character."""
    return re.sub(r"[ _-]", "_", name.strip().lower())


def probe_names(f):
    return sorted(f["probes"].keys()) if "probes" in f else []


def read_probe(f, name):
    need(f, "probes/%s" % name, " (probes: %s)" % (", ".join(probe_names(f)) or "none"))
    out = {k: read(f, "probes/%s/%s" % (name, k)) for k in ("time", "pressure", "flow", "area")}
    # an output time may repeat the last step's sample: keep strictly increasing times
    keep = np.concatenate(([True], np.diff(out["time"]) > 0))
    return {k: v[keep] for k, v in out.items()}


def mesh(f):
    names = [text(n) for n in need(f, "mesh/vessel_names")[()]]
    return {"names": names, "vessel_id": np.asarray(need(f, "mesh/vessel_id")[()], int),
            "x": read(f, "mesh/x")}


def vessel_cells(m, name, path=""):
    """Cell indices of a vessel in order of x, and the vessel's length (uniform cells:
    first centre dx/2, last L - dx/2)."""
    if name not in m["names"]:
        raise PostError("%sno vessel '%s' (vessels: %s)" % (path + ": " if path else "", name, ", ".join(m["names"])))
    cells = np.nonzero(m["vessel_id"] == m["names"].index(name))[0]
    cells = cells[np.argsort(m["x"][cells])]
    x = m["x"][cells]
    return cells, x, float(x[0] + x[-1])


def field_at(f, field, vessel, x):
    """A field's time series at distance x along a vessel, linear between cell centres."""
    m = mesh(f)
    cells, xc, length = vessel_cells(m, vessel, f.filename)
    if not -1e-12 <= x <= length + 1e-12:
        raise PostError("%s: x = %g m is outside vessel '%s' (length %g m)" % (f.filename, x, vessel, length))
    data = need(f, "fields/" + field)
    if len(cells) == 1 or x <= xc[0]:
        return np.asarray(data[:, cells[0]], float)
    if x >= xc[-1]:
        return np.asarray(data[:, cells[-1]], float)
    k = int(np.searchsorted(xc, x)) - 1
    w = (x - xc[k]) / (xc[k + 1] - xc[k])
    return (1 - w) * np.asarray(data[:, cells[k]], float) + w * np.asarray(data[:, cells[k + 1]], float)


def config_sites(f):
    """Sites of the mesh as written in the resolved input, in the one-line form the meshes
    use: `  name: {vessel: V, x: start|mid|end|<length>}`. {normal name: (name, vessel, x)}."""
    out = {}
    in_sites = False
    for line in config_text(f).splitlines():
        body = line.split("#", 1)[0].rstrip()
        if not body:
            continue
        if re.match(r"\S", body):
            in_sites = body.startswith("sites:")
            continue
        if in_sites:
            m = re.match(r"\s+([^:{}]+?):\s*\{\s*vessel:\s*([^,}\s]+)\s*,\s*x:\s*([^,}]+?)\s*[,}]", body)
            if m:
                out[normal_name(m.group(1))] = (m.group(1), m.group(2), m.group(3))
    return out


def resolve_site(f, at):
    """--at NAME: a probe (name as the solver writes it) or a site of the mesh.
    Returns ("probe", probe) or ("field", vessel, x [m])."""
    key = normal_name(at)
    for p in probe_names(f):
        if normal_name(p) == key:
            return ("probe", p)
    sites = config_sites(f)
    if key in sites:
        _, vessel, xs = sites[key]
        cells, xc, length = vessel_cells(mesh(f), vessel, f.filename)
        x = {"start": 0.0, "mid": length / 2, "end": length}.get(xs.strip())
        return ("field", vessel, parse_quantity(xs) if x is None else x)
    raise PostError("%s: no probe or site '%s' (probes: %s; sites: %s)" % (
        f.filename, at, ", ".join(probe_names(f)) or "none",
        ", ".join(s[0] for s in sites.values()) or "none"))


# --- tables (/metrics/...) -------------------------------------------------------------------

def tables(f, root="metrics"):
    """Paths of every table under root: a group with a `columns` attribute (output_table.c)."""
    found = []
    if root not in f:
        return found

    def visit(name, obj):
        if isinstance(obj, h5py.Group) and "columns" in obj.attrs:
            found.append("%s/%s" % (root, name))
    f[root].visititems(visit)
    return sorted(found)


def read_table(f, path):
    """[(column name, units, values)] in the order of the `columns` attribute."""
    g = need(f, path)
    if "columns" not in g.attrs:
        raise PostError("%s: %s is not a table (no columns attribute)" % (f.filename, path))
    cols = []
    for name in (text(c) for c in g.attrs["columns"]):
        d = need(f, "%s/%s" % (path, name))
        v = d[()]
        if v.dtype.kind in "SO":
            v = np.array([text(x) for x in v], dtype=object)
        cols.append((name, units(d), v))
    return cols
