"""An officer: patrols the beat when free, responds, works the scene, clears, and runs a body camera
(manual starts by the officer's own compliance, stops when clearing).

An officer is connected to what it needs (desmod's connect style), never to the whole shift: its
clock and the world's positions, its cruiser (none for an officer on foot), its random streams, and
the department's callbacks (`Ports`). Patrol legs are timeout callbacks, not a process: a dispatch
simply makes the next leg stale. Serving a call is a process.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

import simpy

from sim.cruiser import Cruiser
from sim.dists import Draws
from sim.incident import Incident
from sim.motion import Motion
from sim.scenario import ManualSpec, PatrolSpec

FT_PER_MILE = 5280.0
MPH_TO_FTPS = FT_PER_MILE / 3600.0


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

    # --- patrol: a chain of timeout callbacks ---------------------------------------------
    def start_patrol(self) -> None:
        self._leg += 1
        if self.patrol_spec.enabled:
            self._patrol_leg(self._leg)

    def _later(self, delay: float, fn: Callable[[int], None]) -> None:
        token = self._leg
        self.env.timeout(max(delay, 0.0)).callbacks.append(lambda _e: fn(token))

    def _patrol_leg(self, token: int) -> None:
        if token != self._leg or self.assignment is not None:
            return
        env, motion, now = self.env, self.motion, float(self.env.now)
        if not self.in_car and self.cruiser is not None:
            arrive = self._walk_back(now)
            self._later(arrive - now, self._patrol_leg)
            return
        x0, y0, x1, y1 = self.beat
        x, y = self.rng.uniform(x0, x1), self.rng.uniform(y0, y1)
        if self.cruiser is not None:
            arrive = motion.drive(self.cruiser.body, self.body, now, x, y, self.patrol_speed)
        else:
            arrive = motion.move_to(self.body, now, x, y, self.patrol_speed)
        self._later(arrive - env.now + self.patrol_spec.park_s.sample(self.rng), self._patrol_leg)

    def _walk_back(self, now: float) -> float:
        assert self.cruiser is not None
        cx, cy = self.motion.position(self.cruiser.body, now)
        arrive = self.motion.move_to(self.body, now, cx, cy, math.inf if self.instant else self.walk_speed)
        self.in_car = True  # on its way: a dispatch now waits for the walk (serve's back_to_car)
        return arrive

    # --- a call ---------------------------------------------------------------------------
    def assign(self, inc: Incident) -> None:
        self.assignment = inc
        self._leg += 1  # the pending patrol leg is stale
        self.env.process(self.serve(inc))

    def back_to_car(self) -> Generator[simpy.Event, Any, None]:
        if self.cruiser is None:
            return
        now = float(self.env.now)
        cx, cy = self.motion.position(self.cruiser.body, now)
        px, py = self.motion.position(self.body, now)
        if (px, py) == (cx, cy) and self.in_car:
            return
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
        if inc.priority and self.cruiser is not None:
            self.cruiser.light_bar_on(inc.number)
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
        self.plan_manual_start(inc, rng)
        steps = [(scene.exit_s.sample(rng), scene.stand_ft.sample(rng))]
        steps += [(m.after_s.sample(rng), m.stand_ft.sample(rng)) for m in scene.moves]
        for wait, stand in steps:
            if env.now + wait >= inc.end_time or inc.is_over:
                break
            yield env.timeout(wait)
            if inc.is_over or inc.pursuit_from <= env.now:
                break  # a foot pursuit took over
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

    def plan_manual_start(self, inc: Incident, rng: Draws) -> None:
        comply = rng.uniform() < self.ports.compliance
        delay = self.manual.delay_s.sample(rng)
        if not comply:
            return

        def press(_e: simpy.Event) -> None:
            if self.assignment is inc and not inc.is_over:
                self.ports.press(inc.number)

        self.env.timeout(max(0.0, delay)).callbacks.append(press)

    def duty(self, on: bool) -> None:
        """Away from calls (a report, a break): parked where it is; back on patrol after."""
        if on:
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
