"""Tests of the post-processing tools (postprocess/, `hemotree-post`): each tool on a small real
output made by the solver here (tests/data/cli/tiny.yaml, 2 cycles of 0.8 s, a fraction of a
second; tests/data/heart/tiny_devices.yaml at two ECMO flows and with an Impella, for the
device tools) and, for the tools whose inputs the solver does not write yet (the heart's /heart
group) or whose answer must be known exactly (the ECMO front), on synthetic files. The
numbers each tool reports (its --json) are checked against values computed here from the
file or known by construction; every figure must be a real image (> 10 kB, many colours).

Run by CTest (tests/post.cmake) with HEMOTREE set to the solver; by hand:
    HEMOTREE=build/hemotree python3 -m pytest -q tests/test_post.py
test_paraview_render runs only with HT_PVPYTHON and HT_XVFB_RUN set (tests/paraview.cmake).
"""
import base64
import json
import os
import re
import shutil
import subprocess
import sys

import h5py
import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
EXE = os.environ.get("HEMOTREE", os.path.join(ROOT, "build", "hemotree"))
TINY = os.path.join(HERE, "data", "cli", "tiny.yaml")
SITES = os.path.join(HERE, "data", "input", "sites_case.yaml")
POST_PATH = os.path.join(ROOT, "postprocess")
PA_PER_MMHG = 133.322387415
_trapz = getattr(np, "trapezoid", None) or np.trapz


def post(*args, cwd=None):
    """python3 -m hemotree_post ARGS, as the wrapper script runs it."""
    env = dict(os.environ, PYTHONPATH=POST_PATH + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "hemotree_post", *map(str, args)], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=600)


def ok(r):
    assert r.returncode == 0, "exit %d\nstdout:\n%s\nstderr:\n%s" % (r.returncode, r.stdout, r.stderr)
    return r


def load(path):
    with open(path) as fh:
        return json.load(fh)


def check_png(path):
    """An image that shows something: a PNG over 10 kB with more than a handful of colours."""
    import matplotlib.image as mpimg
    assert os.path.exists(path), path
    assert os.path.getsize(path) > 10_000, "%s: only %d bytes" % (path, os.path.getsize(path))
    img = mpimg.imread(path)
    assert img.ndim == 3 and img.shape[0] > 100 and img.shape[1] > 100, img.shape
    colours = np.unique(img.reshape(-1, img.shape[2]), axis=0)
    assert len(colours) > 16, "%s: %d colours" % (path, len(colours))


def run_solver(case, out, *extra):
    r = subprocess.run([EXE, "run", case, "-o", str(out), "--quiet", *extra], capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stderr
    return str(out)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    d = tmp_path_factory.mktemp("tiny")
    return run_solver(TINY, d / "tiny.h5", "--cycles", "2")


def last_cycle_samples(t, y, t0, t1):
    m = (t >= t0 - 1e-12) & (t <= t1 + 1e-12)
    return t[m], y[m]


# --- waveforms ---------------------------------------------------------------------------

def test_waveforms_probe_and_field(tiny, tmp_path):
    png, js = tmp_path / "w.png", tmp_path / "w.json"
    r = ok(post("waveforms", tiny, "--at", "parent_mid", "--at", "Left End", "--vessel", "parent", "--x", "5 cm",
                "--png", png, "--json", js))
    check_png(png)
    res = load(js)
    assert res["case"] == "tiny" and res["period_s"] == pytest.approx(0.8)
    assert res["window_s"] == pytest.approx([0.8, 1.6])
    with h5py.File(tiny, "r") as f:
        for site, probe in (("parent_mid", "parent_mid"), ("Left End", "left_end")):
            t = f["probes/%s/time" % probe][:]
            keep = np.concatenate(([True], np.diff(t) > 0))
            t = t[keep]
            tw, p = last_cycle_samples(t, f["probes/%s/pressure" % probe][:][keep] / PA_PER_MMHG, 0.8, 1.6)
            _, q = last_cycle_samples(t, f["probes/%s/flow" % probe][:][keep] * 1e6, 0.8, 1.6)
            s = res["sites"][site]
            assert s["source"] == "probe " + probe
            assert s["pressure_mmHg"]["max"] == pytest.approx(p.max(), rel=1e-9)
            assert s["pressure_mmHg"]["min"] == pytest.approx(p.min(), rel=1e-9)
            assert s["pressure_mmHg"]["mean"] == pytest.approx(_trapz(p, tw) / 0.8, rel=1e-6)
            assert s["flow_mL_s"]["mean"] == pytest.approx(_trapz(q, tw) / 0.8, rel=1e-6)
            assert s["pulse_pressure_mmHg"] == pytest.approx(p.max() - p.min(), rel=1e-9)
            assert "%.2f" % p.max() in r.stdout
    probe, field = res["sites"]["parent_mid"], res["sites"]["parent x=0.05 m"]
    assert field["source"].startswith("fields parent")
    # mass: over a near-periodic cycle the mean flow in the parent is the inflow's 30 mL/s
    assert probe["flow_mL_s"]["mean"] == pytest.approx(30.0, rel=0.01)
    # /fields (8 ms samples, interpolated between cell centres) agrees with the probe there
    assert field["pressure_mmHg"]["max"] == pytest.approx(probe["pressure_mmHg"]["max"], rel=5e-3)
    assert field["pressure_mmHg"]["mean"] == pytest.approx(probe["pressure_mmHg"]["mean"], rel=5e-3)
    assert field["flow_mL_s"]["mean"] == pytest.approx(probe["flow_mL_s"]["mean"], rel=1e-2)


def test_waveforms_site_of_the_mesh(tmp_path):
    out = run_solver(SITES, tmp_path / "sites.h5")
    js = tmp_path / "s.json"
    # "right iliac cannula" has no probe of that name (its probe is "cannula"): read /fields there
    ok(post("waveforms", out, "--at", "right iliac cannula", "--at", "cannula", "--at", "left iliac",
            "--png", tmp_path / "s.png", "--json", js))
    res = load(js)
    site, probe = res["sites"]["right iliac cannula"], res["sites"]["cannula"]
    assert site["source"] == "fields iliac_R x=0.025 m"
    assert res["sites"]["left iliac"]["source"] == "fields iliac_L x=0.02 m"
    assert res["window"] == "whole record" and res["period_s"] is None
    assert site["pressure_mmHg"]["mean"] == pytest.approx(probe["pressure_mmHg"]["mean"], rel=2e-3)
    assert site["flow_mL_s"]["mean"] == pytest.approx(probe["flow_mL_s"]["mean"], rel=2e-2)


def test_waveforms_errors(tiny, tmp_path):
    r = post("waveforms", tiny, "--at", "nowhere", cwd=tmp_path)
    assert r.returncode == 2
    assert "tiny.h5: no probe or site 'nowhere'" in r.stderr and "parent_mid" in r.stderr
    r = post("waveforms", tmp_path / "missing.h5", "--at", "x", cwd=tmp_path)
    assert r.returncode == 2 and "missing.h5: no such file" in r.stderr
    r = post("waveforms", tiny, "--vessel", "aorta", cwd=tmp_path)
    assert r.returncode == 2 and "no vessel 'aorta'" in r.stderr
    r = post("waveforms", tiny, "--vessel", "parent", "--x", "30 cm", cwd=tmp_path)
    assert r.returncode == 2 and "outside vessel 'parent'" in r.stderr


# --- pvloop (synthetic /heart) -------------------------------------------------------------

T_HEART = 0.8


def rectangle_loop(u4, edv, esv, p_lo, p_hi):
    """One beat at phase u4 in [0, 4]: filling at p_lo (V esv -> edv), isovolumic contraction
    (p up), ejection at p_hi (V edv -> esv), isovolumic relaxation. A rectangle in (V, p)
    with area (edv - esv) (p_hi - p_lo). Volumes mL, pressures mmHg."""
    k = np.minimum(np.floor(u4).astype(int), 3)
    u = u4 - k
    v = np.choose(k, [esv + (edv - esv) * u, np.full_like(u, edv), edv - (edv - esv) * u, np.full_like(u, esv)])
    p = np.choose(k, [np.full_like(u, p_lo), p_lo + (p_hi - p_lo) * u, np.full_like(u, p_hi), p_hi - (p_hi - p_lo) * u])
    return v, p


def write_heart(path, name, loops):
    """A file with /heart over len(loops) beats of T_HEART (each (edv, esv, p_lo, p_hi)), SI
    units, and a /metrics/cycles table stored as the solver stores tables."""
    n = 400  # samples per beat, on integer phases: the loop's corners are samples
    i = np.arange(len(loops) * n + 1)
    beat = np.minimum(i // n, len(loops) - 1)
    u4 = (i - beat * n) * 4.0 / n
    v, p = np.zeros(len(i)), np.zeros(len(i))
    for k, loop in enumerate(loops):
        m = beat == k
        v[m], p[m] = rectangle_loop(u4[m], *loop)
    t = i * (T_HEART / n)
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "hemotree-output 1"
        g = f.create_group("config")
        g.attrs["case_name"] = name
        g.create_dataset("input", data="name: %s\nrun: {cycles: %d, period: %g s}\n" % (name, len(loops), T_HEART))
        h = f.create_group("heart")
        for key, data, unit in (("time", t, "s"), ("lv_pressure", p * PA_PER_MMHG, "Pa"),
                                ("lv_volume", v * 1e-6, "m^3")):
            h.create_dataset(key, data=data).attrs["units"] = unit
        c = f.create_group("metrics/cycles")
        c.attrs["columns"] = np.array(["cycle", "stroke_volume"], dtype=h5py.string_dtype())
        c.create_dataset("cycle", data=np.arange(1, len(loops) + 1, dtype=float)).attrs["units"] = "1"
        c.create_dataset("stroke_volume", data=np.array([(l[0] - l[1]) * 1e-6 for l in loops])).attrs["units"] = "m^3"
    return str(path)


def test_pvloop_synthetic(tmp_path):
    # the last beat is the one reported: earlier beats differ
    a = write_heart(tmp_path / "heart_a.h5", "heart-a", [(140, 40, 5, 90), (130, 45, 8, 100), (120, 50, 10, 120)])
    b = write_heart(tmp_path / "heart_b.h5", "heart-b", [(150, 90, 15, 80), (150, 90, 15, 80)])
    png, js = tmp_path / "pv.png", tmp_path / "pv.json"
    r = ok(post("pvloop", a, b, "--png", png, "--json", js))
    check_png(png)
    ra, rb = load(js)["cases"]
    assert ra["case"] == "heart-a" and ra["window_s"] == pytest.approx([1.6, 2.4])
    assert ra["EDV_mL"] == pytest.approx(120) and ra["ESV_mL"] == pytest.approx(50)
    assert ra["SV_mL"] == pytest.approx(70) and ra["EF"] == pytest.approx(70 / 120)
    assert ra["stroke_work_mmHg_mL"] == pytest.approx(70 * 110, rel=1e-9)
    assert ra["stroke_work_J"] == pytest.approx(70 * 110 * PA_PER_MMHG * 1e-6, rel=1e-9)
    assert ra["P_max_mmHg"] == pytest.approx(120)
    assert ra["EDP_mmHg"] == pytest.approx(10) and ra["ESP_mmHg"] == pytest.approx(120)
    assert rb["SV_mL"] == pytest.approx(60) and rb["stroke_work_mmHg_mL"] == pytest.approx(60 * 65, rel=1e-9)
    assert rb["EF"] == pytest.approx(0.4)
    assert ra["cycles"]["stroke_volume"]["units"] == "m^3"
    assert ra["cycles"]["stroke_volume"]["values"] == pytest.approx([100e-6, 85e-6, 70e-6])
    assert "/metrics/cycles" in r.stdout and "70.00" in r.stdout


def test_pvloop_real_heart_run(tmp_path):
    # a closed-loop run: the loop read from /heart must give the solver's own per-beat numbers
    # (/metrics/cycles, computed in C from the same samples), and the beat length comes from
    # the solver's beats (the case has no inflow period); the ESPVR/EDPVR lines come from
    # /heart's attributes
    out = run_solver(os.path.join(HERE, "data", "heart", "tiny_heart.yaml"), tmp_path / "th.h5", "--cycles", "4")
    png, js = tmp_path / "pv.png", tmp_path / "pv.json"
    ok(post("pvloop", out, "--png", png, "--json", js))
    check_png(png)
    r = load(js)["cases"][0]
    cyc = r["cycles"]
    assert r["window"] == "last cycle" and r["period_s"] == pytest.approx(0.8)
    assert r["SV_mL"] == pytest.approx(cyc["stroke_volume"]["values"][-1] * 1e6, rel=1e-2)
    assert r["stroke_work_J"] == pytest.approx(cyc["stroke_work"]["values"][-1], rel=1e-2)
    assert r["EDV_mL"] == pytest.approx(cyc["edv"]["values"][-1] * 1e6, rel=1e-2)
    rel = r["pv_relations"]
    assert rel is not None and rel["lv_Ees"] > 0 and rel["lv_V0"] >= 0


@pytest.mark.parametrize("sets, cycles, T", [
    ((), 1, 0.8),                                         # one beat: the preset's 75 /min
    (("heart.preset=cardiogenic-shock",), 1, 60 / 90),    # the shock preset's 90 /min
    (("heart.heart_rate=80 /min",), 1, 0.75),             # heart_rate of the input (a --set)
    (("heart.heart_rate=100 bpm",), 3, 0.6),              # beats: spacing of the beat starts
])
def test_period_of_a_heart_run(tmp_path, sets, cycles, T):
    # a heart case has no `period:` key: its period is the heart's (60 / heart rate), which
    # waveforms and report must find without --period and use for the last cycle
    args = ["--cycles", str(cycles)]
    for s in sets:
        args += ["--set", s]
    out = run_solver(os.path.join(HERE, "data", "heart", "tiny_heart.yaml"), tmp_path / "th.h5", *args)
    with h5py.File(out, "r") as f:
        starts = f["metrics/cycles/t_start"][:]
        t_end = f["time"][-1]
        assert "period" not in f["config/input"][()].decode()
    assert len(starts) == cycles and t_end == pytest.approx(cycles * T, rel=1e-9)
    if cycles > 1:
        assert np.diff(starts) == pytest.approx(T, rel=1e-9)
    js = tmp_path / "w.json"
    r = ok(post("waveforms", out, "--at", "root", "--png", tmp_path / "w.png", "--json", js))
    res = load(js)
    assert res["period_s"] == pytest.approx(T, rel=1e-9) and res["window"] == "last cycle"
    assert res["window_s"] == pytest.approx([(cycles - 1) * T, cycles * T], rel=1e-9)
    assert "T = %g s" % T in r.stdout and "no period" not in r.stdout
    html = tmp_path / "r.html"
    ok(post("report", out, "-o", html))
    assert '<td class="l">period</td><td>%g s</td>' % T in html.read_text()


def test_pvloop_without_heart(tiny, tmp_path):
    r = post("pvloop", tiny, cwd=tmp_path)
    assert r.returncode == 2
    assert "tiny.h5 has no /heart group (run a case with a heart)" in r.stderr


# --- watershed -----------------------------------------------------------------------------

DX = 2e-3


def write_front(path, fronts):
    """Two vessels end to end (a: 10 cm, b: 8 cm, 2 mm cells) and a side branch c. At output
    time k the ECMO fraction falls from 1 to 0 linearly over 4 cells around fronts[k] (m
    from the start of a), so c = 0.5 exactly there; None: c = 1 everywhere (no front)."""
    lengths = {"a": 0.10, "b": 0.08, "c": 0.05}
    starts = {"a": (0.0, 0.0, 0.0), "b": (0.0, 0.0, -0.10), "c": (0.0, 0.0, -0.10)}
    dirs = {"a": (0, 0, -1), "b": (0, 0, -1), "c": (0.6, 0, -0.8)}
    vid, x, pts, segs = [], [], [], []
    for k, v in enumerate("abc"):
        n = int(round(lengths[v] / DX))
        base = len(pts)
        for i in range(n + 1):
            pts.append([starts[v][j] + dirs[v][j] * i * DX for j in range(3)])
        for i in range(n):
            vid.append(k)
            x.append((i + 0.5) * DX)
            segs.append([base + i, base + i + 1])
    vid, x = np.array(vid), np.array(x)
    s = np.where(vid == 0, x, np.where(vid == 1, 0.10 + x, -1.0))
    t = np.arange(len(fronts)) * 0.1
    c = np.zeros((len(t), len(x)))
    for k, fr in enumerate(fronts):
        c[k] = 1.0 if fr is None else np.clip(0.5 - (s - fr) / (4 * DX), 0, 1)
        c[k, vid == 2] = 0.3
    with h5py.File(path, "w") as f:
        f.create_group("config").attrs["case_name"] = "front-test"
        f["time"] = t
        f["fields/ecmo_fraction"] = c
        f["mesh/vessel_id"] = vid.astype(np.int32)
        f["mesh/x"] = x
        f["mesh/points"] = np.array(pts)
        f["mesh/segments"] = np.array(segs, dtype=np.int32)
        f["mesh/vessel_names"] = np.array(["a", "b", "c"], dtype=h5py.string_dtype())
    return str(path)


def test_watershed_synthetic(tmp_path):
    fronts = [0.011, 0.03, 0.0551, 0.099, 0.1, 0.1234, 0.17, None]
    h5 = write_front(tmp_path / "front.h5", fronts)
    png, js = tmp_path / "ws.png", tmp_path / "ws.json"
    r = ok(post("watershed", h5, "--path", "a,b", "--png", png, "--json", js))
    check_png(png)
    res = load(js)["cases"][0]
    known = [f for f in fronts if f is not None]
    assert res["path_length_m"] == pytest.approx(0.18, abs=1e-12)
    assert res["times"] == len(fronts) and res["times_with_front"] == len(known)
    assert res["front_m"][:-1] == pytest.approx(known, abs=1e-12)
    assert res["front_m"][-1] is None
    assert res["front_mean_m"] == pytest.approx(np.mean(known), abs=1e-12)
    assert res["front_min_m"] == pytest.approx(0.011, abs=1e-12)
    assert res["front_max_m"] == pytest.approx(0.17, abs=1e-12)
    assert "%.2f" % (100 * np.mean(known)) in r.stdout
    # statistics from a time on
    ok(post("watershed", h5, "--path", "a,b", "--tmin", "0.3 s", "--png", png, "--json", js))
    res = load(js)["cases"][0]
    assert res["front_mean_m"] == pytest.approx(np.mean(known[3:]), abs=1e-12)
    # a path that jumps: c starts where a ends, not where b ends
    r = post("watershed", h5, "--path", "b,c", cwd=tmp_path)
    assert r.returncode == 2 and "vessel 'c' does not start where" in r.stderr
    r = post("watershed", h5, "--path", "a,zz", cwd=tmp_path)
    assert r.returncode == 2 and "no vessel 'zz'" in r.stderr


def test_watershed_real_output(tiny, tmp_path):
    """The tiny case injects tracer c = 1 at its inlet into blood at c = 0: the front enters
    the parent and moves down the path while the flow is forward."""
    js = tmp_path / "ws.json"
    ok(post("watershed", tiny, "--path", "parent,left", "--png", tmp_path / "ws.png", "--json", js))
    check_png(tmp_path / "ws.png")
    res = load(js)["cases"][0]
    assert res["path_length_m"] == pytest.approx(0.18, rel=1e-9)
    pos = np.array([np.nan if v is None else v for v in res["front_m"]])
    t = np.array(res["time_s"])
    early = pos[(t > 0.05) & (t < 0.5)]  # once the inflow has carried c = 1 past the first cell centre
    assert np.all(np.isfinite(early)) and np.all(np.diff(early) >= -1e-4)
    assert 0 < res["front_min_m"] < res["front_max_m"] <= 0.18
    with h5py.File(tiny, "r") as f:  # once the path is filled, no front
        on_path = np.isin(f["mesh/vessel_id"][:], [0, 1])
        assert np.isnan(pos[-1]) and f["fields/ecmo_fraction"][-1][on_path].min() > 0.5


# --- compare -------------------------------------------------------------------------------

def test_compare(tiny, tmp_path):
    png, js = tmp_path / "c.png", tmp_path / "c.json"
    # identical files
    ok(post("compare", tiny, tiny, "--png", png, "--json", js, "--max-rel", "0"))
    assert load(js)["max_rel"] == 0
    # known changes: pressure x 1.01 and flow x 0.98 everywhere -> 0.01 and 0.02 of max |A|
    b = str(tmp_path / "scaled.h5")
    shutil.copy(tiny, b)
    with h5py.File(b, "r+") as f:
        f["fields/pressure"][...] = f["fields/pressure"][...] * 1.01
        f["fields/flow"][...] = f["fields/flow"][...] * 0.98
        for p in f["probes"]:
            f["probes/%s/pressure" % p][...] = f["probes/%s/pressure" % p][...] * 1.01
            f["probes/%s/flow" % p][...] = f["probes/%s/flow" % p][...] * 0.98
    r = post("compare", tiny, b, "--png", png, "--json", js, "--max-rel", "0.015")
    assert r.returncode == 1 and "LIMIT EXCEEDED" in r.stdout
    res = load(js)
    for probe in ("parent_mid", "left_end"):
        assert res["probes"][probe]["pressure"] == pytest.approx(0.01, rel=1e-9)
        assert res["probes"][probe]["flow"] == pytest.approx(0.02, rel=1e-9)
    assert res["fields"]["pressure"]["max_rel"] == pytest.approx(0.01, rel=1e-9)
    assert res["fields"]["flow"]["max_rel"] == pytest.approx(0.02, rel=1e-9)
    assert res["fields"]["area"]["max_rel"] == 0
    check_png(png)


def test_compare_two_runs(tiny, tmp_path):
    b = run_solver(TINY, tmp_path / "visc.h5", "--cycles", "2", "--set", "blood.viscosity=4.4 mPa s")
    js = tmp_path / "c.json"
    ok(post("compare", tiny, b, "--png", tmp_path / "c.png", "--json", js))
    res = load(js)
    with h5py.File(tiny, "r") as fa, h5py.File(b, "r") as fb:
        for name in ("pressure", "flow", "ecmo_fraction"):
            a_, b_ = fa["fields/" + name][:], fb["fields/" + name][:]
            expect = np.abs(a_ - b_).max() / np.abs(a_).max()
            assert res["fields"][name]["max_rel"] == pytest.approx(expect, rel=1e-12)
            assert 0 < expect < 0.1
    check_png(tmp_path / "c.png")


def test_compare_other_mesh(tiny, tmp_path):
    other = run_solver(SITES, tmp_path / "sites.h5")
    r = post("compare", tiny, other, cwd=tmp_path)
    assert r.returncode == 2 and "do not have the same mesh" in r.stderr


# --- report --------------------------------------------------------------------------------

def test_report(tiny, tmp_path):
    heart = write_heart(tmp_path / "heart.h5", "heart-a", [(120, 50, 10, 120)])
    html = tmp_path / "report.html"
    r = ok(post("report", tiny, heart, "--path", "parent,left", "-o", html))
    assert "report.html" in r.stdout
    page = html.read_text()
    # offline: no network resource, no script
    assert not re.search(r"(src|href)\s*=\s*['\"]?(https?:)?//", page)
    assert "<script" not in page and "@import" not in page
    for head in ("tiny", "Pressure and flow", "ECMO / native blood front", "Left ventricle",
                 "/metrics/volume", "/metrics/performance", "/metrics/cycles"):
        assert head in page, head
    with h5py.File(tiny, "r") as f:
        inflow = f["metrics/volume/inflow"][0]
        t = f["probes/parent_mid/time"][:]
        p = f["probes/parent_mid/pressure"][:] / PA_PER_MMHG
    assert "%.6g" % inflow in page
    assert "%.2f" % p[(t >= 0.8 - 1e-12)].max() in page
    assert "<td>70.00</td>" in page  # stroke volume of the synthetic heart
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(images) == 3  # tiny: waveforms, front; the synthetic heart: PV loop only
    for k, b64 in enumerate(images):
        path = tmp_path / ("img%d.png" % k)
        path.write_bytes(base64.b64decode(b64))
        check_png(str(path))


# --- devices: watershed vs ECMO flow, delivered saturation, PV loops by support mode --------

DEVICES = os.path.join(HERE, "data", "heart", "tiny_devices.yaml")
M3S_PER_LPM = 1e-3 / 60
# (case name, ECMO flow [L/min], Impella level or None); saturations of the case: 0.98, 0.6
DEVICE_RUNS = (("tiny-ecmo-1", 1.0, None), ("tiny-ecmo-3", 3.0, None), ("tiny-ecmella-3", 3.0, 5))


@pytest.fixture(scope="module")
def device_runs(tmp_path_factory):
    """The tiny devices case at two ECMO flows and with an Impella CP P-5 (3 beats, < 1 s each)."""
    d = tmp_path_factory.mktemp("devices")
    outs = []
    for name, lpm, level in DEVICE_RUNS:
        extra = ["--set", "name=" + name, "--set", "devices.ecmo.flow=%g L/min" % lpm]
        if level:
            extra += ["--set", "devices.impella={model: CP, level: P%d}" % level]
        outs.append(run_solver(DEVICES, d / (name + ".h5"), *extra))
    return outs


def test_device_runs_volume_account(device_runs):
    # the 1D account counts the ECMO return as inflow (it enters inside a vessel, not through
    # an inlet): stored change = inflow - outflow to round-off, as without devices
    for path in device_runs:
        with h5py.File(path, "r") as f:
            v = {k: f["metrics/volume"][k][0] for k in ("stored_start", "stored_end", "inflow", "outflow", "imbalance")}
        assert abs(v["imbalance"]) <= 1e-12 * v["inflow"], (path, v)
        assert v["stored_end"] - v["stored_start"] == pytest.approx(v["inflow"] - v["outflow"], rel=1e-9, abs=1e-18)


def watershed_last_row(path):
    with h5py.File(path, "r") as f:
        g = f["metrics/watershed"]
        return {k: g[k][-1] for k in g}


def test_watershed_vs_flow_runs(device_runs, tmp_path):
    png, js = tmp_path / "wf.png", tmp_path / "wf.json"
    r = ok(post("watershed-vs-flow", *device_runs, "--png", png, "--json", js))
    check_png(png)
    res = load(js)["cases"]
    assert [c["case"] for c in res] == [n for n, _, _ in DEVICE_RUNS]
    for c, path, (name, lpm, level) in zip(res, device_runs, DEVICE_RUNS):
        row = watershed_last_row(path)
        # the last beat's row of /metrics/watershed, exactly
        assert c["front_mean_m"] == row["front_mean"] and c["front_min_m"] == row["front_min"]
        assert c["front_max_m"] == row["front_max"]
        assert c["front_mean_cm"] == pytest.approx(100 * row["front_mean"], rel=1e-12)
        assert c["front_vessel"] == row["front_vessel"].decode()
        assert c["front_min_m"] <= c["front_mean_m"] <= c["front_max_m"]
        # the prescribed flow, read from /metrics/cycles (and the input)
        assert c["ecmo_flow_L_min"] == pytest.approx(lpm, rel=0.01)
        assert c["ecmo_flow_set_L_min"] == pytest.approx(lpm, rel=1e-12)
        with h5py.File(path, "r") as f:
            assert c["ecmo_flow_L_min"] == pytest.approx(f["metrics/cycles/ecmo_flow"][-1] / M3S_PER_LPM, rel=1e-12)
            q_imp = f["metrics/cycles/impella_flow"][-1]
        assert c["impella_flow_L_min"] == pytest.approx(q_imp / M3S_PER_LPM, rel=1e-12)
        if level:
            assert q_imp > 0 and c["impella"] == "Impella CP P-%d" % level
            assert c["mode"] == "ECMELLA: ECMO %.1f L/min + Impella CP P-%d" % (lpm, level)
        else:
            assert q_imp == 0 and c["impella"] == "no Impella" and c["mode"] == "ECMO %.1f L/min" % lpm
        assert "%.2f" % c["front_mean_cm"] in r.stdout and name in r.stdout
    # more ECMO flow pushes the front toward the root
    assert res[1]["front_mean_m"] < res[0]["front_mean_m"]


def test_saturation_runs(device_runs, tmp_path):
    png, js = tmp_path / "sat.png", tmp_path / "sat.json"
    r = ok(post("saturation", *device_runs, "--png", png, "--json", js))
    check_png(png)
    res = load(js)["cases"]
    for c, path in zip(res, device_runs):
        row = watershed_last_row(path)
        assert c["S_oxy"] == 0.98 and c["S_native"] == 0.6 and c["saturation_source"] == "input"
        assert sorted(c["branches"]) == ["brachiocephalic_trunk", "renal_L"]
        for b, d in c["branches"].items():
            frac = row["delivered_" + b]
            assert d["delivered_fraction"] == frac
            assert d["saturation"] == pytest.approx(0.98 * frac + 0.6 * (1 - frac), rel=1e-12)
        with h5py.File(path, "r") as f:  # the solver's own mixing in /fields/saturation agrees
            cf, sf = f["fields/ecmo_fraction"][()], f["fields/saturation"][()]
            assert np.allclose(sf, 0.98 * cf + 0.6 * (1 - cf), atol=1e-12)
    # the renal artery, below the front, gets ECMO blood at 3 L/min
    assert res[1]["branches"]["renal_L"]["delivered_fraction"] > 0.1
    assert "%.4f" % res[1]["branches"]["renal_L"]["delivered_fraction"] in r.stdout


def test_pvloop_device_runs(device_runs, tmp_path):
    heart = run_solver(os.path.join(HERE, "data", "heart", "tiny_heart.yaml"), tmp_path / "th.h5", "--cycles", "2")
    png, js = tmp_path / "pv.png", tmp_path / "pv.json"
    r = ok(post("pvloop", *device_runs, heart, "--png", png, "--json", js))
    check_png(png)
    res = load(js)["cases"]
    assert [c["mode"] for c in res] == ["ECMO 1.0 L/min", "ECMO 3.0 L/min",
                                        "ECMELLA: ECMO 3.0 L/min + Impella CP P-5", "no support"]
    for c, path in zip(res, device_runs):
        assert c["case"] in r.stdout and c["pv_relations"] is not None
        assert c["cycles"]["ecmo_flow"]["values"][-1] > 0 and c["SV_mL"] > 0


def write_device_file(path, name, lpm, impella_lpm, fronts, delivered, devices_yaml=None, overrides=(),
                      sat=(1.0, 0.7)):
    """/metrics/cycles (ecmo_flow, impella_flow per beat) and /metrics/watershed (front_*,
    delivered_*, per beat) as the solver stores tables; /config/input with a devices section
    and overrides when given; /fields ecmo_fraction and saturation mixed with `sat`."""
    n = len(fronts)
    with h5py.File(path, "w") as f:
        g = f.create_group("config")
        g.attrs["case_name"] = name
        cfg = "# ---- case file: x.yaml ----\nname: %s\n" % name
        if devices_yaml:
            cfg += devices_yaml
        if overrides:
            cfg += "# ---- overrides (--set), applied in this order ----\n" + "".join("# %s\n" % o for o in overrides)
        g.create_dataset("input", data=cfg)

        def tab(group, cols):
            t = f.create_group(group)
            t.attrs["columns"] = np.array([c for c, _, _ in cols], dtype=h5py.string_dtype())
            for c, u, v in cols:
                t.create_dataset(c, data=np.asarray(v, float)).attrs["units"] = u
        beats = np.arange(n, dtype=float)
        tab("metrics/cycles", [("beat", "1", beats), ("t_start", "s", 0.8 * beats),
                               ("ecmo_flow", "m^3/s", [lpm * M3S_PER_LPM * (0.5 if k < n - 1 else 1) for k in range(n)]),
                               ("impella_flow", "m^3/s", [impella_lpm * M3S_PER_LPM] * n)])
        tab("metrics/watershed", [("beat", "1", beats), ("t_start", "s", 0.8 * beats),
                                  ("front_mean", "m", [x[0] for x in fronts]), ("front_min", "m", [x[1] for x in fronts]),
                                  ("front_max", "m", [x[2] for x in fronts])] +
            [("delivered_" + b, "1", v) for b, v in delivered.items()])
        c = np.linspace(0, 1, 12).reshape(3, 4)
        f["fields/ecmo_fraction"] = c
        f["fields/saturation"] = sat[0] * c + sat[1] * (1 - c)
    return str(path)


def test_devices_synthetic(tmp_path):
    """Known numbers: the last rows are reported (earlier beats differ), flows in L/min, the
    Impella level from the input and its overrides, saturations from the input or, without
    one, fitted to /fields."""
    a = write_device_file(tmp_path / "a.h5", "sweep-a", 2.0, 0.0, [(0.5, 0.4, 0.6), (0.25, 0.2, 0.3)],
                          {"renal_R": [0.1, 0.4], "right_coronary": [0.0, 0.0]},
                          "devices:\n  ecmo:\n    flow: 2 L/min   # comment\n"
                          "    saturation: {oxygenator: 0.95, native: 0.65}\n", sat=(0.95, 0.65))
    b = write_device_file(tmp_path / "b.h5", "sweep-b", 4.5, 2.4, [(0.5, 0.4, 0.6), (0.35, 0.31, 0.4)],
                          {"renal_R": [0.3, 0.8], "right_coronary": [0.1, float("nan")]},
                          "devices:\n  ecmo: {flow: 1 L/min}\n  impella: {model: CP, level: P2}\n",
                          overrides=("devices.ecmo.flow=4.5 L/min", "devices.impella.level=8"))
    c = write_device_file(tmp_path / "c.h5", "sweep-c", 1.0, 1.2, [(0.45, 0.4, 0.5)],
                          {"renal_R": [0.05]}, sat=(0.9, 0.6))  # no devices in the input
    png, js = tmp_path / "wf.png", tmp_path / "wf.json"
    ok(post("watershed-vs-flow", a, b, c, "--png", png, "--json", js))
    check_png(png)
    ra, rb, rc = load(js)["cases"]
    assert ra["ecmo_flow_L_min"] == pytest.approx(2.0, rel=1e-12)
    assert ra["front_mean_cm"] == pytest.approx(25) and ra["front_min_cm"] == pytest.approx(20)
    assert ra["front_max_cm"] == pytest.approx(30) and ra["impella"] == "no Impella"
    assert ra["mode"] == "ECMO 2.0 L/min"
    assert rb["ecmo_flow_L_min"] == pytest.approx(4.5, rel=1e-12) and rb["ecmo_flow_set_L_min"] == pytest.approx(4.5)
    assert rb["impella"] == "Impella CP P-8" and rb["impella_flow_L_min"] == pytest.approx(2.4)
    assert rb["mode"] == "ECMELLA: ECMO 4.5 L/min + Impella CP P-8"
    assert rc["impella"] == "Impella (level not in the input)" and rc["front_mean_cm"] == pytest.approx(45)
    js = tmp_path / "s.json"
    ok(post("saturation", a, b, c, "--png", tmp_path / "s.png", "--json", js))
    check_png(tmp_path / "s.png")
    sa, sb, sc = load(js)["cases"]
    assert (sa["S_oxy"], sa["S_native"]) == (0.95, 0.65)
    assert sa["branches"]["renal_R"]["delivered_fraction"] == 0.4
    assert sa["branches"]["renal_R"]["saturation"] == pytest.approx(0.95 * 0.4 + 0.65 * 0.6, rel=1e-12)
    assert sa["branches"]["right_coronary"]["saturation"] == pytest.approx(0.65, rel=1e-12)
    assert (sb["S_oxy"], sb["S_native"]) == (1.0, 0.7)  # the solver's defaults
    assert sb["branches"]["renal_R"]["saturation"] == pytest.approx(0.8 + 0.7 * 0.2, rel=1e-12)
    assert sb["branches"]["right_coronary"]["delivered_fraction"] is None  # no forward flow: NaN
    assert sc["S_oxy"] == pytest.approx(0.9, abs=1e-12) and sc["S_native"] == pytest.approx(0.6, abs=1e-12)
    assert sc["saturation_source"].startswith("fit")
    # a file without the table
    h = write_heart(tmp_path / "heart.h5", "heart-a", [(120, 50, 10, 120)])
    r = post("saturation", h, cwd=tmp_path)
    assert r.returncode == 2 and "heart.h5 has no metrics/watershed" in r.stderr
    r = post("watershed-vs-flow", h, cwd=tmp_path)
    assert r.returncode == 2 and "no /metrics/watershed" in r.stderr


def test_report_devices(device_runs, tmp_path):
    html = tmp_path / "dev.html"
    ok(post("report", *device_runs, "-o", html))
    page = html.read_text()
    for head in ("Mechanical circulatory support across runs", "Watershed vs ECMO flow",
                 "Delivered ECMO fraction and oxygen saturation", "Left-ventricular pressure-volume loops",
                 "ECMELLA: ECMO 3.0 L/min + Impella CP P-5", "/metrics/watershed"):
        assert head in page, head
    row = watershed_last_row(device_runs[0])
    assert "<td>%.2f</td>" % (100 * row["front_mean"]) in page
    assert "<td>%.4f</td>" % row["delivered_renal_L"] in page
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(images) == 3 * 2 + 3  # per run: waveforms, PV loop; across: front vs flow, saturation, PV loops
    for k, b64 in enumerate(images[-3:]):
        path = tmp_path / ("img%d.png" % k)
        path.write_bytes(base64.b64decode(b64))
        check_png(str(path))


# --- entry points --------------------------------------------------------------------------

def test_wrapper_script(tiny, tmp_path):
    r = subprocess.run([os.path.join(ROOT, "scripts", "hemotree-post"), "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "waveforms" in r.stdout and "validation" in r.stdout
    r = subprocess.run([os.path.join(ROOT, "scripts", "hemotree-post"), "waveforms", tiny, "--at", "parent_mid"],
                       capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    check_png(str(tmp_path / "tiny_waveforms_parent_mid.png"))


# --- ParaView ------------------------------------------------------------------------------

PVPYTHON, XVFB = os.environ.get("HT_PVPYTHON"), os.environ.get("HT_XVFB_RUN")


def pvpython(*args):
    """xvfb-run -a pvpython ARGS. A display number of our own (-n) keeps clear of the :99 that
    every other xvfb-run -a tries first. Retried once when the virtual X server is lost in
    start-up, or when pvpython dies of a signal inside ParaView's renderer (seen once in CI
    under load: SIGABRT from the GL context of Xvfb, not reproduced in 7 reruns); a Python
    error in the script exits 1 and is never retried."""
    for attempt in range(2):
        cmd = [XVFB, "-a", "-n", str(100 + (os.getpid() + 7 * attempt) % 800), PVPYTHON, *map(str, args)]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        crashed = r.returncode in (134, 139) or r.returncode < 0
        if "bad X server connection" not in r.stdout + r.stderr and not crashed:
            break
    return r


@pytest.mark.skipif(not (PVPYTHON and XVFB), reason="HT_PVPYTHON and HT_XVFB_RUN not set (tests/paraview.cmake)")
def test_paraview_render(tmp_path):
    xdmf = os.environ.get("HT_PV_XDMF")
    if not xdmf:
        run_solver(TINY, tmp_path / "tiny.h5", "--cycles", "1", "--set", "output.interval=0.04")
        xdmf = str(tmp_path / "tiny.xdmf")
    script = os.path.join(ROOT, "postprocess", "paraview", "render_tree.py")
    for field in ("pressure", "ecmo_fraction"):
        png, movie = tmp_path / ("tree_%s.png" % field), tmp_path / ("tree_%s.ogv" % field)
        r = pvpython(script, xdmf, "--field", field, "--png", png, "--movie", movie, "--frames", 4,
                     "--time", 0.2, "--size", "800x600")
        assert r.returncode == 0, r.stdout + r.stderr
        assert "animation of 4 frames" in r.stdout
        check_png(str(png))
        frames = [str(movie)] if movie.exists() else sorted(str(p) for p in tmp_path.glob("tree_%s.*.png" % field))
        assert frames and all(os.path.getsize(p) > 10_000 for p in frames), r.stdout
    r = pvpython(script, xdmf, "--field", "area", "--png", tmp_path / "x.png", "--time", 99)
    assert r.returncode == 0 and os.path.getsize(tmp_path / "x.png") > 10_000
    r = pvpython(script, tmp_path / "missing.xdmf")
    assert r.returncode == 2 and "missing.xdmf: no such file" in r.stderr
