"""kill -9 of `bwclab rig certify`, and of the emulated bench under it, at three moments in one run (latency,
coverage, buffer), each followed by `--resume`: no trial lost or duplicated, no process left behind, the resumed
buffer checks read only their own session's clips (their sha256 against the truth log), and the verdict
is a clean run's: every requirement passes on every camera (so no separate clean run of the spec)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from bwclab.rig.procedures.buffer import BufferRow
from bwclab.rig.trials import TrialStore, camera_rows
from tests.integration.certify_helpers import verdicts
from tests.integration.harness import ROOT
from tests.integration.processes import descendants, running, wait_gone

CAMERAS = ("CAM001", "CAM002", "CAM003")
SPEC: dict[str, Any] = {"name": "crash spec", "requirements": [
    {"id": "LAT", "text": "latency p50 at most 1 s", "procedure": "latency",
     "params": {"trigger": "light_bar", "scope_window_s": 0.6}, "quantity": "p50", "limit": {"max": 1.0},
     "units": "s", "trials": 6},
    {"id": "COV", "text": "r50 at least 40 ft", "procedure": "coverage", "params": {"trigger": "light_bar"},
     "quantity": "r50", "limit": {"min": 40}, "units": "ft", "trials": 30},
    {"id": "BUF-LENGTH", "text": "buffer within a frame", "procedure": "buffer", "params": {"trigger": "holster"},
     "quantity": "buffer_error_frames", "limit": {"max": 1.0}, "units": "frames", "trials": 2},
    {"id": "BUF-HASH", "text": "hashes match", "procedure": "buffer", "params": {"trigger": "holster"},
     "quantity": "hash_mismatches", "limit": {"max": 0}, "trials": 2}]}
STEPS = {"latency": 6, "coverage": 30, "buffer": 2}


def inputs(tmp: Path) -> tuple[Path, Path]:
    """The demo bench with a 4 dB fade (DOMAIN's upper shadowing), whose curve a 30-broadcast fit always pins."""
    bench = yaml.safe_load((ROOT / "fixtures" / "demo.yaml").read_text())
    bench["emulate"]["camera"]["shadowing_db"] = 4.0
    (tmp / "bench.yaml").write_text(yaml.safe_dump(bench))
    (tmp / "spec.yaml").write_text(yaml.safe_dump(SPEC))
    return tmp / "bench.yaml", tmp / "spec.yaml"


def ok_trials(db: Path, procedure: str) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db) as con:
            row = con.execute("SELECT COUNT(*) FROM trials WHERE status = 'ok' AND key LIKE ?", (procedure + " %",))
            return int(row.fetchone()[0])
    except sqlite3.OperationalError:  # the schema is not made yet
        return 0


MOMENTS: dict[str, Callable[[Path], bool]] = {
    "latency": lambda db: ok_trials(db, "latency") >= 2,
    "coverage": lambda db: ok_trials(db, "coverage") >= 6,
    "buffer": lambda db: ok_trials(db, "buffer") >= 1,  # one clip taken, the second step under way
}


def ok_rows(db: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as con:
        query = "SELECT id, session, key, seq, result FROM trials WHERE status = 'ok' ORDER BY id"
        return con.execute(query).fetchall()


def check_no_trial_lost_or_duplicated(out: Path) -> None:
    store = TrialStore(out / "trials.sqlite")
    try:
        for key in {t.key for t in store.trials()}:
            trials = [t for t in store.trials(key) if t.status == "ok"]
            for cam in CAMERAS:
                seqs = [t.seq for t in trials if cam in t.result.cameras]
                assert sorted(seqs) == list(range(STEPS[key.split()[0]])), (key, cam, seqs)
    finally:
        store.close()


def check_clips_are_their_sessions_own(out: Path) -> None:
    """Each buffer row's clip is one its own session's emulator wrote (the truth log's sha256), never a clip
    another session left in a dock."""
    store = TrialStore(out / "trials.sqlite")
    try:
        trials = [t for t in store.trials() if t.key.startswith("buffer") and t.status == "ok"]
        for t in trials:
            truth = [json.loads(x) for x in (out / "bench" / f"session-{t.session}" / "truth.jsonl").read_text()
                     .splitlines() if x]
            written = {(r["camera"], r["clip"]): r["sha256"] for r in truth if r["event"] == "clip_written"}
            for cam in CAMERAS:
                row = camera_rows([t], cam, BufferRow)[0]
                assert row.clip_id is not None and written[(cam, row.clip_id)] == row.clip_sha256, (t.session, cam)
                assert row.clip is not None and f"/s{t.session}-" in "/" + row.clip
    finally:
        store.close()


def start(out: Path, bench: Path, spec: Path, *extra: str) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "bwclab", "rig", "certify", "--bench", str(bench), "--requirements", str(spec),
           "--out", str(out), *extra]
    return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def newest_session(out: Path) -> int:
    return max(int(p.name.split("-")[1]) for p in (out / "bench").glob("session-*"))


def kill_at(out: Path, proc: subprocess.Popen[bytes], moment: str, victim: str) -> None:
    """Wait for the run to reach `moment`, kill -9 the victim, and check what the kill left: the run ended
    (exit 3 and an incomplete certificate naming the lost bench, when the emulator died), nothing alive."""
    deadline = time.monotonic() + 180
    while not MOMENTS[moment](out / "trials.sqlite"):
        assert proc.poll() is None and time.monotonic() < deadline, f"never reached {moment}"
        time.sleep(0.05)
    tree = descendants(proc.pid)
    session = newest_session(out)
    emulator = json.loads((out / "bench" / f"session-{session}" / "resources.json").read_text())["pid"]
    assert emulator in tree and len(tree) >= 2, (moment, tree)  # the emulator and its clip renderer
    cert_file = out / "measurements.json"
    written = cert_file.stat().st_mtime_ns if cert_file.exists() else 0
    if victim == "certify":
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    else:
        os.kill(emulator, signal.SIGKILL)
        assert proc.wait(timeout=120) == 3, moment  # the bench was lost: not a camera's failure
        assert cert_file.stat().st_mtime_ns > written, moment  # this session's own certificate
        cert = json.loads(cert_file.read_text())
        assert cert["verdict"] == "incomplete" and "bench was lost" in cert["reason"], moment
        assert cert["unjudged"] and cert["resume"].endswith("--resume")
        assert "fail" not in {r["verdict"] for r in cert["results"]}
    assert wait_gone(tree) == set(), f"processes outlived the run killed at {moment}"


@pytest.mark.parametrize("victim", ["certify", "emulator"])
def test_kill_9_at_each_moment_then_resume_loses_nothing_leaves_nothing_and_ends_as_a_clean_run(
        tmp_path: Path, victim: str) -> None:
    """One run, killed three times (during latency, coverage and buffer), each time resumed: the resumed
    session goes on from what the last one committed."""
    bench, spec = inputs(tmp_path)
    out = tmp_path / "run"
    proc = start(out, bench, spec)
    for moment in MOMENTS:
        kill_at(out, proc, moment, victim)
        before = ok_rows(out / "trials.sqlite")
        proc = start(out, bench, spec, "--resume")
        deadline = time.monotonic() + 60
        while len(ok_rows(out / "trials.sqlite")) <= len(before):  # the resumed session is under way
            assert proc.poll() is None and time.monotonic() < deadline, f"the resume after {moment} did not go on"
            time.sleep(0.05)
        assert ok_rows(out / "trials.sqlite")[: len(before)] == before  # nothing rewritten
    assert proc.wait(timeout=400) == 0
    assert newest_session(out) == 4
    check_no_trial_lost_or_duplicated(out)
    check_clips_are_their_sessions_own(out)
    assert verdicts(out) == {(r["id"], c): "pass" for r in SPEC["requirements"] for c in CAMERAS}
    assert not mentioning(out), "the resumed session's emulator outlived it"


def mentioning(path: Path) -> list[int]:
    """Live processes whose command line names this run folder."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if str(path) in cmdline.read_bytes().decode(errors="replace") and running({int(cmdline.parent.name)}):
                found.append(int(cmdline.parent.name))
        except OSError:
            continue
    return found


def test_a_stalled_bench_costs_error_trials_within_seconds_and_every_requirement_is_still_judged(
        tmp_path: Path) -> None:
    """SIGSTOP the emulator mid-run for 8 s (past the console driver's three 2 s tries), then SIGCONT: stale
    replies arrive late. Each is discarded (the console's tags), the stalled steps are errors retried, and nothing
    vanishes from the certificate."""
    bench, _ = inputs(tmp_path)
    spec = tmp_path / "stall.yaml"
    reqs = [r for r in SPEC["requirements"] if r["id"] in ("LAT", "BUF-LENGTH", "BUF-HASH")]
    reqs += [{"id": "CLOCK", "text": "clock drift", "procedure": "clock", "params": {"span_s": 4},
              "quantity": "drift_ppm", "limit": {"max": 100}, "units": "ppm"}]
    spec.write_text(yaml.safe_dump({"name": "stall", "requirements": [r | {"trials": 3} if r["id"] != "CLOCK" else r
                                                                      for r in reqs]}))
    out = tmp_path / "run"
    proc = start(out, bench, spec)
    deadline = time.monotonic() + 180
    while ok_trials(out / "trials.sqlite", "buffer") < 1:
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    emulator = json.loads((out / "bench" / "session-1" / "resources.json").read_text())["pid"]
    os.kill(emulator, signal.SIGSTOP)
    time.sleep(8)
    os.kill(emulator, signal.SIGCONT)
    assert proc.wait(timeout=240) == 0
    cert = json.loads((out / "measurements.json").read_text())
    judged = {(r["requirement"], r["camera"]): r["verdict"] for r in cert["results"]}
    assert judged == {(r["id"], c): "pass" for r in reqs for c in CAMERAS}, cert
    with sqlite3.connect(out / "trials.sqlite") as con:
        errors = con.execute("SELECT cause FROM trials WHERE status = 'error'").fetchall()
        dropped = [json.loads(r)["dropped"] for (r,) in con.execute("SELECT result FROM trials")]
    assert errors or any(dropped), "the stall cost no trial: it was not under way"
