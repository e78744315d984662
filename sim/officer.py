"""An officer: patrols the beat when free, responds, works the scene, clears, and runs a
body camera (manual starts by policy compliance, stops when clearing).

An officer is connected to what it needs (desmod's connect style), never to the whole shift: its
clock and the world's positions, its cruiser, its random streams, and the department's callbacks
(`Ports`). So it can be built and tested alone.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy

from sim.cruiser import Cruiser
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
    cruiser: Cruiser
    patrol_rng: np.random.Generator
    scene_rng: Callable[[int], np.random.Generator]  # this officer's stream for an incident
    arrive: Callable[[Incident], None]  # tell the incident's scene this officer is there
    press: Callable[[int], None]  # start the body camera by hand, for an incident
    release_camera: Callable[[float], None]  # stop recording on clearing
    log_status: Callable[[str, float, float], None]  # (status, start, end)
    free: Callable[[], None]  # report free to dispatch


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
        self.in_car = True
        self.assignment: Incident | None = None
        self.waiting_for: list[Incident] = []
        self.rng = ports.patrol_rng
        self.stop_token = 0
        self.patrol_speed = patrol.speed_mph * MPH_TO_FTPS / patrol.detour_factor
        self.emergency_speed = patrol.emergency_speed_mph * MPH_TO_FTPS / patrol.detour_factor
        self.walk_speed = patrol.walk_speed_ftps
        self.instant = patrol.instant_travel
        self.process = self.env.process(self.run())

    # --- life ---------------------------------------------------------------------------
    def run(self) -> Generator[simpy.Event, Any, None]:
        while True:
            inc = self.assignment
            if inc is None:
                with contextlib.suppress(simpy.Interrupt):
                    yield from self.patrol()
            else:
                yield from self.serve(inc)

    def patrol(self) -> Generator[simpy.Event, Any, None]:
        env, motion = self.env, self.motion
        if not self.patrol_spec.enabled:
            yield env.event()  # stays where it is until dispatched
            return
        yield from self.back_to_car()
        x0, y0, x1, y1 = self.beat
        x, y = self.rng.uniform(x0, x1), self.rng.uniform(y0, y1)
        arrive = motion.move_to(self.cruiser.body, env.now, x, y, self.patrol_speed)
        motion.follow(self.body, self.cruiser.body, env.now)
        yield env.timeout(arrive - env.now + self.patrol_spec.park_s.sample(self.rng))

    def back_to_car(self) -> Generator[simpy.Event, Any, None]:
        if self.in_car:
            return
        env, motion = self.env, self.motion
        cx, cy = motion.position(self.cruiser.body, env.now)
        speed = math.inf if self.instant else self.walk_speed
        arrive = motion.move_to(self.body, env.now, cx, cy, speed)
        if arrive > env.now:
            yield env.timeout(arrive - env.now)
        self.in_car = True

    def serve(self, inc: Incident) -> Generator[simpy.Event, Any, None]:
        env, motion = self.env, self.motion
        self.set_status("responding")
        self.stop_token += 1  # an assigned officer keeps any running recording
        rng = self.ports.scene_rng(inc.number)
        scene = inc.spec.scene
        if inc.priority:
            self.cruiser.light_bar_on(inc.number)
        yield from self.back_to_car()
        if inc.officer_initiated and inc.assigned and inc.assigned[0] == self.index:
            sx, sy = motion.position(self.cruiser.body, env.now)  # pulls over where it is
        else:
            sx, sy = around(inc.x, inc.y, scene.cruiser_stop_ft.sample(rng), rng.uniform())
        speed = self.emergency_speed if inc.priority else self.patrol_speed
        arrive = motion.move_to(self.cruiser.body, env.now, sx, sy, math.inf if self.instant else speed)
        motion.follow(self.body, self.cruiser.body, env.now)
        if arrive > env.now:
            yield env.timeout(arrive - env.now)
        if inc.is_over:
            return self.clear(inc)
        self.set_status("on_scene")
        self.ports.arrive(inc)
        if inc.spec.light_bar_on_scene:
            self.cruiser.light_bar_on(inc.number)
        self.plan_manual_start(inc, rng)
        steps = [(scene.exit_s.sample(rng), scene.stand_ft.sample(rng))]
        steps += [(m.after_s.sample(rng), m.stand_ft.sample(rng)) for m in scene.moves]
        for wait, stand in steps:
            if env.now + wait >= inc.end_time:
                break
            yield env.timeout(wait)
            self.in_car = False
            px, py = around(inc.x, inc.y, stand, rng.uniform())
            speed = math.inf if self.instant else self.walk_speed
            motion.move_to(self.body, env.now, px, py, speed)
        if not inc.is_over:
            yield inc.ended
        self.clear(inc)

    def clear(self, inc: Incident) -> None:
        now = float(self.env.now)
        self.cruiser.light_bar_off()
        self.ports.release_camera(now)
        self.assignment = None
        self.set_status("patrol")
        self.ports.free()

    def plan_manual_start(self, inc: Incident, rng: Any) -> None:
        comply = rng.uniform() < self.manual.compliance
        delay = self.manual.delay_s.sample(rng)
        if not comply:
            return

        def press(_e: simpy.Event) -> None:
            if self.assignment is inc and not inc.is_over:
                self.ports.press(inc.number)

        self.env.timeout(max(0.0, delay)).callbacks.append(press)

    def assign(self, inc: Incident) -> None:
        self.assignment = inc
        if self.process.is_alive and self.env.active_process is not self.process:
            self.process.interrupt()

    def set_status(self, status: str) -> None:
        now = float(self.env.now)
        if status != self.status:
            self.ports.log_status(self.status, self.status_since, now)
            self.status, self.status_since = status, now


def around(x: float, y: float, dist: float, u: float) -> tuple[float, float]:
    angle = 2.0 * math.pi * u
    return x + dist * math.cos(angle), y + dist * math.sin(angle)
