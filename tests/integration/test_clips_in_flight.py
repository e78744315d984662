"""A camera writes a clip in its own time after its recording ended: on a healthy bench, a clip still being written
when the next trigger fires is never taken for that trigger's clip (which read "2 new clips in dock, expected one"
and cost a retried attempt on POWER-CUT after ALLOW-LIST)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.integration.certify_helpers import certify, fast_bench, spec, verdicts


def test_a_clip_still_being_written_costs_a_healthy_bench_no_attempt(tmp_path: Path) -> None:
    """Large frames make each clip slow to render, so ALLOW-LIST's clips (one renderer, three cameras) land after
    POWER-CUT has looked at the docks; no attempt errs, and every requirement passes."""
    out = tmp_path / "run"
    rc, output = certify(out, fast_bench(tmp_path, frame_px=640), spec(tmp_path, ["ALLOW-LIST", "POWER-CUT"]))
    assert rc == 0 and set(verdicts(out).values()) == {"pass"}, output
    truth = [json.loads(x) for x in (out / "bench" / "session-1" / "truth.jsonl").read_text().splitlines() if x]
    fired = min(r["t_ns"] for r in truth if r["event"] == "broadcast_start" and r["emitter"] == "holster")
    late = [r for r in truth if r["event"] == "clip_written" and r["t_ns"] > fired and r["clip"].endswith("-0001")]
    assert late, "no ALLOW-LIST clip was still being written when POWER-CUT fired: the case was not under test"
    with sqlite3.connect(out / "trials.sqlite") as con:
        assert con.execute("SELECT camera, cause FROM errors").fetchall() == []
    health = json.loads((out / "measurements.json").read_text())["health"]
    assert health["errored_attempts"] == health["retried_steps"] == 0, health
