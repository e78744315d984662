"""Each of fourteen emulator faults, on one camera, fails the requirement that should catch it and nothing else;
the clean camera beside it passes every requirement of the same run (eleven runs: two faults that one requirement
catches share a run, on two cameras)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import yaml

from bwclab.history.record import read_run
from tests.integration.certify_helpers import certify, fast_bench, spec, verdicts

FAULTY = "CAM002"
CLEAN = "CAM003"  # clean in every run
# a deaf camera cannot be judged by a check whose control trigger it ignores: error, never pass
UNSURE = {"ignore_signals": ["ALLOW-LIST", "SLEEP"]}
# (faults by camera, the requirements they fail): two faults caught by the same requirement share a run, one on
# CAM001 and one on CAM002, so each is also the other's neighbour; CAM003 is clean in every run
MATRIX: list[tuple[dict[str, tuple[str, Any]], list[str]]] = [
    ({"CAM001": ("extra_latency_ms", 1500), FAULTY: ("latency_jitter_ms", 4000)}, ["LAT-LIGHTBAR"]),
    ({FAULTY: ("sensitivity_offset_db", 12)}, ["COV-30FT"]),
    ({FAULTY: ("buffer_shortfall_s", 0.5)}, ["BUF-LENGTH"]),
    ({"CAM001": ("drop_frames", 3), FAULTY: ("duplicate_frames", 3)}, ["BUF-FRAMES"]),
    ({FAULTY: ("timecode_jump_ms", 500)}, ["BUF-FRAMES"]),
    ({FAULTY: ("audio_in_buffer", True)}, ["BUF-AUDIO"]),
    ({FAULTY: ("ignore_signals", True)}, ["LAT-LIGHTBAR", "GROUP"]),
    ({FAULTY: ("accept_any_emitter", True)}, ["ALLOW-LIST"]),
    ({FAULTY: ("corrupt_on_power_loss", True)}, ["POWER-CUT"]),
    ({"CAM001": ("console_noise", 3000), FAULTY: ("console_disconnect_after_s", 3)}, ["CONSOLE"]),
    ({FAULTY: ("clock_drift_ppm", 2000)}, ["CLOCK"]),
]
# the other requirements each run also checks, so a fault cannot fail the wrong one unnoticed
COMPANIONS = {"BUF-LENGTH": ["BUF-FRAMES", "BUF-AUDIO", "BUF-HASH", "BUF-METADATA"],
              "BUF-FRAMES": ["BUF-LENGTH", "BUF-HASH"], "BUF-AUDIO": ["BUF-LENGTH", "BUF-FRAMES"]}


@pytest.mark.parametrize(("faults", "catches"), MATRIX, ids=["+".join(f for f, _ in m[0].values()) for m in MATRIX])
def test_fault_fails_its_requirement_and_nothing_else(tmp_path: Path, faults: dict[str, tuple[str, Any]],
                                                      catches: list[str]) -> None:
    unsure = {r for fault, _ in faults.values() for r in UNSURE.get(fault, [])}
    ids = catches + sorted(unsure) + [c for r in catches for c in COMPANIONS.get(r, [])]
    path = tmp_path / "faults.yaml"
    path.write_text(yaml.safe_dump({cam: {fault: value} for cam, (fault, value) in faults.items()}))
    overrides = {"LAT-LIGHTBAR": {"trials": 6}}
    rc, output = certify(tmp_path / "run", fast_bench(tmp_path), spec(tmp_path, ids, **overrides),
                         "--faults", str(path))
    assert rc == 1 and (tmp_path / "run" / "measurements.json").exists(), output
    got = verdicts(tmp_path / "run")
    for req in ids:
        for cam in ("CAM001", FAULTY, CLEAN):
            fault = faults[cam][0] if cam in faults else None
            want = "pass" if fault is None else "fail" if req in catches else \
                "error" if req in UNSURE.get(fault, []) else "pass"
            assert got[(req, cam)] == want, (req, cam, fault, got, output)


def test_a_camera_that_loses_its_console_costs_the_others_no_trial(tmp_path: Path) -> None:
    """CAM002's console goes away three seconds in: its latency steps fail on its console alone, so
    it ends in error (never a pass on the trials left) with the cause, while CAM001 and CAM003 keep
    every trial, none retried."""
    faults = tmp_path / "faults.yaml"
    faults.write_text(yaml.safe_dump({FAULTY: {"console_disconnect_after_s": 3}}))
    rc, output = certify(tmp_path / "run", fast_bench(tmp_path),
                         spec(tmp_path, ["LAT-LIGHTBAR"], **{"LAT-LIGHTBAR": {"trials": 6, "retries": 1}}),
                         "--faults", str(faults))
    assert rc == 1 and (tmp_path / "run" / "measurements.json").exists(), output
    rows = {r["camera"]: r for r in json.loads((tmp_path / "run" / "measurements.json").read_text())["results"]}
    for clean in ("CAM001", "CAM003"):
        assert rows[clean]["verdict"] == "pass" and rows[clean]["trials"] == 6, (rows[clean], output)
        assert "errored" not in rows[clean]["note"], rows[clean]
    assert rows[FAULTY]["verdict"] == "error" and "console" in rows[FAULTY]["note"].lower(), rows[FAULTY]


def test_every_errored_attempt_is_counted_from_its_row(tmp_path: Path) -> None:
    """CAM002's console goes three seconds in, and its part of each later step errs, retried: each such attempt is a
    row of trials.sqlite's `errors` (the camera's fault), and the certificate's count, its bench health, the
    report's summary and the history's record all say as many."""
    faults = tmp_path / "faults.yaml"
    faults.write_text(yaml.safe_dump({FAULTY: {"console_disconnect_after_s": 3}}))
    run = tmp_path / "run"
    rc, output = certify(run, fast_bench(tmp_path), spec(tmp_path, ["LAT-LIGHTBAR"],
                                                         **{"LAT-LIGHTBAR": {"trials": 4, "retries": 1}}),
                         "--faults", str(faults))
    assert rc == 1, output
    with sqlite3.connect(run / "trials.sqlite") as con:
        errors = con.execute("SELECT camera, fault FROM errors").fetchall()
        retried = con.execute("SELECT COUNT(*) FROM (SELECT key, seq FROM trials GROUP BY key, seq "
                              "HAVING COUNT(*) > 1)").fetchone()[0]
    assert errors and set(errors) == {(FAULTY, "camera")}, errors
    cert = json.loads((run / "measurements.json").read_text())
    health = cert["health"]
    assert cert["errored_attempts"] == health["errored_attempts"] == len(errors), (cert, errors)
    assert health["retried_steps"] == retried >= 1 and health["errors_by_device"] == {FAULTY: len(errors)}, health
    assert (run / "report.html").is_file(), output
    assert f"{len(errors)} errored attempts" in (run / "report.html").read_text()
    record = read_run(run)
    assert (record.errored_attempts, record.retried_steps) == (len(errors), retried)
