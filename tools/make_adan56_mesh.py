#!/usr/bin/env python3
"""Generate meshes/adan56.yaml and cases/benchmarks/adan56.yaml from openBF's ADAN56 network.

ADAN56 (Blanco et al., IEEE TBME 62(2):736-753, 2015), as used by Boileau et al. 2015
(doi:10.1002/cnm.2732) for Benchmark 6: 56 arteries in 77 tapered segments, 31 RCR outlets.

Input: openBF's models/boileau2015/adan56/adan56.yaml (INSIGNEO/openBF @
0376f4dc266ff0eec83cb1982f38a6f5b64ad2dc, Apache-2.0), kept byte-identical in
tests/data/openbf/adan56/adan56.yaml. Everything numeric (topology sn -> tn, L, Rp -> Rd, E,
Pext, M, RCR values, rho, mu, zeta) is copied from it unchanged; only the vessel centrelines
are added here, for ParaView.

Added to ADAN56 (see CORONARY_VESSELS): a 1 cm aortic_sinus segment before aortic_arch_I and
the coronary arteries (left main -> LAD + LCx, right coronary) with coronary outlets, whose
P_im table tests/data/adan56_lv_pressure.dat this script also writes (and --check compares).

Centrelines: each vessel is a polyline of straight pieces, given below (LAYOUT) as
(direction, fraction of the vessel's length) in the patient's frame: x to the patient's left,
y anterior, z cranial, metres, origin at the aortic root (the start of aortic_arch_I). Left
vessels that have a right counterpart of the same name (token R -> L) are its mirror image
(x -> -x). A vessel starts exactly at the end point of its parent (the vessel that ends at its
`from` node) and the pieces are scaled so that the polyline length equals the vessel length.
The layout is schematic (directions chosen by hand to follow the anatomy: ascending aorta and
arch curving left and posterior, descending aorta down the spine, visceral branches anterior,
carotids and vertebrals up the neck, arms hanging at the sides, iliacs and legs downwards);
the solver uses only the lengths.

Sites: the mesh's `sites:` table (SITES below) names anatomical positions (aortic root,
arch branch origins, renal origins, bifurcation, common femoral, ...) as (segment, x); the case's
probes use them where a probe sits at a site. The script checks that each names a segment, lies
within it and is unique.

Checks (the script stops with an error if one fails): every segment has a layout; the
network is a tree rooted at node 1; every vessel starts at its parent's end point, exactly;
every polyline length equals the vessel length within 1e-5 (relative; the requirement is 1%).

Usage: python3 tools/make_adan56_mesh.py [--openbf FILE] [--mesh OUT] [--case OUT] [--check]
(--check verifies that the files on disk are what the script would write, without writing).
Needs PyYAML (Debian: python3-yaml).
"""

import argparse
import math
import os
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OPENBF = os.path.join(ROOT, "tests", "data", "openbf", "adan56", "adan56.yaml")
MESH = os.path.join(ROOT, "meshes", "adan56.yaml")
CASE = os.path.join(ROOT, "cases", "benchmarks", "adan56.yaml")
POINT_DECIMALS = 9  # 1 nm: shared end points round identically, so joins stay exact


def one(dx, dy, dz):
    return [((dx, dy, dz), 1.0)]


# (direction, fraction) pieces per vessel; right side and midline. Directions need not be unit.
LAYOUT = {
    # coronary additions (CORONARY below): the sinus segment continues the ascending aorta's
    # first direction; the coronaries run over the heart, which lies anterior, left and caudal
    # of the root: LMCA to the left and forward, LAD down the anterior interventricular groove
    # towards the apex, LCx round the left atrioventricular groove to the back, RCA forward
    # and right, down the right atrioventricular groove, then round to the back
    "aortic_sinus": one(-0.15, 0.25, 1.0),
    "left_main_coronary": one(0.8, 0.6, -0.1),
    "left_anterior_descending": [((0.6, 0.8, -0.3), 0.3), ((0.5, 0.4, -1.0), 0.7)],
    "left_circumflex": [((1.0, -0.2, -0.3), 0.5), ((0.2, -1.0, -0.6), 0.5)],
    "right_coronary": [((-0.8, 0.6, -0.2), 0.3), ((-0.4, 0.2, -1.0), 0.4), ((0.2, -1.0, -0.4), 0.3)],
    # aortic root and arch: up and slightly right/anterior, then curving left and posterior
    "aortic_arch_I": [((-0.15, 0.25, 1.0), 0.55), ((0.1, -0.1, 1.0), 0.25), ((0.5, -0.6, 0.6), 0.20)],
    "brachiocephalic_trunk": one(-0.45, 0.15, 1.0),
    "aortic_arch_II": one(1.0, -0.7, 0.15),
    "aortic_arch_III": one(1.0, -1.0, -0.1),
    "aortic_arch_IV": [((0.35, -1.0, -0.35), 0.5), ((0.0, -0.35, -1.0), 0.5)],
    # right subclavian, arm and forearm (arm hanging at the side, palm forward)
    "subclavian_R_I": one(-1.0, -0.1, 0.35),
    "subclavian_R_II": one(-1.0, -0.1, -0.15),
    "axillary_R": one(-1.0, 0.05, -0.7),
    "brachial_R": one(-0.12, 0.12, -1.0),
    "radial_R": one(-0.10, 0.20, -1.0),
    "ulnar_R_I": one(0.15, 0.15, -1.0),
    "ulnar_R_II": one(0.06, 0.20, -1.0),
    "common_interosseous_R": one(0.05, -0.30, -1.0),
    "posterior_interosseous_R": one(0.0, -0.12, -1.0),
    "vertebral_R": [((0.08, -0.35, 1.0), 0.6), ((0.15, 0.05, 1.0), 0.4)],
    # carotids: up the neck; external anterior, internal posterior then into the skull
    "common_carotid_R": one(-0.10, 0.05, 1.0),
    "common_carotid_L": one(0.12, 0.05, 1.0),
    "external_carotid_R": one(-0.10, 0.45, 1.0),
    "internal_carotid_R": [((-0.05, -0.25, 1.0), 0.6), ((0.25, 0.35, 1.0), 0.4)],
    "subclavian_L_I": one(0.55, -0.1, 1.0),
    # descending aorta: down the spine, drifting to the midline
    "thoracic_aorta_I": one(-0.04, 0.0, -1.0),
    "thoracic_aorta_II": one(-0.04, 0.0, -1.0),
    "thoracic_aorta_III": one(-0.04, 0.0, -1.0),
    "thoracic_aorta_IV": one(-0.04, 0.0, -1.0),
    "thoracic_aorta_V": one(-0.04, 0.03, -1.0),
    "thoracic_aorta_VI": one(-0.02, 0.05, -1.0),
    # posterior intercostals: around the chest wall (posterior, lateral, anterior)
    "posterior_intercostal_T6_R": [((-0.6, -0.8, 0.05), 0.15), ((-1.0, 0.0, -0.1), 0.35),
                                   ((-0.5, 0.85, -0.15), 0.35), ((0.3, 1.0, -0.1), 0.15)],
    "posterior_intercostal_T7_R": [((-0.6, -0.8, 0.05), 0.15), ((-1.0, 0.0, -0.1), 0.35),
                                   ((-0.5, 0.85, -0.15), 0.35), ((0.3, 1.0, -0.1), 0.15)],
    # abdominal aorta and its branches
    "abdominal_aorta_I": one(-0.02, 0.06, -1.0),
    "abdominal_aorta_II": one(-0.02, 0.06, -1.0),
    "abdominal_aorta_III": one(-0.02, 0.06, -1.0),
    "abdominal_aorta_IV": one(-0.02, 0.06, -1.0),
    "abdominal_aorta_V": one(-0.02, 0.06, -1.0),
    "celiac_trunk": one(0.0, 1.0, 0.2),
    "common_hepatic": one(-1.0, 0.25, 0.1),
    "splenic_I": one(1.0, 0.2, 0.1),
    "splenic_II": one(1.0, -0.35, 0.15),
    "left_gastric": one(0.3, 0.35, 1.0),
    "superior_mesenteric": [((0.0, 1.0, -0.4), 0.2), ((0.05, 0.25, -1.0), 0.8)],
    "renal_R": one(-1.0, -0.25, -0.1),
    "renal_L": one(1.0, -0.25, -0.1),
    "inferior_mesenteric": [((0.3, 1.0, -0.3), 0.2), ((0.35, 0.15, -1.0), 0.8)],
    # pelvis and right leg
    "common_iliac_R": one(-0.5, 0.1, -1.0),
    "external_iliac_R": one(-0.35, 0.3, -1.0),
    "internal_iliac_R": one(-0.1, -0.6, -1.0),
    "femoral_R_I": one(-0.05, 0.15, -1.0),
    "profunda_femoris_R": one(-0.15, -0.2, -1.0),
    "femoral_R_II": one(0.08, -0.05, -1.0),
    "popliteal_R_I": one(0.0, -0.25, -1.0),
    "popliteal_R_II": one(0.0, -0.10, -1.0),
    "anterior_tibial_R": [((-0.3, 0.8, -0.3), 0.08), ((-0.02, 0.06, -1.0), 0.92)],
    "tibiofibular_trunk_R": one(0.02, -0.10, -1.0),
    "posterior_tibial_R": one(0.03, -0.08, -1.0),
}

# Named anatomical sites (the mesh's `sites:` table): (name, vessel, x, note), x one of
# "start", "mid", "end" or a callable of the vessels by name giving metres. In ADAN56 a
# segment runs from one branch origin to the next, so a branch's origin is the start of the
# branch and the aortic segments are numbered from the root: aortic_arch_I is the ascending
# aorta (root to the brachiocephalic origin), II and III the arch between the origins of the
# brachiocephalic trunk, left common carotid and left subclavian, IV the distal arch to the
# first intercostals; thoracic_aorta_I..VI the descending thoracic aorta to the celiac
# origin; abdominal_aorta_I..V from there to the bifurcation (left renal before right).
THORACIC = ["thoracic_aorta_%s" % r for r in ("I", "II", "III", "IV", "V", "VI")]


def chain_mid(by, names):
    """(vessel, x) at half the total length of a chain of consecutive segments."""
    half = sum(by[n]["L"] for n in names) / 2
    for n in names:
        if half <= by[n]["L"]:
            return n, half
        half -= by[n]["L"]
    raise SystemExit("make_adan56_mesh: chain_mid ran off the end")


SITES = [
    ("aortic root", "aortic_sinus", "start", "node 1, where the inflow enters"),
    ("left main coronary", "left_main_coronary", "start", "left coronary ostium (aortic_sinus end)"),
    ("left anterior descending", "left_anterior_descending", "start", "origin, end of the left main"),
    ("left circumflex", "left_circumflex", "start", "origin, end of the left main"),
    ("right coronary", "right_coronary", "start", "right coronary ostium (aortic_sinus end)"),
    ("ascending aorta", "aortic_arch_I", "mid", None),
    ("brachiocephalic origin", "brachiocephalic_trunk", "start", None),
    ("right subclavian origin", "subclavian_R_I", "start", None),
    ("right common carotid", "common_carotid_R", "mid", None),
    ("left common carotid origin", "common_carotid_L", "start", None),
    ("left common carotid", "common_carotid_L", "mid", None),
    ("aortic arch", "aortic_arch_II", "mid",
     "between the brachiocephalic and left common carotid origins"),
    ("left subclavian origin", "subclavian_L_I", "start", None),
    ("aortic isthmus", "aortic_arch_IV", "mid", "distal arch, beyond the left subclavian origin"),
    ("thoracic aorta", "THORACIC", "chain", "half the length of thoracic_aorta_I..VI"),
    ("celiac origin", "celiac_trunk", "start", None),
    ("superior mesenteric origin", "superior_mesenteric", "start", None),
    ("left renal origin", "renal_L", "start", None),
    ("right renal origin", "renal_R", "start", None),
    ("abdominal aorta", "abdominal_aorta_IV", "mid",
     "infrarenal: between the right renal and inferior mesenteric origins"),
    ("inferior mesenteric origin", "inferior_mesenteric", "start", None),
    ("aortic bifurcation", "abdominal_aorta_V", "end", None),
    ("right common iliac", "common_iliac_R", "mid", None),
    ("left common iliac", "common_iliac_L", "mid", None),
    ("right external iliac", "external_iliac_R", "mid", None),
    ("left external iliac", "external_iliac_L", "mid", None),
    # ADAN56 has no segment labelled common femoral: femoral_X_I runs from the end of the
    # external iliac (the inguinal ligament) to the profunda femoris origin, which is the
    # common femoral artery; the site is its start, where a femoral cannula would enter.
    ("right common femoral", "femoral_R_I", "start", None),
    ("left common femoral", "femoral_L_I", "start", None),
    ("right brachial", "brachial_R", "mid", None),
    ("left brachial", "brachial_L", "mid", None),
    ("right radial", "radial_R", "mid", None),
    ("left radial", "radial_L", "mid", None),
]


def resolve_sites(vessels):
    """[(name, vessel, x as written, x in m, note)], checked: known vessel, x in [0, L], unique."""
    by = {v["name"]: v for v in vessels}
    out, seen = [], set()
    for name, vessel, x, note in SITES:
        key = name.lower().replace(" ", "_").replace("-", "_")
        if key in seen:
            raise SystemExit("make_adan56_mesh: duplicate site '%s'" % name)
        seen.add(key)
        if x == "chain":
            vessel, xm = chain_mid(by, THORACIC)
            written = "%.2f cm" % (xm * 100)  # an anatomical site: 0.1 mm is plenty
            xm = float(written.split()[0]) / 100
        else:
            if vessel not in by:
                raise SystemExit("make_adan56_mesh: site '%s': no vessel '%s'" % (name, vessel))
            xm = {"start": 0.0, "mid": by[vessel]["L"] / 2, "end": by[vessel]["L"]}[x]
            written = x
        if not 0 <= xm <= by[vessel]["L"]:
            raise SystemExit("make_adan56_mesh: site '%s' outside %s" % (name, vessel))
        out.append((name, vessel, written, xm, note))
    return out


# the sites where Boileau et al. 2015 report ADAN56 waveforms (openBF's plot script)
PROBE_VESSELS = ["aortic_arch_I", "thoracic_aorta_III", "abdominal_aorta_V", "common_carotid_R",
                 "renal_R", "common_iliac_R", "internal_carotid_R", "radial_R", "internal_iliac_R",
                 "posterior_interosseous_R", "femoral_R_I", "anterior_tibial_R"]

# further probes, by site (named after it: "aortic bifurcation" -> aortic_bifurcation)
EXTRA_PROBE_SITES = ["left subclavian origin", "thoracic aorta", "abdominal aorta",
                     "aortic bifurcation", "right common femoral", "left main coronary",
                     "left anterior descending", "left circumflex", "right coronary"]


# ---------------------------------------------------------------------------------------------
# Coronary arteries (not in ADAN56/openBF; added here). Where they attach: the coronary ostia
# lie in the sinuses of Valsalva, about 1-2 cm above the aortic valve, i.e. at the start of
# ADAN56's aortic_arch_I (node 1). Node 1 carries the inflow, and a node with an inlet cannot
# be a junction (docs/input.md, "Network"), so the coronaries cannot start there; the other
# node the loader accepts, the end of aortic_arch_I, is 7.4 cm downstream at the
# brachiocephalic origin, anatomically wrong. So a short new first segment, aortic_sinus
# (the sinus portion of the root, 1 cm, aortic_arch_I's inlet radius, no taper), carries the
# inlet at node 1 and the coronaries branch from its end, where aortic_arch_I now starts. No
# ADAN56 segment is split or changed: aortic_arch_I keeps its length and radii, so the
# ascending aorta is 1 cm longer than in ADAN56 (8.44 instead of 7.44 cm).
#
# Geometry: proximal lumen diameters from Dodge JT et al., "Lumen diameter of normal human
# coronary arteries", Circulation 1992;86:232-246 (angiography, normal subjects; rounded):
# left main 4.5 mm, proximal LAD 3.7 mm, proximal LCx 3.4 mm, proximal RCA 3.9 mm. Each branch
# is one 1D segment; its length (LMCA 1 cm; LAD 8, LCx 6, RCA 9 cm, the epicardial course to
# where the branch becomes small) and the linear taper to 75% of the proximal radius are
# assumptions of this script, not values from Dodge et al. Wall as the rest of ADAN56:
# E = 225 kPa, empirical thickness ("auto"). Cells: 1 mm.
CORONARY_VESSELS = [
    # name, parent ("sinus" = end of aortic_sinus, or a vessel name), L [m], proximal diameter [m]
    ("left_main_coronary", "sinus", 0.010, 4.5e-3),
    ("left_anterior_descending", "left_main_coronary", 0.08, 3.7e-3),
    ("left_circumflex", "left_main_coronary", 0.06, 3.4e-3),
    ("right_coronary", "sinus", 0.09, 3.9e-3),
]
SINUS_LENGTH = 0.010  # m
CORONARY_TAPER = 0.75  # distal / proximal radius (assumption)

# Coronary outlets (type coronary, kernels/coronary.h; Kim et al. 2010, Ann Biomed Eng
# 38:3195, after Mantero et al. 1992). Target: total coronary flow at rest 4.5% of the mean
# inflow (112.40 mL/s -> 5.06 mL/s); "resting coronary blood flow averages about 225 ml/min
# ... or 4 to 5 per cent of the total cardiac output" (Guyton AC, Hall JE, Textbook of Medical
# Physiology, chapter "Muscle blood flow and cardiac output during exercise; the coronary
# circulation"). Split LAD : LCx : RCA = 40 : 25 : 35 (an assumption for a right-dominant
# heart, not a measured value). Each bed's total resistance R = (P_design - p_out) / Q_target
# with P_design = 100 mmHg (near ADAN56's aortic-root mean, 104 mmHg without coronaries) and
# p_out = 5 mmHg (right-atrial pressure); steady state gives p_face = p_out + R Q. The
# Ra : Ram : Rv = 0.3 : 0.5 : 0.2 split and the compliances are carried over from
# tests/test_coronary.c (R = 90 mmHg s/mL, Ca = 1e-3, Cim = 2e-2 mL/mmHg, Kim et al. 2010's
# structure): the compliances are scaled by 90 / R so that each bed keeps the test's time
# constants. P_im = scale x the LV pressure table below (Kim et al. 2010: LV pressure for the
# left coronaries, RV pressure for the right one; RCA scale 0.2 ~ RV/LV systolic pressure,
# ~25/120, docs/input.md).
MMHG = 133.322387415
CORONARY_TOTAL = 0.045  # of the mean inflow
CORONARY_SPLIT = {"left_anterior_descending": 0.40, "left_circumflex": 0.25, "right_coronary": 0.35}
CORONARY_PIM_SCALE = {"left_anterior_descending": 1.0, "left_circumflex": 1.0, "right_coronary": 0.2}
CORONARY_P_DESIGN = 100.0  # mmHg
CORONARY_P_OUT = 5.0  # mmHg
MEAN_INFLOW = 112.40e-6  # m^3/s, tests/data/adan56_inlet_fixed.dat (case header)
LV_FILE = os.path.join(ROOT, "tests", "data", "adan56_lv_pressure.dat")

# Prescribed LV pressure, mmHg, period 1 s, in phase with ADAN56's inflow (positive for t in
# about [0.02, 0.39] s, i.e. the aortic valve open): isovolumic contraction from ~0.96 s,
# ejection at ~105-125 mmHg, isovolumic relaxation 0.39-0.46 s, filling at 5-10 mmHg. A
# schematic Wiggers-diagram shape (the same form as the table of tests/test_coronary.c,
# stretched to ADAN56's timing), not a measured trace. Diastole, for the tests, is where
# this table is below 20 mmHg (about 0.45-0.97 s).
LV_TABLE = [(0.00, 40.0), (0.02, 78.0), (0.06, 106.0), (0.12, 121.0), (0.20, 125.0),
            (0.30, 114.0), (0.37, 98.0), (0.41, 55.0), (0.46, 12.0), (0.50, 5.0),
            (0.80, 7.0), (0.94, 9.0), (0.97, 15.0), (1.00, 40.0)]


def add_coronaries(vessels):
    """ADAN56's vessels with aortic_sinus first (carrying node 1) and the coronaries last."""
    top = max(max(v["sn"], v["tn"]) for v in vessels)
    root = next(v for v in vessels if v["sn"] == 1)
    if root["name"] != "aortic_arch_I":
        raise SystemExit("make_adan56_mesh: expected aortic_arch_I at node 1")
    base = {k: root[k] for k in ("E", "Pext", "zeta")}
    sinus_end = top + 1
    sinus = dict(base, name="aortic_sinus", sn=1, tn=sinus_end, L=SINUS_LENGTH, Rp=root["Rp"],
                 Rd=root["Rp"], M=int(round(SINUS_LENGTH / 1e-3)))
    out = [sinus] + [dict(v, sn=sinus_end) if v is root else v for v in vessels]
    end = {"sinus": sinus_end}
    node = sinus_end
    for name, parent, L, d in CORONARY_VESSELS:
        node += 1
        v = dict(base, name=name, sn=end[parent], tn=node, L=L, Rp=d / 2,
                 Rd=round(d / 2 * CORONARY_TAPER, 12), M=int(round(L / 1e-3)))
        if name in CORONARY_SPLIT:
            q = CORONARY_TOTAL * MEAN_INFLOW * CORONARY_SPLIT[name]  # m^3/s
            R = (CORONARY_P_DESIGN - CORONARY_P_OUT) * MMHG / q  # Pa s/m^3
            r_mmhg_s_ml = R / (MMHG * 1e6)
            c_scale = 90.0 / r_mmhg_s_ml
            ml_mmhg = 1e-6 / MMHG
            v["coronary"] = {"Ra": 0.3 * R, "Ram": 0.5 * R, "Rv": 0.2 * R,
                             "Ca": 1e-3 * c_scale * ml_mmhg, "Cim": 2e-2 * c_scale * ml_mmhg,
                             "scale": CORONARY_PIM_SCALE[name]}
        end[name] = node
        out.append(v)
    return out


def lv_text():
    out = ["# Prescribed LV pressure for the ADAN56 coronary outlets (P_im = scale x this), "
           "mmHg, period 1 s.",
           "# GENERATED by tools/make_adan56_mesh.py (LV_TABLE there: shape, timing and sources);"
           " do not edit by hand."]
    out += ["%g %g" % tv for tv in LV_TABLE]
    return "\n".join(out) + "\n"


def mirror_name(name):
    toks = name.split("_")
    if "L" not in toks:
        return None
    return "_".join("R" if t == "L" else t for t in toks)


def pieces_for(name):
    if name in LAYOUT:
        return LAYOUT[name]
    right = mirror_name(name)
    if right and right in LAYOUT:
        return [((-d[0], d[1], d[2]), f) for d, f in LAYOUT[right]]
    raise SystemExit("make_adan56_mesh: no layout for vessel '%s'" % name)


def num(v, key, label):
    try:
        return float(v)  # YAML 1.1 reads e.g. 1e-13 as a string
    except (TypeError, ValueError):
        raise SystemExit("make_adan56_mesh: %s: %s = %r is not a number" % (label, key, v))


def load_openbf(path):
    with open(path) as f:
        d = yaml.safe_load(f)
    vessels = []
    for v in d["network"]:
        lab = v["label"]
        r = {"name": lab, "sn": int(v["sn"]), "tn": int(v["tn"]),
             "L": num(v["L"], "L", lab), "Rp": num(v["Rp"], "Rp", lab),
             "Rd": num(v.get("Rd", v["Rp"]), "Rd", lab), "E": num(v["E"], "E", lab),
             "Pext": num(v.get("Pext", 0.0), "Pext", lab), "M": int(v["M"]),
             "zeta": num(v.get("gamma_profile", 2), "gamma_profile", lab)}
        if "h0" in v:
            raise SystemExit("make_adan56_mesh: %s has h0; this script expects the empirical "
                             "thickness" % lab)
        out = v.get("outlet")
        if out is not None:
            if out != "wk3":
                raise SystemExit("make_adan56_mesh: %s: outlet %s not handled" % (lab, out))
            r["R1"], r["R2"], r["C"] = (num(v[k], k, lab) for k in ("R1", "R2", "Cc"))
        vessels.append(r)
    blood = {"rho": num(d["blood"]["rho"], "rho", "blood"), "mu": num(d["blood"]["mu"], "mu", "blood")}
    return d, vessels, blood


def layout(vessels):
    """Centreline points per vessel; checks tree structure, joins and lengths."""
    by_tn = {}
    for v in vessels:
        if v["tn"] in by_tn:
            raise SystemExit("make_adan56_mesh: node %d ends two vessels: not a tree" % v["tn"])
        by_tn[v["tn"]] = v
    node_pos = {1: (0.0, 0.0, 0.0)}
    pts = {}
    pending = list(vessels)
    while pending:
        progress = False
        for v in list(pending):
            if v["sn"] not in node_pos:
                continue
            start = node_pos[v["sn"]]
            pc = pieces_for(v["name"])
            ftot = sum(f for _, f in pc)
            p = [start]
            cur = start
            for d, f in pc:
                n = math.sqrt(sum(c * c for c in d))
                if n == 0:
                    raise SystemExit("make_adan56_mesh: zero direction in %s" % v["name"])
                step = v["L"] * f / ftot
                cur = tuple(cur[i] + step * d[i] / n for i in range(3))
                p.append(cur)
            p = [tuple(round(c, POINT_DECIMALS) + 0.0 for c in q) for q in p]
            p[0] = tuple(round(c, POINT_DECIMALS) + 0.0 for c in start)
            pts[v["name"]] = p
            node_pos[v["tn"]] = p[-1]
            pending.remove(v)
            progress = True
        if not progress:
            raise SystemExit("make_adan56_mesh: vessels not reachable from node 1: %s"
                             % ", ".join(v["name"] for v in pending))
    # checks: joins exact, lengths within tolerance
    worst = 0.0
    for v in vessels:
        p = pts[v["name"]]
        if v["sn"] != 1:
            parent = by_tn.get(v["sn"])
            if parent is None:
                raise SystemExit("make_adan56_mesh: %s starts at node %d, which no vessel ends at"
                                 % (v["name"], v["sn"]))
            if p[0] != pts[parent["name"]][-1]:
                raise SystemExit("make_adan56_mesh: %s does not start at the end of %s"
                                 % (v["name"], parent["name"]))
        elif p[0] != (0.0, 0.0, 0.0):
            raise SystemExit("make_adan56_mesh: the root vessel does not start at the origin")
        length = sum(math.dist(p[i], p[i + 1]) for i in range(len(p) - 1))
        rel = abs(length - v["L"]) / v["L"]
        worst = max(worst, rel)
        if rel > 1e-5:
            raise SystemExit("make_adan56_mesh: %s: polyline length %.9g m, vessel length %.9g m"
                             % (v["name"], length, v["L"]))
    return pts, node_pos, worst


def fmt(x):
    return repr(float(x))


def mesh_text(vessels, pts, worst, src_rel):
    pext = {v["Pext"] for v in vessels}
    E = {v["E"] for v in vessels}
    if len(pext) != 1 or len(E) != 1:
        raise SystemExit("make_adan56_mesh: expected one Pext and one E for all vessels")
    out = []
    w = out.append
    w("# ADAN56: the 56-artery (77-segment) network of Blanco et al., IEEE TBME 62(2):736-753, 2015,")
    w("# as used by Boileau et al. 2015 (doi:10.1002/cnm.2732), Benchmark 6.")
    w("#")
    w("# GENERATED by tools/make_adan56_mesh.py from %s; do not edit by hand." % src_rel)
    w("# Source: INSIGNEO/openBF @ 0376f4dc266ff0eec83cb1982f38a6f5b64ad2dc,")
    w("#   models/boileau2015/adan56/adan56.yaml (Apache-2.0; byte-identical copy at the path above).")
    w("#   Segment list, names (openBF labels), connectivity (openBF node numbers; node 1 = aortic")
    w("#   root), lengths, radii (Rp -> Rd, linear taper), E and cells (openBF's M) are copied")
    w("#   unchanged. The same L, radii and RCR values are in devi-raksha/blood-flow @ 5ee58348")
    w("#   (56_adnr.vtk, MIT) and giorgosR/pylsewave @ 00582b91 (GPL-3).")
    w("# Units: bare numbers are SI (m, Pa).")
    w("# Wall: E = %g kPa for every segment; thickness \"auto\" = openBF's empirical"
      % (E.pop() / 1e3))
    w("#   h = r (0.2802 exp(-505.3 r) + 0.1324 exp(-11.14 r)), r in m.")
    w("# reference_pressure = %g kPa: openBF's Pext, the pressure at which the radii hold."
      % (pext.pop() / 1e3))
    w("# Cells: openBF's M. (openBF itself meshes max(M, 5, ceil(L / 1 mm)) cells, which differs by")
    w("#   at most one cell.)")
    w("# points: schematic anatomical centrelines made by the script (x = patient's left, y =")
    w("#   anterior, z = cranial, m, origin at the aortic root): each vessel starts at the end of")
    w("#   its parent and its polyline length equals its length (largest relative difference %.1e)."
      % worst)
    w("# sites: named anatomical positions (vessel, x) for probes and devices (docs/input.md).")
    w("# ADDED to ADAN56 (tools/make_adan56_mesh.py, CORONARY_VESSELS: sources and assumptions):")
    w("#   aortic_sinus, a 1 cm first segment (radius of aortic_arch_I's inlet) carrying the inlet")
    w("#   at node 1, so that the coronaries can branch near the valve (a node with an inlet cannot")
    w("#   be a junction); aortic_arch_I now starts at its end, unchanged. Coronaries from there:")
    w("#   left_main_coronary -> left_anterior_descending + left_circumflex, and right_coronary;")
    w("#   proximal diameters from Dodge et al., Circulation 1992;86:232; lengths and taper assumed.")
    w("name: adan56")
    w("reference_pressure: %s" % fmt(vessels[0]["Pext"]))
    w("vessels:")
    for v in vessels:
        w("  - name: %s" % v["name"])
        w("    from: %d" % v["sn"])
        w("    to: %d" % v["tn"])
        w("    length: %s" % fmt(v["L"]))
        if v["Rp"] == v["Rd"]:
            w("    radius: %s" % fmt(v["Rp"]))
        else:
            w("    radius: [%s, %s]" % (fmt(v["Rp"]), fmt(v["Rd"])))
        w("    E: %s" % fmt(v["E"]))
        w("    thickness: auto")
        w("    cells: %d" % v["M"])
        w("    points: [%s]" % ", ".join("[%s]" % ", ".join(repr(c) for c in q) for q in pts[v["name"]]))
    w("sites:                            # x: start | mid | end of the vessel, or m from its start")
    w("  # ADAN56 has no segment labelled common femoral: femoral_X_I (external iliac end to the")
    w("  # profunda femoris origin) is the common femoral artery.")
    for name, vessel, written, _, note in resolve_sites(vessels):
        w("  %s {vessel: %s, x: %s}%s" % ((name + ":").ljust(30), vessel, written,
                                          "  # " + note if note else ""))
    return "\n".join(out) + "\n"


def case_text(vessels, blood, zeta, period):
    out = []
    w = out.append
    w("# Boileau et al. 2015 (doi:10.1002/cnm.2732), Benchmark 6: ADAN56 (Blanco et al. 2015).")
    w("#")
    w("# GENERATED by tools/make_adan56_mesh.py (with meshes/adan56.yaml); do not edit by hand.")
    w("# Provenance of the openBF-equivalent original: INSIGNEO/openBF @")
    w("# 0376f4dc266ff0eec83cb1982f38a6f5b64ad2dc, models/boileau2015/adan56/{adan56.yaml,")
    w("# adan56_inlet.dat} (Apache-2.0), byte-identical in tests/data/openbf/adan56/.")
    w("#")
    w("# Blood (openBF): rho = %g kg/m^3, mu = %g mPa s, zeta = %g. devi-raksha/blood-flow uses"
      % (blood["rho"], blood["mu"] * 1e3, zeta))
    w("# rho = 1040 kg/m^3 instead; openBF's 1060 is kept (not checked against the paper).")
    w("# Outlets: the 31 RCR windkessels of openBF (R1, R2 in Pa s/m^3, C in m^3/Pa), p_out = 0.")
    w("# Coronaries (not in ADAN56): LMCA -> LAD + LCx and RCA from the end of a 1 cm aortic_sinus")
    w("# segment before aortic_arch_I, with coronary outlets (Ra, Ram, Rv in Pa s/m^3, Ca, Cim in")
    w("# m^3/Pa; P_im = scale x the prescribed LV pressure ../../tests/data/adan56_lv_pressure.dat):")
    w("# %.1f%% of the mean inflow at %g mmHg, split LAD : LCx : RCA = 40 : 25 : 35. Sources and"
      % (100 * CORONARY_TOTAL, CORONARY_P_DESIGN))
    w("# assumptions: tools/make_adan56_mesh.py (CORONARY_VESSELS and below).")
    w("# Start: at rest at 10 kPa (openBF starts from A = A0, i.e. at Pext = 10 kPa).")
    w("#")
    w("# Inflow: ../../tests/data/adan56_inlet_fixed.dat, a 22-point piecewise-linear table of")
    w("# Q [m^3/s] over T = 1 s. FIXED relative to openBF's adan56_inlet.dat, which has two exponent")
    w("# typos (openBF at the commit above):")
    w("#   t = 0.437555 s: -2.10178e-55 -> -2.10178e-05 m^3/s (-21.0178 mL/s)")
    w("#   t = 0.515992 s:  5.25444e-66 ->  5.25444e-06 m^3/s (  5.25444 mL/s)")
    w("# The corrected values are those of two independent copies of the same table:")
    w("# giorgosR/pylsewave @ 00582b91 data/inflow_Aorta.txt (GPL-3; -21.0178 and 5.25444 mL/s) and")
    w("# a third-party code's \"Boileau2015 Benchmark6_ADAN56\" FlowRateAorta table. Everything else in")
    w("# the file is unchanged (including the 1e-10 written for zero flow). Mean flow: 112.40 mL/s")
    w("# (the typo'd file gives 112.90 mL/s). openBF's original, typos included, runs unchanged as")
    w("# `hemotree run tests/data/openbf/adan56/adan56.yaml`.")
    w("#")
    w("# Probes: midpoints of the 12 vessels where Boileau et al. report waveforms (openBF's plot")
    w("# script), by vessel or by the mesh's named site at the same position; then named sites")
    w("# along the aorta, at the femoral cannulation site and at the coronary origins. Reference")
    w("# waveforms (FVM_P_adan.txt, FVM_Q_adan.txt) were not found publicly.")
    w("name: adan56")
    w("mesh: ../../meshes/adan56.yaml")
    w("blood:")
    w("  density: %s" % fmt(blood["rho"]))
    w("  viscosity: %s" % fmt(blood["mu"]))
    w("  profile: %g" % zeta)
    w("  alpha: 1")
    w("inlet:")
    w("  vessel: %s" % next(v["name"] for v in vessels if v["sn"] == 1))
    w("  type: flow")
    w("  file: ../../tests/data/adan56_inlet_fixed.dat")
    w("  period: %g s" % period)
    w("outlets:")
    for v in vessels:
        if "R1" in v:
            w("  %s: {type: windkessel, R1: %s, C: %s, R2: %s, p_out: 0}"
              % (v["name"], fmt(v["R1"]), fmt(v["C"]), fmt(v["R2"])))
    for v in vessels:
        if "coronary" in v:
            c = v["coronary"]
            w("  %s:   # %.0f%% of the coronary flow" % (v["name"], 100 * CORONARY_SPLIT[v["name"]]))
            w("    {type: coronary, Ra: %.6g, Ca: %.6g, Ram: %.6g, Cim: %.6g, Rv: %.6g, p_out: %g mmHg,"
              % (c["Ra"], c["Ca"], c["Ram"], c["Cim"], c["Rv"], CORONARY_P_OUT))
            w("     intramyocardial: {scale: %g, file: ../../tests/data/adan56_lv_pressure.dat, "
              "period: %g s, unit: mmHg}}" % (c["scale"], period))
    w("numerics:")
    w("  cfl: 0.9")
    w("  dx: 1 mm              # unused: every vessel gives its cells")
    w("  initial_pressure: 10 kPa")
    w("run:")
    w("  cycles: 10            # openBF's setting")
    w("  period: %g s" % period)
    w("output:")
    w("  interval: 10 ms       # %d cells" % sum(v["M"] for v in vessels))
    w("  probes:")
    w("    - {name: aortic_root, site: aortic root}")
    by = {v["name"]: v for v in vessels}
    mid_site = {s[1]: s[0] for s in resolve_sites(vessels) if s[2] == "mid"}
    for name in PROBE_VESSELS:
        if name in mid_site:
            w("    - {name: %s_mid, site: %s}" % (name, mid_site[name]))
        else:
            w("    - {name: %s_mid, vessel: %s, x: %s}" % (name, name, fmt(by[name]["L"] / 2)))
    for site in EXTRA_PROBE_SITES:
        w("    - {site: %s}" % site)
    return "\n".join(out) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--openbf", default=OPENBF)
    ap.add_argument("--mesh", default=MESH)
    ap.add_argument("--case", default=CASE)
    ap.add_argument("--check", action="store_true",
                    help="compare with the files on disk instead of writing them")
    a = ap.parse_args(argv)

    d, vessels, blood = load_openbf(a.openbf)
    if len(vessels) != 77:
        raise SystemExit("make_adan56_mesh: expected 77 segments, found %d" % len(vessels))
    vessels = add_coronaries(vessels)
    zetas = {v["zeta"] for v in vessels}
    if len(zetas) != 1:
        raise SystemExit("make_adan56_mesh: mixed velocity profiles")
    pts, node_pos, worst = layout(vessels)
    period = 1.0
    src_rel = os.path.relpath(os.path.abspath(a.openbf), ROOT)
    texts = {a.mesh: mesh_text(vessels, pts, worst, src_rel),
             a.case: case_text(vessels, blood, zetas.pop(), period),
             LV_FILE: lv_text()}
    zs = [p[2] for p in node_pos.values()]
    print("make_adan56_mesh: %d vessels, %d outlets, %d cells; polyline lengths within %.1e; "
          "z from %.3f to %.3f m" % (len(vessels), sum("R1" in v or "coronary" in v for v in vessels),
                                      sum(v["M"] for v in vessels), worst, min(zs), max(zs)))
    rc = 0
    for path, text in texts.items():
        if a.check:
            try:
                with open(path) as f:
                    same = f.read() == text
            except FileNotFoundError:
                same = False
            print("%s: %s" % (path, "up to date" if same else "DIFFERS from the generator"))
            rc |= 0 if same else 1
        else:
            with open(path, "w") as f:
                f.write(text)
            print("wrote %s" % path)
    return rc


if __name__ == "__main__":
    sys.exit(main())
