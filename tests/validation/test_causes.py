"""Each missed cause, produced by a scene built to produce it and only it. Officer 0 answers a call
200 ft away, stops at the subject, gets out after 5 s; the critical moment is 120 s after it arrives."""

from __future__ import annotations

from typing import Any

import pytest

from bwclab.core.config import ConfigError
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


def kinds_started(extra: dict[str, Any]) -> tuple[list[str], list[str]]:
    """What was missed, and the trigger kinds that started officer 0's body camera."""
    sc = scripted(deep_merge(ONE_CALL, extra))
    res = run_shift(sc)
    rows = officers_on_scene(res)
    return ([r.cause for r in rows if r.present_at_critical],
            [a.trigger_kind for a in res.activations if a.camera == "BWC-00000"])


PRIORITY: dict[str, Any] = {"call_types": {"stop": {"priority": 1.0}}}


def test_the_driver_door_opening_as_the_officer_gets_out_captures() -> None:
    assert kinds_started({"signal": {"triggers": ["door"]}}) == ([""], ["door"])


def test_a_door_that_is_not_fielded_broadcasts_nothing() -> None:
    got, summary = causes({"signal": {"triggers": ["light_bar", "taser", "holster"]}})
    assert got == ["not_pressed"] and summary["broadcasts"] == 0


def test_the_siren_of_an_emergency_response_captures() -> None:
    assert kinds_started(deep_merge(PRIORITY, {"signal": {"triggers": ["siren"]}})) == ([""], ["siren"])


def test_no_siren_sounds_on_a_routine_response() -> None:
    assert kinds_started({"signal": {"triggers": ["siren"]}}) == (["not_pressed"], [])


def test_an_emergency_response_above_the_speed_threshold_captures() -> None:
    fast = {"signal": {"triggers": ["speed"], "vehicle": {"speed_mph": 30, "speed_after_s": 1}}}
    assert kinds_started(deep_merge(PRIORITY, fast)) == ([""], ["speed"])


def test_an_emergency_response_below_the_speed_threshold_does_not_trigger() -> None:
    slow = {"signal": {"triggers": ["speed"], "vehicle": {"speed_mph": 50, "speed_after_s": 1}}}
    assert kinds_started(deep_merge(PRIORITY, slow)) == (["not_pressed"], [])


def crash_broadcasts(triggers: list[str]) -> int:
    sc = scripted({"shift": {"duration_h": 24}, "signal": {"triggers": triggers, "vehicle": {"crash_per_hour": 1}}})
    return sum(b.kind == "crash" for b in run_shift(sc).broadcasts)


def test_crashes_come_at_their_rate_per_cruiser_hour_where_fielded() -> None:
    assert 20 <= crash_broadcasts(["crash"]) <= 80  # two cruisers for 24 h at 1 an hour: 48 expected
    assert crash_broadcasts(["light_bar"]) == 0


@pytest.mark.parametrize("kind", ["light_bar", "door", "siren", "speed", "crash"])
def test_a_scripted_vehicle_trigger_broadcasts_its_own_kind_from_the_cruiser(kind: str) -> None:
    sc = scripted(deep_merge(ONE_CALL, {"signal": {"triggers": [kind]},
                                        "script": {"triggers": [{"at_s": 5, "kind": kind, "cruiser": 0}]}}))
    assert [(b.kind, b.start) for b in run_shift(sc).broadcasts][:1] == [(kind, 5.0)]  # before the call comes in


def test_a_cruiser_cannot_hold_a_weapon_trigger() -> None:
    with pytest.raises(ConfigError, match="a cruiser holds only vehicle triggers"):
        scripted(deep_merge(ONE_CALL, {"script": {"triggers": [{"at_s": 30, "kind": "taser", "cruiser": 0}]}}))
