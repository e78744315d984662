"""`bwclab demo`: the Hartford patrol shift on its default settings."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from sim.model import run_shift
from sim.runfolder import write_run
from sim.scenario import load_scenario

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def run_demo(
    out: Path,
    progress: Callable[[str], AbstractContextManager[Callable[[float], None]]],
    show: Callable[[dict[str, Any], Path], None],
) -> dict[str, Any]:
    sc = load_scenario(SCENARIOS / "hartford-patrol-shift.yaml")
    with progress(f"shift: {sc.name}") as tick:
        res = run_shift(sc, None, tick)
    folder = out / "hartford-patrol-shift"
    summary = write_run(res, folder)
    show(summary, folder)
    return summary
