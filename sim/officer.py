"""An officer: patrols the beat when free, responds, works the scene, clears, and runs a
body camera (manual starts by policy compliance, stops when clearing)."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import simpy

from sim.incident import Incident

if TYPE_CHECKING:
    from sim.model import Shift

FT_PER_MILE = 5280.0
MPH_TO_FTPS = FT_PER_MILE / 3600.0


class Officer:
    def __init__(self, shift: Shift, index: int, beat: tuple[float, float, float, float]) -> None:
        self.shift = shift
        self.index = index
        self.body = index
        self.cruiser = shift.n_officers + index
        self.beat = beat
        self.status = "patrol"
        self.status_since = 0.0
        self.in_car = True
        self.assignment: Incident | None = None
        self.waiting_for: list[Incident] = []
        self.rng = shift.streams.rng("patrol", index)
        self.stop_token = 0
        patrol = shift.scenario.patrol
        self.patrol_speed = patrol.speed_mph * MPH_TO_FTPS / patrol.detour_factor
        self.emergency_speed = patrol.emergency_speed_mph * MPH_TO_FTPS / patrol.detour_factor
        self.walk_speed = patrol.walk_speed_ftps
        self.instant = patrol.instant_travel
        self.process = shift.env.process(self.run())

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
        env, motion = self.shift.env, self.shift.motion
        spec = self.shift.scenario.patrol
        if not spec.enabled:
            yield env.event()  # stays where it is until dispatched
            return
        yield from self.back_to_car()
        x0, y0, x1, y1 = self.beat
        x, y = self.rng.uniform(x0, x1), self.rng.uniform(y0, y1)
        arrive = motion.move_to(self.cruiser, env.now, x, y, self.patrol_speed)
        motion.follow(self.body, self.cruiser, env.now)
        yield env.timeout(arrive - env.now + spec.park_s.sample(self.rng))

    def back_to_car(self) -> Generator[simpy.Event, Any, None]:
        if self.in_car:
            return
        env, motion = self.shift.env, self.shift.motion
        cx, cy = motion.position(self.cruiser, env.now)
        speed = math.inf if self.instant else self.walk_speed
        arrive = motion.move_to(self.body, env.now, cx, cy, speed)
        if arrive > env.now:
            yield env.timeout(arrive - env.now)
        self.in_car = True

    def serve(self, inc: Incident) -> Generator[simpy.Event, Any, None]:
        shift, env, motion = self.shift, self.shift.env, self.shift.motion
        self.set_status("responding")
        self.stop_token += 1  # an assigned officer keeps any running recording
        rng = shift.streams.rng("scene", inc.number, self.index)
        scene = inc.spec.scene
        if inc.priority:
            shift.cruisers[self.index].light_bar_on(inc.number)
        yield from self.back_to_car()
        if inc.officer_initiated and inc.assigned and inc.assigned[0] == self.index:
            sx, sy = motion.position(self.cruiser, env.now)  # pulls over where it is
        else:
            sx, sy = around(inc.x, inc.y, scene.cruiser_stop_ft.sample(rng), rng.uniform())
        speed = self.emergency_speed if inc.priority else self.patrol_speed
        arrive = motion.move_to(self.cruiser, env.now, sx, sy, math.inf if self.instant else speed)
        motion.follow(self.body, self.cruiser, env.now)
        if arrive > env.now:
            yield env.timeout(arrive - env.now)
        if inc.is_over:
            return self.clear(inc)
        self.set_status("on_scene")
        shift.scene_of(inc).arrive(self.index)
        if inc.spec.light_bar_on_scene:
            shift.cruisers[self.index].light_bar_on(inc.number)
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
        shift = self.shift
        now = float(shift.env.now)
        shift.cruisers[self.index].light_bar_off()
        shift.release_camera(self.index, now)
        self.assignment = None
        self.set_status("patrol")
        shift.dispatcher.officer_free(self)

    def plan_manual_start(self, inc: Incident, rng: Any) -> None:
        manual = self.shift.scenario.camera.manual
        comply = rng.uniform() < manual.compliance
        delay = manual.delay_s.sample(rng)
        if not comply:
            return
        shift = self.shift

        def press(_e: simpy.Event) -> None:
            if self.assignment is inc and not inc.is_over:
                shift.manual_start(self.index, inc.number)

        shift.env.timeout(max(0.0, delay)).callbacks.append(press)

    def assign(self, inc: Incident) -> None:
        self.assignment = inc
        if self.process.is_alive and self.shift.env.active_process is not self.process:
            self.process.interrupt()

    def set_status(self, status: str) -> None:
        now = float(self.shift.env.now)
        if status != self.status:
            self.shift.record_status(self.index, self.status, self.status_since, now)
            self.status, self.status_since = status, now


def around(x: float, y: float, dist: float, u: float) -> tuple[float, float]:
    angle = 2.0 * math.pi * u
    return x + dist * math.cos(angle), y + dist * math.sin(angle)
