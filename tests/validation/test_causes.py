"""Each missed cause, produced by a scene built to produce it."""

from sim.metrics import officers_on_scene, summarize
from sim.model import run_shift
from tests.conftest import scripted

ONE_CALL = {"script": {"calls": [{"at_s": 10, "type": "stop", "at_ft": [1000, 1200], "units": [0]}]}}


def causes(extra):
    base = scripted(ONE_CALL).model_dump()
    from tests.conftest import deep_merge

    sc = scripted(deep_merge(base, extra))
    res = run_shift(sc)
    rows = officers_on_scene(res)
    return [r.cause for r in rows if r.present_at_critical], summarize(res, rows)


def test_no_trigger_and_no_manual_start_is_no_trigger():
    got, summary = causes({})
    assert got == ["no_trigger"]
    assert summary["capture_rate"] == 0.0


def test_light_bar_on_scene_with_officer_in_the_car_captures():
    got, summary = causes({"call_types": {"stop": {"light_bar_on_scene": True}}})
    assert got == [""] and summary["capture_rate"] == 1.0


def test_a_sleeping_camera_that_hears_the_light_bar_is_camera_asleep():
    got, _ = causes({"call_types": {"stop": {"light_bar_on_scene": True}},
                     "camera": {"sleep_probability": 1.0}})
    assert got == ["camera_asleep"]


def test_no_buffer_and_a_critical_moment_at_arrival_is_activated_too_late():
    got, _ = causes({"call_types": {"stop": {"light_bar_on_scene": True, "critical_after_arrival_s": 0}},
                     "camera": {"buffer_s": 0}})
    assert got == ["activated_too_late"]


def test_the_same_scene_with_a_30_s_buffer_is_captured():
    got, _ = causes({"call_types": {"stop": {"light_bar_on_scene": True, "critical_after_arrival_s": 0}},
                     "camera": {"buffer_s": 30}, "metrics": {"context_s": 10}})
    assert got == [""]


def test_a_trigger_too_far_away_is_out_of_range():
    got, _ = causes({"script": {"triggers": [
        {"at_s": 100, "kind": "light_bar", "at_ft": [1000, 1500], "call": 0}]}})
    assert got == ["out_of_range"]


def test_a_broadcast_over_before_the_officer_arrives_is_arrived_after_broadcast():
    got, _ = causes({"script": {"triggers": [
        {"at_s": 10, "kind": "light_bar", "at_ft": [1000, 1200], "call": 0}]},
        "fleet": {"officers_at_ft": [[1000, 5000], [3000, 1000]]}})
    assert got == ["arrived_after_broadcast"]


def test_manual_start_before_the_critical_moment_captures():
    got, _ = causes({"camera": {"manual": {"compliance": 1.0, "delay_s": 5}}})
    assert got == [""]
