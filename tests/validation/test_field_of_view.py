"""Field of view: subjects uniform around an officer are in frame in the share fov / 360, by geometry and
through the whole model."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bwclab.sim.metrics import officers_on_scene
from bwclab.sim.model import run_shift
from bwclab.sim.view import in_view, turned
from tests.conftest import scripted


@pytest.mark.parametrize("fov", [146.0, 90.0, 30.0, 359.0])
def test_subjects_uniform_around_an_officer_are_in_frame_fov_over_360_of_the_time(fov: float) -> None:
    angles = np.linspace(0, 2 * math.pi, 36_000, endpoint=False)
    hx, hy = turned(1.0, 0.0, 37.0)  # any heading
    seen = [in_view(0.0, 0.0, hx, hy, 50 * math.cos(a), 50 * math.sin(a), fov) for a in angles]
    assert abs(sum(seen) / len(seen) - fov / 360) < 2 / 36_000 + 1e-9


def test_through_the_model_officers_facing_uniformly_see_the_subject_146_of_360_of_the_time() -> None:
    """400 officers at one scene, each facing the subject give or take a uniform +/-180 degrees: as if the
    subject were anywhere around them. Tolerance: 4.5 binomial standard errors."""
    n = 400
    rng = np.random.default_rng(11)
    pos = [[1000 + 60 * math.cos(a), 1000 + 60 * math.sin(a)] for a in rng.uniform(0, 2 * math.pi, n)]
    sc = scripted({
        "fleet": {"officers": n, "officers_at_ft": pos},
        "area": {"width_mi": 1, "height_mi": 1},
        "camera": {"fov_deg": 146, "heading_spread_deg": 180, "manual": {"compliance": 1.0, "delay_s": 1}},
        "call_types": {"stop": {"units": n, "critical_after_arrival_s": 60,
                                "scene": {"cruiser_stop_ft": 40, "exit_s": 2, "stand_ft": [20, 40]}}},
        "patrol": {"instant_travel": True},
        "script": {"calls": [{"at_s": 5, "type": "stop", "at_ft": [1000, 1000], "units": list(range(n))}]},
    })
    rows = [r for r in officers_on_scene(run_shift(sc)) if r.present_at_critical]
    assert len(rows) == n and all(r.covered for r in rows)
    share = sum(r.in_frame for r in rows) / n
    assert abs(share - 146 / 360) < 4.5 * math.sqrt(146 / 360 * (1 - 146 / 360) / n)


def test_an_officer_facing_the_subject_sees_it_and_one_walking_away_does_not() -> None:
    assert in_view(0, 0, 1, 0, 10, 3, 146)
    assert not in_view(0, 0, -1, 0, 10, 3, 146)
    assert in_view(0, 0, 0, 1, 0, 0, 10)  # the subject at the camera itself
