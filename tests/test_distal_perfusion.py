"""The distal perfusion cannula of a femoral VA-ECMO (docs/devices.md): a fixed share of the
pump flow enters the leg distal to the return tip (Foltan et al., Perfusion 2019: its flow
rises linearly with the ECMO flow, up to ~10 %). Coupled runs of tests/data/heart: the
closed loop still conserves its volume, the 1D tree's account still balances (the whole pump
flow enters it), the leg distal to the tip carries more ECMO blood than without the cannula,
and a cannula in the tip's own cell or bad keys are refused (exit 2) naming the key.
The exact split between the two cells is checked in test_devices (test_ecmo_sources).

Run by CTest with HEMOTREE set to the executable."""
import os
import subprocess

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
EXE = os.environ.get("HEMOTREE", os.path.join(HERE, "..", "build", "hemotree"))
BASE = os.path.join(HERE, "data", "heart", "tiny_devices.yaml")
DPC = os.path.join(HERE, "data", "heart", "tiny_devices_dpc.yaml")


def run(*args):
    return subprocess.run([EXE, *args], capture_output=True, text=True, timeout=600)


def iliac_mean_flows(path):
    """Beat-mean flow (L/min) of each common_iliac_R cell over the last complete beat."""
    with h5py.File(path, "r") as f:
        names = [n.decode() for n in f["/mesh/vessel_names"][:]]
        cells = np.where(f["/mesh/vessel_id"][:] == names.index("common_iliac_R"))[0]
        t = f["/time"][:]
        rows = t >= f["/metrics/cycles/t_start"][-1] - 1e-12
        q = f["/fields/flow"][:][rows][:, cells]
        return np.trapz(q, t[rows], axis=0) / (t[rows][-1] - t[rows][0]) * 6e4


def test_coupled_run(tmp_path):
    out = {}
    for name, case in (("base", BASE), ("dpc", DPC)):
        p = str(tmp_path / (name + ".h5"))
        r = run("run", case, "-o", p, "--cycles", "3", "--quiet")
        assert r.returncode == 0, r.stderr
        out[name] = p
    for p in out.values():
        with h5py.File(p, "r") as f:
            vol = f["/metrics/volume"]
            assert abs(vol["total_relative_drift"][0]) < 1e-9
            assert abs(vol["imbalance"][0]) < 1e-12 * vol["stored_start"][0]
    # the tip cell (4 cm, cell 4) now receives 90 % of the 2 L/min: a source cell's centre
    # flow is its inflow plus half its source, so its mean falls by f Q / 2 = 0.1 L/min,
    # while the cells upstream of it carry what they did
    base, dpc = iliac_mean_flows(out["base"]), iliac_mean_flows(out["dpc"])
    assert np.allclose(dpc[:4], base[:4], rtol=0.01), (base, dpc)
    assert abs((base[4] - dpc[4]) - 0.1) < 0.02, (base, dpc)


def test_bad_input(tmp_path):
    text = open(DPC).read()
    for old, new, key, what in [
        ("x: 5.5 cm, fraction: 0.1", "x: 5.5 cm, fraction: 0.9", "fraction", "(0, 0.5]"),
        ("x: 5.5 cm, fraction: 0.1", "x: 5.5 cm", "fraction", "missing"),
        ("x: 5.5 cm, fraction: 0.1", "x: 9 cm, fraction: 0.1", "x", "position"),
        ("vessel: common_iliac_R, x: 5.5 cm", "vessel: femoral_R, x: 5.5 cm", "vessel", "femoral_R"),
        ("fraction: 0.1}", "fraction: 0.1, colour: red}", "colour", "unknown key"),
        ("x: 5.5 cm, fraction: 0.1", "x: 4.2 cm, fraction: 0.1", "distal_perfusion", "tip"),
    ]:
        bad = tmp_path / "bad.yaml"
        bad.write_text(text.replace(old, new))
        r = run("check", str(bad))
        assert r.returncode == 2, (new, r.stdout, r.stderr)
        assert "distal_perfusion" in r.stderr and key in r.stderr and what in r.stderr, (new, r.stderr)
