"""Helpers for the records tests: small exports written from rows, and the command run as a user runs it."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RECORDS = ROOT / "fixtures" / "records"
SAMPLE_CAD, SAMPLE_AUDIT = RECORDS / "sample-cad.csv", RECORDS / "sample-audit.csv"
SAMPLE_BASE, SAMPLE_TYPES = RECORDS / "sample-base.yaml", RECORDS / "types-sample.yaml"
CAD_HEADER = ["call_id", "call_type", "priority", "received", "dispatched", "arrived", "cleared", "unit"]
AUDIT_HEADER = ["recording_id", "officer", "started", "ended", "trigger", "call_id"]

# A scenario small enough to calibrate onto in a test: two call types, nothing fitted yet.
BASE = {"name": "tiny", "fleet": {"officers": 4}, "calls": {"per_hour": 1},
        "call_types": {"service": {"share": 1}, "disturbance": {"share": 1}},
        "camera": {"manual": {"compliance": 0.3}}}


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    return path


def write_yaml(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")  # JSON is YAML
    return path


def bwclab(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bwclab", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=600, env={**os.environ, "COLUMNS": "200"})


def t(day: int, hh: int, mm: int, ss: int = 0) -> str:
    """A time on 2026-03-<day>."""
    return f"2026-03-{day:02d}T{hh:02d}:{mm:02d}:{ss:02d}"
