"""The airwaves: a reception solved on an emitter's course is re-solved, or dropped, when that course changes."""

from __future__ import annotations

import math

import numpy as np
import pytest
import simpy

from bwclab.camera.ble import DiscoveryModel
from bwclab.camera.detection import StepCurve
from bwclab.sim.broadcast import Airwaves, EmitterKind
from bwclab.sim.motion import Motion
from bwclab.sim.streams import Streams
from tests.unit.courses import Parked

RADIUS_FT, SPEED_FTPS, CAMERA_X = 30.0, 50.0, 1000.0


def _airwaves(broadcast_s: float = 30.0, far_cameras: int = 0
              ) -> tuple[simpy.Environment, Motion, Airwaves, list[tuple[int, float]]]:
    """A light bar (body 0) and a camera (body 1) on the air, and `far_cameras` more cameras (bodies 2, ...) parked
    10 miles west; (camera, entry time) of every reception."""
    env = simpy.Environment()
    motion = Motion(2 + far_cameras)
    motion.clock = env
    for c in range(2, 2 + far_cameras):
        motion.place(c, 0.0, -52_800.0, float(c))
    heard: list[tuple[int, float]] = []
    air = Airwaves(env, motion, np.arange(1, 2 + far_cameras), {"light_bar": EmitterKind(StepCurve(RADIUS_FT),
                                                                                         broadcast_s)},
                   DiscoveryModel(), Streams(1), max_speed_ftps=60.0)
    air.deliver = lambda _b, cam, t_entry, _d: heard.append((cam, t_entry))
    motion.listener = air.course_changed
    return env, motion, air, heard


def _heard(stop_at_x: float | None, broadcast_s: float = 30.0, air_out: list[Airwaves] | None = None,
           far_cameras: int = 0) -> tuple[list[tuple[int, float]], float]:
    """A camera stands 1,000 ft east; a light bar drives east at 50 ft/s, broadcasting from t = 0. At t = 5 s
    it stops dead at `stop_at_x` (None: it drives on). Returns (camera, entry time) for every reception, and
    the entry time the drive on would give; `air_out` is given the airwaves."""
    env, motion, air, heard = _airwaves(broadcast_s, far_cameras)
    if air_out is not None:
        air_out.append(air)
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


@pytest.mark.parametrize("far_cameras", [0, 30])  # how many other cameras the emitter's course change looks at
@pytest.mark.parametrize(("stop_at_x", "in_range"), [(None, True), (250.0, False), (CAMERA_X - 10.0, False)])
def test_only_a_camera_that_came_into_range_is_recorded_as_in_range_unheard(stop_at_x: float | None,
                                                                            in_range: bool, far_cameras: int) -> None:
    # the broadcast ends 1 ms after the drive on would bring the camera within range (at 19.4 s): too soon
    # for discovery. Stopped short at 5 s, the camera never comes within range: foreseen at the start, that
    # entry must not stay on record as "in range, not heard". Stopped within range at 5 s, it is heard. However many
    # other cameras the course change has to look at.
    air: list[Airwaves] = []
    heard, _ = _heard(stop_at_x, broadcast_s=(CAMERA_X - RADIUS_FT) / SPEED_FTPS + 0.001, air_out=air,
                      far_cameras=far_cameras)
    assert ((0, 1) in air[0].undiscovered) is in_range
    assert (heard == []) is (stop_at_x is None or stop_at_x < CAMERA_X - RADIUS_FT)


def test_a_light_bar_that_stops_within_range_is_heard_from_when_it_stopped() -> None:
    heard, _ = _heard(CAMERA_X - 10.0)  # a jump into range at 5 s (placed, not driven)
    assert [cam for cam, _ in heard] == [1]
    assert heard[0][1] == pytest.approx(5.0)


@pytest.mark.parametrize(("emitter_speed", "heard_at"), [(50.0, (600.0 - RADIUS_FT) / 50.0), (0.0, None)])
def test_a_patrol_is_heard_when_a_light_bar_drives_up_to_it_and_left_alone_when_none_can(
        emitter_speed: float, heard_at: float | None) -> None:
    # a patrol parked 600 ft east, in a 100 ft region; a light bar at the origin drives east (or stands still)
    env, motion, air, heard = _airwaves()
    motion.place(1, 0.0, 600.0, 0.0)
    patrol = Parked(motion, 1, 600.0, 0.0)
    motion.make_lazy(1, patrol, (550.0, -50.0, 650.0, 50.0))
    motion.set_due(1, 0.0)
    if emitter_speed:
        motion.move_to(0, 0.0, 2000.0, 0.0, emitter_speed)
    else:
        motion.place(0, 0.0, 0.0, 0.0)
    air.start(0, "LB-1", "light_bar", None)
    env.run(until=40.0)
    if heard_at is None:
        assert heard == [] and not patrol.worked_out  # out of reach of a light bar standing still: not asked
    else:
        assert [cam for cam, _ in heard] == [1]
        assert heard[0][1] == pytest.approx(heard_at)


class _Moving:
    """A patrol for the test: parked at (1750, 0) in the region x 1650..1800; at 10 s it drives west to (1650, 0)
    at 60 ft/s. Quietly when caught up (`catch_up`), told when it happens if a broadcast is listening (`watch`)."""

    LEAVES_AT, FROM, TO, SPEED = 10.0, 1750.0, 1650.0, 60.0

    def __init__(self, env: simpy.Environment, motion: Motion, body: int) -> None:
        self.env, self.motion, self.body = env, motion, body
        self.left = False
        motion.place(body, 0.0, self.FROM, 0.0)
        motion.make_lazy(body, self, (self.TO, -100.0, 1800.0, 100.0))
        motion.set_due(body, self.LEAVES_AT)

    def _leave(self) -> None:
        self.left = True
        self.motion.set_due(self.body, math.inf)
        self.motion.move_to(self.body, self.LEAVES_AT, self.TO, 0.0, self.SPEED)

    def catch_up(self, t: float) -> None:
        if not self.left and t >= self.LEAVES_AT:
            self.motion.quiet = True
            try:
                self._leave()
            finally:
                self.motion.quiet = False

    def watch(self, until: float) -> None:
        if not self.left and until >= self.LEAVES_AT:
            self.env.timeout(self.LEAVES_AT - self.env.now).callbacks.append(lambda _e: self._leave())


def test_a_patrol_turning_toward_a_light_bar_is_heard_from_where_it_turned_to() -> None:
    # The light bar drives east from the origin at 60 ft/s, the fastest any body goes. At the start the patrol is
    # 1,720 ft beyond its 30 ft: it would come within range at 28.67 s, but at 10 s it moves 100 ft nearer, so it
    # does at 27 s. Its region is 1,650 ft off: inside 30 ft + 60 ft/s x 30 s (1,830 ft), it must be listened to;
    # a square more than 10% smaller would leave it out.
    env, motion, air, heard = _airwaves()
    _Moving(env, motion, 1)
    motion.move_to(0, 0.0, 3000.0, 0.0, 60.0)
    air.start(0, "LB-1", "light_bar", None)
    env.run(until=40.0)
    assert [cam for cam, _ in heard] == [1]
    assert heard[0][1] == pytest.approx((_Moving.TO - RADIUS_FT) / 60.0)
