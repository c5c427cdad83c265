"""Mechanical circulatory support across runs (docs/devices.md 4.2-4.3): the watershed
position against the ECMO flow, the ECMO fraction and oxygen saturation delivered to the
branches, and the support mode of a run (shock / ECMO x L/min / Impella / ECMELLA).

Everything comes from the output file: the last beat's row of /metrics/watershed (front_mean,
front_min, front_max [m from the aortic root], delivered_<vessel> [1]), the last beat's
ecmo_flow and impella_flow of /metrics/cycles [m^3/s] (else the beat mean of /heart/ecmo_flow),
and the `devices:` section of the resolved input in /config/input with its `--set devices...`
overrides (Impella model and level, the saturations S_oxy and S_native)."""
import re

import numpy as np

from . import io, plotting

M3S_PER_LPM = 1e-3 / 60.0
DEFAULT_S_OXY, DEFAULT_S_NATIVE = 1.0, 0.7  # the solver's defaults (docs/input.md, devices)
_FLOW_UNITS = {"l/min": M3S_PER_LPM, "ml/s": 1e-6, "m^3/s": 1.0, "ml/min": 1e-6 / 60.0}


# --- the devices of the resolved input ------------------------------------------------------

def _case_section(cfg):
    """The case file's text in /config/input (the mesh file and the overrides are other
    sections, each after a '# ---- ... ----' line)."""
    parts = re.split(r"^# ---- (.*?) ----\s*$", cfg, flags=re.M)
    if len(parts) == 1:
        return cfg
    for head, body in zip(parts[1::2], parts[2::2]):
        if head.startswith("case file"):
            return body
    return parts[0]


def _overrides(cfg):
    """(key path, value) of each `--set` in the order applied."""
    out = []
    m = re.search(r"^# ---- overrides.*?----\s*$(.*)", cfg, flags=re.M | re.S)
    for line in (m.group(1) if m else "").splitlines():
        mm = re.match(r"#\s*([\w.\- ]+?)\s*=\s*(.*?)\s*$", line)
        if mm:
            out.append((mm.group(1), mm.group(2)))
    return out


def _block(text, key):
    """The text of the top-level `key:` block (its first line's rest and the indented lines
    after it), comments removed; None when the case has no such key."""
    lines = [l.split("#", 1)[0].rstrip() for l in text.splitlines()]
    for i, l in enumerate(lines):
        m = re.match(r"%s\s*:(.*)$" % re.escape(key), l)
        if m:
            body = [m.group(1)]
            for l2 in lines[i + 1:]:
                if l2 and not l2[0].isspace():
                    break
                body.append(l2)
            return "\n".join(body)
    return None


def _sub(text, key, other):
    """The part of a devices block that belongs to `key` (up to the other device's key)."""
    m = re.search(r"\b%s\s*:" % key, text)
    if not m:
        return None
    o = re.search(r"\b%s\s*:" % other, text[m.end():])
    return text[m.end(): m.end() + o.start() if o else len(text)]


def _value(text, key):
    m = re.search(r"\b%s\s*:\s*([^,{}\n]+)" % key, text or "")
    return m.group(1).strip().strip("'\"") if m else None


def parse_flow(value):
    """'4 L/min' -> m^3/s; a bare number is SI (m^3/s)."""
    m = re.fullmatch(r"\s*([-+0-9.eE]+)\s*(\S*)\s*", str(value))
    if not m:
        return None
    scale = _FLOW_UNITS.get(m.group(2).lower() or "m^3/s")
    try:
        return float(m.group(1)) * scale if scale is not None else None
    except ValueError:
        return None


def _number(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def devices(f):
    """{'ecmo': {flow_m3s, rpm, S_oxy, S_native} or None, 'impella': {model, level, rpm} or
    None, 'preset': heart preset or None, 'found': whether the input was readable}."""
    cfg = io.config_text(f)
    case = _case_section(cfg)
    dev = _block(case, "devices") or ""
    ecmo_t, imp_t = _sub(dev, "ecmo", "impella"), _sub(dev, "impella", "ecmo")
    ecmo = None if ecmo_t is None else {"flow": _value(ecmo_t, "flow"), "rpm": _value(ecmo_t, "rpm"),
                                        "oxygenator": _value(ecmo_t, "oxygenator"),
                                        "native": _value(ecmo_t, "native")}
    imp = None if imp_t is None else {"model": _value(imp_t, "model"), "level": _value(imp_t, "level"),
                                      "rpm": _value(imp_t, "rpm")}
    for path, val in _overrides(cfg):
        keys = path.split(".")
        if keys[0] != "devices" or len(keys) < 2 or keys[1] not in ("ecmo", "impella"):
            continue
        which = keys[1]
        d = {}
        if len(keys) == 2:  # a whole device in flow style
            names = ("flow", "rpm", "oxygenator", "native") if which == "ecmo" else ("model", "level", "rpm")
            d = {k: _value(val, k) for k in names}
        elif keys[-1] in ("flow", "rpm", "oxygenator", "native", "model", "level"):
            d = {keys[-1]: val.strip().strip("'\"")}
        elif keys[-1] == "saturation":
            d = {k: _value(val, k) for k in ("oxygenator", "native")}
        if which == "ecmo":
            ecmo = dict(ecmo or {}, **{k: v for k, v in d.items() if v is not None})
        else:
            imp = dict(imp or {}, **{k: v for k, v in d.items() if v is not None})
    if ecmo is not None:
        ecmo = {"flow_m3s": parse_flow(ecmo["flow"]) if ecmo.get("flow") else None,
                "rpm": _number(ecmo.get("rpm")),
                "S_oxy": _number(ecmo.get("oxygenator")), "S_native": _number(ecmo.get("native"))}
    if imp is not None:
        imp = {"model": imp.get("model"), "level": imp.get("level"), "rpm": _number(imp.get("rpm"))}
    heart = _block(case, "heart") or ""
    return {"ecmo": ecmo, "impella": imp, "preset": _value(heart, "preset"), "found": bool(case.strip())}


def impella_label(imp):
    if not imp:
        return None
    model = "Impella %s" % imp["model"] if imp.get("model") else "Impella"
    if imp.get("level"):
        lv = str(imp["level"]).upper().lstrip("P").lstrip("-")
        return "%s P-%s" % (model, lv)
    if imp.get("rpm"):
        return "%s %g rpm" % (model, imp["rpm"])
    return model


# --- per-beat device flows ----------------------------------------------------------------

def _column(cols, name):
    for n, u, v in cols or ():
        if n == name:
            return np.asarray(v, float)
    return None


def last_beat_flows(f, period=None):
    """ECMO and Impella flow [m^3/s] over the last beat and where they came from."""
    cycles = io.read_table(f, "metrics/cycles") if "metrics/cycles" in f else None
    out = {}
    for dev in ("ecmo", "impella"):
        col = _column(cycles, dev + "_flow")
        if col is not None and len(col):
            out[dev] = (float(col[-1]), "/metrics/cycles %s_flow, beat %d" % (dev, len(col) - 1))
        elif "heart/%s_flow" % dev in f and "heart/time" in f:
            t = io.read(f, "heart/time")
            q = io.read(f, "heart/%s_flow" % dev)
            starts = _column(cycles, "t_start")
            T = period or (float(starts[1] - starts[0]) if starts is not None and len(starts) >= 2 else None)
            t0, t1, span = io.last_cycle(t, io.period(f, T))
            out[dev] = (io.time_mean(*io.window(t, q, t0, t1)), "/heart/%s_flow, %s %.4g-%.4g s" % (dev, span, t0, t1))
        else:
            out[dev] = (None, "none")
    return out


def support_mode(f, flows=None, dev=None):
    """'shock' / 'no support' / 'ECMO x L/min' / 'Impella CP P-8' / 'ECMELLA: ...', or None
    when the file says nothing about devices (no /heart device flows, no input)."""
    dev = dev or devices(f)
    flows = flows or last_beat_flows(f)
    q_ecmo, q_imp = flows["ecmo"][0], flows["impella"][0]
    has_ecmo = dev["ecmo"] is not None or "metrics/watershed" in f or (q_ecmo is not None and q_ecmo > 0)
    has_imp = dev["impella"] is not None or (q_imp is not None and q_imp > 0)
    if not has_ecmo and not has_imp:
        if q_ecmo is None and q_imp is None and not dev["found"]:
            return None
        return "shock" if dev["preset"] and "shock" in dev["preset"] else "no support"
    if q_ecmo is None and dev["ecmo"]:
        q_ecmo = dev["ecmo"]["flow_m3s"]
    ecmo = "ECMO %s" % ("%.1f L/min" % (q_ecmo / M3S_PER_LPM) if q_ecmo is not None else "(pump)")
    imp = impella_label(dev["impella"]) or "Impella"
    if has_ecmo and has_imp:
        return "ECMELLA: %s + %s" % (ecmo, imp)
    return ecmo if has_ecmo else imp


# --- watershed vs ECMO flow -----------------------------------------------------------------

def _watershed_last(f):
    cols = io.read_table(f, "metrics/watershed")
    row = {n: v[-1] for n, u, v in cols if len(v)}
    return cols, row


def analyse_flow_file(path, period=None):
    with io.open_output(path) as f:
        name = io.case_name(f)
        has_ws = "metrics/watershed" in f
        if not has_ws and "heart" not in f:
            raise io.PostError("%s has no /metrics/watershed and no /heart (run a case with devices.ecmo)" % path)
        dev = devices(f)
        flows = last_beat_flows(f, period)
        mode = support_mode(f, flows, dev)
        front = {"front_mean_m": None, "front_min_m": None, "front_max_m": None, "front_vessel": None, "beat": None}
        if has_ws:
            cols, row = _watershed_last(f)
            for k in ("mean", "min", "max"):
                v = row.get("front_" + k)
                front["front_%s_m" % k] = float(v) if v is not None and np.isfinite(v) else None
            # front_vessel (strings) is stored beside the table, outside its `columns`
            fv = row.get("front_vessel")
            if fv is None and "metrics/watershed/front_vessel" in f and len(f["metrics/watershed/front_vessel"]):
                fv = f["metrics/watershed/front_vessel"][-1]
            if fv is None and "front_vessel_id" in row and "mesh/vessel_names" in f and np.isfinite(row["front_vessel_id"]):
                names = f["mesh/vessel_names"][()]
                k = int(row["front_vessel_id"])
                fv = names[k] if 0 <= k < len(names) else None
            front["front_vessel"] = None if fv is None else io.text(fv)
            front["beat"] = int(row["beat"]) if "beat" in row else len(cols[0][2]) - 1
    q_ecmo, src_ecmo = flows["ecmo"]
    q_imp, src_imp = flows["impella"]
    imp_label = impella_label(dev["impella"])
    if imp_label is None:
        imp_label = "Impella (level not in the input)" if q_imp is not None and q_imp > 0 else "no Impella"
    res = {"file": path, "case": name, "mode": mode,
           "ecmo_flow_L_min": None if q_ecmo is None else q_ecmo / M3S_PER_LPM, "ecmo_flow_source": src_ecmo,
           "ecmo_flow_set_L_min": (dev["ecmo"]["flow_m3s"] / M3S_PER_LPM
                                   if dev["ecmo"] and dev["ecmo"]["flow_m3s"] is not None else None),
           "impella_flow_L_min": None if q_imp is None else q_imp / M3S_PER_LPM, "impella": imp_label,
           "has_watershed": has_ws}
    res.update(front)
    for k in ("mean", "min", "max"):
        v = res["front_%s_m" % k]
        res["front_%s_cm" % k] = None if v is None else 100 * v
    return res


def analyse_flow(paths, period=None):
    res = [analyse_flow_file(p, period) for p in paths]
    if not any(r["has_watershed"] for r in res):
        raise io.PostError("%s: no /metrics/watershed (run a case with a VA-ECMO: devices.ecmo)" % ", ".join(paths))
    return res


def plot_flow(results):
    fig, ax = plotting.figure(1, 1, size=(8.5, 6))
    a = ax[0, 0]
    groups = list(dict.fromkeys(r["impella"] for r in results))
    colours = plotting.plt.rcParams["axes.prop_cycle"].by_key()["color"]
    markers = "osD^vP*X"
    for g, grp in enumerate(groups):
        rs = sorted((r for r in results if r["impella"] == grp and r["front_mean_cm"] is not None
                     and r["ecmo_flow_L_min"] is not None), key=lambda r: r["ecmo_flow_L_min"])
        if not rs:
            continue
        x = np.array([r["ecmo_flow_L_min"] for r in rs])
        y = np.array([r["front_mean_cm"] for r in rs])
        lo = y - np.array([r["front_min_cm"] for r in rs])
        hi = np.array([r["front_max_cm"] for r in rs]) - y
        c = colours[g % len(colours)]
        a.errorbar(x, y, yerr=[lo, hi], color=c, marker=markers[g % len(markers)], ms=7, capsize=4, lw=1.2,
                   ls="-" if len(rs) > 1 else "none", label="%s (%d run%s)" % (grp, len(rs), "s" * (len(rs) > 1)))
        for r, xi, yi in zip(rs, x, y):
            a.annotate(r["case"], (xi, yi), textcoords="offset points", xytext=(6, 4), fontsize=7, color=c)
    a.set_xlabel("ECMO flow, mean over the last beat [L/min]")
    a.set_ylabel("watershed (c = 0.5 front) from the aortic root [cm]")
    a.grid(alpha=0.3)
    a.plot([], [], " ", label="bars: min-max over the last beat")
    a.legend(fontsize=8, loc="best", title="Impella")
    plotting.title(fig, [r["case"] for r in results], "watershed vs ECMO flow")
    return fig


def text_flow(results):
    def f(v, fmt="%8.2f"):
        return "%8s" % "-" if v is None else fmt % v
    lines = ["%-24s %8s %8s %8s %8s %8s %8s  %-22s %s" % ("case", "ECMO", "set", "front", "min", "max", "Impella",
                                                      "front vessel", "support"),
             "%-24s %8s %8s %8s %8s %8s %8s" % ("", "[L/min]", "[L/min]", "[cm]", "[cm]", "[cm]", "[L/min]")]
    for r in results:
        lines.append("%-24s %s %s %s %s %s %s  %-22s %s" % (
            r["case"][:24], f(r["ecmo_flow_L_min"], "%8.3f"), f(r["ecmo_flow_set_L_min"], "%8.3f"),
            f(r["front_mean_cm"]), f(r["front_min_cm"]), f(r["front_max_cm"]), f(r["impella_flow_L_min"], "%8.3f"),
            (r["front_vessel"] or "-")[:22], r["mode"] or "-"))
    lines.append("last beat of /metrics/watershed (front: mean, min, max from the aortic root); ECMO flow: %s"
                 % "; ".join(dict.fromkeys(r["ecmo_flow_source"].split(",")[0] for r in results)))
    return "\n".join(lines)


# --- delivered ECMO fraction and saturation --------------------------------------------------

def saturations(f, dev=None):
    """(S_oxy, S_native, source): the input's values (solver defaults where it names none),
    else a fit of /fields/saturation = c S_oxy + (1 - c) S_native, else the defaults."""
    dev = dev or devices(f)
    if dev["ecmo"] is not None:
        so, sn = dev["ecmo"]["S_oxy"], dev["ecmo"]["S_native"]
        src = "input" if so is not None and sn is not None else "input, solver defaults for the rest"
        return (DEFAULT_S_OXY if so is None else so), (DEFAULT_S_NATIVE if sn is None else sn), src
    if "fields/saturation" in f and "fields/ecmo_fraction" in f:
        c = np.asarray(f["fields/ecmo_fraction"][()], float).ravel()
        s = np.asarray(f["fields/saturation"][()], float).ravel()
        if c.size and np.ptp(c) > 1e-3:
            slope, icpt = np.polyfit(c, s, 1)
            return float(icpt + slope), float(icpt), "fit of /fields/saturation to /fields/ecmo_fraction"
    return DEFAULT_S_OXY, DEFAULT_S_NATIVE, "solver defaults"


def analyse_sat_file(path):
    with io.open_output(path) as f:
        io.need(f, "metrics/watershed", " (run a case with a VA-ECMO: devices.ecmo)")
        name = io.case_name(f)
        dev = devices(f)
        cols, row = _watershed_last(f)
        so, sn, src = saturations(f, dev)
        mode = support_mode(f, None, dev)
    branches = {}
    for n, u, v in cols:
        if n.startswith("delivered_") and len(v):
            frac = float(v[-1])
            branches[n[len("delivered_"):]] = {
                "delivered_fraction": frac if np.isfinite(frac) else None,
                "saturation": so * frac + sn * (1 - frac) if np.isfinite(frac) else None}
    if not branches:
        raise io.PostError("%s: /metrics/watershed has no delivered_* columns (the network has none of the "
                           "arch branches, coronaries or renals)" % path)
    return {"file": path, "case": name, "mode": mode, "beat": int(row.get("beat", len(cols[0][2]) - 1)),
            "S_oxy": so, "S_native": sn, "saturation_source": src, "branches": branches}


def analyse_sat(paths):
    return [analyse_sat_file(p) for p in paths]


def plot_sat(results):
    names = list(dict.fromkeys(b for r in results for b in r["branches"]))
    fig, ax = plotting.figure(2, 1, size=(max(8.0, 1.3 * len(names) * max(1, len(results)) ** 0.5 + 3), 7.5),
                              sharex=True)
    width = 0.8 / len(results)
    x = np.arange(len(names))
    for k, r in enumerate(results):
        lab = r["case"] + (" (%s)" % r["mode"] if r["mode"] else "")
        fr = np.array([np.nan if r["branches"].get(b, {}).get("delivered_fraction") is None
                       else r["branches"][b]["delivered_fraction"] for b in names])
        sat = np.array([np.nan if r["branches"].get(b, {}).get("saturation") is None
                        else r["branches"][b]["saturation"] for b in names])
        xs = x - 0.4 + width * (k + 0.5)
        ax[0, 0].bar(xs, fr, width, label=lab)
        ax[1, 0].bar(xs, 100 * sat, width, label="%s: S_oxy %.0f %%, S_native %.0f %%" % (
            r["case"], 100 * r["S_oxy"], 100 * r["S_native"]))
    ax[0, 0].set_ylabel("delivered ECMO fraction [1]")
    ax[0, 0].set_ylim(0, 1.05)
    lo = min(min(r["S_native"], r["S_oxy"]) for r in results)
    ax[1, 0].set_ylim(max(0.0, 100 * lo - 5), 100 * max(max(r["S_oxy"], r["S_native"]) for r in results) + 2)
    ax[1, 0].set_ylabel("delivered O2 saturation [%]")
    ax[1, 0].set_xticks(x)
    ax[1, 0].set_xticklabels(names, rotation=20, ha="right")
    ax[1, 0].set_xlabel("branch (flow-weighted over the last beat, /metrics/watershed)")
    for a in ax[:, 0]:
        a.grid(alpha=0.3, axis="y")
        a.legend(fontsize=8, loc="best")
    plotting.title(fig, [r["case"] for r in results], "ECMO fraction and O2 saturation delivered to branches")
    return fig


def text_sat(results):
    names = list(dict.fromkeys(b for r in results for b in r["branches"]))
    lines = []
    for r in results:
        lines.append("%s (%s), beat %d; S_oxy %.3f, S_native %.3f (%s)" % (
            r["case"], r["mode"] or "-", r["beat"], r["S_oxy"], r["S_native"], r["saturation_source"]))
    lines.append("%-24s %-28s %12s %12s" % ("case", "branch", "ECMO frac", "saturation"))
    lines.append("%-24s %-28s %12s %12s" % ("", "", "[1]", "[%]"))
    for r in results:
        for b in names:
            d = r["branches"].get(b)
            if d is None:
                continue
            lines.append("%-24s %-28s %12s %12s" % (
                r["case"][:24], b[:28], "-" if d["delivered_fraction"] is None else "%.4f" % d["delivered_fraction"],
                "-" if d["saturation"] is None else "%.2f" % (100 * d["saturation"])))
    return "\n".join(lines)
