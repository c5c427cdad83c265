"""Validation figures: every case in cases/benchmarks run by the solver and drawn over its
reference, one PNG per case (docs/figures/, shown in docs/validation.md).

- common carotid, upper thoracic aorta, aortic bifurcation: last cycle against the 1-D FV
  solution of Boileau et al. 2015 and the 3-D results of Xiao et al. 2014, read, aligned and
  scored by tests/validate_benchmarks.py (imported, so the figures show exactly what CTest
  checks; the 3-D curves are drawn shifted by the foot-alignment shift it reports).
- single pulse (inviscid, viscous): against linear theory, p = rho c0 Q(t - x/c0) / A0,
  damped by exp(-K_R x / (2 c0)) in the viscous case (an approximation; see the case file).
- 37-artery in vitro and ADAN56: no reference waveforms are published with the benchmarks
  (docs/benchmarks.md); their figure shows our last cycle at the probes.
"""
import importlib.util
import math
import os
import re
import subprocess
import sys

import numpy as np

from . import io, plotting

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# case file stem -> how it is compared
CASES = {
    "common-carotid": "boileau",
    "upper-thoracic-aorta": "boileau",
    "aortic-bifurcation": "boileau",
    "single-pulse": "pulse",
    "single-pulse-viscous": "pulse",
    "invitro-37": "probes",
    "adan56": "probes",
}

# Benchmark 1's tube (meshes/single-pulse.yaml, cases/benchmarks/single-pulse*.yaml): linear
# theory needs its parameters, which the output file does not carry as numbers.
PULSE = {"radius": 0.01, "E": 400e3, "h": 1.5e-3, "rho": 1050.0, "zeta": 9.0,
         "mu": {"single-pulse": 0.0, "single-pulse-viscous": 4e-3},
         "Q": lambda t: 1e-6 * np.exp(-1e4 * (t - 0.05) ** 2)}

# ADAN56 has 22 probes; these show the aorta, an arm and a leg
ADAN56_PROBES = ["aortic_root", "aortic_arch_I_mid", "thoracic_aorta_III_mid", "abdominal_aorta_V_mid",
                 "common_carotid_R_mid", "radial_R_mid", "femoral_R_I_mid", "anterior_tibial_R_mid"]


def load_validator(repo=REPO):
    path = os.path.join(repo, "tests", "validate_benchmarks.py")
    if not os.path.exists(path):
        raise io.PostError("%s not found: the validation figures need the repository's tests/" % path)
    spec = importlib.util.spec_from_file_location("validate_benchmarks", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def run_case(exe, case, out, reuse=False):
    if reuse and os.path.exists(out):
        return out
    if not os.path.exists(exe):
        raise io.PostError("%s: no solver binary (build: cmake -S . -B build && cmake --build build)" % exe)
    r = subprocess.run([exe, "run", case, "-o", out, "--quiet"], capture_output=True, text=True)
    if r.returncode != 0:
        raise io.PostError("%s run %s failed (exit %d): %s" % (exe, case, r.returncode, r.stderr.strip()))
    return out


# --- Boileau et al. 2015 cases 2-4: FV and 3-D references ----------------------------------

def fig_boileau(vb, h5, cid, data, case_name):
    solver = vb.load_solver(h5, cid, {})
    results = vb.compare_case(solver, cid, data, "both", "foot")
    c = vb.CASES[cid]
    T = c["period"]
    quantities = [("P", "pressure [kPa]"), ("Q", "flow [mL/s]"), ("dr", "radius change [mm]")]
    if any(s["dp"] for s in c["sites"]):
        quantities.append(("dP", "P(inlet) - P(outlet) [kPa]"))
    n = len(c["sites"])
    # one site: its panels in two columns; several: one row per site
    ncol = 2 if n == 1 else len(quantities)
    nrow = n * ((len(quantities) + ncol - 1) // ncol)
    fig, ax = plotting.figure(nrow, ncol, size=(4.6 * ncol, 3.1 * nrow + 0.6))
    for i, s in enumerate(c["sites"]):
        sim = solver[s["site"]][0]
        fv = vb.load_reference(os.path.join(data, s["fv"]), T)
        b3d = vb.load_reference(os.path.join(data, s["b3d"]), T)
        res = {r["reference"]: r for r in results if r["site"] == s["site"]}
        shift = res["b3d"]["shift_s"]
        for j, (q, label) in enumerate(quantities):
            k = i * len(quantities) + j
            a = ax[k // ncol, k % ncol]
            # ours wide underneath, the references thin on top, so that all three stay visible
            a.plot(sim.phi, getattr(sim, q), color="tab:blue", lw=3.0, alpha=0.55, label="hemotree")
            a.plot(sim.phi, fv.at(q, sim.phi), "--", color="black", lw=1.1, label="1-D FV, Boileau et al. 2015")
            # B3D is drawn moved onto our time axis: the comparison evaluates ours at phi + s
            a.plot(sim.phi, b3d.at(q, sim.phi - shift), ":", color="tab:red", lw=1.5,
                   label="3-D, Xiao et al. 2014 (shifted %+.1f ms)" % (1e3 * shift))
            m_fv, m_3d = res["fv"]["metrics"].get(q), res["b3d"]["metrics"].get(q)
            if m_fv and m_3d:
                a.set_title("%s, %s: RMS error %.2f%% (FV), %.2f%% (3-D)" % (
                    s["site"], q, 100 * m_fv["rms"], 100 * m_3d["rms"]), fontsize=8.5)
            a.set_ylabel(label)
            a.set_xlabel("time in the last cycle [s]")
            a.grid(alpha=0.3)
            if j == 0:
                a.legend(fontsize=7.5, loc="upper right")
    with io.open_output(h5) as f:
        cycles = int(round(io.read(f, "time")[-1] / T))
    plotting.title(fig, case_name, "%s, last of %d cycles, against the references" % (c["title"], cycles))
    return fig, results


# --- Benchmark 1: single pulse against linear theory ---------------------------------------

def fig_pulse(h5, stem, case_name):
    P = PULSE
    A0 = math.pi * P["radius"] ** 2
    K = (4.0 / 3.0) * math.sqrt(math.pi) * P["E"] * P["h"] / A0
    c0 = math.sqrt(K * math.sqrt(A0) / (2 * P["rho"]))
    KR = 2 * (P["zeta"] + 2) * math.pi * P["mu"][stem] / (P["rho"] * A0)
    rows = []
    with io.open_output(h5) as f:
        # the cases name their probes by position: x0m, x1m, ...
        probes = sorted((float(m.group(1)), n) for n in io.probe_names(f)
                        for m in [re.fullmatch(r"x([0-9.]+)m", n)] if m)
        series = [(x, n, io.read_probe(f, n)) for x, n in probes]
    # one panel per position, each around its pulse: on the whole run the pulses are needles
    fig, ax = plotting.figure(1, len(series), size=(3.0 * len(series), 4.4), sharey=True)
    for k, (x, name, pr) in enumerate(series):
        a = ax[0, k]
        theory = P["rho"] * c0 / A0 * P["Q"](pr["time"] - x / c0) * math.exp(-KR * x / (2 * c0))
        peak_err = pr["pressure"].max() / theory.max() - 1
        arrival = pr["time"][np.argmax(pr["pressure"])] - pr["time"][np.argmax(theory)]
        rows.append((name, peak_err))
        a.plot(pr["time"], pr["pressure"], color="tab:blue", lw=3.0, alpha=0.55, label="hemotree")
        a.plot(pr["time"], theory, "--", color="black", lw=1.1,
               label="linear theory" + (" (damped, approximate)" if KR > 0 else ""))
        t_peak = 0.05 + x / c0
        a.set_xlim(t_peak - 0.04, t_peak + 0.04)
        a.set_title("x = %g m: peak %+.2f%%, arrival %+.1f ms" % (x, 100 * peak_err, 1e3 * arrival), fontsize=8.5)
        a.set_xlabel("time [s]")
        a.grid(alpha=0.3)
    ax[0, 0].set_ylabel("pressure [Pa]")
    ax[0, 0].legend(fontsize=7.5, loc="upper left")
    what = "single pulse, c0 = %.4f m/s" % c0
    if KR > 0:
        what += ", damping K_R = %.3f 1/s (theory approximate)" % KR
    plotting.title(fig, case_name, what + ", against linear theory")
    return fig, rows


# --- cases without reference waveforms ------------------------------------------------------

def fig_probes(h5, stem, case_name):
    with io.open_output(h5) as f:
        names = io.probe_names(f)
        if stem == "adan56":
            names = [n for n in ADAN56_PROBES if n in names] or names[:8]
        T = io.period(f)
        series = [(n, io.read_probe(f, n)) for n in names]
    t0, t1, span = io.last_cycle(series[0][1]["time"], T)
    fig, ax = plotting.figure(1, 2, size=(12, 5))
    for n, pr in series:
        tw, pw = io.window(pr["time"], pr["pressure"], t0, t1)
        _, qw = io.window(pr["time"], pr["flow"], t0, t1)
        ax[0, 0].plot(tw - t0, pw / io.PA_PER_MMHG, lw=1.2, label=n)
        ax[0, 1].plot(tw - t0, qw / io.M3_PER_ML, lw=1.2, label=n)
    ax[0, 0].set_ylabel("pressure [mmHg]")
    ax[0, 1].set_ylabel("flow [mL/s]")
    for a in ax[0]:
        a.set_xlabel("time in the %s [s]" % span)
        a.grid(alpha=0.3)
    ax[0, 1].legend(fontsize=7.5, loc="best")
    plotting.title(fig, case_name, "%s at the probes (no published reference waveforms)" % span)
    return fig, []


def make(exe, out_dir, runs_dir, cases=None, reuse=False, data=None, repo=REPO, log=print):
    vb = load_validator(repo)
    data = data or os.path.join(repo, "tests", "data", "boileau2015")
    os.makedirs(out_dir, exist_ok=True)
    os.makedirs(runs_dir, exist_ok=True)
    made = []
    for stem in cases or CASES:
        if stem not in CASES:
            raise io.PostError("unknown benchmark '%s' (known: %s)" % (stem, ", ".join(CASES)))
        case = os.path.join(repo, "cases", "benchmarks", stem + ".yaml")
        h5 = run_case(exe, case, os.path.join(runs_dir, stem + ".h5"), reuse)
        with io.open_output(h5) as f:
            case_name = io.case_name(f)
        kind = CASES[stem]
        if kind == "boileau":
            fig, results = fig_boileau(vb, h5, vb.case_id(stem), data, case_name)
            for r in results:
                log("%-22s %-4s %-10s P.rms %.2f%%  Q.rms %.2f%%  shift %+.1f ms" % (
                    stem, r["reference"], r["site"], 100 * r["metrics"]["P"]["rms"],
                    100 * r["metrics"]["Q"]["rms"], 1e3 * r["shift_s"]))
        elif kind == "pulse":
            fig, rows = fig_pulse(h5, stem, case_name)
            for name, err in rows:
                log("%-22s %-15s peak pressure vs linear theory %+.2f%%" % (stem, name, 100 * err))
        else:
            fig, _ = fig_probes(h5, stem, case_name)
        png = plotting.save(fig, os.path.join(out_dir, stem + ".png"))
        log("%-22s -> %s (%d kB)" % (stem, png, os.path.getsize(png) // 1024))
        made.append(png)
    return made


def main_args(a):
    made = make(a.hemotree, a.out, a.runs, a.cases.split(",") if a.cases else None, a.reuse, a.data)
    print("validation: %d figures in %s" % (len(made), a.out), file=sys.stderr)
    return 0
