#!/usr/bin/env python3
"""Generate meshes/adan56.yaml and cases/benchmarks/adan56.yaml from openBF's ADAN56 network.

ADAN56 (Blanco et al., IEEE TBME 62(2):736-753, 2015), as used by Boileau et al. 2015
(doi:10.1002/cnm.2732) for Benchmark 6: 56 arteries in 77 tapered segments, 31 RCR outlets.

Input: openBF's models/boileau2015/adan56/adan56.yaml (INSIGNEO/openBF @
0376f4dc266ff0eec83cb1982f38a6f5b64ad2dc, Apache-2.0), kept byte-identical in
tests/data/openbf/adan56/adan56.yaml. Everything numeric (topology sn -> tn, L, Rp -> Rd, E,
Pext, M, RCR values, rho, mu, zeta) is copied from it unchanged; only the vessel centrelines
are added here, for ParaView.

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
    ("aortic root", "aortic_arch_I", "start", "node 1, where the inflow enters"),
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
                     "aortic bifurcation", "right common femoral"]


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
    w("# along the aorta and at the femoral cannulation site. Reference waveforms (FVM_P_adan.txt,")
    w("# FVM_Q_adan.txt) were not found publicly.")
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
    zetas = {v["zeta"] for v in vessels}
    if len(zetas) != 1:
        raise SystemExit("make_adan56_mesh: mixed velocity profiles")
    pts, node_pos, worst = layout(vessels)
    period = 1.0
    src_rel = os.path.relpath(os.path.abspath(a.openbf), ROOT)
    texts = {a.mesh: mesh_text(vessels, pts, worst, src_rel),
             a.case: case_text(vessels, blood, zetas.pop(), period)}
    zs = [p[2] for p in node_pos.values()]
    print("make_adan56_mesh: %d vessels, %d outlets, %d cells; polyline lengths within %.1e; "
          "z from %.3f to %.3f m" % (len(vessels), sum("R1" in v for v in vessels),
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
