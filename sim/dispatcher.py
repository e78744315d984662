"""The dispatcher: sends the nearest free units; calls wait, by priority then age, for units."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.incident import Incident

if TYPE_CHECKING:
    from sim.model import Shift
    from sim.officer import Officer


class Dispatcher:
    def __init__(self, shift: Shift) -> None:
        self.shift = shift
        self.free = np.ones(shift.n_officers, dtype=bool)
        self.queue: list[Incident] = []
        self.waits: list[float] = []  # call to first unit dispatched, per call

    def call(self, inc: Incident, first: int | None = None) -> None:
        """A new call; `first` is an officer who starts it (an officer-initiated stop)."""
        if first is not None:
            self.send(self.shift.officers[first], inc)
        need = inc.units_needed - len(inc.assigned)
        if need > 0:
            for o in self.nearest_free(inc.x, inc.y, need):
                self.send(self.shift.officers[o], inc)
        if len(inc.assigned) < inc.units_needed:
            self.queue.append(inc)
            self.queue.sort(key=lambda i: (not i.priority, i.called_at, i.number))

    def nearest_free(self, x: float, y: float, k: int) -> list[int]:
        idx = np.flatnonzero(self.free)
        if len(idx) == 0:
            return []
        px, py = self.shift.motion.positions(idx, float(self.shift.env.now))
        d2 = (px - x) ** 2 + (py - y) ** 2
        if k < len(idx):
            part = np.argpartition(d2, k - 1)[:k]
            order = part[np.lexsort((idx[part], d2[part]))]
        else:
            order = np.lexsort((idx, d2))
        return [int(i) for i in idx[order]]

    def send(self, officer: Officer, inc: Incident) -> None:
        if not inc.assigned:
            self.waits.append(float(self.shift.env.now) - inc.called_at)
        inc.assigned.append(officer.index)
        self.free[officer.index] = False
        officer.assign(inc)

    def officer_free(self, officer: Officer) -> None:
        for inc in list(officer.waiting_for):
            officer.waiting_for.remove(inc)
            if not inc.is_over:
                self.send(officer, inc)
                return
        self.free[officer.index] = True
        for inc in list(self.queue):
            if inc.is_over:
                self.queue.remove(inc)
                continue
            self.send(officer, inc)
            if len(inc.assigned) >= inc.units_needed:
                self.queue.remove(inc)
            return

    def drop(self, inc: Incident) -> None:
        if inc in self.queue:
            self.queue.remove(inc)
