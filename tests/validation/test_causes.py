"""Each missed cause, produced by a scene built to produce it and only it. Officer 0 answers a call
200 ft away, stops at the subject, gets out after 5 s; the critical moment is 120 s after it arrives."""

from __future__ import annotations

from typing import Any

import pytest

from bwclab.sim.metrics import CAUSES, officers_on_scene, summarize
from bwclab.sim.model import run_shift
from tests.conftest import deep_merge, scripted

ONE_CALL: dict[str, Any] = {"script": {"calls": [{"at_s": 10, "type": "stop", "at_ft": [1000, 1200], "units": [0]}]}}


def causes(extra: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
    sc = scripted(deep_merge(ONE_CALL, extra))
    res = run_shift(sc)
    rows = officers_on_scene(res)
    return [r.cause for r in rows if r.present_at_critical], summarize(res, rows)


def at_scene(at_s: float, kind: str = "light_bar", at: tuple[float, float] = (1000, 1200)) -> dict[str, Any]:
    return {"triggers": [{"at_s": at_s, "kind": kind, "at_ft": list(at), "call": 0}]}


SCENES: dict[str, dict[str, Any]] = {
    "not_triggered": {"camera": {"manual": {"expected": False}}},
    "not_pressed": {},  # policy expects a manual start; this officer never makes one
    "pressed_late": {"camera": {"manual": {"compliance": 1.0, "delay_s": 200}}},
    "buffer_too_short": {"camera": {"buffer_s": 0},
                         "call_types": {"stop": {"scene": {"lights": {"probability": 1, "after_s": 125}}}}},
    "out_of_range": {"script": at_scene(100, at=(1000, 2700))},
    "not_discovered": {"script": at_scene(60, "taser"), "signal": {"emitters": {"taser": {"broadcast_s": 0.0005}}}},
    "arrived_after_broadcast": {"script": at_scene(12), "fleet": {"officers_at_ft": [[1000, 5000], [3000, 1000]]}},
    "camera_asleep": {"camera": {"sleep_probability": 1.0},
                      "call_types": {"stop": {"scene": {"lights": {"probability": 1, "after_s": 0}}}}},
    "out_of_frame": {"camera": {"occlusion": {"chest": 1.0}},
                     "call_types": {"stop": {"scene": {"struggle": 1.0, "lights": {"probability": 1, "after_s": 0}}}}},
}


def test_every_cause_has_a_scene_that_produces_it() -> None:
    assert set(SCENES) == set(CAUSES)


@pytest.mark.parametrize("cause", list(SCENES))
def test_a_scene_built_for_a_cause_gives_that_cause_and_only_it(cause: str) -> None:
    got, summary = causes(SCENES[cause])
    assert got == [cause]
    assert summary["missed"] == {c: int(c == cause) for c in CAUSES}


def test_the_light_bar_at_arrival_with_the_officer_in_the_car_captures() -> None:
    got, summary = causes({"call_types": {"stop": {"scene": {"lights": {"probability": 1, "after_s": 0}}}}})
    assert got == [""] and summary["capture_rate"] == summary["in_frame_rate"] == 1.0


def test_the_same_late_light_bar_with_a_40_s_buffer_is_captured() -> None:
    scene = deep_merge(SCENES["buffer_too_short"], {"camera": {"buffer_s": 40}})
    assert causes(scene)[0] == [""]


def test_a_manual_start_before_the_critical_moment_captures() -> None:
    assert causes({"camera": {"manual": {"compliance": 1.0, "delay_s": 5}}})[0] == [""]


def test_a_light_bar_that_is_not_fielded_as_a_trigger_broadcasts_nothing() -> None:
    scene = {"signal": {"triggers": ["taser"]},
             "call_types": {"stop": {"scene": {"lights": {"probability": 1, "after_s": 0}}}}}
    got, summary = causes(scene)
    assert got == ["not_pressed"] and summary["broadcasts"] == 0
