"""ADAN56 (Boileau et al. 2015, Benchmark 6): geometry, XDMF and physiology of a finished run.

Reads the output of the CTest fixture `bench_adan56` (cases/benchmarks/adan56.yaml, 10 cycles),
whose path is given by HT_ADAN56_H5; the XDMF is the .xdmf beside it. The mesh file
(meshes/adan56.yaml) is found relative to this file, or by HT_ADAN56_MESH.

    HT_ADAN56_H5=build/tests/benchmarks/adan56.h5 python3 -m pytest -q tests/test_adan56.py

Physiological ranges (test_physiology_*) are taken from the literature cited in each test and
in docs/validation.md ("ADAN56: geometry and physiology"). A value outside its cited range is
marked xfail with the measured value, never accommodated by widening the range.
"""
import json
import os
import re
import xml.etree.ElementTree as ET

import h5py
import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
H5 = os.environ.get("HT_ADAN56_H5", "")
MESH = os.environ.get("HT_ADAN56_MESH", os.path.join(HERE, "..", "meshes", "adan56.yaml"))
MMHG = 133.322387415  # Pa
PERIOD = 1.0  # s, cases/benchmarks/adan56.yaml (inlet.period, run.period)
CYCLES = 10  # the fixture's --cycles

# Probe names from cases/benchmarks/adan56.yaml (output.probes).
ROOT = "aortic_root"
RADIAL = "radial_R_mid"
FEMORAL = "femoral_R_I_mid"
# coronary origins (sites of the same names); the left main and right coronary ostia carry the
# whole coronary flow
CORONARY_PROBES = ["left_main_coronary", "left_anterior_descending", "left_circumflex",
                   "right_coronary"]
LEFT_CORONARY = ["left_main_coronary", "left_anterior_descending", "left_circumflex"]
LV_TABLE = os.path.join(HERE, "data", "adan56_lv_pressure.dat")  # P_im of the coronary outlets

pytestmark = pytest.mark.skipif(not H5 or not os.path.exists(H5),
                                reason="HT_ADAN56_H5 does not name an ADAN56 output file")


# ---------------------------------------------------------------------------------------------
# input
def load_mesh(path):
    """The vessels of the mesh YAML as dicts with name, from, to, length, points."""
    text = open(path).read()
    try:
        import yaml
        return yaml.safe_load(text)["vessels"]
    except ImportError:
        pass
    # Fallback for a Python without PyYAML: the generated file writes one key per line, and
    # `points` as a JSON-compatible flow list.
    vessels, cur = [], None
    for line in text.splitlines():
        m = re.match(r"^  - name:\s*(\S+)", line)
        if m:
            cur = {"name": m.group(1)}
            vessels.append(cur)
            continue
        m = re.match(r"^    (from|to|length|points):\s*(.+?)\s*$", line)
        if m and cur is not None:
            key, val = m.groups()
            cur[key] = json.loads(val) if key == "points" else (int(val) if key in ("from", "to") else float(val))
    return vessels


@pytest.fixture(scope="module")
def out():
    with h5py.File(H5, "r") as f:
        names = [n.decode() if isinstance(n, bytes) else str(n) for n in f["/mesh/vessel_names"][:]]
        d = {
            "points": f["/mesh/points"][:],
            "segments": f["/mesh/segments"][:],
            "vessel_id": f["/mesh/vessel_id"][:],
            "x": f["/mesh/x"][:],
            "names": names,
            "time": f["/time"][:],
            "status": f.attrs["status"],
            "probes": {p: {k: f["/probes/%s/%s" % (p, k)][:] for k in ("time", "pressure", "flow")}
                       for p in f["/probes"]},
        }
    if isinstance(d["status"], bytes):
        d["status"] = d["status"].decode()
    return d


@pytest.fixture(scope="module")
def mesh():
    return {v["name"]: v for v in load_mesh(MESH)}


def vessel_cells(out, name):
    """The cells of a vessel, ordered from its start."""
    i = out["names"].index(name)
    cells = np.where(out["vessel_id"] == i)[0]
    return cells[np.argsort(out["x"][cells])]


def vessel_ends(out, name):
    cells = vessel_cells(out, name)
    p, s = out["points"], out["segments"]
    return p[s[cells[0], 0]], p[s[cells[-1], 1]]


# ---------------------------------------------------------------------------------------------
# 1. geometry of the output against the mesh file
def test_run_completed(out):
    assert out["status"] == "completed"
    assert out["time"][-1] == pytest.approx(CYCLES * PERIOD, abs=1e-9)


def test_vessels_match_mesh(out, mesh):
    assert len(mesh) == 82  # ADAN56's 77 + aortic_sinus and four coronary segments
    assert sorted(out["names"]) == sorted(mesh)
    assert out["points"].shape[1] == 3
    assert out["segments"].shape == (len(out["vessel_id"]), 2)


def test_polyline_length(out, mesh):
    """Sum of a vessel's cell segments = its `length` within 1%."""
    p, s = out["points"], out["segments"]
    worst = 0.0
    for name, v in mesh.items():
        cells = vessel_cells(out, name)
        seg = p[s[cells, 1]] - p[s[cells, 0]]
        L = np.linalg.norm(seg, axis=1).sum()
        rel = abs(L - v["length"]) / v["length"]
        worst = max(worst, rel)
        assert rel < 0.01, "%s: polyline %.6g m, length %.6g m" % (name, L, v["length"])
        # consecutive cells share their point: the polyline is connected
        assert np.array_equal(s[cells[1:], 0], s[cells[:-1], 1]), name
    print("largest relative length difference %.3e" % worst)


def test_vessels_start_at_parent_end(out, mesh):
    """Each vessel starts at the end point of its parent (whose `to` is its `from`), 1e-9 m."""
    by_to = {v["to"]: n for n, v in mesh.items()}
    roots = []
    for name, v in mesh.items():
        parent = by_to.get(v["from"])
        if parent is None:
            roots.append(name)
            continue
        start, _ = vessel_ends(out, name)
        _, pend = vessel_ends(out, parent)
        assert np.linalg.norm(start - pend) < 1e-9, "%s does not start at the end of %s" % (name, parent)
    assert roots == ["aortic_sinus"]


def test_aortic_root_at_origin(out):
    start, _ = vessel_ends(out, "aortic_sinus")
    assert np.linalg.norm(start) < 1e-12


def test_anatomical_layout(out):
    """Mesh header: x = patient's left, y = anterior, z = cranial, origin at the aortic root."""
    end = {n: vessel_ends(out, n)[1] for n in out["names"]}
    for side, sign in (("L", 1.0), ("R", -1.0)):
        for n in ("common_carotid", "internal_carotid", "external_carotid"):
            assert end["%s_%s" % (n, side)][2] > 0.15, n + side          # above the root (m)
            assert sign * end["%s_%s" % (n, side)][0] > 0, n + side      # on its side
        assert sign * end["subclavian_%s_II" % side][0] > 0.05
        for n in ("axillary_%s", "brachial_%s", "radial_%s", "ulnar_%s_II"):
            assert sign * end[n % side][0] > 0.1, n % side               # arm lateral, on its side
        assert end["radial_%s" % side][2] < end["brachial_%s" % side][2] < end["axillary_%s" % side][2]
        for n in ("common_iliac_%s", "external_iliac_%s", "internal_iliac_%s"):
            assert sign * end[n % side][0] > 0 and end[n % side][2] < -0.25, n % side
        for n in ("femoral_%s_I", "femoral_%s_II", "popliteal_%s_II", "anterior_tibial_%s", "posterior_tibial_%s"):
            assert end[n % side][2] < -0.4, n % side                     # far below the root
            assert sign * end[n % side][0] > 0, n % side
        assert end["anterior_tibial_%s" % side][2] < -1.0
        assert end["anterior_tibial_%s" % side][2] < end["femoral_%s_II" % side][2] < end["femoral_%s_I" % side][2]
        assert sign * end["renal_%s" % side][0] > 0
    # the descending aorta runs caudally
    assert end["abdominal_aorta_V"][2] < end["thoracic_aorta_VI"][2] < end["thoracic_aorta_I"][2] < 0.1


# ---------------------------------------------------------------------------------------------
# 2. the XDMF beside the output
def test_xdmf(out):
    xdmf = os.path.splitext(H5)[0] + ".xdmf"
    assert os.path.exists(xdmf)
    root = ET.parse(xdmf).getroot()
    coll = root.find("Domain/Grid")
    assert coll.get("GridType") == "Collection" and coll.get("CollectionType") == "Temporal"
    grids = coll.findall("Grid")
    t = out["time"]
    assert len(grids) == len(t)
    n_cells, n_points = len(out["vessel_id"]), len(out["points"])
    h5name = os.path.basename(H5)
    with h5py.File(H5, "r") as f:
        shapes = {}

        def shape(path):
            if path not in shapes:
                shapes[path] = f[path].shape if path in f else None
            return shapes[path]

        for k, g in enumerate(grids):
            assert float(g.find("Time").get("Value")) == pytest.approx(t[k], rel=1e-12, abs=1e-12)
            topo = g.find("Topology")
            assert topo.get("TopologyType") == "Polyline"
            assert topo.get("NodesPerElement") == "2"
            assert int(topo.get("NumberOfElements")) == n_cells
            assert g.find("Geometry").get("GeometryType") == "XYZ"
            items = g.findall(".//DataItem")
            assert len(items) >= 2
            for it in items:
                assert it.get("Format") == "HDF"
                fname, path = it.text.strip().split(":", 1)
                assert fname == h5name
                dims = tuple(int(d) for d in it.get("Dimensions").split())
                assert shape(path) == dims, "%s: %s in the file, %s in the XDMF" % (path, shape(path), dims)
            assert shape(topo.find("DataItem").text.split(":", 1)[1]) == (n_cells, 2)
            assert shape(g.find("Geometry/DataItem").text.split(":", 1)[1]) == (n_points, 3)
            attrs = {a.get("Name"): a.find("DataItem").text.split(":", 1)[1] for a in g.findall("Attribute")}
            assert attrs["pressure"] == "/xdmf/pressure/%d" % k


# ---------------------------------------------------------------------------------------------
# 3. physiology over the last cycle
def last_cycle(out, probe):
    t, p = out["probes"][probe]["time"], out["probes"][probe]["pressure"]
    m = t >= t[-1] - PERIOD - 1e-12
    return t[m], p[m]


def mean(t, p):
    return float(np.sum(0.5 * (p[1:] + p[:-1]) * np.diff(t)) / (t[-1] - t[0]))


def pp(out, probe):
    return float(np.ptp(last_cycle(out, probe)[1]))


def in_range(value, lo, hi, what, why):
    """Assert lo <= value <= hi; outside, xfail with the measured value and the reason."""
    if not lo <= value <= hi:
        pytest.xfail("%s = %.4g outside the physiological range [%g, %g]: %s" % (what, value, lo, hi, why))


WHY = ("ADAN56 is run with openBF's Benchmark 6 parameters (E = 225 kPa everywhere, openBF's "
       "RCR outlets, inflow of Boileau et al. 2015), not tuned to a subject")


def test_physiology_mean_aortic_pressure(out):
    """Mean pressure at the aortic root over the last cycle in 70-110 mmHg.

    Normal adult mean arterial pressure: "Normally, the MAP falls within the range of
    70-110 mm Hg" (Betts JG et al., Anatomy and Physiology, OpenStax, Rice University 2013,
    section 20.2 "Blood Flow, Blood Pressure, and Resistance"). MAP changes little along the
    large arteries, so the aortic mean is held to it.
    """
    t, p = last_cycle(out, ROOT)
    map_ = mean(t, p) / MMHG
    print("MAP at the aortic root %.2f mmHg" % map_)
    in_range(map_, 70.0, 110.0, "aortic-root MAP [mmHg]", WHY)


def test_physiology_central_pulse_pressure(out):
    """Aortic-root pulse pressure over the last cycle in 30-60 mmHg.

    Central (aortic) pulse pressure of healthy adults from youth to old age: ~30 mmHg in the
    young rising to ~55-60 mmHg in the eighth decade (McEniery CM et al., "Normal vascular
    aging: differential effects on wave reflection and aortic pulse wave velocity: the
    Anglo-Cardiff Collaborative Trial (ACCT)", J Am Coll Cardiol 2005;46(9):1753-1760).
    """
    ppc = pp(out, ROOT) / MMHG
    print("aortic-root pulse pressure %.2f mmHg" % ppc)
    in_range(ppc, 30.0, 60.0, "aortic-root pulse pressure [mmHg]", WHY)


def test_physiology_upper_limb_amplification(out):
    """Radial (right, midpoint) / aortic-root pulse pressure in 1.1-1.7.

    Peripheral/central pulse-pressure amplification of healthy adults, ~1.7 in the young
    falling with age towards ~1.2-1.3 (McEniery et al. 2005, above; Wilkinson IB et al.,
    "Pressure amplification explains why pulse pressure is unrelated to risk in young
    subjects", Hypertension 2001;38:1461-1466: amplification linear in age; Avolio AP et al.,
    "Role of pulse pressure amplification in arterial hypertension: experts' opinion and
    review of the data", Hypertension 2009;54:375-383). The case's probe is radial, not
    brachial; the brachial value from /fields is reported in docs/validation.md.
    """
    amp = pp(out, RADIAL) / pp(out, ROOT)
    print("radial/aortic pulse-pressure amplification %.3f" % amp)
    in_range(amp, 1.1, 1.7, "radial/aortic PP amplification", WHY)


def test_physiology_femoral_amplification(out):
    """Femoral (right, femoral_R_I midpoint) / aortic-root pulse pressure > 1.

    The pulse pressure rises from the ascending aorta to the femoral artery (Kroeker EJ, Wood
    EH, "Comparison of simultaneously recorded central and peripheral arterial pressure
    pulses during rest, exercise and tilted position in man", Circ Res 1955;3:623-632;
    Latham RD et al., "Regional wave travel and reflections along the human aorta: a study
    with six simultaneous micromanometric pressures", Circulation 1985;72:1257-1269).
    """
    amp = pp(out, FEMORAL) / pp(out, ROOT)
    print("femoral/aortic pulse-pressure amplification %.3f" % amp)
    in_range(amp, 1.0, np.inf, "femoral/aortic PP amplification", WHY)


# ---------------------------------------------------------------------------------------------
# 4. coronaries (added to ADAN56 by tools/make_adan56_mesh.py)
def last_cycle_flow(out, probe):
    t, q = out["probes"][probe]["time"], out["probes"][probe]["flow"]
    m = t >= t[-1] - PERIOD - 1e-12
    return t[m], q[m]


def diastole(t):
    """True where the prescribed LV pressure (the P_im table of the coronary outlets) is
    below 20 mmHg: the definition of diastole used here (about 0.45-0.97 s of each 1 s cycle)."""
    tab = np.loadtxt(LV_TABLE)
    return np.interp(np.mod(t, PERIOD), tab[:, 0], tab[:, 1]) < 20.0


def volumes(out, probe):
    """(diastolic, total) volume through the probe over the last cycle, m^3 (trapezoids; an
    interval counts as diastolic when its midpoint is)."""
    t, q = last_cycle_flow(out, probe)
    dv = 0.5 * (q[1:] + q[:-1]) * np.diff(t)
    dia = diastole(0.5 * (t[1:] + t[:-1]))
    return float(dv[dia].sum()), float(dv.sum())


def test_coronary_probes_present(out):
    for p in CORONARY_PROBES + [ROOT]:
        assert p in out["probes"], p


@pytest.mark.parametrize("probe", LEFT_CORONARY)
def test_physiology_left_coronary_diastolic(out, probe):
    """More than 60% of the left coronary inflow volume of the last cycle in diastole.

    Left coronary flow is mainly diastolic, the myocardium squeezing the intramyocardial
    vessels in systole: roughly 75-80% of the volume per beat in diastole (Kim HJ et al.,
    "Patient-specific modeling of blood flow and pressure in human coronary arteries", Ann
    Biomed Eng 2010;38:3195-3209; Davies JE et al., Circulation 2006;113:1768-1778, wave
    intensity in the left main stem; any physiology text, "coronary circulation"). 60% is the
    threshold of tests/test_coronary.c; diastole = the prescribed LV pressure below 20 mmHg.
    """
    d, tot = volumes(out, probe)
    frac = d / tot
    print("%s: %.3f mL per cycle, %.1f%% in diastole" % (probe, tot * 1e6, 100 * frac))
    assert tot > 0
    in_range(frac, 0.6, 1.0, "%s diastolic volume fraction" % probe, WHY_CORONARY)


def test_physiology_right_coronary_diastolic(out):
    """Right coronary: reported, and its diastolic fraction below the left main's.

    With P_im = 0.2 x the LV pressure (Kim et al. 2010 use the RV pressure for right-coronary
    outlets; RV/LV systolic ~ 25/120) the right coronary is squeezed less in systole, and its
    flow is less diastolic than the left coronaries' (Kim et al. 2010; in man the RCA flow is
    more evenly spread over the beat). Not held to the left coronaries' 60%.
    """
    d, tot = volumes(out, "right_coronary")
    dl, totl = volumes(out, "left_main_coronary")
    print("right_coronary: %.3f mL per cycle, %.1f%% in diastole (left main %.1f%%)"
          % (tot * 1e6, 100 * d / tot, 100 * dl / totl))
    assert tot > 0
    assert d / tot < dl / totl


WHY_CORONARY = ("the coronary beds are lumped (tests/test_coronary.c's parameters scaled to "
                "the target flow) and P_im is a prescribed LV table, not a coupled ventricle")


def test_physiology_coronary_fraction(out):
    """Total coronary flow (left main + right coronary ostia) / cardiac output in 4-5%.

    "Resting coronary blood flow averages about 225 ml/min ... or 4 to 5 per cent of the
    total cardiac output" (Guyton AC, Hall JE, Textbook of Medical Physiology, chapter on the
    coronary circulation). Cardiac output = mean flow at the aortic root probe (the inflow).
    """
    co = volumes(out, ROOT)[1] / PERIOD
    cor = sum(volumes(out, p)[1] for p in ("left_main_coronary", "right_coronary")) / PERIOD
    parts = {p: volumes(out, p)[1] / PERIOD * 1e6 for p in CORONARY_PROBES}
    print("cardiac output %.2f mL/s, coronary %.3f mL/s = %.2f%%; %s"
          % (co * 1e6, cor * 1e6, 100 * cor / co,
             ", ".join("%s %.3f mL/s" % kv for kv in parts.items())))
    in_range(cor / co, 0.04, 0.05, "coronary fraction of the cardiac output", WHY_CORONARY)
