"""`bwclab demo`: certify the built-in emulated bench, then run the Hartford patrol shift with the
profile the certification measured, and print both headline tables."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from bwclab.certify import certify
from sim.model import run_shift
from sim.profile import apply_profile
from sim.runfolder import write_run
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
BENCH = ROOT / "fixtures" / "emulated.yaml"
SPEC = ROOT / "fixtures" / "requirements" / "quick.yaml"


def run_demo(
    out: Path,
    progress: Callable[[str], AbstractContextManager[Callable[[float], None]]],
    show: Callable[[dict[str, Any], Path], None],
    show_certificate: Callable[[dict[str, Any], Path], None],
) -> tuple[int, dict[str, Any]]:
    cert_dir = out / time.strftime("certify-%Y%m%d-%H%M%S")
    rc = certify(BENCH, SPEC, None, None, cert_dir, resume=False)
    measured = json.loads((cert_dir / "measurements.json").read_text(encoding="utf-8"))
    show_certificate(measured, cert_dir)
    sc = load_scenario(SCENARIOS / "hartford-patrol-shift.yaml")
    profile = cert_dir / "CAM001" / "profile.yaml"
    if profile.exists():
        sc = apply_profile(sc, profile)
    with progress(f"shift: {sc.name} with CAM001's measured profile") as tick:
        res = run_shift(sc, None, tick)
    folder = out / "hartford-patrol-shift"
    summary = write_run(res, folder)
    show(summary, folder)
    return rc, summary
