"""The airwaves: a reception solved on an emitter's course is re-solved, or dropped, when that course changes."""

from __future__ import annotations

import numpy as np
import pytest
import simpy

from camera.ble import DiscoveryModel
from camera.detection import StepCurve
from sim.broadcast import Airwaves, Kind
from sim.motion import Motion
from sim.streams import Streams

RADIUS_FT, SPEED_FTPS, CAMERA_X = 30.0, 50.0, 1000.0


def _heard(stop_at_x: float | None) -> tuple[list[tuple[int, float]], float]:
    """A camera stands 1,000 ft east; a light bar drives east at 50 ft/s, broadcasting from t = 0. At t = 5 s
    it stops dead at `stop_at_x` (None: it drives on). Returns (camera, entry time) for every reception, and
    the entry time the drive on would give."""
    env = simpy.Environment()
    motion = Motion(2)
    motion.clock = env
    heard: list[tuple[int, float]] = []
    air = Airwaves(env, motion, np.array([1]), {"light_bar": Kind(StepCurve(RADIUS_FT), 30.0)}, DiscoveryModel(),
                   Streams(1), lambda _b, cam, t_entry, _d: heard.append((cam, t_entry)), max_speed_ftps=60.0)
    motion.listener = air.course_changed
    motion.place(1, 0.0, CAMERA_X, 0.0)
    motion.move_to(0, 0.0, 2000.0, 0.0, SPEED_FTPS)
    air.start(0, "LB-1", "light_bar", None)

    def stop() -> simpy.events.ProcessGenerator:
        yield env.timeout(5.0)
        if stop_at_x is not None:
            motion.place(0, 5.0, stop_at_x, 0.0)

    env.process(stop())
    env.run(until=40.0)
    return heard, (CAMERA_X - RADIUS_FT) / SPEED_FTPS


def test_a_light_bar_driving_past_a_camera_is_heard_from_when_it_comes_within_range() -> None:
    heard, entry = _heard(None)
    assert [cam for cam, _ in heard] == [1]
    assert heard[0][1] == pytest.approx(entry)


@pytest.mark.parametrize("stop_at_x", [250.0, 900.0])
def test_a_light_bar_that_stops_short_of_a_camera_is_not_heard_by_it(stop_at_x: float) -> None:
    # the reception solved at the start (the camera reached at 19.4 s) is stale once the car stops 100 ft or
    # more short of the camera's 30 ft
    heard, _ = _heard(stop_at_x)
    assert heard == []


def test_a_light_bar_that_stops_within_range_is_heard_from_when_it_stopped() -> None:
    heard, _ = _heard(CAMERA_X - 10.0)  # a jump into range at 5 s (placed, not driven)
    assert [cam for cam, _ in heard] == [1]
    assert heard[0][1] == pytest.approx(5.0)
