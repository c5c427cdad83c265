"""Read a hemotree output file the way the post-processing tools and ParaView do: the layout
by name with h5py, every /xdmf/<field>/<k> virtual row against /fields/<field>[k], and the
sidecar XDMF parsed with xml.etree, every DataItem resolved to a dataset of its shape.

usage: test_output_read.py OUT.h5 [--complete] [--pattern]
  --complete  the run was closed: the XDMF lists every output time, status is "completed"
  --pattern   the values written by tests/test_output.c (pressure = 1000 k + i, ...)
"""
import os
import sys
import xml.etree.ElementTree as ET

import h5py
import numpy as np

FIELDS = {"pressure": "Pa", "flow": "m^3/s", "area": "m^2", "velocity": "m/s", "ecmo_fraction": "1"}
PROBE = {"time": "s", "pressure": "Pa", "flow": "m^3/s", "area": "m^2"}
SI = {"s", "Pa", "m^3/s", "m^2", "m/s", "1", "m", "m^3", "1/s"}

failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL:", msg, file=sys.stderr)


def units(ds):
    u = ds.attrs.get("units")
    return u.decode() if isinstance(u, bytes) else u


def check_hdf5(f, pattern, complete):
    for name in ("time", "fields", "mesh", "probes", "config", "xdmf"):
        check(name in f, f"/{name} missing")
    t = f["time"][:]
    n_t = len(t)
    check(units(f["time"]) == "s", "/time units")
    check(n_t >= 1, "no output times")
    check(np.all(np.diff(t) > 0), "/time not increasing")

    pts, seg = f["mesh/points"], f["mesh/segments"]
    n_cells = seg.shape[0]
    check(pts.ndim == 2 and pts.shape[1] == 3, f"/mesh/points shape {pts.shape}")
    check(seg.ndim == 2 and seg.shape[1] == 2, f"/mesh/segments shape {seg.shape}")
    check(np.issubdtype(seg.dtype, np.integer), "/mesh/segments not integer")
    s = seg[:]
    check(s.min() >= 0 and s.max() < pts.shape[0], "/mesh/segments outside /mesh/points")
    check(f["mesh/vessel_id"].shape == (n_cells,), "/mesh/vessel_id shape")
    check(f["mesh/x"].shape == (n_cells,), "/mesh/x shape")
    names = f["mesh/vessel_names"].asstr()[:]
    check(all(isinstance(n, str) and n for n in names), f"vessel names {names!r}")
    check(f["mesh/vessel_id"][:].max() < len(names), "vessel_id beyond vessel_names")
    for k, u in (("points", "m"), ("x", "m"), ("segments", "1"), ("vessel_id", "1")):
        check(units(f["mesh/" + k]) == u, f"/mesh/{k} units {units(f['mesh/' + k])!r}")

    present = [n for n in FIELDS if n in f["fields"]]
    check(present[:4] == ["pressure", "flow", "area", "velocity"], f"fields {present}")
    for name in present:
        d = f["fields/" + name]
        check(d.shape == (n_t, n_cells), f"/fields/{name} shape {d.shape}, /time has {n_t}")
        check(d.dtype == np.float64, f"/fields/{name} dtype {d.dtype}")
        check(d.maxshape == (None, n_cells), f"/fields/{name} maxshape {d.maxshape}")
        check(d.chunks is not None and d.compression == "gzip" and d.shuffle,
              f"/fields/{name} chunks {d.chunks} compression {d.compression} shuffle {d.shuffle}")
        check(units(d) == FIELDS[name], f"/fields/{name} units {units(d)!r}")
        full = d[:]
        # rows get their virtual datasets in batches, before the XDMF that names them
        n_vds = len(f["xdmf/" + name])
        check(n_vds == n_t if complete else 1 <= n_vds <= n_t, f"/xdmf/{name} has {n_vds} rows, /time {n_t}")
        for k in range(n_vds):
            v = f[f"xdmf/{name}/{k}"]
            check(v.is_virtual, f"/xdmf/{name}/{k} not virtual")
            check(v.shape == (n_cells,), f"/xdmf/{name}/{k} shape {v.shape}")
            check(np.array_equal(v[:], full[k]), f"/xdmf/{name}/{k} differs from /fields/{name}[{k}]")
            check(units(v) == FIELDS[name], f"/xdmf/{name}/{k} units")
        # rows listed in creation order
        check(list(f["xdmf/" + name].keys()) == [str(k) for k in range(n_vds)], f"/xdmf/{name} order")

    for pname, g in f["probes"].items():
        n = g["time"].shape[0]
        for var, u in PROBE.items():
            check(g[var].shape == (n,) and g[var].maxshape == (None,), f"/probes/{pname}/{var} shape")
            check(units(g[var]) == u, f"/probes/{pname}/{var} units")
        check(n == 0 or np.all(np.diff(g["time"][:]) > 0), f"/probes/{pname}/time not increasing")

    cfg = f["config"]
    text = cfg["input"][()]
    check(isinstance(text.decode() if isinstance(text, bytes) else text, str), "/config/input not text")
    for a in ("version", "git_hash", "case_name"):
        check(isinstance(cfg.attrs.get(a), str), f"/config attribute {a}: {cfg.attrs.get(a)!r}")
    check(f.attrs.get("status") == ("completed" if complete else "running"), f"status {f.attrs.get('status')!r}")

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            check(units(obj) in SI, f"/{name} units {units(obj)!r}")
    f.visititems(visit)

    if pattern:
        i = np.arange(n_cells)
        for k in range(n_t):
            check(t[k] == 0.1 * k, f"/time[{k}] = {t[k]}")
            check(np.array_equal(f["fields/pressure"][k], 1000.0 * k + i), f"pressure row {k}")
        for k in range(len(f["xdmf/pressure"])):
            check(np.array_equal(f[f"xdmf/pressure/{k}"][:], 1000.0 * k + i), f"/xdmf/pressure/{k} values")
        check(list(names) == ["aorta", "left_iliac_\u00e9"], f"vessel names {list(names)}")
        check(sorted(f["probes"]) == ["aortic_root", "iliac_mid"], "probe names")
        for p, pname in enumerate(["aortic_root", "iliac_mid"]):
            j = np.arange(37)
            check(f[f"probes/{pname}/time"].shape == (37,), f"{pname} has 37 samples")
            check(np.array_equal(f[f"probes/{pname}/pressure"][:], 10000.0 + 10.0 * j + 1000.0 * p),
                  f"{pname} pressure")
        check(cfg["input"].asstr()[()] == "mesh: two.yaml\nrun:\n  cycles: 2\n", "/config/input text")
        check(cfg.attrs["case_name"] == "two_vessels", "case_name")
        if complete:
            m = f["metrics/periodicity"]
            check(list(m.keys()) == ["cycle", "relative_change", "max_change"], f"columns {list(m.keys())}")
            check(np.array_equal(m["max_change"][:], [2.0, 102.0, 202.0, 302.0]), "periodicity values")
            check(units(m["max_change"]) == "Pa", "periodicity units")
            check(list(m.attrs["columns"]) == ["cycle", "relative_change", "max_change"], "columns attribute")
    return n_t, n_cells, present


def check_xdmf(h5path, n_t, n_cells, present, complete):
    stem, _ = os.path.splitext(h5path)
    xpath = stem + ".xdmf"
    check(os.path.exists(xpath), f"{xpath} missing")
    if not os.path.exists(xpath):
        return
    root = ET.parse(xpath).getroot()
    check(root.tag == "Xdmf", "root element")
    coll = root.findall("./Domain/Grid")
    check(len(coll) == 1 and coll[0].get("GridType") == "Collection"
          and coll[0].get("CollectionType") == "Temporal", "one Temporal collection")
    grids = coll[0].findall("Grid")
    if complete:
        check(len(grids) == n_t, f"{len(grids)} grids, {n_t} output times")
    else:
        check(1 <= len(grids) <= n_t, f"{len(grids)} grids, {n_t} output times")
    with h5py.File(h5path, "r") as f:
        t = f["time"][:]
        for k, g in enumerate(grids):
            check(g.get("GridType") == "Uniform", f"grid {k} type")
            check(float(g.find("Time").get("Value")) == t[k], f"grid {k} time {g.find('Time').get('Value')} != {t[k]}")
            top = g.find("Topology")
            check(top.get("TopologyType") == "Polyline" and top.get("NodesPerElement") == "2"
                  and int(top.get("NumberOfElements")) == n_cells, f"grid {k} topology")
            check(g.find("Geometry").get("GeometryType") == "XYZ", f"grid {k} geometry")
            attrs = {a.get("Name"): a for a in g.findall("Attribute")}
            check(set(present) | {"vessel_id"} <= set(attrs), f"grid {k} attributes {sorted(attrs)}")
            for a in attrs.values():
                check(a.get("Center") == "Cell", f"grid {k} {a.get('Name')} not cell-centred")
            for item in g.iter("DataItem"):
                check(item.get("Format") == "HDF", f"grid {k} DataItem format {item.get('Format')}")
                fname, _, dpath = item.text.strip().partition(":")
                # relative to the XDMF, the way the readers resolve it
                target = os.path.join(os.path.dirname(os.path.abspath(xpath)), fname)
                check(os.path.samefile(target, h5path), f"grid {k}: {fname} is not {h5path}")
                check(dpath in f and isinstance(f[dpath], h5py.Dataset), f"grid {k}: {dpath} missing")
                if dpath not in f:
                    continue
                d = f[dpath]
                dims = tuple(int(x) for x in item.get("Dimensions").split())
                check(d.shape == dims, f"grid {k}: {dpath} shape {d.shape} != Dimensions {dims}")
                kind = "Int" if np.issubdtype(d.dtype, np.integer) else "Float"
                check(item.get("NumberType") == kind and int(item.get("Precision")) == d.dtype.itemsize,
                      f"grid {k}: {dpath} is {d.dtype}, XDMF says {item.get('NumberType')} {item.get('Precision')}")
            for name in present:
                ref = attrs[name].find("DataItem").text.strip().partition(":")[2]
                check(ref == f"/xdmf/{name}/{k}", f"grid {k} {name} -> {ref}")


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    path = args[0]
    complete = "--complete" in sys.argv
    pattern = "--pattern" in sys.argv
    with h5py.File(path, "r") as f:
        n_t, n_cells, present = check_hdf5(f, pattern, complete)
    check_xdmf(path, n_t, n_cells, present, complete)
    if failures:
        print(f"{path}: {len(failures)} check(s) failed", file=sys.stderr)
        return 1
    print(f"{path}: layout, virtual rows and XDMF ok ({n_t} output times, {n_cells} cells)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
