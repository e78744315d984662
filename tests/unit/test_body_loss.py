"""Body loss: a worn camera hears an emitter behind its wearer less far than one it faces."""

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

RADIUS_FT, SPEED_FTPS, CAMERA_X = 30.0, 50.0, 1000.0


def _entry(facing_x: float, body_loss_db: float, wired: bool = False) -> float:
    """A camera (body 1) stands at x = 1,000 ft facing east (+1) or west (-1); a light bar (body 0) drives east
    towards it from x = 0 at 50 ft/s, broadcasting. The time the camera came within its range."""
    env = simpy.Environment()
    motion = Motion(2)
    motion.clock = env
    motion.place(1, 0.0, CAMERA_X - facing_x, 0.0)
    motion.move_to(1, 0.0, CAMERA_X, 0.0, math.inf)  # one step: it faces the way it moved
    heard: list[float] = []
    air = Airwaves(env, motion, np.array([1]), {"light_bar": EmitterKind(StepCurve(RADIUS_FT), 60.0)},
                   DiscoveryModel(), Streams(1), max_speed_ftps=60.0, wired=np.array([1]) if wired else None,
                   body_loss_db=body_loss_db, path_loss_exponent=2.0)
    air.deliver = lambda _b, _cam, t_entry, _d: heard.append(t_entry)
    motion.listener = air.course_changed
    motion.move_to(0, 0.0, 2000.0, 0.0, SPEED_FTPS)
    air.start(0, "LB-1", "light_bar", None)
    env.run(until=60.0)
    assert len(heard) == 1
    return heard[0]


def test_a_camera_facing_the_emitter_hears_it_from_the_full_radius() -> None:
    assert _entry(-1.0, 20.0) == pytest.approx((CAMERA_X - RADIUS_FT) / SPEED_FTPS)


def test_a_camera_with_its_back_to_the_emitter_hears_it_only_within_the_radius_the_body_loss_leaves() -> None:
    # 20 dB with path-loss exponent 2 is a tenth of the range: 3 ft of 30
    assert _entry(1.0, 20.0) == pytest.approx((CAMERA_X - RADIUS_FT * 0.1) / SPEED_FTPS)


@pytest.mark.parametrize(("body_loss_db", "wired"), [(0.0, False), (20.0, True)])
def test_no_body_loss_when_turned_off_or_for_a_camera_no_one_wears(body_loss_db: float, wired: bool) -> None:
    assert _entry(1.0, body_loss_db, wired) == pytest.approx((CAMERA_X - RADIUS_FT) / SPEED_FTPS)


def test_body_loss_is_half_side_on() -> None:
    env = simpy.Environment()
    motion = Motion(1)
    motion.clock = env
    air = Airwaves(env, motion, np.array([0]), {}, DiscoveryModel(), Streams(1), max_speed_ftps=1.0,
                   body_loss_db=20.0)
    assert air.body_factor((0.0, 1.0), 10.0, 0.0) == pytest.approx(10.0 ** -0.5)
    assert air.body_factor((1.0, 0.0), 0.0, 0.0) == 1.0  # its own emitter, at the camera
