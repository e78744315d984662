"""An incident: units arrive, time on scene runs from the first arrival, a critical moment happens (the
moment its video must hold), maybe a taser is armed or a firearm drawn (the holster sensor), maybe the
subject runs and is caught at the critical moment (a foot pursuit), maybe there is a struggle; then the
scene clears."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import simpy

from bwclab.sim.dists import Draws
from bwclab.sim.scenario import CallTypeSpec, TriggerUse


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
    out_of_car: dict[int, float] = field(default_factory=dict)  # officer -> when it first left its car here
    first_arrival: float = math.nan
    end_time: float = math.inf
    critical_at: float = math.nan
    subject_at_critical: tuple[float, float] = (math.nan, math.nan)
    pursuit_from: float = math.inf  # when the subject started to run, if it did
    force: list[tuple[float, str]] = field(default_factory=list)  # (time, taser | holster): a draw, a taser armed
    # or fired; any of them, or a struggle, makes the incident a use of force (its `severity`)
    struggle: bool = False
    stops: dict[int, tuple[float, float]] = field(default_factory=dict)  # officer -> scripted stop point
    broadcasts: list[int] = field(default_factory=list)
    dash_started: list[int] = field(default_factory=list)

    @property
    def is_over(self) -> bool:
        return self.ended.triggered

    def present_at(self, t: float) -> list[int]:
        return [o for o in self.assigned if self.arrivals.get(o, math.inf) <= t]

    @property
    def use_of_force(self) -> bool:
        return bool(self.force) or self.struggle

    @property
    def severity(self) -> str:
        return "use_of_force" if self.use_of_force else self.spec.severity


class Scene:
    """Drives an incident's timeline once its first unit is on scene: connected to the clock, its own
    random stream, a trigger callback (officer, kind, incident), a chase callback (officer, x, y), what to
    do at the critical moment and when it is over."""

    def __init__(self, env: simpy.Environment, incident: Incident, rng: Draws, run_speed_ftps: float,
                 trigger: Callable[[int, str, int], None], chase: Callable[[int, float, float], None],
                 critical: Callable[[Incident], None], over: Callable[[Incident], None]) -> None:
        self.env = env
        self.inc = incident
        self.rng = rng
        self.run_speed = run_speed_ftps
        self._trigger, self._chase, self._critical, self._over = trigger, chase, critical, over

    def arrive(self, officer: int) -> None:
        inc, now = self.inc, float(self.env.now)
        inc.arrivals[officer] = now
        if not math.isnan(inc.first_arrival):
            self._cover_arrived()
            return
        inc.first_arrival = now
        spec = inc.spec
        on_scene = max(1.0, spec.time_on_scene_min.sample(self.rng) * 60.0)
        inc.end_time = now + on_scene
        self.crit_after = spec.critical_after_arrival_s.sample(self.rng)
        inc.subject_at_critical = (inc.x, inc.y)
        inc.struggle = self.rng.uniform() < spec.scene.struggle
        cover = self.rng.uniform() < spec.scene.wait_for_cover and inc.units_needed > 1
        cap = spec.scene.cover_wait_max_s.sample(self.rng)
        self.env.timeout(on_scene).callbacks.append(lambda _e: self._end())
        if cover:  # contact waits for the other units, at most `cap`
            self.waiting = True
            self.env.timeout(cap).callbacks.append(lambda _e: self._contact())
        else:
            self._contact()

    waiting = False
    crit_after = 0.0

    def _cover_arrived(self) -> None:
        if self.waiting and len(self.inc.arrivals) >= self.inc.units_needed:
            self._contact()

    def _contact(self) -> None:
        """Contact: the critical moment follows `critical_after_arrival_s` from now (the first arrival, or the
        last cover unit's), within the time on scene; then the draws, the run, the moment itself."""
        inc, now = self.inc, float(self.env.now)
        if not math.isnan(inc.critical_at) or inc.is_over:
            return
        self.waiting = False
        inc.critical_at = min(now + self.crit_after, inc.end_time)
        self.env.timeout(inc.critical_at - now).callbacks.append(lambda _e: self._critical(inc))
        self._maybe_pursuit()
        self._maybe_trigger("taser", inc.spec.taser)
        self._maybe_trigger("holster", inc.spec.holster)

    def _maybe_pursuit(self) -> None:
        inc, p = self.inc, self.inc.spec.scene.pursuit
        draw, dist, angle = self.rng.uniform(), p.distance_ft.sample(self.rng), self.rng.uniform()
        if draw >= p.probability:
            return
        now = float(self.env.now)
        start = max(now, inc.critical_at - dist / self.run_speed)
        ex, ey = inc.x + dist * math.cos(2 * math.pi * angle), inc.y + dist * math.sin(2 * math.pi * angle)
        inc.pursuit_from = start
        inc.subject_at_critical = (ex, ey)

        def run(_e: simpy.Event) -> None:
            if not inc.is_over:
                for o in inc.present_at(float(self.env.now)):
                    self._chase(o, ex, ey)

        self.env.timeout(start - now).callbacks.append(run)

    def _maybe_trigger(self, kind: str, use: TriggerUse) -> None:
        """A holster sensor fires on every draw; a taser broadcasts when armed and again when fired (`armed`
        given: armed with that probability, fired with `probability`, `fire_after_s` later)."""
        draw, pick = self.rng.uniform(), self.rng.uniform()
        offset = use.offset_s.sample(self.rng)
        fired_later = use.armed is not None and draw < use.probability
        fire_after = use.fire_after_s.sample(self.rng) if use.armed is not None else 0.0
        if draw >= use.armed_probability:
            return
        inc, now = self.inc, float(self.env.now)
        at = min(max(inc.critical_at + offset, now), inc.end_time)
        holder: list[int] = []

        def fire(_e: simpy.Event) -> None:
            present = inc.present_at(float(self.env.now))
            if present and not inc.is_over:
                officer = holder[0] if holder else present[min(int(pick * len(present)), len(present) - 1)]
                holder.append(officer)
                inc.force.append((float(self.env.now), kind))
                self._trigger(officer, kind, inc.number)

        self.env.timeout(at - now).callbacks.append(fire)
        if fired_later and at + fire_after < inc.end_time:
            self.env.timeout(at + fire_after - now).callbacks.append(lambda e: fire(e) if holder else None)

    def _end(self) -> None:
        self.inc.ended.succeed()
        self._over(self.inc)
