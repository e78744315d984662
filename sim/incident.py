"""An incident: units arrive, time on scene runs from the first arrival, a critical moment
happens, maybe a taser is armed or a firearm drawn (the holster sensor fires), and the scene clears."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import simpy

from sim.scenario import CallTypeSpec, TriggerUse


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
    """Drives an incident's timeline once its first unit is on scene: connected to the clock, its own
    random stream, a trigger callback (officer, kind, incident) and what to do when it is over."""

    def __init__(self, env: simpy.Environment, incident: Incident, rng: np.random.Generator,
                 trigger: Callable[[int, str, int], None], over: Callable[[Incident], None]) -> None:
        self.env = env
        self.inc = incident
        self.rng = rng
        self._trigger, self._over = trigger, over

    def arrive(self, officer: int) -> None:
        inc, now = self.inc, float(self.env.now)
        inc.arrivals[officer] = now
        if not math.isnan(inc.first_arrival):
            return
        inc.first_arrival = now
        on_scene = max(1.0, inc.spec.time_on_scene_min.sample(self.rng) * 60.0)
        inc.end_time = now + on_scene
        crit = inc.spec.critical_after_arrival_s.sample(self.rng)
        inc.critical_at = now + min(max(crit, 0.0), on_scene)
        self.env.timeout(on_scene).callbacks.append(lambda _e: self._end())
        self._maybe_trigger("taser", inc.spec.taser)
        self._maybe_trigger("holster", inc.spec.holster)

    def _maybe_trigger(self, kind: str, use: TriggerUse) -> None:
        draw, pick = self.rng.uniform(), self.rng.uniform()
        offset = use.offset_s.sample(self.rng)
        if draw >= use.probability:
            return
        inc = self.inc
        at = min(max(inc.critical_at + offset, inc.first_arrival), inc.end_time)

        def fire(_e: simpy.Event) -> None:
            present = inc.present_at(float(self.env.now))
            if present and not inc.is_over:
                officer = present[min(int(pick * len(present)), len(present) - 1)]
                self._trigger(officer, kind, inc.number)

        self.env.timeout(at - inc.first_arrival).callbacks.append(fire)

    def _end(self) -> None:
        self.inc.ended.succeed()
        self._over(self.inc)
