"""MPI sweeps (docs/input.md, "Sweeps"): member k of a sweep over 2 or 3 ranks equals the
single run with its overrides bitwise; a bad member fails alone and the summary names it; a
sweep killed partway and run again skips the members it finished and ends as an
uninterrupted one; a rows: CSV sweep; `hemotree sweep` without a launcher is one rank.

Run by CTest (tests/mpi.cmake) with HEMOTREE set to the executable and MPIRUN to FindMPI's
MPIEXEC_EXECUTABLE; `python3 -m pytest tests/test_sweep.py` finds build/hemotree and mpirun.
"""
import csv
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time

import h5py
import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from test_ensemble import assert_same_run  # noqa: E402  (fields, probes and time, bitwise)

EXE = os.environ.get("HEMOTREE", os.path.join(HERE, "..", "build", "hemotree"))
MPIRUN = os.environ.get("MPIRUN") or shutil.which("mpirun") or "mpirun"
NP_FLAG = os.environ.get("MPIEXEC_NUMPROC_FLAG") or "-n"
TINY = os.path.join(HERE, "data", "cli", "tiny.yaml")

R1 = ["0.9e8", "1.0e8", "1.2e8 Pa s/m^3"]
MU = ["3 mPa s", "3.5 mPa s", "4 mPa s", "5 mPa s"]
MEMBERS = [(r, m) for r in R1 for m in MU]  # product: the first parameter slowest
ENV = dict(os.environ, OMP_NUM_THREADS="1")


def mpi_prefix(n):
    """The launcher for n ranks: Open MPI wants --oversubscribe beyond the cores, and
    --allow-run-as-root as root (CI)."""
    cmd = [MPIRUN, NP_FLAG, str(n)] + shlex.split(os.environ.get("MPIEXEC_PREFLAGS", ""))
    try:
        ver = subprocess.run([MPIRUN, "--version"], capture_output=True, text=True, timeout=30).stdout
    except OSError:
        ver = ""
    if "Open MPI" in ver or "OpenRTE" in ver:
        cmd += ["--oversubscribe"]
        if os.geteuid() == 0:
            cmd += ["--allow-run-as-root"]
    return cmd


def sweep_cmd(sweep, out, *extra, ranks=None):
    cmd = [EXE, "sweep", str(sweep), "-o", str(out), "--cycles", "1", *extra]
    return (mpi_prefix(ranks) if ranks else []) + cmd


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=ENV, **kw)


def read_csv(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def progress_rows(out):
    """The member lines of progress.csv (its first line is the definition, then the header)."""
    with open(os.path.join(str(out), "progress.csv")) as fh:
        lines = fh.read().splitlines()
    assert lines[0].startswith("# hemotree sweep progress 1: members "), lines[0]
    return lines[2:]


def write_sweep(d, body, name="sweep.yaml"):
    """A sweep file in d whose case: is tiny.yaml, relative to it (as users write it)."""
    path = d / name
    path.write_text("case: %s\n%s" % (os.path.relpath(TINY, str(d)), body))
    return path


PRODUCT = ("combine: product\nparameters:\n  outlets.left.R1: [%s]\n  blood.viscosity: [%s]\n"
           % (", ".join('"%s"' % v for v in R1), ", ".join(MU)))


@pytest.fixture(scope="module")
def singles(tmp_path_factory):
    """The 12 members as single runs."""
    d = tmp_path_factory.mktemp("singles")
    paths = []
    for k, (r1, mu) in enumerate(MEMBERS):
        p = str(d / ("s%d.h5" % k))
        r = run([EXE, "run", TINY, "-o", p, "--cycles", "1", "--quiet",
                 "--set", "outlets.left.R1=" + r1, "--set", "blood.viscosity=" + mu])
        assert r.returncode == 0, r.stderr
        paths.append(p)
    return paths


@pytest.mark.parametrize("ranks", [2, 3])
def test_members_equal_single_runs(tmp_path, singles, ranks):
    sweep = write_sweep(tmp_path, PRODUCT)
    out = tmp_path / "out"
    r = run(sweep_cmd(sweep, out, "--batch", "2", ranks=ranks))
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert "over %d ranks" % ranks in r.stdout
    rows = read_csv(str(out / "summary.csv"))
    assert [int(x["member"]) for x in rows] == list(range(12))
    for k, row in enumerate(rows):
        assert row["status"] == "0" and row["message"] == "", row
        assert row["output"] == str(out / ("m%02d.h5" % k))
        assert os.path.exists(row["output"][:-3] + ".xdmf")
        assert_same_run(row["output"], singles[k])
    assert float(rows[11]["outlets.left.R1"]) == 1.2e8 and float(rows[11]["blood.viscosity"]) == 5e-3
    assert len(progress_rows(out)) == 12
    with h5py.File(str(out / "summary.h5"), "r") as f:
        assert list(f["/members/member"][:]) == list(range(12))
        assert list(f["/members/status"][:]) == [0] * 12


def test_bad_member_fails_alone(tmp_path):
    sweep = write_sweep(tmp_path, "combine: zip\nparameters:\n  outlets.right.R: [8.5e8, -1e8, 9e8]\n")
    out = tmp_path / "bad"
    r = run(sweep_cmd(sweep, out, ranks=2))
    assert r.returncode == 1, (r.stdout, r.stderr)
    rows = read_csv(str(out / "summary.csv"))
    assert [x["status"] for x in rows] == ["0", "1", "0"]
    assert rows[1]["exit_code"] == "2" and rows[1]["output"] == ""
    assert "outlets.right.R" in rows[1]["message"] and "positive" in rows[1]["message"]
    assert "FAILED" in r.stderr
    for k in (0, 2):
        with h5py.File(rows[k]["output"], "r") as f:
            assert f.attrs["status"] in ("completed", b"completed")


def session_pids(sid):
    """The processes of session sid (mpirun and its ranks, which Open MPI puts in process
    groups of their own)."""
    pids = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % p) as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid:
            pids.append(int(p))
    return pids


# A finer mesh: about half a second per member, so that the sweep can be killed partway.
FINE = ["--set", "numerics.dx=1 mm", "--batch", "1"]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The uninterrupted sweep, run without a launcher (one rank)."""
    d = tmp_path_factory.mktemp("ref")
    sweep = write_sweep(d, PRODUCT)
    out = d / "ref"
    r = run(sweep_cmd(sweep, out, *FINE))
    assert r.returncode == 0, (r.stdout, r.stderr)
    return out


def test_without_launcher_is_one_rank(reference, tmp_path):
    rows = read_csv(str(reference / "summary.csv"))
    assert len(rows) == 12 and all(x["status"] == "0" for x in rows)
    single = str(tmp_path / "single.h5")
    r = run([EXE, "run", TINY, "-o", single, "--cycles", "1", "--quiet", "--set", "numerics.dx=1 mm",
             "--set", "outlets.left.R1=" + R1[1], "--set", "blood.viscosity=" + MU[2]])
    assert r.returncode == 0, r.stderr
    assert_same_run(str(reference / "m06.h5"), single)


def test_kill_and_restart(tmp_path, reference):
    sweep = write_sweep(tmp_path, PRODUCT)
    out = tmp_path / "out"
    cmd = sweep_cmd(sweep, out, *FINE, ranks=2)
    log = open(str(tmp_path / "first.log"), "w")
    p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=ENV, start_new_session=True)
    prog = out / "progress.csv"
    t0 = time.time()
    try:
        while time.time() - t0 < 120:
            if prog.exists() and len(prog.read_text().splitlines()) >= 2 + 3:
                break
            assert p.poll() is None, open(str(tmp_path / "first.log")).read()
            time.sleep(0.02)
    finally:
        # the whole job, as a batch system ends it
        for pid in session_pids(p.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        p.wait(timeout=60)
        deadline = time.time() + 30
        while session_pids(p.pid) and time.time() < deadline:
            time.sleep(0.05)
        log.close()
    before = progress_rows(out)
    assert 3 <= len(before) < 12, "the sweep was not killed partway: %d members finished" % len(before)
    done = [int(line.split(",")[0]) for line in before]
    mtimes = {k: os.stat(str(out / ("m%02d.h5" % k))).st_mtime_ns for k in done}
    # a line cut short by the kill: its member is simply run again
    todo = sorted(set(range(12)) - set(done))
    with open(str(prog), "a") as fh:
        fh.write("%d,0,1.5e-2" % todo[-1])

    r = run(cmd)
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert "%d members finished in an earlier run" % len(done) in r.stdout, r.stdout
    after = progress_rows(out)
    assert after[:len(before)] == before  # kept as they were
    again = [int(line.split(",")[0]) for line in after[len(before):]]
    assert sorted(again) == todo  # only the rest ran
    for k in done:
        assert os.stat(str(out / ("m%02d.h5" % k))).st_mtime_ns == mtimes[k], k
    # the results of an uninterrupted sweep
    for k in range(12):
        assert_same_run(str(out / ("m%02d.h5" % k)), str(reference / ("m%02d.h5" % k)))
    rows, ref = read_csv(str(out / "summary.csv")), read_csv(str(reference / "summary.csv"))
    assert len(rows) == 12
    for a, b in zip(rows, ref):
        for col in ("member", "outlets.left.R1", "blood.viscosity", "status", "exit_code", "volume_imbalance",
                    "periodicity_change", "message"):
            assert a[col] == b[col], (col, a, b)

    # the same directory with another definition is refused
    r = run(sweep_cmd(sweep, out, "--set", "numerics.dx=2 mm", "--batch", "1"))
    assert r.returncode == 2 and "another sweep" in r.stderr, r.stderr
    assert progress_rows(out) == after


def test_killed_launch_continues_from_its_checkpoint(tmp_path, reference):
    """--checkpoint-every: a launch killed after its checkpoint continues from it when the
    sweep is run again (not from t = 0), and the results are the uninterrupted sweep's,
    bitwise; a checkpoint that is not the launch's (another --batch) is not used."""
    sweep = write_sweep(tmp_path, PRODUCT)
    out = tmp_path / "out"
    args = ["--set", "numerics.dx=1 mm", "--checkpoint-every", "0.2 s"]
    # one worker, launches of 4 stacked members; the first one ends (as if killed: _exit,
    # nothing closed) 3 output times after its second checkpoint, at t = 0.4 s
    cmd = sweep_cmd(sweep, out, *args, "--batch", "4", ranks=2)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                       env=dict(ENV, HEMOTREE_TEST_ABORT_AFTER_CKPT="2+3"))
    assert r.returncode != 0, (r.stdout, r.stderr)
    ckpt = out / "m00.ckpt"
    assert ckpt.exists() and progress_rows(out) == []
    r = run(cmd)
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert "member 0 and the launch's others: continuing from t = 0.4 s" in r.stderr, r.stderr
    assert not list(out.glob("*.ckpt")), list(out.glob("*.ckpt"))  # removed as each launch ended
    for k in range(12):
        assert_same_run(str(out / ("m%02d.h5" % k)), str(reference / ("m%02d.h5" % k)))
    rows, ref = read_csv(str(out / "summary.csv")), read_csv(str(reference / "summary.csv"))
    for a, b in zip(rows, ref):
        for col in ("member", "status", "volume_imbalance", "periodicity_change", "simulated_seconds"):
            assert a[col] == b[col], (col, a, b)

    # killed again, then run with launches of 3: m00.ckpt holds 4 members, so it is not this
    # launch's; the members start from t = 0 and still end as the uninterrupted sweep
    shutil.rmtree(str(out))
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                       env=dict(ENV, HEMOTREE_TEST_ABORT_AFTER_CKPT="1"))
    assert r.returncode != 0 and ckpt.exists()
    r = run(sweep_cmd(sweep, out, *args, "--batch", "3", ranks=2))
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert "m00.ckpt not used, starting from t = 0" in r.stderr and "another case" in r.stderr, r.stderr
    assert "continuing" not in r.stderr
    for k in range(12):
        assert_same_run(str(out / ("m%02d.h5" % k)), str(reference / ("m%02d.h5" % k)))


@pytest.mark.parametrize("thread", ["off", "on"])
def test_output_failure_survives_a_checkpoint(tmp_path, thread):
    """A member whose fields append fails (a test hook standing in for a full disk) at an
    output time with a checkpoint is recorded failed in that checkpoint (the writer thread's
    queue is drained first): the sweep killed after it and run again keeps the member failed
    with its message and its file as it was, and completes the others."""
    sweep = write_sweep(tmp_path, "combine: zip\nparameters:\n  run.convergence_tolerance: [1e-2, 1e-3, 1e-5]\n")
    out = tmp_path / "out"
    cmd = [EXE, "sweep", str(sweep), "-o", str(out), "--cycles", "1", "--checkpoint-every", "0.008 s",
           "--quiet", "--output-thread", thread]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                       env=dict(ENV, HEMOTREE_TEST_REFUSE_FIELDS="1:5", HEMOTREE_TEST_ABORT_AFTER_CKPT="5"))
    assert r.returncode == 3, (r.stdout, r.stderr)
    assert "member 1: writing output" in r.stderr, r.stderr
    r = run(cmd)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "continuing from t = 0.04 s" in r.stderr, r.stderr
    rows = read_csv(str(out / "summary.csv"))
    assert [x["status"] for x in rows] == ["0", "1", "0"], rows
    assert "fields at t = 0.040000 s not written" in rows[1]["message"]
    for k, n in ((0, 101), (1, 5), (2, 101)):
        with h5py.File(str(out / ("m%d.h5" % k)), "r") as f:
            assert f["/time"].shape[0] == n and f["/fields/pressure"].shape[0] == n


def test_members_stop_at_their_periodic_state(tmp_path):
    """run.stop_when_periodic in a sweep: each member ends at its own periodic state (the
    first cycle within its tolerance), and the summary gives its simulated time and
    periodicity. The members stop at different cycles: the tolerance is the parameter."""
    sweep = write_sweep(tmp_path, "combine: zip\nparameters:\n  run.convergence_tolerance: [1e-2, 1e-4]\n")
    out = tmp_path / "per"
    r = run([*mpi_prefix(2), EXE, "sweep", str(sweep), "-o", str(out), "--cycles", "40",
             "--set", "run.stop_when_periodic=true"])
    assert r.returncode == 0, (r.stdout, r.stderr)
    rows = read_csv(str(out / "summary.csv"))
    t = [float(x["simulated_seconds"]) for x in rows]
    assert 0 < t[0] < t[1] < 40 * 0.8
    for x, tol in zip(rows, (1e-2, 1e-4)):
        assert float(x["periodicity_change"]) <= tol
        with h5py.File(x["output"], "r") as f:
            change = f["/metrics/periodicity/relative_change"][:]
            assert change[-1] <= tol < change[-2]  # the first cycle within it, not a later one
            assert f["/time"][-1] == pytest.approx(float(x["simulated_seconds"]), rel=1e-12)


@pytest.mark.parametrize("devices,expect", [(2, [0, 1, 0]), (4, [0, 1, 2])])
def test_each_worker_takes_its_node_device(tmp_path, devices, expect):
    """The device choice of each worker rank: its rank among the workers of its node
    (MPI_COMM_TYPE_SHARED), round robin over the devices it sees. Rank 0, the scheduler,
    takes none. HEMOTREE_TEST_DEVICES stands in for the device count (no GPU here); the
    choice is then made as on a GPU node, and the members run on the CPU."""
    sweep = write_sweep(tmp_path, "combine: zip\nparameters:\n  blood.viscosity: [3 mPa s, 4 mPa s, 5 mPa s]\n")
    r = subprocess.run(sweep_cmd(sweep, tmp_path / "dev", "--batch", "1", ranks=4), capture_output=True, text=True,
                       timeout=300, env=dict(ENV, HEMOTREE_TEST_DEVICES=str(devices)))
    assert r.returncode == 0, (r.stdout, r.stderr)
    got = {}
    for line in r.stderr.splitlines():
        if ": CUDA device " in line:
            w = line.split()
            got[int(w[2].rstrip(":"))] = (int(w[5]), int(w[10].rstrip(";")))  # rank: (device, node rank)
    assert sorted(got) == [1, 2, 3], r.stderr  # not rank 0
    assert [got[k][1] for k in (1, 2, 3)] == [0, 1, 2]
    assert [got[k][0] for k in (1, 2, 3)] == expect


def test_rows_csv(tmp_path, singles):
    (tmp_path / "members.csv").write_text(
        "# one member per row\nblood.viscosity,outlets.left.R1\n4 mPa s,0.9e8\n\n3 mPa s,\"1.2e8 Pa s/m^3\"\n")
    sweep = write_sweep(tmp_path, "rows: members.csv\n")
    out = tmp_path / "rows"
    r = run(sweep_cmd(sweep, out, ranks=2))
    assert r.returncode == 0, (r.stdout, r.stderr)
    rows = read_csv(str(out / "summary.csv"))
    assert [float(x["blood.viscosity"]) for x in rows] == [4e-3, 3e-3]
    assert [float(x["outlets.left.R1"]) for x in rows] == [0.9e8, 1.2e8]
    assert_same_run(rows[0]["output"], singles[MEMBERS.index(("0.9e8", "4 mPa s"))])
    assert_same_run(rows[1]["output"], singles[MEMBERS.index(("1.2e8 Pa s/m^3", "3 mPa s"))])
    with h5py.File(str(out / "summary.h5"), "r") as f:
        assert f.attrs["combine"] in ("rows", b"rows")


@pytest.mark.parametrize("body,key,what", [
    ("parameters:\n  blood.viscosty: [3 mPa s]\n", "sweep.yaml:3: key 'parameters.blood.viscosty", "unknown key"),
    ("rows: members.csv\n", "members.csv:2: key 'blood.viscosity", "found \"banana\""),
    ("", "parameters", "found neither"),
    ("rows: members.csv\nparameters:\n  blood.viscosity: [3 mPa s]\n", "rows", "not both"),
    ("rows: missing.csv\n", "rows", "cannot read"),
    ("colour: blue\nparameters:\n  blood.viscosity: [3 mPa s]\n", "colour", "unknown key"),
])
def test_bad_sweep_file(tmp_path, body, key, what):
    (tmp_path / "members.csv").write_text("blood.viscosity\n%s\n" % ("banana" if "banana" in what else "3 mPa s"))
    sweep = write_sweep(tmp_path, body)
    r = run(sweep_cmd(sweep, tmp_path / "x"))
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert (key if ":" in key else "key '%s" % key) in r.stderr and what in r.stderr, r.stderr
    assert not os.path.exists(str(tmp_path / "x" / "summary.csv"))
