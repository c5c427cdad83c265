"""Checkpoint/restart of single runs (`hemotree run --checkpoint-every`, `--restart`).

A run is "killed" through the test hook HEMOTREE_TEST_ABORT_AFTER_CKPT=N+K (src/driver.c):
the process _exit()s K output times after its N-th checkpoint, its output flushed just
before, so OUT.h5 holds samples past the checkpoint that the restart must drop. The
restarted run's file must equal the uninterrupted run's bit for bit (CPU backend): every
dataset except /xdmf (virtual views) and the wall-clock columns of /metrics/performance.
Also: truncated, byte-flipped and other-case checkpoints are refused with exit 2.

Run by CTest with HEMOTREE set to the executable; `python3 -m pytest tests/test_checkpoint.py`.
"""
import os
import shutil
import subprocess

import h5py
import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
EXE = os.environ.get("HEMOTREE", os.path.join(HERE, "..", "build", "hemotree"))
TINY = os.path.join(HERE, "data", "cli", "tiny.yaml")
HEART = os.path.join(HERE, "data", "heart", "tiny_heart.yaml")
DEVICES = os.path.join(HERE, "data", "heart", "tiny_devices.yaml")
WALL = {"metrics/performance/wall_seconds", "metrics/performance/cell_updates_per_second"}


def run(*args, env=None):
    e = dict(os.environ)
    e.pop("HEMOTREE_TEST_ABORT_AFTER_CKPT", None)
    e.update(env or {})
    return subprocess.run([EXE, *args], capture_output=True, text=True, timeout=600, env=e)


def datasets(path):
    out = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset) and not name.startswith("xdmf"):
                out[name] = np.asarray(obj[()])
        f.visititems(visit)
        status = f.attrs["status"]
    return out, status


def assert_bitwise_equal(a_path, b_path):
    a, sa = datasets(a_path)
    b, sb = datasets(b_path)
    assert sa == sb
    assert a.keys() == b.keys(), set(a) ^ set(b)
    for k in sorted(a):
        if k in WALL:
            continue
        x, y = a[k], b[k]
        assert x.shape == y.shape, k
        if x.dtype.kind == "f":
            assert np.array_equal(x.view(np.uint8), y.view(np.uint8)), k
        else:
            assert np.array_equal(x, y), k


def kill_and_restart(tmp_path, case, every, abort, extra=()):
    full = str(tmp_path / "full.h5")
    part = str(tmp_path / "part.h5")
    r = run("run", case, "-o", full, "--quiet", "--backend", "cpu", *extra)
    assert r.returncode == 0, r.stderr
    r = run("run", case, "-o", part, "--quiet", "--backend", "cpu", "--checkpoint-every", every, *extra,
            env={"HEMOTREE_TEST_ABORT_AFTER_CKPT": abort})
    assert r.returncode == 3, r.stderr
    ckpt = str(tmp_path / "part.ckpt")
    assert os.path.exists(ckpt) and not os.path.exists(ckpt + ".tmp")
    with h5py.File(part, "r") as f, h5py.File(full, "r") as g:
        assert f.attrs["status"] == "running"
        assert 0 < len(f["/time"]) < len(g["/time"])
    # -o defaults to the checkpoint's OUT.h5
    r = run("run", case, "--restart", ckpt, *extra)
    assert r.returncode == 0, r.stderr
    assert "continuing" in r.stdout
    assert_bitwise_equal(full, part)
    return full, part, ckpt


def test_restart_tiny(tmp_path):
    # checkpoints at 0.4 s and 0.8 s; killed 7 output times after the second
    kill_and_restart(tmp_path, TINY, "0.4 s", "2+7")


def test_restart_right_after_checkpoint(tmp_path):
    kill_and_restart(tmp_path, TINY, "0.5 s", "1")


def test_restart_heart(tmp_path):
    full, part, _ = kill_and_restart(tmp_path, HEART, "0.5 s", "2+9", extra=("--cycles", "3"))
    with h5py.File(part, "r") as f:
        assert len(f["/metrics/cycles/beat"]) >= 2
        assert len(f["/heart/time"]) == len(f["/probes/root/time"])


def test_restart_devices(tmp_path):
    # Impella + VA-ECMO: device states and the watershed metrics carry over
    kill_and_restart(tmp_path, DEVICES, "0.3 s", "1+4", extra=("--cycles", "2"))


def test_bad_checkpoints_refused(tmp_path):
    _, _, ckpt = kill_and_restart(tmp_path, TINY, "0.4 s", "1+3")
    data = open(ckpt, "rb").read()
    cases = {
        "truncated.ckpt": data[: len(data) // 2],
        "header.ckpt": data[:40],
        "flipped.ckpt": data[:1000] + bytes([data[1000] ^ 0x01]) + data[1001:],
        "flipped_header.ckpt": data[:70] + bytes([data[70] ^ 0x80]) + data[71:],
        "empty.ckpt": b"",
        "notckpt.ckpt": b"hello, world\n" * 20,
    }
    for name, blob in cases.items():
        bad = tmp_path / name
        bad.write_bytes(blob)
        out = str(tmp_path / "restart.h5")
        shutil.copy(str(tmp_path / "part.h5"), out)
        r = run("run", TINY, "--restart", str(bad), "-o", out)
        assert r.returncode == 2, (name, r.stderr)
        assert name in r.stderr, (name, r.stderr)
    r = run("run", TINY, "--restart", str(tmp_path / "missing.ckpt"))
    assert r.returncode == 2 and "missing.ckpt" in r.stderr


def test_other_case_refused(tmp_path):
    _, part, ckpt = kill_and_restart(tmp_path, TINY, "0.4 s", "1")
    r = run("run", HEART, "--restart", ckpt, "-o", part)
    assert r.returncode == 2 and "part.ckpt" in r.stderr and "another case" in r.stderr
    r = run("run", TINY, "--set", "outlets.right.R=9e8", "--restart", ckpt, "-o", part)
    assert r.returncode == 2 and "another case" in r.stderr
    r = run("run", TINY, "--cycles", "3", "--restart", ckpt, "-o", part)
    assert r.returncode == 2 and "--cycles" in r.stderr


def test_options(tmp_path):
    out = str(tmp_path / "w.h5")
    r = run("run", TINY, "-o", out, "--quiet", "--checkpoint-every", "0.0001 min")
    assert r.returncode == 0, r.stderr
    assert os.path.exists(str(tmp_path / "w.ckpt"))
    for bad in ("0.5", "-1 s", "ten min", "5 parsecs"):
        r = run("run", TINY, "-o", out, "--checkpoint-every", bad)
        assert r.returncode == 2 and "--checkpoint-every" in r.stderr
    ens = os.path.join(HERE, "data", "ensemble", "zip.yaml")
    r = run("run", ens, "-o", str(tmp_path / "e.h5"), "--checkpoint-every", "0.4 s")
    assert r.returncode == 2 and "single runs" in r.stderr
    # a restart may continue on the device (the whole state goes back to it); without one,
    # --backend cuda is refused as for any run
    r = run("run", TINY, "--restart", str(tmp_path / "w.ckpt"), "--backend", "cuda")
    assert r.returncode == 0 or (r.returncode == 2 and "--backend cuda" in r.stderr), r.stderr
    assert "--restart" in run("run", "--help").stdout
