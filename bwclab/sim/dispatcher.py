"""The dispatcher: after the call is processed, sends the nearest free units; calls wait, by priority then
age, for units. Officers are also away from calls for part of the shift (reports, breaks: duties), each officer
its own.

It knows units only as what it dispatches (`Unit`), their positions through the world's motion, the
clock, and its own random streams."""

from __future__ import annotations

import bisect
import heapq
import math
from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np
import simpy

from bwclab.sim.component import Component, Connection
from bwclab.sim.dists import Dist, Draws
from bwclab.sim.incident import Incident
from bwclab.sim.motion import Motion, offset_to_box
from bwclab.sim.scenario import DutiesSpec
from bwclab.sim.streams import Stream

DIRECT_BELOW = 512  # up to this many units, the nearest are found among all of them (cheaper than the grid)
SCALAR_BELOW = 64  # up to this many candidates, distances in plain floats (cheaper than numpy's per-call cost)


class Unit(Protocol):
    index: int
    waiting_for: list[Incident]

    def assign(self, inc: Incident) -> None: ...

    def duty(self, on: bool) -> None: ...


class Dispatcher(Component):
    units = Connection[Sequence[Unit]]()  # unit i is `units[i]`

    def __init__(self, env: simpy.Environment, motion: Motion, n_units: int,
                 processing: Dist | None = None, rng: Callable[[int], Draws] | None = None) -> None:
        """`processing`: call received to first unit sent, drawn from `rng(incident number)`."""
        self.env, self.motion = env, motion
        self.free = np.ones(n_units, dtype=bool)
        self.queue: list[Incident] = []
        self.waits: list[float] = []  # call to first unit dispatched, per call
        self.processing, self.rng = processing, rng
        self.on_duty: dict[int, float] = {}  # unit -> duty length owed, waiting for the unit to be free
        self.busy_s = 0.0  # unit-seconds on calls
        self._since: dict[int, float] = {}

    def call(self, inc: Incident, first: int | None = None) -> None:
        """A new call; `first` is an officer who starts it (an officer-initiated stop, no dispatch delay)."""
        if first is not None:
            self.send(self.units[first], inc)
        delay = self.processing.sample(self.rng(inc.number)) if self.processing and self.rng else 0.0
        if delay > 0:
            self.env.timeout(delay).callbacks.append(lambda _e: self._dispatch(inc))
        else:
            self._dispatch(inc)

    def _dispatch(self, inc: Incident) -> None:
        if inc.is_over:
            return
        need = inc.units_needed - len(inc.assigned)
        if need > 0:
            for o in self.nearest_free(inc.x, inc.y, need):
                self.send(self.units[o], inc)
        if len(inc.assigned) < inc.units_needed:
            self.queue.append(inc)
            self.queue.sort(key=lambda i: (not i.priority, i.called_at, i.number))

    def nearest_free(self, x: float, y: float, k: int) -> list[int]:
        """The k free units nearest (x, y), nearest first (ties by index): searched outward through the world's
        grid in rings until no farther ring can hold a nearer unit."""
        n, m, now = len(self.free), self.motion, float(self.env.now)
        free = self.free
        if n <= DIRECT_BELOW:  # a small force: every free unit, at once
            return self._nearest(np.flatnonzero(free), x, y, k, now)
        r = m.cell / 2
        while True:
            near = [i for i in m.near(x, y, r) if i < n and free[i]]
            if len(near) >= k or r > 4 * m.cell * max(1, math.isqrt(n)):
                break
            r *= 2
        if len(near) < k:  # fewer free units in reach than asked for: all of them
            near = [int(i) for i in np.flatnonzero(free)]
        else:  # the k-th nearest found lies within d; any unit within d has a segment within d: look that far
            found = self._closest(near, x, y, k, now)
            d = sorted(math.hypot(dx, dy) for _, _, dx, dy in found)[k - 1]
            if d + 1.0 <= r:  # that far is inside what was searched: the nearest are among these
                return [i for _, i, _, _ in sorted(found)[:k]]
            near = [i for i in m.near(x, y, d + 1.0) if i < n and free[i]]
        return self._nearest(np.asarray(sorted(near), dtype=np.int64), x, y, k, now)

    def _nearest(self, idx: np.ndarray, x: float, y: float, k: int, now: float) -> list[int]:
        """The k of these units (in increasing order) nearest (x, y), nearest first, ties by index."""
        if len(idx) == 0:
            return []
        if len(idx) <= SCALAR_BELOW:  # a few: one at a time in plain floats, the same distances as numpy's
            return [i for _, i, _, _ in sorted(self._closest(idx.tolist(), x, y, k, now))[:k]]
        px, py = self.motion.positions(idx, now)
        d2 = (px - x) ** 2 + (py - y) ** 2
        if k < len(idx):
            part = np.argpartition(d2, k - 1)[:k]
            order = part[np.lexsort((idx[part], d2[part]))]
        else:
            order = np.lexsort((idx, d2))
        return [int(i) for i in idx[order]]

    def _closest(self, units: list[int], x: float, y: float, k: int, now: float
                 ) -> list[tuple[float, int, float, float]]:
        """(squared distance, unit, dx, dy) to (x, y) for enough of these units to hold the k nearest: all of them
        but the patrols whose region (which a patrol keeps to) lies beyond the k-th nearest found, whose legs
        are then not worked out."""
        m = self.motion
        position, region = m.position, m.region
        found: list[tuple[float, int, float, float]] = []
        far: list[tuple[float, int]] = []  # (squared distance to the region, unit) of the patrols
        for i in units:
            rg = region[i]
            if rg is None:
                px, py = position(i, now)
                dx, dy = px - x, py - y
                found.append((dx * dx + dy * dy, i, dx, dy))
            else:
                gx, gy = offset_to_box(rg, x, y)
                far.append((gx * gx + gy * gy, i))
        far.sort()
        kth = heapq.nsmallest(k, [f[0] for f in found])  # the k smallest found so far, ascending
        for bound, i in far:
            if len(kth) >= k and bound > kth[-1] * (1.0 + 1e-9) + 1e-6:
                break  # this patrol and every one after it is farther than the k nearest found
            px, py = position(i, now)
            dx, dy = px - x, py - y
            d2 = dx * dx + dy * dy
            found.append((d2, i, dx, dy))
            if len(kth) < k or d2 < kth[-1]:
                bisect.insort(kth, d2)
                del kth[k:]
        return found

    def send(self, unit: Unit, inc: Incident) -> None:
        if not inc.assigned:
            self.waits.append(float(self.env.now) - inc.called_at)
        inc.assigned.append(unit.index)
        self.free[unit.index] = False
        self._since[unit.index] = float(self.env.now)
        unit.assign(inc)

    def officer_free(self, unit: Unit) -> None:
        now = float(self.env.now)
        self.busy_s += now - self._since.pop(unit.index, now)
        owed = self.on_duty.pop(unit.index, None)
        if owed is not None:  # a duty that fell due during the call comes first
            self._duty(unit, owed)
            return
        for inc in list(unit.waiting_for):
            unit.waiting_for.remove(inc)
            if not inc.is_over:
                self.send(unit, inc)
                return
        self.free[unit.index] = True
        for inc in list(self.queue):
            if inc.is_over:
                self.queue.remove(inc)
                continue
            self.send(unit, inc)
            if len(inc.assigned) >= inc.units_needed:
                self.queue.remove(inc)
            return

    def start_duties(self, duties: DutiesSpec, key: int) -> None:
        """Every unit's duties, each unit on its own stream (`key`, its index): blocks of `length_min` falling due at
        random, `share` / mean length of them a minute, so that each unit spends `share` of a long shift on them; a
        block that falls due while the unit is busy (on a call, or another block) waits for it."""
        if duties.share <= 0:
            return
        mean_gap_s = duties.length_min.expected() * 60.0 / duties.share
        for unit in self.units:
            self._next_duty(unit, Stream(key, unit.index), duties, mean_gap_s)

    def _next_duty(self, unit: Unit, rng: Stream, duties: DutiesSpec, mean_gap_s: float) -> None:
        def due(_e: simpy.Event) -> None:
            self.duty_due(unit, duties.length_min.sample(rng) * 60.0)
            self._next_duty(unit, rng, duties, mean_gap_s)

        self.env.timeout(rng.exponential(mean_gap_s)).callbacks.append(due)

    def duty_due(self, unit: Unit, length_s: float) -> None:
        """A duty falls due: at once for a free unit, else when it is next free (its call, or its duty, over)."""
        if self.free[unit.index]:
            self._duty(unit, length_s)
        else:
            self.on_duty[unit.index] = self.on_duty.get(unit.index, 0.0) + length_s

    def _duty(self, unit: Unit, length_s: float) -> None:
        self.free[unit.index] = False
        unit.duty(True)

        def back(_e: simpy.Event) -> None:
            unit.duty(False)
            self.free[unit.index] = False  # officer_free sets it, or gives the unit the next call
            self.officer_free(unit)

        self.env.timeout(length_s).callbacks.append(back)

    def drop(self, inc: Incident) -> None:
        if inc in self.queue:
            self.queue.remove(inc)

