"""Parameter ensembles (docs/input.md, "Ensembles"): member k equals the single run with
member k's overrides bitwise; the summary lists every member with its values in SI and its
status; a bad member fails alone (exit 1); zip vs product counts; validation errors exit 2
naming the key; `check` prints the member count.

Run by CTest with HEMOTREE set to the executable; `python3 -m pytest tests/test_ensemble.py`.
"""
import csv
import os
import re
import subprocess

import h5py
import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
EXE = os.environ.get("HEMOTREE", os.path.join(HERE, "..", "build", "hemotree"))
DATA = os.path.join(HERE, "data", "ensemble")
PRODUCT = os.path.join(DATA, "product.yaml")
ZIP = os.path.join(DATA, "zip.yaml")
BAD_MEMBER = os.path.join(DATA, "bad_member.yaml")


def run(*args):
    return subprocess.run([EXE, *args], capture_output=True, text=True, timeout=600)


def read_csv(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def product(tmp_path_factory):
    d = tmp_path_factory.mktemp("product")
    out = str(d / "ens.h5")
    r = run("run", PRODUCT, "-o", out, "--cycles", "1", "--jobs", "2")
    assert r.returncode == 0, r.stderr
    return d, r


def test_product_outputs_and_summary(product):
    d, r = product
    rows = read_csv(str(d / "ens_summary.csv"))
    assert [int(x["member"]) for x in rows] == list(range(6))
    # row-major, the first parameter slowest; values in SI
    r1 = [1.0e8, 1.0e8, 1.2e8, 1.2e8, 0.9e8, 0.9e8]
    mu = [3e-3, 5e-3] * 3
    for k, row in enumerate(rows):
        assert float(row["outlets.left.R1"]) == pytest.approx(r1[k], rel=1e-15)
        assert float(row["blood.viscosity"]) == pytest.approx(mu[k], rel=1e-15)
        assert row["status"] == "0" and row["message"] == ""
        assert os.path.exists(row["output"]) and row["output"].endswith("ens_m%d.h5" % k)
        assert os.path.exists(row["output"][:-3] + ".xdmf")
        assert abs(float(row["volume_imbalance"])) < 1e-15
    assert len(re.findall(r"\] member \d .*: ok", r.stderr)) == 6  # one progress line per member
    with h5py.File(str(d / "ens_summary.h5"), "r") as f:
        g = f["/members"]
        assert list(g["member"][:]) == list(range(6))
        assert np.allclose(g["outlets.left.R1"][:], r1, rtol=1e-15)
        assert np.allclose(g["blood.viscosity"][:], mu, rtol=1e-15)
        assert list(g["status"][:]) == [0] * 6
        assert f.attrs["members"] == 6


def assert_same_run(path_a, path_b):
    """Every field, probe and output time bitwise equal; returns member a's step count."""
    with h5py.File(path_a, "r") as a, h5py.File(path_b, "r") as b:
        for group in ("/fields", "/probes"):
            da, db = datasets(a, group), datasets(b, group)
            assert sorted(da) == sorted(db) and da
            for name in da:
                assert np.array_equal(da[name], db[name]), (path_a, group, name)
        assert np.array_equal(a["/time"][:], b["/time"][:])
        return int(a["/metrics/performance/steps"][0])


def datasets(f, group):
    out = {}
    f[group].visititems(lambda name, obj: out.__setitem__(name, obj[()]) if isinstance(obj, h5py.Dataset) else None)
    return out


@pytest.mark.parametrize("k,sets", [
    (0, ["outlets.left.R1=1.0e8", "blood.viscosity=0.003"]),
    (3, ["outlets.left.R1=1.2e8", "blood.viscosity=0.005"]),
    (4, ["outlets.left.R1=0.9e8 Pa s/m^3", "blood.viscosity=0.003"]),
    (5, ["outlets.left.R1=0.9e8 Pa s/m^3", "blood.viscosity=0.005"]),
])
def test_member_equals_single_run_bitwise(product, tmp_path, k, sets):
    d, _ = product
    single = str(tmp_path / "single.h5")
    args = ["run", os.path.join(HERE, "data", "cli", "tiny.yaml"), "-o", single, "--cycles", "1", "--quiet"]
    for s in sets:
        args += ["--set", s]
    r = run(*args)
    assert r.returncode == 0, r.stderr
    assert_same_run(str(d / ("ens_m%d.h5" % k)), single)


def test_bad_member_fails_alone(tmp_path):
    out = str(tmp_path / "bad.h5")
    r = run("run", BAD_MEMBER, "-o", out, "--cycles", "1")
    assert r.returncode == 1, (r.stdout, r.stderr)
    rows = read_csv(str(tmp_path / "bad_summary.csv"))
    assert [x["status"] for x in rows] == ["0", "1", "0"]
    assert float(rows[1]["outlets.right.R"]) == -1e8
    assert "outlets.right.R" in rows[1]["message"] and "positive" in rows[1]["message"]
    assert rows[1]["exit_code"] == "2"
    for k in (0, 2):
        with h5py.File(rows[k]["output"], "r") as f:
            assert f.attrs["status"] in ("completed", b"completed")
    assert "FAILED" in r.stderr


def test_unstable_member_fails_alone(tmp_path):
    # a suction of 2 L/s empties the parent artery (as in test_cli.py): exit 1 for that member
    case = tmp_path / "unstable.yaml"
    text = open(ZIP).read().split("\nensemble:")[0] + "\n"
    case.write_text(text + "ensemble:\n  parameters:\n    inlet.fourier.mean: [30 mL/s, -2 L/s]\n")
    r = run("run", str(case), "-o", str(tmp_path / "u.h5"), "--cycles", "1")
    assert r.returncode == 1, r.stderr
    rows = read_csv(str(tmp_path / "u_summary.csv"))
    assert [x["status"] for x in rows] == ["0", "1"]
    assert rows[1]["exit_code"] == "1" and "run failed at t" in rows[1]["message"]


def test_zip_vs_product(tmp_path):
    r = run("check", ZIP)
    assert r.returncode == 0, r.stderr
    assert "3 members (zip" in r.stdout
    r = run("check", ZIP, "--set", "ensemble.combine=product")
    assert r.returncode == 0, r.stderr
    assert "9 members (product" in r.stdout
    r = run("run", ZIP, "-o", str(tmp_path / "z.h5"), "--cycles", "1", "--quiet")
    assert r.returncode == 0, r.stderr
    rows = read_csv(str(tmp_path / "z_summary.csv"))
    assert [float(x["blood.viscosity"]) for x in rows] == pytest.approx([3e-3, 4e-3, 5e-3], rel=1e-15)


def test_check_prints_members():
    r = run("check", PRODUCT)
    assert r.returncode == 0, r.stderr
    assert "6 members (product of 2 parameters: 3 x 2 values)" in r.stdout
    assert "outlets.left.R1" in r.stdout and "0.9e8 Pa s/m^3" in r.stdout
    r = run("check", BAD_MEMBER)
    assert r.returncode == 2 and "1 of 3" in r.stderr


BAD = {
    "unknown_key": ("    blood.viscosty: [3 mPa s, 4 mPa s]\n", "blood.viscosty", "unknown key"),
    "empty_list": ("    outlets.left.R1: []\n", "outlets.left.R1", "empty"),
    "count_zero": ("    blood.viscosity: {from: 3 mPa s, to: 5 mPa s, count: 0}\n", "blood.viscosity.count",
                   "expected an integer"),
    "non_numeric": ("    outlets.left.R1: [1e8, banana]\n", "outlets.left.R1", "expected a number"),
    "mixed_dims": ("    outlets.left.R1: [1e8 Pa s/m^3, 3 mmHg]\n", "outlets.left.R1", "different dimension"),
    "zip_unequal": ("    outlets.left.R1: [1e8, 2e8]\n    blood.viscosity: [3 mPa s, 4 mPa s, 5 mPa s]\n",
                    "blood.viscosity", "same number of values"),
    "too_many": ("    outlets.left.R1: {from: 1e8, to: 2e8, count: 1000}\n"
                 "    outlets.right.R: {from: 8e8, to: 9e8, count: 1000}\n", "ensemble.parameters", "100000"),
    "all_bad": ("    outlets.right.R: [-1, -2]\n", "outlets.right.R", "no value"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_validation(tmp_path, name):
    body, key, what = BAD[name]
    case = tmp_path / (name + ".yaml")
    text = open(PRODUCT).read().split("\nensemble:")[0] + "\n"
    combine = "  combine: zip\n" if name == "zip_unequal" else ""
    case.write_text(text + "ensemble:\n" + combine + "  parameters:\n" + body)
    for cmd in ("check", "run"):
        r = run(cmd, str(case), "-o", str(tmp_path / "x.h5")) if cmd == "run" else run(cmd, str(case))
        assert r.returncode == 2, (cmd, r.stdout, r.stderr)
        assert re.search(r"%s:\d+: key '[^']*%s" % (re.escape(name + ".yaml"), re.escape(key)), r.stderr), r.stderr
        assert what in r.stderr, r.stderr
    assert not os.path.exists(str(tmp_path / "x_summary.csv"))


def test_openbf_with_ensemble_refused(tmp_path):
    src = os.path.join(HERE, "data", "openbf", "cca", "cca.yaml")
    case = tmp_path / "cca.yaml"
    case.write_text(open(src).read() + "\nensemble:\n  parameters:\n    blood.mu: [0.004, 0.005]\n")
    for f in os.listdir(os.path.dirname(src)):
        if f != "cca.yaml":
            os.symlink(os.path.join(os.path.dirname(src), f), str(tmp_path / f))
    r = run("check", str(case))
    assert r.returncode == 2 and "ensemble" in r.stderr and "openBF" in r.stderr, r.stderr


def test_members_with_their_own_time_step_share_a_launch(tmp_path):
    # stiffer walls: faster waves, a smaller CFL step. Each member keeps its own dt in the
    # launch, so each still equals its single run bitwise; a finer mesh (another network
    # shape) gets a launch of its own.
    case = tmp_path / "stiff.yaml"
    text = open(PRODUCT).read().split("\nensemble:")[0] + "\n"
    case.write_text(text + "ensemble:\n  combine: zip\n  parameters:\n"
                    "    vessels.parent.E: [500 kPa, 2000 kPa, 900 kPa, 900 kPa]\n"
                    "    numerics.dx: [2 mm, 2 mm, 2 mm, 1 mm]\n")
    out = str(tmp_path / "s.h5")
    r = run("run", str(case), "-o", out, "--cycles", "1")
    assert r.returncode == 0, r.stderr
    launches = re.findall(r"launch: (\d+) members? from member (\d+)", r.stderr)
    assert launches == [("3", "0"), ("1", "3")], r.stderr
    steps = []
    for k, sets in enumerate([("500 kPa", "2 mm"), ("2000 kPa", "2 mm"), ("900 kPa", "2 mm"), ("900 kPa", "1 mm")]):
        single = str(tmp_path / ("single%d.h5" % k))
        args = ["run", os.path.join(HERE, "data", "cli", "tiny.yaml"), "-o", single, "--cycles", "1", "--quiet",
                "--set", "vessels.parent.E=" + sets[0], "--set", "numerics.dx=" + sets[1]]
        r = run(*args)
        assert r.returncode == 0, r.stderr
        steps.append(assert_same_run(str(tmp_path / ("s_m%d.h5" % k)), single))
    # the members really stepped differently: a stiffer wall takes more steps
    assert steps[1] > steps[2] > steps[0], steps


# ---------------------------------------------------------------- periodic-state stop
TINY = os.path.join(HERE, "data", "cli", "tiny.yaml")
PER_CYCLE = 100  # tiny.yaml: period 0.8 s, output every 8 ms


def periodicity(path):
    with h5py.File(path, "r") as f:
        g = f["/metrics/periodicity"]
        return list(g["cycle"][:].astype(int)), list(g["relative_change"][:])


@pytest.fixture(scope="module")
def thirty_cycles(tmp_path_factory):
    """tiny.yaml for 30 cycles without stopping: the reference the stopped runs are cut from."""
    out = str(tmp_path_factory.mktemp("full") / "full.h5")
    r = run("run", TINY, "-o", out, "--cycles", "30", "--quiet")
    assert r.returncode == 0, r.stderr
    return out


def first_within(changes_by_cycle, tol):
    cycles, change = changes_by_cycle
    return next(c for c, x in zip(cycles, change) if x <= tol)


@pytest.mark.parametrize("tol", ["1e-2", "1e-3", "1e-5"])
def test_stop_when_periodic(tmp_path, thirty_cycles, tol):
    """The run ends at the first cycle whose change from the previous one is within the
    tolerance: its file is the 30-cycle run's, cut there (bitwise), nothing after it."""
    full = periodicity(thirty_cycles)
    n = first_within(full, float(tol))
    assert 2 <= n < 30
    out = str(tmp_path / "stop.h5")
    r = run("run", TINY, "-o", out, "--cycles", "30", "--set", "run.stop_when_periodic=true",
            "--set", "run.convergence_tolerance=" + tol)
    assert r.returncode == 0, r.stderr
    assert "periodic state: reached, cycle %d " % n in r.stdout, r.stdout
    cycles, change = periodicity(out)
    assert cycles[-1] == n and change[-1] <= float(tol) < change[-2]
    with h5py.File(out, "r") as a, h5py.File(thirty_cycles, "r") as b:
        nt = n * PER_CYCLE + 1  # t = 0 and every output time of n cycles
        assert len(a["/time"]) == nt and a["/time"][-1] == pytest.approx(0.8 * n, rel=1e-12)
        assert np.array_equal(a["/time"][:], b["/time"][:nt])
        for name in ("pressure", "flow", "area"):
            assert np.array_equal(a["/fields/" + name][:], b["/fields/" + name][:nt]), name
        assert a["/metrics/performance/simulated_seconds"][0] == pytest.approx(0.8 * n, rel=1e-12)
        assert a.attrs["status"] in ("completed", b"completed")
    # the flag is a boolean
    r = run("run", TINY, "-o", out, "--set", "run.stop_when_periodic=maybe")
    assert r.returncode == 2 and "run.stop_when_periodic" in r.stderr, r.stderr


def test_stacked_members_stop_alone(tmp_path, thirty_cycles):
    """Members of one launch with different tolerances stop at different cycles; each equals
    its single run bitwise, and the summary gives each member's simulated time."""
    ens = tmp_path / "tol.yaml"
    ens.write_text(open(TINY).read() + "ensemble:\n  combine: zip\n  parameters:\n"
                   "    run.convergence_tolerance: [1e-2, 1e-3, 1e-5]\n")
    out = str(tmp_path / "tol.h5")
    r = run("run", str(ens), "-o", out, "--cycles", "30", "--set", "run.stop_when_periodic=true", "--jobs", "2")
    assert r.returncode == 0, r.stderr
    full = periodicity(thirty_cycles)
    rows = read_csv(str(tmp_path / "tol_summary.csv"))
    stops = []
    for k, tol in enumerate(["1e-2", "1e-3", "1e-5"]):
        n = first_within(full, float(tol))
        stops.append(n)
        assert float(rows[k]["simulated_seconds"]) == pytest.approx(0.8 * n, rel=1e-12)
        single = str(tmp_path / ("single%d.h5" % k))
        r = run("run", TINY, "-o", single, "--cycles", "30", "--quiet", "--set", "run.stop_when_periodic=true",
                "--set", "run.convergence_tolerance=" + tol)
        assert r.returncode == 0, r.stderr
        assert_same_run(rows[k]["output"], single)
    assert stops[0] < stops[1] < stops[2]


def test_values_in_any_unit_the_loader_knows(tmp_path):
    """Ensemble values take the units of their key's dimension, elastances ("mmHg/mL")
    included: each member's SI value is the single run's."""
    heart = os.path.join(HERE, "data", "heart", "tiny_heart.yaml")
    ens = tmp_path / "ees.yaml"
    ens.write_text(open(heart).read() + 'ensemble:\n  parameters:\n    heart.lv.Ees: ["0.6 mmHg/mL", "1.2 mmHg/mL"]\n')
    r = run("check", str(ens))
    assert r.returncode == 0, r.stderr
    out = str(tmp_path / "ees.h5")
    r = run("run", str(ens), "-o", out, "--cycles", "3")
    assert r.returncode == 0, r.stderr
    rows = read_csv(str(tmp_path / "ees_summary.csv"))
    mmhg_per_ml = 133.322387415 / 1e-6
    assert [float(x["heart.lv.Ees"]) for x in rows] == pytest.approx([0.6 * mmhg_per_ml, 1.2 * mmhg_per_ml],
                                                                   rel=1e-15)
    # a stronger LV ejects more: the summary's last-beat stroke volume says so
    assert float(rows[1]["stroke_volume"]) > float(rows[0]["stroke_volume"]) > 0
    with h5py.File(rows[0]["output"], "r") as f:
        assert f["/metrics/cycles/stroke_volume"][-1] == float(rows[0]["stroke_volume"])
