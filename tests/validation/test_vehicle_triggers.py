"""The vehicle triggers a department can buy move the prediction: on the Hartford shift, with common random numbers,
fielding the in-car system's every input (light bar, door, siren, speed, crash) over the light bar alone raises
capture beyond two standard errors of the paired difference, and the calls missed for want of a press fall."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from bwclab.core.builtin import resolve
from bwclab.sim.model import run_shift
from bwclab.sim.replicate import run_reps
from bwclab.sim.scenario import load_scenario

REPS = 30


def replications(variant: str) -> list[dict[str, Any]]:
    sc = load_scenario(resolve("scenario", "hartford-patrol-shift"), variant=variant)
    return run_reps(sc, sc.seed, REPS)[1]


def test_vehicle_triggers_capture_more_than_the_light_bar_alone_and_leave_fewer_calls_unpressed() -> None:
    light_bar, vehicle = replications("light-bar"), replications("vehicle-triggers")
    diff = np.array([v["capture_rate"] - b["capture_rate"] for b, v in zip(light_bar, vehicle, strict=True)])
    se = float(diff.std(ddof=1)) / math.sqrt(REPS)
    assert diff.mean() > 2 * se, (diff.mean(), se)
    unpressed = [(b["missed"]["not_pressed"], v["missed"]["not_pressed"]) for b, v in zip(light_bar, vehicle,
                                                                                        strict=True)]
    assert sum(v for _, v in unpressed) < sum(b for b, _ in unpressed), unpressed


def test_the_vehicle_triggers_variant_broadcasts_every_vehicle_input_it_fields() -> None:
    sc = load_scenario(resolve("scenario", "hartford-patrol-shift"), variant="vehicle-triggers")
    kinds = {b.kind for b in run_shift(sc, 1).broadcasts}
    assert {"light_bar", "door", "siren", "speed"} <= kinds <= {"light_bar", "door", "siren", "speed", "crash"}
