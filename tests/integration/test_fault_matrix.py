"""Each emulator fault, on one camera, fails the requirement that should catch it; the two clean
cameras beside it pass every requirement of the same run (repeated clean runs, fourteen times)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.integration.certify_helpers import certify, fast_bench, spec, verdicts

FAULTY = "CAM002"
# a deaf camera cannot be judged by a check whose control trigger it ignores: error, never pass
UNSURE = {"ignore_signals": ["ALLOW-LIST", "SLEEP"]}
MATRIX: list[tuple[str, Any, list[str]]] = [
    ("extra_latency_ms", 1500, ["LAT-LIGHTBAR"]),
    ("latency_jitter_ms", 4000, ["LAT-LIGHTBAR"]),
    ("sensitivity_offset_db", 12, ["COV-30FT"]),
    ("buffer_shortfall_s", 0.5, ["BUF-LENGTH"]),
    ("drop_frames", 3, ["BUF-FRAMES"]),
    ("duplicate_frames", 3, ["BUF-FRAMES"]),
    ("timecode_jump_ms", 500, ["BUF-FRAMES"]),
    ("audio_in_buffer", True, ["BUF-AUDIO"]),
    ("ignore_signals", True, ["LAT-LIGHTBAR", "GROUP"]),
    ("accept_any_emitter", True, ["ALLOW-LIST"]),
    ("corrupt_on_power_loss", True, ["POWER-CUT"]),
    ("console_noise", 3000, ["CONSOLE"]),
    ("console_disconnect_after_s", 3, ["CONSOLE"]),
    ("clock_drift_ppm", 2000, ["CLOCK"]),
]
# the other requirements each run also checks, so a fault cannot fail the wrong one unnoticed
COMPANIONS = {"BUF-LENGTH": ["BUF-FRAMES", "BUF-AUDIO", "BUF-HASH", "BUF-METADATA"],
              "BUF-FRAMES": ["BUF-LENGTH", "BUF-HASH"], "BUF-AUDIO": ["BUF-LENGTH", "BUF-FRAMES"]}


@pytest.mark.parametrize(("fault", "value", "catches"), MATRIX, ids=[m[0] for m in MATRIX])
def test_fault_fails_its_requirement_and_nothing_else(tmp_path: Path, fault: str, value: Any,
                                                      catches: list[str]) -> None:
    unsure = UNSURE.get(fault, [])
    ids = catches + unsure + [c for r in catches for c in COMPANIONS.get(r, [])]
    faults = tmp_path / "faults.yaml"
    faults.write_text(yaml.safe_dump({FAULTY: {fault: value}}))
    overrides = {"LAT-LIGHTBAR": {"trials": 6}}
    rc, output = certify(tmp_path / "run", fast_bench(tmp_path), spec(tmp_path, ids, **overrides),
                         "--faults", str(faults))
    assert rc == 1 and (tmp_path / "run" / "measurements.json").exists(), output
    got = verdicts(tmp_path / "run")
    for req in ids:
        want = "fail" if req in catches else "error" if req in unsure else "pass"
        assert got[(req, FAULTY)] == want, (req, got, output)
        for clean in ("CAM001", "CAM003"):
            assert got[(req, clean)] == "pass", (req, clean, got, output)


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
