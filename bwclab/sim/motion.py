"""Where every officer, cruiser and fixed emitter is: piecewise-linear, changed only by events.

Each body holds one segment: it leaves (x0, y0) at t0 with velocity (vx, vy) and stops at t1.
Positions between events are computed, never stepped (`at`). `entry_time` solves when a camera
first comes within a radius of an emitter, both possibly moving. Segments are kept in plain Python
lists (cheap one at a time); a vector query (the nearest of many units) gathers the few it needs into numpy
arrays (`segments`). Each body also keeps the direction it last moved in: its heading when it is not facing
anything in particular.

A body may be driven lazily (an officer on patrol: `Lazy`): its course changes are worked out only when
something asks where it is, up to the clock's present, and the grid holds the whole region it keeps to
(its beat) instead of each segment. Whoever asks gets what an eager model would have had.

A small world (up to `GRID_ABOVE` bodies: a city department's shift) keeps no grid: a query returns every body,
a superset its callers check exactly, and that costs less than keeping the grid up to date (6% of the Hartford
shift's instructions).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection
from operator import itemgetter
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
Box = tuple[float, float, float, float]  # x0, y0, x1, y1
_NEVER = math.inf  # `due` of a body with no course change pending (an eager one)
_STRIDE = 1 << 32  # grid cell (p, q) is key p * _STRIDE + q: an int hashes faster than a tuple
GRID_ABOVE = 256  # up to this many bodies no grid is kept: a query looks at them all (cheaper than keeping it)


class Clock(Protocol):
    @property
    def now(self) -> float: ...


class Lazy(Protocol):
    """A course worked out on demand: `catch_up(t)` makes every course change due by t (never later than the
    clock's present) happen, quietly: nothing listening is told of a change in the past."""

    def catch_up(self, t: float) -> None: ...

    def watch(self, until: float) -> None:
        """Something listens near this body until `until`: its course changes up to then are told when they
        happen."""


class _Still:
    now = 0.0


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
        self.listener: Callable[[int, float, float, float], None] | None = None
        self.cell = 2000.0  # the grid that finds the bodies near a point (`near`)
        self._cells: dict[int, set[int]] = {}  # cell key -> bodies
        self._span: list[tuple[int, int, int, int] | None] = [None] * n_bodies  # the cells a body is in: i0 j0 i1 j1
        self._stale: set[int] = set()  # bodies whose cells are re-worked out at the next query (`_reindex`)
        self.gridded = n_bodies > GRID_ABOVE
        self._everyone = range(n_bodies)
        self.clock: Clock = _Still()
        self.quiet = False  # a lazy body catching up: no listener, no segment index
        self.due = [math.inf] * n_bodies  # a lazy body's next course change; inf for the others
        self.lazy: list[Lazy | None] = [None] * n_bodies
        self.region: list[Box | None] = [None] * n_bodies

    # --- lazy bodies ---------------------------------------------------------------------
    def make_lazy(self, i: int, course: Lazy, region: Box) -> None:
        """Body i keeps to `region` and its course is `course`'s to work out on demand."""
        self.lazy[i] = course
        self.region[i] = region
        if self.gridded:
            self._stale.add(i)

    def make_eager(self, i: int) -> None:
        """Body i's course is set by events again: indexed by its present segment."""
        self.lazy[i] = None
        self.region[i] = None
        self.set_due(i, math.inf)
        if self.gridded:
            self._stale.add(i)

    def set_due(self, i: int, t: float) -> None:
        self.due[i] = t

    def catch_up(self, i: int) -> None:
        course = self.lazy[i]
        if course is not None:
            course.catch_up(self.clock.now)

    def catch_up_all(self, idx: IntArray) -> None:
        due, now = self.due, self.clock.now
        for i in idx.tolist():
            if due[i] <= now:  # (a car and its rider catch up together: the second is no longer due)
                self.catch_up(i)

    def lazy_in(self, box: Box) -> list[int]:
        """The lazy bodies whose region meets `box`."""
        x0, y0, x1, y1 = box
        out = []
        for i in sorted(self._in_box(x0, y0, x1, y1)) if self.gridded else self._everyone:
            r = self.region[i]
            if r is not None and r[0] <= x1 and x0 <= r[2] and r[1] <= y1 and y0 <= r[3]:
                out.append(i)
        return out

    def lazy_courses_in(self, box: Box) -> list[Lazy]:
        """The courses of the lazy bodies whose region meets `box`, each once (a car and its rider share one), in
        the order of their first body."""
        out: list[Lazy] = []
        seen: set[int] = set()
        for i in self.lazy_in(box):
            course = self.lazy[i]
            if course is not None and id(course) not in seen:
                seen.add(id(course))
                out.append(course)
        return out

    # --- where bodies are ----------------------------------------------------------------
    def position(self, i: int, t: float) -> tuple[float, float]:
        """Where body i is at t, a lazy body caught up to the clock's present first."""
        if (due := self.due[i]) < _NEVER and due <= self.clock.now:  # an eager body: no clock read
            self.catch_up(i)
        return self.at(i, t)

    def at(self, i: int, t: float) -> tuple[float, float]:
        """Where body i's present segment has it at t (before t0 at its start, after t1 at its end), as it stands:
        a lazy body is not caught up."""
        t0, t1 = self.t0[i], self.t1[i]
        dt = (t1 - t0 if t >= t1 else t - t0) if t > t0 else 0.0  # min(max(t, t0), t1) - t0, without two calls
        return self.x0[i] + self.vx[i] * dt, self.y0[i] + self.vy[i] * dt

    def positions(self, idx: IntArray, t: float) -> tuple[FloatArray, FloatArray]:
        """`position` for many bodies at once (`at`'s arithmetic on arrays)."""
        self.catch_up_all(idx)
        x0, y0, vx, vy, t0, t1 = self.segments(idx)
        dt = np.clip(t, t0, t1) - t0
        return x0 + vx * dt, y0 + vy * dt

    def segments(self, idx: IntArray) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
        """These bodies' present segments as arrays (x0, y0, vx, vy, t0, t1), for the vector queries; as they
        stand, without catching up a lazy body."""
        il = idx.tolist()
        # itemgetter gathers in C, but gives a tuple only for two or more
        get = itemgetter(*il) if len(il) > 1 else lambda col: tuple(col[i] for i in il)
        x0, y0, vx, vy, t0, t1 = (np.array(get(col), dtype=float)
                                  for col in (self.x0, self.y0, self.vx, self.vy, self.t0, self.t1))
        return x0, y0, vx, vy, t0, t1

    def moving(self, i: int, t: float) -> bool:
        if (due := self.due[i]) < _NEVER and due <= self.clock.now:
            self.catch_up(i)
        return self.t0[i] <= t < self.t1[i] and (self.vx[i] != 0.0 or self.vy[i] != 0.0)

    def heading(self, i: int) -> tuple[float, float]:
        if (due := self.due[i]) < _NEVER and due <= self.clock.now:
            self.catch_up(i)
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

    def _set(self, i: int, t: float, x: float, y: float, vx: float, vy: float, t1: float) -> None:
        self.x0[i], self.y0[i], self.vx[i], self.vy[i], self.t0[i], self.t1[i] = x, y, vx, vy, t, t1
        if self.quiet:
            return
        if self.region[i] is None and self.gridded:
            self._stale.add(i)
        if self.listener is not None:
            self.listener(i, t, x, y)

    def _reindex(self) -> None:
        """The grid, brought up to date for the bodies that changed since the last query: each by its present
        segment, or its region if it has one. A body that changes course many times between two queries is
        worked out once, for the segment it then has."""
        for i in self._stale:
            region = self.region[i]
            if region is not None:
                self._index_box(i, *region)
            else:
                x, y, dt = self.x0[i], self.y0[i], self.t1[i] - self.t0[i]
                self._index_box(i, x, y, x + self.vx[i] * dt, y + self.vy[i] * dt)
        self._stale.clear()

    def _index_box(self, i: int, xa: float, ya: float, xb: float, yb: float) -> None:
        """Register the body in every grid cell a box touches (its present segment's, or its region)."""
        c = self.cell
        if xa > xb:
            xa, xb = xb, xa
        if ya > yb:
            ya, yb = yb, ya
        span = (math.floor(xa / c), math.floor(ya / c), math.floor(xb / c), math.floor(yb / c))
        old = self._span[i]
        if old == span:
            return
        grid = self._cells
        if old is not None:
            for k in _cells_of(old):
                left = grid[k]
                left.discard(i)
                if not left:
                    del grid[k]
        for k in _cells_of(span):
            members = grid.get(k)
            if members is None:
                grid[k] = {i}
            else:
                members.add(i)
        self._span[i] = span

    def near(self, x: float, y: float, r: float) -> Collection[int]:
        """Every body whose present segment (a lazy body's region) passes within about r of (x, y) (a superset:
        check exactly); every body, in order, if no grid is kept."""
        if not self.gridded:
            return self._everyone
        return self._in_box(x - r, y - r, x + r, y + r)

    def _in_box(self, x0: float, y0: float, x1: float, y1: float) -> set[int]:
        if self._stale:
            self._reindex()
        c, grid, stride = self.cell, self._cells, _STRIDE
        found: set[int] = set()
        q0, q1 = math.floor(y0 / c), math.floor(y1 / c) + 1
        for p in range(math.floor(x0 / c), math.floor(x1 / c) + 1):
            for k in range(p * stride + q0, p * stride + q1):
                members = grid.get(k)
                if members:
                    found |= members
        return found

    def speed(self, i: int, t: float) -> float:
        if (due := self.due[i]) < _NEVER and due <= self.clock.now:
            self.catch_up(i)
        return math.hypot(self.vx[i], self.vy[i]) if t < self.t1[i] else 0.0

    def entry_time(self, cam: int, emitter: int, t_from: float, t_to: float, radius: float) -> float:
        """Earliest t in [t_from, t_to] with |cam(t) - emitter(t)| <= radius; inf if none (a negative radius: never
        heard). Both bodies as they stand: caught up to t_from by the caller.

        Relative motion is linear between the segment ends of the camera and the emitter, so the window splits into
        at most three pieces, each solved as a quadratic."""
        if radius < 0 or t_to < t_from:
            return math.inf
        vx, vy, t1 = self.vx, self.vy, self.t1
        ct1, et1 = t1[cam], t1[emitter]
        c1 = min(max(ct1, t_from), t_to)
        e1 = min(max(et1, t_from), t_to)
        r2 = radius * radius
        for start, end in ((t_from, min(c1, e1)), (min(c1, e1), max(c1, e1)), (max(c1, e1), t_to)):
            if end < start:
                continue
            px, py = self.at(cam, start)
            qx, qy = self.at(emitter, start)
            rx, ry = px - qx, py - qy
            c = rx * rx + ry * ry - r2
            if c <= 0:
                return start
            cm, em = start < ct1, start < et1
            wx = (vx[cam] if cm else 0.0) - (vx[emitter] if em else 0.0)
            wy = (vy[cam] if cm else 0.0) - (vy[emitter] if em else 0.0)
            a = wx * wx + wy * wy
            b = 2.0 * (rx * wx + ry * wy)
            disc = b * b - 4.0 * a * c
            if a > 0 and b < 0 and disc >= 0:
                tau = (-b - math.sqrt(disc)) / (2.0 * a)
                if tau <= end - start:
                    return start + max(tau, 0.0)
        return math.inf


def pulled_over_ahead(x: float, y: float, hx: float, hy: float, gap_ft: float, u: float) -> tuple[float, float]:
    """Where the car a cruiser at (x, y), heading along the unit vector (hx, hy), has pulled over stands: `gap_ft`
    ahead, its centre 2-3 ft (by `u` in [0, 1)) to the cruiser's right, so the cruiser's hood lines up with its
    left rear fender and the dash camera faces it (traffic-stop training material)."""
    side = 2.0 + u
    return x + gap_ft * hx + side * hy, y + gap_ft * hy - side * hx


def offset_to_box(box: Box, x: float, y: float) -> tuple[float, float]:
    """How far (x, y) lies outside `box` along each axis (0 inside it): the nearest any point in it can be."""
    x0, y0, x1, y1 = box
    return (x0 - x if x < x0 else (x - x1 if x > x1 else 0.0)), (y0 - y if y < y0 else (y - y1 if y > y1 else 0.0))


def _cells_of(span: tuple[int, int, int, int]) -> list[int]:
    i0, j0, i1, j1 = span
    if i0 == i1 and j0 == j1:
        return [i0 * _STRIDE + j0]
    return [p * _STRIDE + q for p in range(i0, i1 + 1) for q in range(j0, j1 + 1)]
