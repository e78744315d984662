"""An incident: units arrive, time on scene runs from the first arrival, a critical moment
happens, maybe a taser is armed or a firearm drawn, and the scene clears."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import simpy

from sim.scenario import CallTypeSpec, TriggerUse

if TYPE_CHECKING:
    from sim.model import Shift


@dataclass
class Incident:
    number: int
    call_type: str
    spec: CallTypeSpec
    called_at: float
    x: float
    y: float
    priority: bool
    units_needed: int
    officer_initiated: bool
    ended: simpy.Event
    assigned: list[int] = field(default_factory=list)
    arrivals: dict[int, float] = field(default_factory=dict)
    first_arrival: float = math.nan
    end_time: float = math.inf
    critical_at: float = math.nan
    broadcasts: list[int] = field(default_factory=list)
    dash_started: list[int] = field(default_factory=list)

    @property
    def is_over(self) -> bool:
        return self.ended.triggered

    def present_at(self, t: float) -> list[int]:
        return [o for o in self.assigned if self.arrivals.get(o, math.inf) <= t]


class Scene:
    """Drives an incident's timeline once its first unit is on scene."""

    def __init__(self, shift: Shift, incident: Incident) -> None:
        self.shift = shift
        self.inc = incident
        self.rng = shift.streams.rng("incident", incident.number)

    def arrive(self, officer: int) -> None:
        inc, now = self.inc, float(self.shift.env.now)
        inc.arrivals[officer] = now
        if not math.isnan(inc.first_arrival):
            return
        inc.first_arrival = now
        on_scene = max(1.0, inc.spec.time_on_scene_min.sample(self.rng) * 60.0)
        inc.end_time = now + on_scene
        crit = inc.spec.critical_after_arrival_s.sample(self.rng)
        inc.critical_at = now + min(max(crit, 0.0), on_scene)
        env = self.shift.env
        env.timeout(on_scene).callbacks.append(lambda _e: self._end())
        self._maybe_trigger("taser", inc.spec.taser)
        self._maybe_trigger("firearm", inc.spec.firearm)

    def _maybe_trigger(self, kind: str, use: TriggerUse) -> None:
        draw, pick = self.rng.uniform(), self.rng.uniform()
        offset = use.offset_s.sample(self.rng)
        if draw >= use.probability:
            return
        inc = self.inc
        at = min(max(inc.critical_at + offset, inc.first_arrival), inc.end_time)

        def fire(_e: simpy.Event) -> None:
            present = inc.present_at(float(self.shift.env.now))
            if present and not inc.is_over:
                officer = present[min(int(pick * len(present)), len(present) - 1)]
                self.shift.officer_trigger(officer, kind, inc.number)

        self.shift.env.timeout(at - inc.first_arrival).callbacks.append(fire)

    def _end(self) -> None:
        self.inc.ended.succeed()
        self.shift.incident_over(self.inc)
