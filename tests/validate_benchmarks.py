#!/usr/bin/env python3
"""Compare a hemotree run of a Boileau et al. 2015 benchmark with the reference waveforms.

Benchmarks with reference data (tests/data/boileau2015/, see tests/data/README.md):

  case id  aliases                       period  sites (probe names in cases/benchmarks/*.yaml)
  cca      common-carotid, 2             1.1 s   mid (+ inlet, outlet for delta P)
  uta      upper-thoracic-aorta, 3       0.955 s mid (+ inlet, outlet for delta P)
  ibif     aortic-bifurcation, 4         1.1 s   aorta_mid, aorta_end, iliac_mid

References: FV = the 1-D finite-volume scheme of Boileau et al. 2015 (doi:10.1002/cnm.2732),
last converged cycle; B3D = the 3-D fluid-structure-interaction results of Xiao, Alastruey &
Figueroa 2014 (doi:10.1002/cnm.2598). Each gives, at one site, P [kPa], Q [mL/s], the radius
change delta r [mm] and, for cca and uta, delta P = P(inlet) - P(outlet) [kPa], at 1 ms
steps over one period.

Input: a hemotree output HDF5 file with /probes/<name>/{time, pressure, flow, area} in SI
units (s, Pa, m^3/s, m^2).

Method
------
1. Solver cycle. With T the period and t_max the last probe time, the last full cycle is
   [t_e - T, t_e] with t_e = floor(t_max / T) T. Every probe quantity is interpolated
   (linearly) to the phases phi_i = i dt, dt = 1 ms, i = 0 .. n-1, n = T / dt, at times
   t_e - T + phi_i. Units are converted to the references' (kPa, mL/s, mm); the radius is
   r = sqrt(A / pi) and delta r = r - min_cycle(r). The previous cycle, when present, gives
   the solver's own periodicity (RMS of the pressure difference between the two cycles,
   relative to the pressure, as below).
2. Reference cycle. The phase of a reference row is t - t_0 (t_0 its first time: 0 for B3D,
   a whole number of periods for FV). Every delta r is re-zeroed at its cycle minimum: the
   FV files give r - r_d (r_d at rest at P_d), the B3D files r - min(r).
3. Phase alignment. The FV reference starts its inflow at t = 0 like hemotree, so FV is
   compared without a shift (a phase error is an error). The B3D files do not share that
   time origin (for the CCA the 3-D cycle is offset by ~58 ms), so B3D is aligned by the
   foot of the systolic upstroke of the pressure at the same site, found by the
   intersecting-tangent method: t_foot = t* - (P(t*) - P_min) / P'(t*), where t* is the time
   of the largest dP/dt (dP/dt by periodic central differences, smoothed over 5 ms) and
   P_min the minimum pressure in the half period before t*. The shift
   s = t_foot(sim) - t_foot(ref), wrapped into (-T/2, T/2], is applied to all quantities of
   that site: sim_i = sim(phi_i + s), compared with ref_i. (--align xcorr uses instead the
   shift that minimises the pressure RMS error; --align none uses no shift.) Foot alignment
   removes any genuine difference in arrival time between the 1-D and 3-D models at that
   site; the shift is reported so that it can be judged.
4. Errors, over the n aligned samples, with sim_i and ref_i as above. P.* and Q.rms/max/sys
   are the relative error measures of Boileau et al. 2015 (after Alastruey et al. 2011 and
   Xiao et al. 2014): pressure relative to the pointwise reference pressure, flow relative to
   the reference's peak flow. (Transcribed from the literature as we know it, not checked
   against the paper's text; the self-test confirms that P.rms reproduces the FV-vs-3-D
   numbers quoted with the reference data.) Q.mean, dr.* and dP.* are added here by analogy.
     pressure (relative to the local reference pressure, which never approaches 0):
       P.rms  = sqrt( (1/n) sum_i ((P_sim,i - P_ref,i) / P_ref,i)^2 )
       P.max  = max_i |P_sim,i - P_ref,i| / P_ref,i
       P.sys  = (max_i P_sim,i - max_i P_ref,i) / max_i P_ref,i     (signed)
       P.dias = (min_i P_sim,i - min_i P_ref,i) / min_i P_ref,i     (signed)
     flow (relative to the reference's peak flow, because Q crosses 0):
       Q.rms  = sqrt( (1/n) sum_i (Q_sim,i - Q_ref,i)^2 ) / max_i Q_ref,i
       Q.max  = max_i |Q_sim,i - Q_ref,i| / max_i Q_ref,i
       Q.sys  = (max_i Q_sim,i - max_i Q_ref,i) / max_i Q_ref,i     (signed)
       Q.mean = (mean Q_sim - mean Q_ref) / mean Q_ref               (signed)
     radius change and pressure drop (relative to the reference's largest magnitude):
       dr.rms, dr.max, dr.sys as for Q, with delta r;  dP.rms, dP.max with delta P and
       max_i |dP_ref,i| as the scale.
   All errors are fractions (0.01 = 1%).

Self-test (--self-test) checks these formulas without the solver: the FV cycles are
compared with the B3D files (known: 0.19% pressure RMS for the CCA after a +58 ms shift,
~1.25% unshifted for the thoracic aorta, ~0.5% for the bifurcation sites), an FV file with
itself (0), a synthetic waveform with a known shift, and the full HDF5 path on a synthetic
output file made of FV cycles. No solver is involved.

Thresholds: --max-p-rms X and --max-q-rms X bound P.rms and Q.rms of every comparison made;
--limit PATTERN=X bounds any metric whose key "<ref>/<site>/<quantity>/<metric>" matches
the glob PATTERN, e.g. --limit 'fv/*/P/rms=0.005' --limit 'b3d/aorta_end/Q/max=0.2'.
Signed metrics are bounded in magnitude.

Exit status: 0 all limits met (or self-test passed); 1 a limit exceeded or the self-test
failed; 2 bad input (missing file, probe or data).

Examples:
  python3 tests/validate_benchmarks.py out/cca.h5 --case cca --json cca.json --max-p-rms 0.01
  python3 tests/validate_benchmarks.py --self-test
"""

import argparse
import fnmatch
import json
import math
import os
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DATA = os.path.join(HERE, "data", "boileau2015")
DT = 1e-3  # s, the references' sampling step


class InputError(Exception):
    """Bad input: reported, exit status 2."""


# --- benchmark definitions ----------------------------------------------------------------

CASES = {
    "cca": {
        "title": "Benchmark 2: common carotid artery",
        "aliases": ["common-carotid", "2"],
        "period": 1.1,
        "r_d": {"mid": 3.0e-3},  # m; only used to build the self-test's synthetic output
        "sites": [
            {"site": "mid", "probe": "mid", "dp": ("inlet", "outlet"),
             "fv": "cca/FV_carotid_last_cycle.dat", "b3d": "cca/B3D_commoncarotid.txt"},
        ],
    },
    "uta": {
        "title": "Benchmark 3: upper thoracic aorta",
        "aliases": ["upper-thoracic-aorta", "3"],
        "period": 0.955,
        "r_d": {"mid": 12.0e-3},
        "sites": [
            {"site": "mid", "probe": "mid", "dp": ("inlet", "outlet"),
             "fv": "uta/FV_aortic_last_cycle.dat", "b3d": "uta/B3D_aortic.txt"},
        ],
    },
    "ibif": {
        "title": "Benchmark 4: aortic bifurcation",
        "aliases": ["aortic-bifurcation", "4"],
        "period": 1.1,
        "r_d": {"aorta_mid": 8.6e-3, "aorta_end": 8.6e-3, "iliac_mid": 6.0e-3},
        "sites": [
            {"site": "aorta_mid", "probe": "aorta_mid", "dp": None,
             "fv": "ibif/FV_aorta-bif_last_cycle.dat", "b3d": "ibif/B3D_AortaMid.txt"},
            {"site": "aorta_end", "probe": "aorta_end", "dp": None,
             "fv": "ibif/FV_aorta_bif-bif_last_cycle.dat", "b3d": "ibif/B3D_Junction.txt"},
            {"site": "iliac_mid", "probe": "iliac_mid", "dp": None,
             "fv": "ibif/FV_iliac-bif_last_cycle.dat", "b3d": "ibif/B3D_IliacMid.txt"},
        ],
    },
}


def case_id(name):
    key = name.strip().lower()
    for cid, c in CASES.items():
        if key == cid or key in c["aliases"]:
            return cid
    raise InputError("unknown case '%s' (expected one of: %s)" % (
        name, ", ".join("%s (%s)" % (k, "/".join(v["aliases"])) for k, v in CASES.items())))


# --- waveforms on a phase grid ----------------------------------------------------------

class Cycle:
    """One period on the phase grid phi_i = i DT: P [kPa], Q [mL/s], dr [mm], dP [kPa]|None."""

    def __init__(self, period, P, Q, dr, dP=None, label=""):
        self.T = period
        self.n = len(P)
        self.phi = np.arange(self.n) * DT
        self.P = np.asarray(P, float)
        self.Q = np.asarray(Q, float)
        self.dr = np.asarray(dr, float) - np.min(dr)
        self.dP = None if dP is None else np.asarray(dP, float)
        self.label = label

    def at(self, name, phases):
        """Quantity `name` at arbitrary phases (periodic linear interpolation)."""
        v = getattr(self, name)
        return np.interp(np.mod(phases, self.T), self.phi, v, period=self.T)


def n_samples(period):
    n = int(round(period / DT))
    if abs(n * DT - period) > 1e-9:
        raise InputError("period %g s is not a whole number of %g s steps" % (period, DT))
    return n


def load_reference(path, period):
    """A reference file (FV or B3D): one period of rows t, P, Q, dr[, dP]."""
    if not os.path.exists(path):
        raise InputError("reference file not found: %s" % path)
    d = np.loadtxt(path, comments="#", ndmin=2)
    n = n_samples(period)
    if d.shape[0] != n or d.shape[1] < 4:
        raise InputError("%s: expected %d rows of >= 4 columns (one period of %g s at %g s), got %s"
                         % (path, n, period, DT, d.shape))
    t = d[:, 0]
    if np.max(np.abs(np.diff(t) - DT)) > 1e-6:
        raise InputError("%s: time column is not uniform at %g s" % (path, DT))
    dP = d[:, 4] if d.shape[1] >= 5 else None
    return Cycle(period, d[:, 1], d[:, 2], d[:, 3], dP, label=os.path.basename(path))


def _read_probe(f, name, path):
    grp = f.get("probes/%s" % name)
    if grp is None:
        have = sorted(f["probes"].keys()) if "probes" in f else []
        raise InputError("%s: no probe '%s' (probes: %s)" % (path, name, ", ".join(have) or "none"))
    out = {}
    for key in ("time", "pressure", "flow", "area"):
        if key not in grp:
            raise InputError("%s: probe '%s' has no dataset '%s'" % (path, name, key))
        out[key] = np.asarray(grp[key][()], float).ravel()
    t = out["time"]
    if len(t) < 2:
        raise InputError("%s: probe '%s' has fewer than 2 samples" % (path, name))
    # keep strictly increasing samples (a sample may be repeated at an output time)
    keep = np.concatenate(([True], np.diff(t) > 0))
    return {k: v[keep] for k, v in out.items()}


def cycle_window(t, period, which=0):
    """[t0, t0 + T] of the last full cycle (which=0) or the one before it (which=1)."""
    t_end = math.floor(t[-1] / period + 1e-9) * period - which * period
    t0 = t_end - period
    if t0 < t[0] - 1e-9 or t_end <= 0:
        return None
    return t0, t_end


def probe_cycle(probe, period, which=0):
    """Resample the last (which=0) or previous (which=1) full cycle of a probe to the phase grid.
    Returns (P [kPa], Q [mL/s], dr [mm], t0) or None if the run is too short."""
    t = probe["time"]
    w = cycle_window(t, period, which)
    if w is None:
        return None
    t0 = w[0]
    ts = t0 + np.arange(n_samples(period)) * DT
    P = np.interp(ts, t, probe["pressure"]) / 1e3
    Q = np.interp(ts, t, probe["flow"]) * 1e6
    A = np.interp(ts, t, probe["area"])
    if np.any(~np.isfinite(A)) or np.any(A <= 0):
        raise InputError("non-positive or non-finite area in the cycle starting at %.4f s" % t0)
    r = np.sqrt(A / math.pi) * 1e3
    return P, Q, r - r.min(), t0


def load_solver(path, cid, probe_names):
    """The solver's last cycle at every site of case `cid`: {site: (Cycle, info)}."""
    try:
        import h5py
    except ImportError as e:  # pragma: no cover
        raise InputError("h5py is needed to read %s (%s)" % (path, e))
    if not os.path.exists(path):
        raise InputError("output file not found: %s" % path)
    c = CASES[cid]
    T = c["period"]
    res = {}
    with h5py.File(path, "r") as f:
        for s in c["sites"]:
            pname = probe_names.get(s["site"], s["probe"])
            pr = _read_probe(f, pname, path)
            cyc = probe_cycle(pr, T)
            if cyc is None:
                raise InputError("%s: probe '%s' covers %.4f..%.4f s: no full cycle of %g s"
                                 % (path, pname, pr["time"][0], pr["time"][-1], T))
            P, Q, dr, t0 = cyc
            dP = None
            if s["dp"]:
                pin = _read_probe(f, probe_names.get("inlet", s["dp"][0]), path)
                pout = _read_probe(f, probe_names.get("outlet", s["dp"][1]), path)
                ci, co = probe_cycle(pin, T), probe_cycle(pout, T)
                if ci is not None and co is not None and abs(ci[3] - t0) < 1e-9 and abs(co[3] - t0) < 1e-9:
                    dP = ci[0] - co[0]
            info = {"probe": pname, "cycle": [t0, t0 + T]}
            prev = probe_cycle(pr, T, which=1)
            if prev is not None:
                info["periodicity_P_rms"] = float(np.sqrt(np.mean(((P - prev[0]) / prev[0]) ** 2)))
            res[s["site"]] = (Cycle(T, P, Q, dr, dP, label="%s:%s" % (os.path.basename(path), pname)), info)
    return res


# --- alignment and errors -----------------------------------------------------------------

def foot_time(cyc):
    """Foot of the systolic upstroke of the pressure (intersecting-tangent method), in [0, T)."""
    P = cyc.P
    n = cyc.n
    dPdt = (np.roll(P, -1) - np.roll(P, 1)) / (2 * DT)
    k = 5
    kernel = np.ones(k) / k
    sm = np.convolve(np.concatenate((dPdt[-k:], dPdt, dPdt[:k])), kernel, mode="same")[k:-k]
    i_star = int(np.argmax(sm))
    back = (i_star - np.arange(0, n // 2 + 1)) % n
    p_min = float(np.min(P[back]))
    slope = float(sm[i_star])
    if not slope > 0:
        raise InputError("%s: no systolic upstroke (max dP/dt <= 0)" % cyc.label)
    t_foot = cyc.phi[i_star] - (P[i_star] - p_min) / slope
    return float(np.mod(t_foot, cyc.T))


def wrap(s, T):
    """Wrap a time shift into (-T/2, T/2]."""
    s = math.fmod(s, T)
    if s > T / 2:
        s -= T
    elif s <= -T / 2:
        s += T
    return s


def pressure_rms(sim, ref, shift):
    Ps = sim.at("P", ref.phi + shift)
    return float(np.sqrt(np.mean(((Ps - ref.P) / ref.P) ** 2)))


def best_shift(sim, ref):
    """The shift (s) that minimises the pressure RMS error: 1 ms search, parabolic refinement."""
    shifts = np.arange(ref.n) * DT
    e = np.array([pressure_rms(sim, ref, s) for s in shifts])
    i = int(np.argmin(e))
    em, e0, ep = e[i - 1], e[i], e[(i + 1) % ref.n]
    den = em - 2 * e0 + ep
    frac = 0.5 * (em - ep) / den if den > 0 else 0.0
    return wrap(shifts[i] + frac * DT, ref.T)


def errors(sim, ref, shift):
    """The error measures of the module docstring; sim evaluated at ref phases + shift."""
    ph = ref.phi + shift
    out = {}
    Ps, Pr = sim.at("P", ph), ref.P
    out["P"] = {
        "rms": float(np.sqrt(np.mean(((Ps - Pr) / Pr) ** 2))),
        "max": float(np.max(np.abs(Ps - Pr) / Pr)),
        "sys": float((Ps.max() - Pr.max()) / Pr.max()),
        "dias": float((Ps.min() - Pr.min()) / Pr.min()),
    }
    Qs, Qr = sim.at("Q", ph), ref.Q
    qs = Qr.max()
    out["Q"] = {
        "rms": float(np.sqrt(np.mean((Qs - Qr) ** 2)) / qs),
        "max": float(np.max(np.abs(Qs - Qr)) / qs),
        "sys": float((Qs.max() - Qr.max()) / qs),
        "mean": float((Qs.mean() - Qr.mean()) / Qr.mean()),
    }
    Rs, Rr = sim.at("dr", ph), ref.dr
    rs = Rr.max()
    out["dr"] = {
        "rms": float(np.sqrt(np.mean((Rs - Rr) ** 2)) / rs),
        "max": float(np.max(np.abs(Rs - Rr)) / rs),
        "sys": float((Rs.max() - Rr.max()) / rs),
    }
    if sim.dP is not None and ref.dP is not None:
        Ds, Dr = sim.at("dP", ph), ref.dP
        ds = np.max(np.abs(Dr))
        out["dP"] = {
            "rms": float(np.sqrt(np.mean((Ds - Dr) ** 2)) / ds),
            "max": float(np.max(np.abs(Ds - Dr)) / ds),
        }
    return out


def compare(sim, ref, align):
    """Align (foot | xcorr | none) and compute errors. Returns a result dict."""
    r = {}
    if align == "foot":
        tf_s, tf_r = foot_time(sim), foot_time(ref)
        shift = wrap(tf_s - tf_r, ref.T)
        r["foot_sim_s"], r["foot_ref_s"] = tf_s, tf_r
    elif align == "xcorr":
        shift = best_shift(sim, ref)
    elif align == "none":
        shift = 0.0
    else:
        raise InputError("unknown alignment '%s'" % align)
    r["align"] = align
    r["shift_s"] = shift
    r["metrics"] = errors(sim, ref, shift)
    return r


def compare_case(solver, cid, data, against, align_b3d):
    """Every comparison of case cid: list of dicts with ref, site, files, shift, metrics."""
    c = CASES[cid]
    T = c["period"]
    out = []
    for s in c["sites"]:
        sim, info = solver[s["site"]]
        for ref_kind in (("fv", "b3d") if against == "both" else (against,)):
            ref_path = os.path.join(data, s[ref_kind])
            ref = load_reference(ref_path, T)
            r = compare(sim, ref, "none" if ref_kind == "fv" else align_b3d)
            r.update({"reference": ref_kind, "site": s["site"], "ref_file": s[ref_kind],
                      "sim": sim.label})
            r.update(info)
            out.append(r)
    return out


def flatten(results):
    """{"<ref>/<site>/<quantity>/<metric>": value}."""
    flat = {}
    for r in results:
        for q, m in r["metrics"].items():
            for k, v in m.items():
                flat["%s/%s/%s/%s" % (r["reference"], r["site"], q, k)] = v
    return flat


def check_limits(results, limits):
    """limits: list of (pattern, value). Returns list of violations (key, value, limit)."""
    flat = flatten(results)
    bad = []
    for pat, lim in limits:
        matched = False
        for key, v in flat.items():
            if fnmatch.fnmatch(key, pat):
                matched = True
                if not (abs(v) <= lim):
                    bad.append((key, v, lim))
        if not matched:
            bad.append((pat, float("nan"), lim))
    return bad


def print_table(results, title, file=sys.stdout):
    print(title, file=file)
    hdr = "%-4s %-10s %8s | %7s %7s %7s %7s | %7s %7s %7s %7s | %7s %7s | %7s" % (
        "ref", "site", "shift ms", "P.rms", "P.max", "P.sys", "P.dias", "Q.rms", "Q.max", "Q.sys",
        "Q.mean", "dr.rms", "dr.max", "dP.rms")
    print(hdr, file=file)
    print("-" * len(hdr), file=file)

    def pc(m, q, k):
        v = m.get(q, {}).get(k)
        return "%7s" % "-" if v is None else "%6.2f%%" % (100 * v)

    for r in results:
        m = r["metrics"]
        print("%-4s %-10s %8.1f | %s %s %s %s | %s %s %s %s | %s %s | %s" % (
            r["reference"], r["site"], 1e3 * r["shift_s"],
            pc(m, "P", "rms"), pc(m, "P", "max"), pc(m, "P", "sys"), pc(m, "P", "dias"),
            pc(m, "Q", "rms"), pc(m, "Q", "max"), pc(m, "Q", "sys"), pc(m, "Q", "mean"),
            pc(m, "dr", "rms"), pc(m, "dr", "max"), pc(m, "dP", "rms")), file=file)


# --- self-test ----------------------------------------------------------------------------

# Expected FV-vs-B3D pressure RMS errors (fractions), from the files themselves
# (docs/benchmarks.md): CCA 0.19% after the +58 ms shift, thoracic aorta
# 1.25% unshifted (1.13% at its best shift), bifurcation 0.45-0.51% unshifted.
# Each entry: (case, site, align, lo, hi) on P.rms, and the allowed shift range (s).
SELFTEST_EXPECT = [
    ("cca", "mid", "xcorr", 0.0015, 0.0025, (0.055, 0.061)),
    ("cca", "mid", "foot", 0.0010, 0.0040, (0.050, 0.066)),
    ("cca", "mid", "none", 0.050, 0.058, (0.0, 0.0)),
    ("uta", "mid", "none", 0.0120, 0.0130, (0.0, 0.0)),
    ("uta", "mid", "foot", 0.0100, 0.0150, (-0.010, 0.010)),
    ("ibif", "aorta_mid", "none", 0.0040, 0.0050, (0.0, 0.0)),
    ("ibif", "aorta_end", "none", 0.0043, 0.0053, (0.0, 0.0)),
    ("ibif", "iliac_mid", "none", 0.0046, 0.0056, (0.0, 0.0)),
    ("ibif", "aorta_mid", "foot", 0.0030, 0.0060, (-0.010, 0.010)),
    ("ibif", "aorta_end", "foot", 0.0030, 0.0060, (-0.010, 0.010)),
    ("ibif", "iliac_mid", "foot", 0.0030, 0.0060, (-0.010, 0.010)),
]


def _synthetic(T, shift):
    phi = np.arange(n_samples(T)) * DT
    x = np.mod(phi - shift, T) / T
    P = 10 + 6 * np.where(x < 0.35, np.sin(np.pi * x / 0.35) ** 2 * np.exp(-3 * x), 0.0) \
        + 1.5 * np.exp(-4 * x)
    Q = 5 + 40 * np.where(x < 0.3, np.sin(np.pi * x / 0.3), 0.0) - 3
    dr = 0.1 * (P - P.min())
    return Cycle(T, P, Q, dr)


def _write_synthetic_h5(path, cid, data, n_cycles=3):
    """An output file whose probes hold n_cycles copies of the FV cycles of case cid."""
    import h5py
    c = CASES[cid]
    T = c["period"]
    n = n_samples(T)
    t = np.arange(n * n_cycles + 1) * DT
    with h5py.File(path, "w") as f:
        for s in c["sites"]:
            d = np.loadtxt(os.path.join(data, s["fv"]), comments="#", ndmin=2)
            idx = np.arange(len(t)) % n
            P = d[idx, 1] * 1e3
            Q = d[idx, 2] * 1e-6
            r = c["r_d"][s["site"]] + d[idx, 3] * 1e-3
            A = math.pi * r * r
            probes = {s["probe"]: P}
            if s["dp"]:
                dP = d[idx, 4] * 1e3
                probes[s["dp"][0]] = P + dP / 2
                probes[s["dp"][1]] = P - dP / 2
            for name, p in probes.items():
                g = f.require_group("probes/%s" % name)
                for key, v in (("time", t), ("pressure", p), ("flow", Q), ("area", A)):
                    g.create_dataset(key, data=v)


def self_test(data, json_path=None):
    failures = []
    report = {"checks": [], "comparisons": {}}

    def check(name, ok, detail):
        report["checks"].append({"check": name, "ok": bool(ok), "detail": detail})
        print("%-4s %s: %s" % ("ok" if ok else "FAIL", name, detail))
        if not ok:
            failures.append(name)

    # 1. synthetic waveform with a known shift: foot and xcorr alignment recover it
    T = 1.1
    ref = _synthetic(T, 0.0)
    for true_shift in (0.1234, -0.31):
        sim = _synthetic(T, true_shift)
        for align in ("foot", "xcorr"):
            r = compare(sim, ref, align)
            err = abs(r["shift_s"] - true_shift)
            check("synthetic %s shift %+.4f s" % (align, true_shift),
                  err < 1.5e-3 and r["metrics"]["P"]["rms"] < 2e-3,
                  "found %+.4f s, P.rms %.2e" % (r["shift_s"], r["metrics"]["P"]["rms"]))

    # 2. a reference against itself: all errors 0
    for cid in CASES:
        c = CASES[cid]
        for s in c["sites"]:
            fv = load_reference(os.path.join(data, s["fv"]), c["period"])
            m = errors(fv, fv, 0.0)
            worst = max(abs(v) for q in m.values() for v in q.values())
            check("identity %s/%s" % (cid, s["site"]), worst < 1e-12, "max |error| %.1e" % worst)

    # 3. FV (the paper's 1-D scheme) against B3D (3-D): the known differences
    for cid, site, align, lo, hi, (slo, shi) in SELFTEST_EXPECT:
        c = CASES[cid]
        s = next(x for x in c["sites"] if x["site"] == site)
        fv = load_reference(os.path.join(data, s["fv"]), c["period"])
        b3d = load_reference(os.path.join(data, s["b3d"]), c["period"])
        r = compare(fv, b3d, align)
        e = r["metrics"]["P"]["rms"]
        report["comparisons"]["%s/%s/%s" % (cid, site, align)] = r
        check("FV vs B3D %s/%s align=%s" % (cid, site, align),
              lo <= e <= hi and slo - 1e-9 <= r["shift_s"] <= shi + 1e-9,
              "P.rms %.3f%% (expected %.2f-%.2f%%), shift %+.1f ms, Q.rms %.2f%%, dr.rms %.2f%%"
              % (100 * e, 100 * lo, 100 * hi, 1e3 * r["shift_s"], 100 * r["metrics"]["Q"]["rms"],
                 100 * r["metrics"]["dr"]["rms"]))

    # 4. the HDF5 path: a synthetic output made of FV cycles must reproduce step 3 exactly
    try:
        import h5py  # noqa: F401
        have_h5py = True
    except ImportError:
        have_h5py = False
    check("h5py available", have_h5py, "needed to read solver output")
    if have_h5py:
        with tempfile.TemporaryDirectory() as tmp:
            for cid in CASES:
                path = os.path.join(tmp, "%s.h5" % cid)
                _write_synthetic_h5(path, cid, data)
                solver = load_solver(path, cid, {})
                res = compare_case(solver, cid, data, "both", "foot")
                report["comparisons"]["h5:%s" % cid] = res
                flat = flatten(res)
                fv_worst = max(abs(v) for k, v in flat.items() if k.startswith("fv/"))
                check("h5 round trip %s vs FV" % cid, fv_worst < 1e-9, "max |error| %.1e" % fv_worst)
                for r in res:
                    if r["reference"] != "b3d":
                        continue
                    s = next(x for x in CASES[cid]["sites"] if x["site"] == r["site"])
                    fv = load_reference(os.path.join(data, s["fv"]), CASES[cid]["period"])
                    b3d = load_reference(os.path.join(data, s["b3d"]), CASES[cid]["period"])
                    direct = compare(fv, b3d, "foot")
                    d = max(abs(direct["metrics"][q][k] - r["metrics"][q][k])
                            for q in direct["metrics"] for k in direct["metrics"][q])
                    check("h5 round trip %s/%s vs B3D" % (cid, r["site"]), d < 1e-9,
                          "differs from the direct FV-vs-B3D numbers by %.1e" % d)
                    if "dP" in r["metrics"]:
                        check("h5 round trip %s dP present" % cid, True,
                              "dP.rms vs B3D %.2f%%" % (100 * r["metrics"]["dP"]["rms"]))
                print()
                print_table(res, "synthetic output %s (FV cycles as the solver), foot alignment for B3D:"
                            % cid)
                print()
    report["passed"] = not failures
    if json_path:
        with open(json_path, "w") as f:
            json.dump(report, f, indent=1)
    print("self-test %s (%d checks, %d failed)" % ("passed" if not failures else "FAILED",
                                                    len(report["checks"]), len(failures)))
    return 0 if not failures else 1


# --- command line -------------------------------------------------------------------------

def parse_limit(text):
    if "=" not in text:
        raise argparse.ArgumentTypeError("expected PATTERN=VALUE, got '%s'" % text)
    pat, val = text.rsplit("=", 1)
    try:
        return pat.strip(), float(val)
    except ValueError:
        raise argparse.ArgumentTypeError("not a number: '%s'" % val)


def parse_probe(text):
    if "=" not in text:
        raise argparse.ArgumentTypeError("expected SITE=PROBE, got '%s'" % text)
    a, b = text.split("=", 1)
    return a.strip(), b.strip()


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Compare a hemotree benchmark run with the Boileau et al. 2015 references "
                    "(error definitions: see the module docstring, `pydoc` this file).")
    ap.add_argument("output", nargs="?", help="hemotree output HDF5 file")
    ap.add_argument("--case", help="cca | uta | ibif (or common-carotid, upper-thoracic-aorta, "
                                   "aortic-bifurcation)")
    ap.add_argument("--data", default=DEFAULT_DATA, help="reference folder (default %(default)s)")
    ap.add_argument("--json", help="write the results as JSON to this file")
    ap.add_argument("--against", choices=["fv", "b3d", "both"], default="both",
                    help="references to compare with (default both)")
    ap.add_argument("--align", choices=["foot", "xcorr", "none"], default="foot",
                    help="phase alignment of the B3D reference (default foot); FV is never shifted")
    ap.add_argument("--period", type=float, help="override the case's period (s)")
    ap.add_argument("--probe", type=parse_probe, action="append", default=[],
                    help="SITE=PROBE: read site SITE (or 'inlet'/'outlet') from probe PROBE")
    ap.add_argument("--max-p-rms", type=float, help="limit on P.rms of every comparison")
    ap.add_argument("--max-q-rms", type=float, help="limit on Q.rms of every comparison")
    ap.add_argument("--limit", type=parse_limit, action="append", default=[],
                    help="PATTERN=VALUE: limit on every metric key <ref>/<site>/<quantity>/<metric> "
                         "matching the glob PATTERN")
    ap.add_argument("--self-test", action="store_true",
                    help="check the error formulas on the reference files themselves (no solver)")
    a = ap.parse_args(argv)

    try:
        if a.self_test:
            return self_test(a.data, a.json)
        if not a.output or not a.case:
            ap.error("an output file and --case are needed (or --self-test)")
        cid = case_id(a.case)
        if a.period:
            CASES[cid]["period"] = a.period
        solver = load_solver(a.output, cid, dict(a.probe))
        results = compare_case(solver, cid, a.data, a.against, a.align)
    except InputError as e:
        print("validate_benchmarks: %s" % e, file=sys.stderr)
        return 2

    c = CASES[cid]
    print_table(results, "%s (%s), T = %g s, %s" % (c["title"], cid, c["period"], a.output))
    for site, (_, info) in solver.items():
        if "periodicity_P_rms" in info:
            print("solver periodicity at %s: last two cycles differ by %.2e (P, relative RMS)"
                  % (site, info["periodicity_P_rms"]))
    limits = list(a.limit)
    if a.max_p_rms is not None:
        limits.append(("*/*/P/rms", a.max_p_rms))
    if a.max_q_rms is not None:
        limits.append(("*/*/Q/rms", a.max_q_rms))
    bad = check_limits(results, limits)
    for key, v, lim in bad:
        if math.isnan(v):
            print("LIMIT: no metric matches '%s'" % key)
        else:
            print("LIMIT EXCEEDED: %s = %.4g > %.4g" % (key, abs(v), lim))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"case": cid, "title": c["title"], "output": a.output, "period": c["period"],
                       "align_b3d": a.align, "comparisons": results,
                       "limits": [{"pattern": p, "value": v} for p, v in limits],
                       "violations": [{"key": k, "value": v, "limit": l} for k, v, l in bad],
                       "passed": not bad}, f, indent=1)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
