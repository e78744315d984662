"""Where the bodies of a replay went: each body's piecewise-linear segments, as the motion model set them.

Between two of a body's segment changes its position is linear in time, so the distance between two
bodies is the norm of a linear function on every piece; `crossing` solves when it reaches a distance.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from bwclab.sim.motion import Motion

Segment = tuple[float, float, float, float, float, float]  # t0, x0, y0, vx, vy, t1


@dataclass
class Tracks:
    segments: dict[int, list[Segment]] = field(default_factory=dict)

    def snapshot(self, motion: Motion, bodies: list[int]) -> None:
        for i in bodies:
            self.record(motion, i)

    def record(self, motion: Motion, i: int) -> None:
        seg = (motion.t0[i], motion.x0[i], motion.y0[i], motion.vx[i], motion.vy[i], motion.t1[i])
        segs = self.segments.setdefault(i, [])
        while segs and segs[-1][0] >= seg[0]:  # a body set twice at one instant: the last word stands
            segs.pop()
        segs.append(seg)

    def position(self, i: int, t: float) -> tuple[float, float]:
        return position_on(self.segments[i], t)

    def distance(self, a: int, b: int, t: float) -> float:
        ax, ay = self.position(a, t)
        bx, by = self.position(b, t)
        return math.hypot(ax - bx, ay - by)

    def distances(self, a: int, b: int, times: NDArray[np.float64]) -> NDArray[np.float64]:
        pa = np.array([self.position(a, float(t)) for t in times])
        pb = np.array([self.position(b, float(t)) for t in times])
        return np.asarray(np.hypot(pa[:, 0] - pb[:, 0], pa[:, 1] - pb[:, 1]), dtype=float)

    def as_json(self, names: dict[int, str]) -> dict[str, list[list[float]]]:
        return {names[i]: [[round(v, 6) if math.isfinite(v) else 1e300 for v in s] for s in segs]
                for i, segs in self.segments.items() if i in names}


def position_on(segs: list[Segment] | list[list[float]], t: float) -> tuple[float, float]:
    """Where a body is at t on its segments (before the first: its start; after a segment ends: where it stopped)."""
    k = max(bisect.bisect_right([s[0] for s in segs], t) - 1, 0)
    t0, x0, y0, vx, vy, t1 = segs[k]
    dt = min(max(t, t0), t1) - t0
    return x0 + vx * dt, y0 + vy * dt


def relative(motion: Motion, a: int, b: int, t: float) -> tuple[float, float, float, float, float]:
    """(rx, ry, wx, wy, until): b's offset from a at t and its rate of change, valid until either segment ends."""
    ax, ay = motion.position(a, t)
    bx, by = motion.position(b, t)
    va = (motion.vx[a], motion.vy[a]) if t < motion.t1[a] else (0.0, 0.0)
    vb = (motion.vx[b], motion.vy[b]) if t < motion.t1[b] else (0.0, 0.0)
    ends = [e for e in (motion.t1[a], motion.t1[b]) if e > t]
    return bx - ax, by - ay, vb[0] - va[0], vb[1] - va[1], min(ends, default=math.inf)


def crossing(rx: float, ry: float, wx: float, wy: float, d: float) -> float:
    """The first tau > 0 at which |(rx, ry) + tau (wx, wy)| = d, or inf."""
    a = wx * wx + wy * wy
    if a == 0.0 or d < 0:
        return math.inf
    b = 2.0 * (rx * wx + ry * wy)
    c = rx * rx + ry * ry - d * d
    disc = b * b - 4.0 * a * c
    if disc < 0:
        return math.inf
    sq = math.sqrt(disc)
    roots = sorted(((-b - sq) / (2 * a), (-b + sq) / (2 * a)))
    return next((r for r in roots if r > 1e-9), math.inf)
