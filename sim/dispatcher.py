"""The dispatcher: sends the nearest free units; calls wait, by priority then age, for units.

It knows units only as what it dispatches (`Unit`: an index, the calls it was asked to take next,
and `assign`), their positions through the world's motion, and the clock."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import simpy

from sim.incident import Incident
from sim.motion import Motion


class Unit(Protocol):
    index: int
    waiting_for: list[Incident]

    def assign(self, inc: Incident) -> None: ...


class Dispatcher:
    def __init__(self, env: simpy.Environment, motion: Motion, n_units: int) -> None:
        self.env, self.motion = env, motion
        self.free = np.ones(n_units, dtype=bool)
        self.units: Sequence[Unit] = ()
        self.queue: list[Incident] = []
        self.waits: list[float] = []  # call to first unit dispatched, per call

    def connect(self, units: Sequence[Unit]) -> None:
        self.units = units

    def call(self, inc: Incident, first: int | None = None) -> None:
        """A new call; `first` is an officer who starts it (an officer-initiated stop)."""
        if first is not None:
            self.send(self.units[first], inc)
        need = inc.units_needed - len(inc.assigned)
        if need > 0:
            for o in self.nearest_free(inc.x, inc.y, need):
                self.send(self.units[o], inc)
        if len(inc.assigned) < inc.units_needed:
            self.queue.append(inc)
            self.queue.sort(key=lambda i: (not i.priority, i.called_at, i.number))

    def nearest_free(self, x: float, y: float, k: int) -> list[int]:
        idx = np.flatnonzero(self.free)
        if len(idx) == 0:
            return []
        px, py = self.motion.positions(idx, float(self.env.now))
        d2 = (px - x) ** 2 + (py - y) ** 2
        if k < len(idx):
            part = np.argpartition(d2, k - 1)[:k]
            order = part[np.lexsort((idx[part], d2[part]))]
        else:
            order = np.lexsort((idx, d2))
        return [int(i) for i in idx[order]]

    def send(self, unit: Unit, inc: Incident) -> None:
        if not inc.assigned:
            self.waits.append(float(self.env.now) - inc.called_at)
        inc.assigned.append(unit.index)
        self.free[unit.index] = False
        unit.assign(inc)

    def officer_free(self, unit: Unit) -> None:
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

    def drop(self, inc: Incident) -> None:
        if inc in self.queue:
            self.queue.remove(inc)
