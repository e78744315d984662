"""An officer: patrols the beat when free, responds, works the scene, clears, and runs a body camera
(manual starts by the officer's own compliance, stops when clearing).

An officer is connected to what it needs (desmod's connect style), never to the whole shift: its
clock and the world's positions, its cruiser (none for an officer on foot), its random streams, and
the department's callbacks (`Ports`). Patrol legs are timeout callbacks, not a process: a dispatch
simply makes the next leg stale. Serving a call is a process.

A lazy patrol (`Ports.lazy`) schedules no leg at all: the officer is a `motion.Lazy` body, and its legs are
drawn, from the same stream in the same order, when something asks where it is. While a broadcast is on the
air near its beat (`Ports.air_until`), its legs are events again, so that the airwaves hear of each course
change when it happens. Both give the same shift, draw for draw.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import Any

import simpy

from bwclab.sim.cruiser import Cruiser
from bwclab.sim.dists import Draws
from bwclab.sim.incident import Incident
from bwclab.sim.motion import Box, Motion
from bwclab.sim.scenario import ManualSpec, PatrolSpec

FT_PER_MILE = 5280.0
MPH_TO_FTPS = FT_PER_MILE / 3600.0


def _never(_box: Box) -> float:
    return -math.inf


@dataclass(frozen=True)
class Ports:
    """What an officer is connected to."""

    env: simpy.Environment
    motion: Motion
    cruiser: Cruiser | None  # None: on foot
    patrol_rng: Draws
    scene_rng: Callable[[int], Draws]  # this officer's stream for an incident
    arrive: Callable[[Incident], None]  # tell the incident's scene this officer is there
    press: Callable[[int], None]  # start the body camera by hand, for an incident
    release_camera: Callable[[float], None]  # stop recording on clearing
    log_status: Callable[[str, float, float], None]  # (status, start, end)
    free: Callable[[], None]  # report free to dispatch
    compliance: float = 0.0  # this officer's own probability of starting the camera by hand on a call
    compliance_by_type: Mapping[str, float] = field(default_factory=dict)  # by call type, where the scenario gives it
    lazy: bool = False  # patrol legs drawn on demand, not scheduled (see the module's docstring)
    air_until: Callable[[Box], float] = _never  # the last end of a broadcast on the air near a region


class Officer:
    def __init__(self, index: int, beat: tuple[float, float, float, float], patrol: PatrolSpec, manual: ManualSpec,
                 ports: Ports) -> None:
        self.index = index
        self.body = index
        self.beat = beat
        self.patrol_spec, self.manual = patrol, manual
        self.ports = ports
        self.env, self.motion, self.cruiser = ports.env, ports.motion, ports.cruiser
        self.status = "patrol"
        self.status_since = 0.0
        self.in_car = ports.cruiser is not None
        self.assignment: Incident | None = None
        self.waiting_for: list[Incident] = []
        self.rng = ports.patrol_rng
        self.stop_token = 0
        self._leg = 0  # patrol legs belong to a token: a dispatch makes the pending leg stale
        foot = patrol.foot_speed_mph * MPH_TO_FTPS / patrol.detour_factor
        self.patrol_speed = patrol.speed_mph * MPH_TO_FTPS / patrol.detour_factor if self.cruiser else foot
        self.emergency_speed = patrol.emergency_speed_mph * MPH_TO_FTPS / patrol.detour_factor if self.cruiser else foot
        self.walk_speed = patrol.walk_speed_ftps
        self.instant = patrol.instant_travel
        self.mover = self.cruiser.body if self.cruiser is not None else self.body
        self.bodies = (self.body,) if self.cruiser is None else (self.body, self.cruiser.body)
        self.patrolling = False  # a lazy patrol is under way
        self._change_at = math.inf  # a lazy patrol's next course change
        self._watch_until = -math.inf
        self._armed_at = math.nan

    # --- patrol: a chain of timeout callbacks ---------------------------------------------
    def start_patrol(self) -> None:
        self._leg += 1
        if not self.patrol_spec.enabled:
            return
        if self.ports.lazy:
            self._start_lazy(float(self.env.now))
        else:
            self._patrol_leg(self._leg)

    def _later(self, delay: float, fn: Callable[[int], None]) -> None:
        token = self._leg
        self.env.timeout(max(delay, 0.0)).callbacks.append(lambda _e: fn(token))

    def _patrol_leg(self, token: int) -> None:
        if token != self._leg or self.assignment is not None:
            return
        self._later(self._leg_from(float(self.env.now)), self._patrol_leg)

    def _leg_from(self, at: float) -> float:
        """The patrol's leg from `at`: to a uniform point of the beat (or back to the car first, if the officer is
        out of it); returns how long until the next one falls due (its drive and the park after it). The one form
        of a leg: the eager chain, and a lazy patrol heard or quiet, each take theirs from here."""
        if not self.in_car and self.cruiser is not None:
            return max(self._walk_back(at) - at, 0.0)
        x0, y0, x1, y1 = self.beat
        x, y = self.rng.uniform(x0, x1), self.rng.uniform(y0, y1)
        if self.cruiser is not None:
            arrive = self.motion.drive(self.cruiser.body, self.body, at, x, y, self.patrol_speed)
        else:
            arrive = self.motion.move_to(self.body, at, x, y, self.patrol_speed)
        return max(arrive - at + self.patrol_spec.park_s.sample(self.rng), 0.0)

    # --- patrol, lazily: legs drawn when asked for --------------------------------------
    def _start_lazy(self, now: float) -> None:
        m = self.motion
        x0, y0, x1, y1 = self.beat
        for b in self.bodies:
            px, py = m.position(b, now)
            x0, y0, x1, y1 = min(x0, px), min(y0, py), max(x1, px), max(y1, py)
        region = (x0, y0, x1, y1)  # the beat, and the way there from where the officer is
        for b in self.bodies:
            m.make_lazy(b, self, region)
        self.patrolling = True
        self._watch_until, self._armed_at = -math.inf, math.nan
        self._change_at = self._leg_change(now)  # the first leg starts now: whoever listens is told
        self._set_due()
        until = self.ports.air_until(region)
        if until > now:
            self.watch(until)

    def _set_due(self) -> None:
        for b in self.bodies:
            self.motion.set_due(b, self._change_at)

    def _leg_change(self, at: float) -> float:
        """The patrol's course changes at `at`; returns when the next change falls due, as the eager chain's
        timeout would (`at` plus the delay)."""
        return at + self._leg_from(at)

    def catch_up(self, t: float) -> None:
        """Every leg due by t, drawn now; quietly (nothing listening told, the legs not indexed), unless a broadcast
        nearby was listening then."""
        if not self.patrolling or self._change_at > t:
            return
        m = self.motion
        for b in self.bodies:
            m.set_due(b, math.inf)  # no asking again while the legs are worked out
        try:
            while self._change_at <= t and self._change_at <= self._watch_until:  # heard: one by one
                self._change_at = self._leg_change(self._change_at)
            m.quiet = True
            while self._change_at <= t:
                self._change_at = self._leg_change(self._change_at)
        finally:
            m.quiet = False
        self._set_due()

    def watch(self, until: float) -> None:
        """A broadcast near the beat lasts until `until`: the legs until then are events again."""
        if not self.patrolling:
            return
        self.catch_up(float(self.env.now))
        self._watch_until = max(self._watch_until, until)
        self._arm()

    def _arm(self) -> None:
        t = self._change_at
        if t <= self._watch_until and t != self._armed_at:
            self._armed_at = t
            token = self._leg
            self.env.timeout(max(t - float(self.env.now), 0.0)).callbacks.append(lambda _e: self._watched(token, t))

    def _watched(self, token: int, t: float) -> None:
        if token != self._leg or not self.patrolling:
            return
        self.catch_up(t)  # the change due at t (t <= the watch's end: heard), unless something caught it up already
        self._arm()

    def _stop_lazy(self) -> None:
        """A call or a duty: the legs so far, then the motion is the events' again."""
        if not self.patrolling:
            return
        self.catch_up(float(self.env.now))
        self.patrolling = False
        self._change_at = math.inf
        for b in self.bodies:
            self.motion.make_eager(b)

    def _walk_back(self, now: float) -> float:
        assert self.cruiser is not None
        cx, cy = self.motion.position(self.cruiser.body, now)
        arrive = self.motion.move_to(self.body, now, cx, cy, math.inf if self.instant else self.walk_speed)
        self.in_car = True  # on its way: a dispatch now waits for the walk (serve's back_to_car)
        return arrive

    # --- a call ---------------------------------------------------------------------------
    def assign(self, inc: Incident) -> None:
        self._stop_lazy()
        self.assignment = inc
        self._leg += 1  # the pending patrol leg is stale
        self.env.process(self.serve(inc))

    def _at_car(self) -> bool:
        """In the car already (back_to_car has nothing to do)."""
        if self.cruiser is None or not self.in_car:
            return self.cruiser is None
        now = float(self.env.now)
        return self.motion.position(self.body, now) == self.motion.position(self.cruiser.body, now)

    def back_to_car(self) -> Generator[simpy.Event, Any, None]:
        if self.cruiser is None or self._at_car():
            return
        assert self.cruiser is not None
        now = float(self.env.now)
        cx, cy = self.motion.position(self.cruiser.body, now)
        arrive = self.motion.move_to(self.body, now, cx, cy, math.inf if self.instant else self.walk_speed)
        if arrive > now:
            yield self.env.timeout(arrive - now)
        self.in_car = True

    def serve(self, inc: Incident) -> Generator[simpy.Event, Any, None]:
        env, motion = self.env, self.motion
        self.set_status("responding")
        self.stop_token += 1  # an assigned officer keeps any running recording
        rng = self.ports.scene_rng(inc.number)
        scene = inc.spec.scene
        lights = inc.priority and self.cruiser is not None
        if lights and self.cruiser is not None and not self._at_car():
            self.cruiser.light_bar_on(inc.number)  # on while the officer walks back to the car
        yield from self.back_to_car()
        if self.index in inc.stops:
            sx, sy = inc.stops[self.index]
        elif inc.officer_initiated and inc.assigned and inc.assigned[0] == self.index:
            sx, sy = motion.position(self.mover, env.now)  # pulls over where it is
        else:
            sx, sy = around(inc.x, inc.y, scene.cruiser_stop_ft.sample(rng), rng.uniform())
        speed = math.inf if self.instant else (self.emergency_speed if inc.priority else self.patrol_speed)
        arrive = motion.move_to(self.mover, env.now, sx, sy, speed)
        if self.cruiser is not None:
            motion.follow(self.body, self.cruiser.body, env.now)
            if lights:  # on as the car sets off: the broadcast is solved once, on the course it has
                self.cruiser.light_bar_on(inc.number)
                self.cruiser.siren_on(inc.number)
        after = self.plan_en_route(inc, rng, arrive) if self.manual.when == "en_route" and inc.priority else None
        if arrive > env.now:
            yield env.timeout(arrive - env.now)
        if inc.is_over:
            return self.clear(inc)
        self.set_status("on_scene")
        self.ports.arrive(inc)
        first = len(inc.arrivals) == 1
        lights, lights_after = rng.uniform() < scene.lights.probability, scene.lights.after_s.sample(rng)
        lights = lights and (first or scene.lights.who == "all")
        if lights and self.cruiser is not None:
            cruiser = self.cruiser
            env.timeout(lights_after).callbacks.append(lambda _e: None if inc.is_over else cruiser.light_bar_on(
                inc.number))
        if after is None:
            self.plan_manual_start(inc, rng)
        elif not math.isnan(after):
            self._press_after(inc, after)
        steps = [(scene.exit_s.sample(rng), scene.stand_ft.sample(rng))]
        steps += [(m.after_s.sample(rng), m.stand_ft.sample(rng)) for m in scene.moves]
        for wait, stand in steps:
            if env.now + wait >= inc.end_time or inc.is_over:
                break
            yield env.timeout(wait)
            if inc.is_over or inc.pursuit_from <= env.now:
                break  # a foot pursuit took over
            if self.in_car and self.cruiser is not None:
                self.cruiser.door_opens(inc.number)
            self.in_car = False
            inc.out_of_car.setdefault(self.index, float(env.now))
            px, py = around(inc.x, inc.y, stand, rng.uniform())
            motion.move_to(self.body, env.now, px, py, math.inf if self.instant else self.walk_speed)
        if not inc.is_over:
            yield inc.ended
        self.clear(inc)

    def run_after(self, x: float, y: float) -> None:
        """A foot pursuit: out of the car, running to where the subject will be caught."""
        now = float(self.env.now)
        self.in_car = False
        inc = self.assignment
        if inc is not None:
            inc.out_of_car.setdefault(self.index, now)
        self.motion.move_to(self.body, now, x, y, math.inf if self.instant else self.patrol_spec.run_speed_ftps)

    def clear(self, inc: Incident) -> None:
        now = float(self.env.now)
        if self.cruiser is not None:
            self.cruiser.light_bar_off()
        self.ports.release_camera(now)
        self.assignment = None
        self.set_status("patrol")
        self.ports.free()
        if self.assignment is None and self.status == "patrol":  # not given a call or a duty meanwhile
            self.start_patrol()

    def compliance(self, call_type: str) -> float:
        """This officer's probability of starting the camera by hand on a call of this type."""
        return self.ports.compliance_by_type.get(call_type, self.ports.compliance)

    def plan_en_route(self, inc: Incident, rng: Draws, arrive: float) -> float:
        """A priority response, setting off: whether this officer complies, and a share of those who do press while
        driving (the delay counted from setting off, at the latest on arrival). Returns the delay after arrival of
        a press still to come (a complying officer who does not press en route), or NaN for none."""
        comply = rng.uniform() < self.compliance(inc.call_type)
        delay = self.manual.delay_s.sample(rng)
        en_route = rng.uniform() < self.manual.en_route_share
        if not comply:
            return math.nan
        if en_route:
            self._press_after(inc, min(delay, max(arrive - float(self.env.now), 0.0)))
            return math.nan
        return delay

    def plan_manual_start(self, inc: Incident, rng: Draws) -> None:
        comply = rng.uniform() < self.compliance(inc.call_type)
        delay = self.manual.delay_s.sample(rng)
        if not comply:
            return
        self._press_after(inc, delay)

    def _press_after(self, inc: Incident, delay: float) -> None:
        def press(_e: simpy.Event) -> None:
            if self.assignment is inc and not inc.is_over:
                self.ports.press(inc.number)

        self.env.timeout(max(0.0, delay)).callbacks.append(press)

    def duty(self, on: bool) -> None:
        """Away from calls (a report, a break): parked where it is; back on patrol after."""
        if on:
            self._stop_lazy()
            self._leg += 1
            self.set_status("duty")
        else:
            self.set_status("patrol")
            self.start_patrol()

    def set_status(self, status: str) -> None:
        now = float(self.env.now)
        if status != self.status:
            self.ports.log_status(self.status, self.status_since, now)
            self.status, self.status_since = status, now


def around(x: float, y: float, dist: float, u: float) -> tuple[float, float]:
    angle = 2.0 * math.pi * u
    return x + dist * math.cos(angle), y + dist * math.sin(angle)
