"""The buffer that would have captured a moment, worked out from a camera's recordings: how far back the first
recording through the moment must reach, rounded up to 0.1 s, and none where the camera was asleep or recording
something else when the moment's context began, or where more than the longest buffer is needed."""

from __future__ import annotations

import pytest

from bwclab.camera.bodycam import BodyCamera, CameraSettings, Recording
from bwclab.sim.fixes import BUFFER_MAX_S, buffer_needed

MOMENT, CONTEXT = 1000.0, 10.0


def started(at: float, ended: float | None = None) -> Recording:
    return Recording(at, at, at, "signal", "LB", ended)


def test_a_recording_started_after_the_moment_needs_the_gap_back_to_the_context() -> None:
    assert buffer_needed([started(MOMENT + 5.0)], [], MOMENT, CONTEXT) == 15.0


def test_the_buffer_is_rounded_up_to_a_tenth_of_a_second() -> None:
    assert buffer_needed([started(MOMENT + 5.01)], [], MOMENT, CONTEXT) == 15.1


def test_a_recording_started_inside_the_context_needs_only_what_it_missed() -> None:
    assert buffer_needed([started(MOMENT - 4.0)], [], MOMENT, CONTEXT) == 6.0


def test_exactly_the_longest_buffer_is_listed_and_a_tenth_more_is_not() -> None:
    assert buffer_needed([started(MOMENT - CONTEXT + BUFFER_MAX_S)], [], MOMENT, CONTEXT) == BUFFER_MAX_S
    assert buffer_needed([started(MOMENT - CONTEXT + BUFFER_MAX_S + 0.05)], [], MOMENT, CONTEXT) is None


def test_a_camera_woken_after_the_context_began_has_nothing_to_reach_back_into() -> None:
    woke = MOMENT - CONTEXT + 0.001
    assert buffer_needed([started(MOMENT + 5.0)], [(0.0, woke)], MOMENT, CONTEXT) is None


def test_a_camera_woken_exactly_when_the_context_began_can_reach_back_to_it() -> None:
    assert buffer_needed([started(MOMENT + 5.0)], [(0.0, MOMENT - CONTEXT)], MOMENT, CONTEXT) == 15.0


def test_a_recording_that_ended_after_the_context_began_blocks_the_buffer_of_the_next() -> None:
    recs = [started(MOMENT - 300.0, ended=MOMENT - 2.0), started(MOMENT + 5.0)]
    assert buffer_needed(recs, [], MOMENT, CONTEXT) is None


def test_a_recording_over_before_the_moment_does_not_count() -> None:
    assert buffer_needed([started(MOMENT - 4.0, ended=MOMENT - 1.0)], [], MOMENT, CONTEXT) is None


def test_the_smallest_over_the_cameras_recordings_is_listed() -> None:
    recs = [started(MOMENT - 4.0, ended=MOMENT + 1.0), started(MOMENT + 50.0)]
    assert buffer_needed(recs, [], MOMENT, CONTEXT) == 6.0


def test_no_recording_needs_no_buffer_it_cannot_have() -> None:
    assert buffer_needed([], [], MOMENT, CONTEXT) is None


@pytest.mark.parametrize("delay", [0.0, 0.3, 4.97, 17.25, 61.05, 109.99])
def test_the_camera_given_the_listed_buffer_covers_the_context_and_a_tenth_less_does_not(delay: float) -> None:
    at = MOMENT + delay
    need = buffer_needed([started(at)], [], MOMENT, CONTEXT)
    assert need is not None
    for buffer_s, covers in ((need, True), (need - 0.1, False)):
        if buffer_s < 0:
            continue
        cam = BodyCamera("CAM", CameraSettings(buffer_s=buffer_s))
        cam.hear(at, "LB")
        assert cam.recordings[0].video_covers(MOMENT - CONTEXT, MOMENT) is covers, (delay, buffer_s)
