"""Pinned results: a hash of what a few shifts produce, so that a change that moves any result is seen.

Each hash covers rows as the run folder writes them (incidents.csv's officers on scene, activations.csv, officers.csv)
and every status span, each float to 6 decimals. A change meant to leave the model's results alone (a refactor, a
speed-up) must keep them. A change meant to move them (a fix, a new behaviour) re-pins them here, saying in its
description what moved and why; `benchmarks/fingerprints.py --baseline` compares every incident, reception and
figure of ten shifts against another checkout, to find out which."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import Any

import pytest

from bwclab.sim.metrics import officer_shifts, officers_on_scene
from bwclab.sim.model import run_shift
from bwclab.sim.scenario import load_scenario

SCENARIOS = Path(__file__).resolve().parent.parent.parent / "scenarios"


def _cell(v: Any) -> str:
    return f"{v:.6f}" if isinstance(v, float) else str(v)


def _digest(rows: list[Any]) -> str:
    text = "\n".join(",".join(_cell(v) for v in dataclasses.astuple(r)) for r in rows)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def fingerprint(scenario: str, variant: str | None, seed: int | None) -> dict[str, str]:
    res = run_shift(load_scenario(SCENARIOS / f"{scenario}.yaml", variant=variant), seed)
    rows = officers_on_scene(res)
    return {"incidents": _digest(rows), "activations": _digest(res.activations), "statuses": _digest(res.statuses),
            "officers": _digest(officer_shifts(res, rows))}


@pytest.mark.parametrize(("scenario", "variant", "seed", "pinned"), [
    ("hartford-patrol-shift", None, 1, {"incidents": "174ea60e620ed829", "activations": "083e22d92342f02e",
                                        "statuses": "c387b84cfc42bc8a", "officers": "ed516651ce03043a"}),
    ("hartford-patrol-shift", "all-triggers", 4, {"incidents": "19a287daba48374c", "activations": "98b8a97b3452dc9e",
                                                  "statuses": "57c918766490a46b", "officers": "13a4ae5df3ade567"}),
    ("traffic-stop", None, None, {"incidents": "c38f478437ff107a", "activations": "d15f5dd2d332f58e",
                                  "statuses": "4ee6f7a6c7ba73a7", "officers": "398b6c1e95d69187"}),
])
def test_the_pinned_shifts_give_the_pinned_results(scenario: str, variant: str | None, seed: int | None,
                                                   pinned: dict[str, str]) -> None:
    assert fingerprint(scenario, variant, seed) == pinned
