"""Command-line tests: help, check, a full run and its output layout, --set, bad input
(exit 2 with the expected message), a failing run (exit 1, message names vessel, position
and time, the file written so far stays readable), and an openBF network run unchanged.

Run by CTest with HEMOTREE set to the executable; `python3 -m pytest tests/test_cli.py`.
"""
import glob
import os
import re
import subprocess
import xml.etree.ElementTree as ET

import h5py
import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
EXE = os.environ.get("HEMOTREE", os.path.join(HERE, "..", "build", "hemotree"))
TINY = os.path.join(HERE, "data", "cli", "tiny.yaml")


def run(*args, **kw):
    return subprocess.run([EXE, *args], capture_output=True, text=True, timeout=600, **kw)


@pytest.fixture(scope="module")
def tiny_out(tmp_path_factory):
    d = tmp_path_factory.mktemp("tiny")
    out = str(d / "tiny.h5")
    r = run("run", TINY, "-o", out)
    assert r.returncode == 0, r.stderr
    return out, r


def test_help():
    for args in (["--help"], ["run", "--help"], ["check", "--help"]):
        r = run(*args)
        assert r.returncode == 0
        assert "usage: hemotree" in r.stdout
    assert "--set" in run("run", "--help").stdout
    assert run().returncode == 2
    assert run("frobnicate").returncode == 2
    assert run("run", TINY, "--cycles", "zero").returncode == 2


def test_check_summary():
    r = run("check", TINY)
    assert r.returncode == 0, r.stderr
    assert "3 vessels" in r.stdout and "1 junctions" in r.stdout
    assert "windkessel" in r.stdout and "resistance" in r.stdout


def test_output_layout(tiny_out):
    out, r = tiny_out
    assert "periodic state" in r.stdout
    with h5py.File(out, "r") as f:
        t = f["/time"][:]
        # 2 cycles of 0.8 s at 8 ms: 200 intervals + the initial state
        assert len(t) == 201
        assert np.allclose(np.diff(t), 0.008, rtol=1e-9)
        ncell = f["/mesh/segments"].shape[0]
        assert ncell == 50 + 40 + 40
        for name, unit in (("pressure", "Pa"), ("flow", "m^3/s"), ("area", "m^2"),
                           ("velocity", "m/s"), ("ecmo_fraction", "1")):
            ds = f["/fields/" + name]
            assert ds.shape == (201, ncell), name
            assert ds.dtype == np.float64
            assert ds.chunks is not None and ds.compression is not None
            a = ds.attrs["units"]
            assert (a.decode() if isinstance(a, bytes) else a) == unit
        assert f["/mesh/points"].shape[1] == 3
        assert f["/mesh/vessel_id"].shape == (ncell,)
        names = [n.decode() if isinstance(n, bytes) else n for n in f["/mesh/vessel_names"][:]]
        assert names == ["parent", "left", "right"]
        x = f["/mesh/x"][:]
        assert abs(x[0] - 0.001) < 1e-12  # first cell centre, dx = 2 mm
        p = f["/fields/pressure"]
        # physiological range for this tiny network: between 40 and 200 mmHg after a cycle
        assert 40 * 133.3 < p[150, :].min() and p[150, :].max() < 200 * 133.3
        c = f["/fields/ecmo_fraction"][-1, :]
        assert c.min() >= -1e-12 and c.max() <= 1 + 1e-12 and c.max() > 0.99
        for probe in ("parent_mid", "left_end"):
            g = f["/probes/" + probe]
            n = g["time"].shape[0]
            assert n > 201 and all(g[k].shape == (n,) for k in ("pressure", "flow", "area"))
            assert g["time"][-1] == pytest.approx(1.6)
        cfg = f["/config/input"][()]
        cfg = cfg.decode() if isinstance(cfg, bytes) else cfg
        assert "name: tiny" in cfg
        vol = f["/metrics/volume"]
        assert abs(vol["imbalance"][0]) <= 1e-12 * vol["inflow"][0]
    xdmf = out[:-3] + ".xdmf"
    root = ET.parse(xdmf).getroot()
    grids = root.findall(".//Grid[@GridType='Uniform']")
    assert len(grids) == 201


def test_set_override(tmp_path):
    out = str(tmp_path / "one.h5")
    r = run("run", TINY, "-o", out, "--set", "run.cycles=1", "--quiet")
    assert r.returncode == 0, r.stderr
    with h5py.File(out, "r") as f:
        assert f["/time"].shape[0] == 101
    r = run("run", TINY, "-o", out, "--cycles", "1", "--set", "blood.viscosity=banana")
    assert r.returncode == 2 and "viscosity" in r.stderr


def bad_files():
    return sorted(glob.glob(os.path.join(HERE, "data", "bad", "*.yaml")))


@pytest.mark.parametrize("path", bad_files(), ids=os.path.basename)
def test_bad_input(path):
    with open(path) as fh:
        first = fh.readline()
    m = re.match(r"#\s*expect:\s*(.+)", first)
    assert m, "bad-input file must start with '# expect: <message>'"
    r = run("check", path)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert m.group(1).strip() in r.stderr, r.stderr
    assert os.path.basename(path) in r.stderr  # the message names the file


@pytest.mark.parametrize("thread", ["off", "on"])
def test_failure_keeps_output(tmp_path, thread):
    out = str(tmp_path / "fail.h5")
    # a suction of 2 L/s through an 8 mm artery empties it within a fraction of a second
    r = run("run", TINY, "-o", out, "--set", "inlet.fourier.mean=-2 L/s", "--output-thread", thread)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert re.search(r"run failed at t = [0-9.]+ s", r.stderr), r.stderr
    assert re.search(r"vessel '\w+' at x = [0-9.]+ cm", r.stderr), r.stderr
    with h5py.File(out, "r") as f:
        n = f["/time"].shape[0]
        assert n >= 1
        assert f["/fields/pressure"].shape[0] == n
        status = f.attrs["status"]
        status = status.decode() if isinstance(status, bytes) else status
        assert status.startswith("run failed")


def h5_datasets(path):
    """Every dataset of a file by path, values as numpy arrays (strings as bytes)."""
    out = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset) and not obj.is_virtual:
                out[name] = np.asarray(obj[()])
        f.visititems(visit)
    return out


@pytest.mark.parametrize("case", [TINY, os.path.join(HERE, "data", "heart", "tiny_devices.yaml")])
def test_output_thread_same_file(tmp_path, case):
    # the appends on the writer thread (--output-thread on) or in line: the same calls in the
    # same order, so every dataset is the same, bit for bit (the wall-clock figures aside)
    outs = {}
    for mode in ("off", "on"):
        outs[mode] = str(tmp_path / ("%s.h5" % mode))
        r = run("run", case, "-o", outs[mode], "--cycles", "1", "--quiet", "--output-thread", mode)
        assert r.returncode == 0, r.stderr
    a, b = h5_datasets(outs["off"]), h5_datasets(outs["on"])
    assert sorted(a) == sorted(b)
    assert any(k.startswith(("probes/", "heart/")) for k in a) and any(k.startswith("fields/") for k in a)
    compared = 0
    for k in a:
        if k.startswith("metrics/performance"):
            continue
        assert np.array_equal(a[k], b[k], equal_nan=a[k].dtype.kind == "f"), k
        compared += 1
    assert compared > 10
    r = run("run", case, "--output-thread", "sometimes")
    assert r.returncode == 2 and "--output-thread" in r.stderr


def test_output_thread_ensemble(tmp_path):
    # a launch of three members: the writer thread holds appends of several files while the
    # next member's file is created (the driver waits for it first); each member's file is
    # the same as with the appends in line
    zip_case = os.path.join(HERE, "data", "ensemble", "zip.yaml")
    for mode in ("off", "on"):
        os.makedirs(str(tmp_path / mode))
        r = run("run", zip_case, "-o", str(tmp_path / mode / "e.h5"), "--quiet", "--jobs", "1",
                "--output-thread", mode)
        assert r.returncode == 0, r.stderr
    files = sorted(os.path.basename(p) for p in glob.glob(str(tmp_path / "off" / "e_m*.h5")))
    assert len(files) == 3
    for name in files:
        a, b = h5_datasets(str(tmp_path / "off" / name)), h5_datasets(str(tmp_path / "on" / name))
        assert sorted(a) == sorted(b), name
        for k in a:
            if not k.startswith("metrics/performance"):
                assert np.array_equal(a[k], b[k], equal_nan=a[k].dtype.kind == "f"), (name, k)


@pytest.mark.parametrize("thread", ["off", "on"])
def test_output_write_failure(tmp_path, thread):
    # member 1's fields append at output time 5 fails (a test hook standing in for a full
    # disk): it stops with a message naming the time, its file keeps output times 0..4 and
    # says why it stopped; the other members of the launch complete
    zip_case = os.path.join(HERE, "data", "ensemble", "zip.yaml")
    env = dict(os.environ, HEMOTREE_TEST_REFUSE_FIELDS="1:5")
    out = str(tmp_path / "e.h5")
    r = run("run", zip_case, "-o", out, "--quiet", "--jobs", "1", "--output-thread", thread, env=env)
    assert r.returncode == 1, r.stderr
    assert re.search(r"member 1: writing output: .*fields at t = 0\.040000 s", r.stderr), r.stderr
    for k in range(3):
        with h5py.File(str(tmp_path / ("e_m%d.h5" % k)), "r") as f:
            status = f.attrs["status"]
            status = status.decode() if isinstance(status, bytes) else status
            n = f["/time"].shape[0]
            assert f["/fields/pressure"].shape[0] == n
            if k == 1:
                assert n == 5 and status.startswith("writing output") and "0.040000 s" in status
            else:
                assert n == 201 and status == "completed"


def test_openbf_unchanged(tmp_path):
    src = os.path.join(HERE, "data", "openbf", "cca", "cca.yaml")
    if not os.path.exists(src):
        pytest.fail("tests/data/openbf/cca/cca.yaml missing")
    out = str(tmp_path / "cca.h5")
    r = run("run", src, "-o", out, "--cycles", "1", "--quiet")
    assert r.returncode == 0, r.stderr
    with h5py.File(out, "r") as f:
        p = f["/fields/pressure"][-1, :]
        assert np.all(np.isfinite(p))


def test_bench_json():
    import json
    assert "usage: hemotree bench" in run("bench", "--help").stdout
    assert run("bench", "--cycles", "0").returncode == 2
    r = run("bench", "--cycles", "1", "--json", "--backend", "cpu")
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    assert res["precision"] == "float64"
    nets = {n["network"]: n for n in res["networks"]}
    assert len(nets) == 4
    # mesh sizes as `hemotree check` reports them for the same cases (ADAN56: 8859 cells of
    # openBF's network + 250 of aortic_sinus and the coronaries)
    assert nets["ADAN56"]["cells"] == 9109 and nets["aortic bifurcation"]["cells"] == 256
    for n in nets.values():
        assert n["backend"] == "cpu" and n["steps"] > 1000
        assert n["cell_updates_per_s"] == pytest.approx(n["steps"] * n["cells"] / n["wall_s"], rel=1e-5)


def test_bench_members():
    # an ensemble launch of identical members: every member takes the single run's steps,
    # so cell updates are members x steps x cells, and member-cycles are members x cycles
    import json
    r = run("bench", "--cycles", "1", "--json", "--backend", "cpu", "--members", "1,3", "--networks", "vessel")
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)["networks"]
    assert [n["members"] for n in res] == [1, 3]
    assert res[0]["steps"] == res[1]["steps"]
    for n in res:
        assert n["cell_updates_per_s"] == pytest.approx(n["members"] * n["steps"] * n["cells"] / n["wall_s"], rel=1e-5)
        assert n["member_cycles_per_s"] == pytest.approx(n["members"] / n["wall_s"], rel=1e-5)
    for bad in ("0", "2,x", ""):
        assert run("bench", "--members", bad).returncode == 2
    r = run("bench", "--networks", "vessel", "--cycles", "1", "--backend", "cuda", "--members", "2")
    if r.returncode != 0:  # no device here: a clear refusal, not a crash
        assert r.returncode == 2 and "--backend cuda" in r.stderr, r.stderr
