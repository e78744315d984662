import math

import numpy as np
import pytest

from bwclab.sim.motion import Motion


def brute_entry(m: Motion, cam: int, em: int, t0: float, t1: float, r: float) -> float:
    for t in np.linspace(t0, t1, 200_001):
        cx, cy = m.position(cam, t)
        ex, ey = m.position(em, t)
        if (cx - ex) ** 2 + (cy - ey) ** 2 <= r * r:
            return float(t)
    return float("inf")


@pytest.mark.parametrize("seed", range(12))
def test_solved_entry_time_matches_dense_polling(seed: int) -> None:
    rng = np.random.default_rng(seed)
    m = Motion(2)
    for body in (0, 1):
        m.place(body, 0.0, *rng.uniform(-150, 150, 2))
        if rng.uniform() < 0.8:
            x, y = rng.uniform(-150, 150, 2)
            m.move_to(body, rng.uniform(0, 5), x, y, speed=rng.uniform(2, 60))
    r = float(rng.uniform(10, 60))
    got = m.entry_time(0, 1, 5.0, 35.0, r)
    want = brute_entry(m, 0, 1, 5.0, 35.0, r)
    if math.isinf(want):
        assert math.isinf(got) or got == pytest.approx(want, abs=2e-3)
    else:
        assert got == pytest.approx(want, abs=2e-3)


def test_a_camera_walking_in_is_found_at_its_entry_time() -> None:
    m = Motion(2)
    m.place(1, 0.0, 0.0, 0.0)
    m.place(0, 0.0, 100.0, 0.0)
    m.move_to(0, 0.0, 0.0, 0.0, speed=5.0)  # reaches 40 ft from the emitter at t = 12 s
    assert m.entry_time(0, 1, 0.0, 30.0, 40.0) == pytest.approx(12.0)
    assert math.isinf(m.entry_time(0, 1, 0.0, 11.0, 40.0))


def test_negative_radius_is_never_heard() -> None:
    m = Motion(2)
    assert math.isinf(m.entry_time(0, 1, 0.0, 10.0, -1.0))


def test_many_positions_at_once_are_each_bodys_position() -> None:
    rng = np.random.default_rng(3)
    m = Motion(50)
    for i in range(50):
        m.place(i, 0.0, *rng.uniform(0, 1000, 2))
        if i % 3:
            x, y = rng.uniform(0, 1000, 2)
            m.move_to(i, float(rng.uniform(0, 10)), float(x), float(y), speed=float(rng.uniform(1, 60)))
    idx = np.arange(50)
    for t in (0.0, 4.0, 17.5, 1e4):
        xs, ys = m.positions(idx, t)
        assert list(zip(xs.tolist(), ys.tolist(), strict=True)) == [m.position(i, t) for i in range(50)]
