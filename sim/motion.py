"""Where every officer, cruiser and fixed emitter is: piecewise-linear, changed only by events.

Each body holds one segment: it leaves (x0, y0) at t0 with velocity (vx, vy) and stops at t1.
Positions between events are computed, never stepped. `entry_times` solves when a camera
first comes within a radius of an emitter, both possibly moving. Scalar reads use plain Python
lists (cheap one at a time); numpy arrays, kept in step, serve the vector queries (nearest units,
the cameras near a broadcast). Each body also keeps the direction it last moved in: its heading
when it is not facing anything in particular.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


class Motion:
    def __init__(self, n_bodies: int) -> None:
        self.n = n_bodies
        self.x0 = [0.0] * n_bodies
        self.y0 = [0.0] * n_bodies
        self.vx = [0.0] * n_bodies
        self.vy = [0.0] * n_bodies
        self.t0 = [0.0] * n_bodies
        self.t1 = [0.0] * n_bodies
        self.hx = [1.0] * n_bodies  # unit vector of the last motion: the heading when standing still
        self.hy = [0.0] * n_bodies
        self.ax0 = np.zeros(n_bodies)
        self.ay0 = np.zeros(n_bodies)
        self.avx = np.zeros(n_bodies)
        self.avy = np.zeros(n_bodies)
        self.at0 = np.zeros(n_bodies)
        self.at1 = np.zeros(n_bodies)
        self.listener: Callable[[int, float, float, float], None] | None = None
        self.cell = 2000.0  # the grid that finds the bodies near a point (`near`)
        self._cells: dict[tuple[int, int], set[int]] = {}
        self._in: list[tuple[tuple[int, int], ...]] = [()] * n_bodies

    def position(self, i: int, t: float) -> tuple[float, float]:
        t0 = self.t0[i]
        dt = min(max(t, t0), self.t1[i]) - t0
        return self.x0[i] + self.vx[i] * dt, self.y0[i] + self.vy[i] * dt

    def positions(self, idx: IntArray, t: float | FloatArray) -> tuple[FloatArray, FloatArray]:
        dt = np.clip(t, self.at0[idx], self.at1[idx]) - self.at0[idx]
        return self.ax0[idx] + self.avx[idx] * dt, self.ay0[idx] + self.avy[idx] * dt

    def moving(self, i: int, t: float) -> bool:
        return self.t0[i] <= t < self.t1[i] and (self.vx[i] != 0.0 or self.vy[i] != 0.0)

    def heading(self, i: int) -> tuple[float, float]:
        return self.hx[i], self.hy[i]

    def place(self, i: int, t: float, x: float, y: float) -> None:
        self._set(i, t, x, y, 0.0, 0.0, t)

    def move_to(self, i: int, t: float, x: float, y: float, speed: float) -> float:
        """Start moving from the current position to (x, y); returns the arrival time."""
        px, py = self.position(i, t)
        dist = math.hypot(x - px, y - py)
        if dist == 0.0:
            self._set(i, t, x, y, 0.0, 0.0, t)
            return t
        self.hx[i], self.hy[i] = (x - px) / dist, (y - py) / dist
        if math.isinf(speed):
            self._set(i, t, x, y, 0.0, 0.0, t)
            return t
        dur = dist / speed
        self._set(i, t, px, py, (x - px) / dur, (y - py) / dur, t + dur)
        return t + dur

    def drive(self, car: int, rider: int, t: float, x: float, y: float, speed: float) -> float:
        """A car, with its rider in it, sets off for (x, y); returns the arrival time (move_to and follow in one)."""
        arrive = self.move_to(car, t, x, y, speed)
        self.hx[rider], self.hy[rider] = self.hx[car], self.hy[car]
        self._set(rider, t, self.x0[car], self.y0[car], self.vx[car], self.vy[car], self.t1[car])
        return arrive

    def follow(self, i: int, leader: int, t: float) -> None:
        """Body i rides with `leader` (an officer in a cruiser) for the leader's segment."""
        lx, ly = self.position(leader, t)
        moving = self.t1[leader] > t
        vx, vy = (self.vx[leader], self.vy[leader]) if moving else (0.0, 0.0)
        self.hx[i], self.hy[i] = self.hx[leader], self.hy[leader]
        self._set(i, t, lx, ly, vx, vy, max(self.t1[leader], t))

    def face(self, i: int, x: float, y: float, t: float) -> None:
        """Turn a still body toward a point (an officer toward the subject)."""
        px, py = self.position(i, t)
        d = math.hypot(x - px, y - py)
        if d > 0:
            self.hx[i], self.hy[i] = (x - px) / d, (y - py) / d

    def _set(self, i: int, t: float, x: float, y: float, vx: float, vy: float, t1: float) -> None:
        self.x0[i], self.y0[i], self.vx[i], self.vy[i], self.t0[i], self.t1[i] = x, y, vx, vy, t, t1
        self.ax0[i], self.ay0[i], self.avx[i], self.avy[i], self.at0[i], self.at1[i] = x, y, vx, vy, t, t1
        self._index(i, x, y, x + vx * (t1 - t), y + vy * (t1 - t))
        if self.listener is not None:
            self.listener(i, t, x, y)

    def _index(self, i: int, xa: float, ya: float, xb: float, yb: float) -> None:
        """Register the body in every grid cell its present segment's bounding box touches."""
        c = self.cell
        i0, i1 = math.floor(min(xa, xb) / c), math.floor(max(xa, xb) / c)
        j0, j1 = math.floor(min(ya, yb) / c), math.floor(max(ya, yb) / c)
        cells = ((i0, j0),) if i0 == i1 and j0 == j1 else tuple(
            (p, q) for p in range(i0, i1 + 1) for q in range(j0, j1 + 1))
        old = self._in[i]
        if old == cells:
            return
        for k in old:
            members = self._cells[k]
            members.discard(i)
            if not members:
                del self._cells[k]
        for k in cells:
            self._cells.setdefault(k, set()).add(i)
        self._in[i] = cells

    def near(self, x: float, y: float, r: float) -> set[int]:
        """Every body whose present segment passes within about r of (x, y) (a superset: check exactly)."""
        c = self.cell
        found: set[int] = set()
        for p in range(math.floor((x - r) / c), math.floor((x + r) / c) + 1):
            for q in range(math.floor((y - r) / c), math.floor((y + r) / c) + 1):
                members = self._cells.get((p, q))
                if members:
                    found |= members
        return found

    def entry_times(
        self, cams: IntArray, emitter: int, t_from: float, t_to: float, radius: FloatArray
    ) -> FloatArray:
        """Earliest t in [t_from, t_to] with |cam(t) - emitter(t)| <= radius; inf if none.

        Relative motion is linear between the segment ends of the camera and the emitter,
        so the window splits into at most three pieces, each solved as a quadratic.
        """
        n = len(cams)
        out = np.full(n, np.inf)
        if n == 0 or t_to < t_from:
            return out
        et1 = self.t1[emitter]
        e1 = np.full(n, min(max(et1, t_from), t_to))
        c1 = np.clip(self.at1[cams], t_from, t_to)
        bounds = [np.full(n, t_from), np.minimum(c1, e1), np.maximum(c1, e1), np.full(n, t_to)]
        emitters = np.full(n, emitter)
        for k in range(3):
            start, end = bounds[k], bounds[k + 1]
            todo = np.isinf(out) & (end >= start)
            if not todo.any():
                break
            cx, cy = self.positions(cams, start)
            ex, ey = self.positions(emitters, start)
            cvx = np.where(start < self.at1[cams], self.avx[cams], 0.0)
            cvy = np.where(start < self.at1[cams], self.avy[cams], 0.0)
            moving_e = start < et1
            evx = np.where(moving_e, self.vx[emitter], 0.0)
            evy = np.where(moving_e, self.vy[emitter], 0.0)
            tau = _first_inside(cx - ex, cy - ey, cvx - evx, cvy - evy, end - start, radius)
            hit = todo & np.isfinite(tau)
            out[hit] = start[hit] + tau[hit]
        return out

    def speed(self, i: int, t: float) -> float:
        return math.hypot(self.vx[i], self.vy[i]) if t < self.t1[i] else 0.0

    def entry_time(self, cam: int, emitter: int, t_from: float, t_to: float, radius: float) -> float:
        """`entry_times` for one camera, in plain floats (the common case, kept cheap)."""
        if radius < 0 or t_to < t_from:
            return math.inf
        cx, cy = self.position(cam, t_from)
        ex, ey = self.position(emitter, t_from)
        gap = math.hypot(cx - ex, cy - ey) - radius
        if gap > 0 and gap > (self.speed(cam, t_from) + self.speed(emitter, t_from)) * (t_to - t_from):
            return math.inf  # too far to close the gap before t_to, even heading straight for each other
        c1 = min(max(self.t1[cam], t_from), t_to)
        e1 = min(max(self.t1[emitter], t_from), t_to)
        r2 = radius * radius
        for start, end in ((t_from, min(c1, e1)), (min(c1, e1), max(c1, e1)), (max(c1, e1), t_to)):
            if end < start:
                continue
            cx, cy = self.position(cam, start)
            ex, ey = self.position(emitter, start)
            rx, ry = cx - ex, cy - ey
            c = rx * rx + ry * ry - r2
            if c <= 0:
                return start
            cm, em = start < self.t1[cam], start < self.t1[emitter]
            wx = (self.vx[cam] if cm else 0.0) - (self.vx[emitter] if em else 0.0)
            wy = (self.vy[cam] if cm else 0.0) - (self.vy[emitter] if em else 0.0)
            a = wx * wx + wy * wy
            b = 2.0 * (rx * wx + ry * wy)
            disc = b * b - 4.0 * a * c
            if a > 0 and b < 0 and disc >= 0:
                tau = (-b - math.sqrt(disc)) / (2.0 * a)
                if tau <= end - start:
                    return start + max(tau, 0.0)
        return math.inf


def _first_inside(
    rx: FloatArray, ry: FloatArray, wx: FloatArray, wy: FloatArray, dur: FloatArray, r: FloatArray
) -> FloatArray:
    """Earliest tau in [0, dur] with |(rx, ry) + tau (wx, wy)| <= r, else inf."""
    c = rx * rx + ry * ry - r * r
    a = wx * wx + wy * wy
    b = 2.0 * (rx * wx + ry * wy)
    disc = b * b - 4.0 * a * c
    with np.errstate(divide="ignore", invalid="ignore"):
        tau = (-b - np.sqrt(np.maximum(disc, 0.0))) / (2.0 * a)
    ok = (a > 0) & (disc >= 0) & (b < 0) & (tau <= dur)
    tau = np.where(ok, np.maximum(tau, 0.0), np.inf)
    inside = (c <= 0) & (r >= 0)
    return np.where(inside, 0.0, tau)
