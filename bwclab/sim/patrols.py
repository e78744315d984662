"""A department's officers and their cruisers: each officer's beat (a grid cell of the area), where it starts,
its manual-start compliance, and the ports that connect it to the rest of the shift."""

from __future__ import annotations

import math
from collections.abc import Mapping

import simpy

from bwclab.camera.bodycam import BodyCamera
from bwclab.core.triggers import TriggerKind
from bwclab.sim.broadcast import Airwaves
from bwclab.sim.cameras import Cameras
from bwclab.sim.component import Component, Connection
from bwclab.sim.cruiser import Cruiser
from bwclab.sim.dispatcher import Dispatcher
from bwclab.sim.hardware import Hardware
from bwclab.sim.incident import Scene
from bwclab.sim.motion import Motion
from bwclab.sim.officer import FT_PER_MILE, MPH_TO_FTPS, Officer, Ports
from bwclab.sim.probes import Probes
from bwclab.sim.scenario import Scenario
from bwclab.sim.streams import KeyedRandom, Stream, Streams

Beat = tuple[float, float, float, float]  # x0, y0, x1, y1


class Patrols(Component):
    hardware = Connection[Hardware]()  # a press of a camera's button; a light bar going on
    cameras = Connection[Cameras]()  # a camera stopped on clearing, left asleep; a dash camera on its light bar
    dispatch = Connection[Dispatcher]()  # an officer reports free
    scenes = Connection[Mapping[int, Scene]]()  # an officer arrives at an incident's scene
    airwaves = Connection[Airwaves]()  # a patrol starting near a broadcast on the air is listened to
    probes = Connection[Probes]()  # status spans

    def __init__(self, env: simpy.Environment, motion: Motion, scenario: Scenario, streams: Streams,
                 foot: list[bool], dash: list[BodyCamera | None], lazy: bool) -> None:
        """`foot`: which officers are on foot (no cruiser); `dash`: each officer's dash camera (None: none, or on
        foot); `lazy`: patrol legs drawn when asked for (officer.py), not scheduled (a replay, which tracks every
        body, has them scheduled)."""
        self.motion, self.scenario = motion, scenario
        sc = scenario
        n = len(foot)
        self.foot = foot
        compliance_key = streams.key("compliance")
        self.compliance = [sc.camera.manual.compliance.sample(KeyedRandom(compliance_key, i)) for i in range(n)]
        self.cruisers = [None if self.foot[i] else Cruiser(i, n + i, dash[i], self._light_bar, self._vehicle)
                         for i in range(n)]
        self._fielded = frozenset(sc.signal.triggers)
        self._vehicle_key = streams.key("vehicle")
        self._env, self._lazy = env, lazy
        self._patrol_key, self._scene_key = streams.key("patrol"), streams.key("scene")
        self.officers = [Officer(i, beat, sc.patrol, sc.camera.manual, self._ports(i)) for i, beat in
                         enumerate(self._beats())]

    def _ports(self, i: int) -> Ports:
        """What officer i is connected to: its cruiser, its streams, and the rest of the shift through this."""
        return Ports(
            env=self._env, motion=self.motion, cruiser=self.cruisers[i], patrol_rng=Stream(self._patrol_key, i),
            scene_rng=lambda inc: Stream(self._scene_key, inc, i),
            arrive=lambda inc: self.scenes[inc.number].arrive(i),
            press=lambda inc: self.hardware.press(i, inc),
            release_camera=lambda now: self.cameras.release(i, now),
            log_status=lambda status, start, end: self.probes.status(i, status, start, end),
            free=lambda: self.dispatch.officer_free(self.officers[i]),
            compliance=self.compliance[i], lazy=self._lazy, air_until=lambda region: self.airwaves.air_until(region))

    def _beats(self) -> list[Beat]:
        """The area cut into as many equal cells as officers, as near square as the area allows."""
        n = len(self.foot)
        w = self.scenario.area.width_mi * FT_PER_MILE
        h = self.scenario.area.height_mi * FT_PER_MILE
        cols = max(1, math.ceil(math.sqrt(n * w / h)))
        rows = math.ceil(n / cols)
        cw, ch = w / cols, h / rows
        return [((i % cols) * cw, (i // cols) * ch, (i % cols + 1) * cw, (i // cols + 1) * ch) for i in range(n)]

    def place(self) -> None:
        """Every officer and its car where the shift starts (given, or a uniform point of its beat), its camera
        perhaps asleep."""
        given = self.scenario.fleet.officers_at_ft
        n = len(self.officers)
        for off in self.officers:
            if given is not None:
                x, y = given[off.index]
            else:
                x0, y0, x1, y1 = off.beat
                x, y = off.rng.uniform(x0, x1), off.rng.uniform(y0, y1)
            self.motion.place(n + off.index, 0.0, x, y)
            self.motion.place(off.body, 0.0, x, y)
            self.cameras.maybe_sleep(off.index, 0.0)

    def start(self) -> None:
        for off in self.officers:
            off.start_patrol()
        rate = self.scenario.signal.vehicle.crash_per_hour
        if "crash" in self._fielded and rate > 0:
            for cruiser in self.cruisers:
                if cruiser is not None:
                    self._crash_after(cruiser, rate)

    def _crash_after(self, cruiser: Cruiser, per_hour: float, k: int = 0) -> None:
        """A cruiser's crashes: a Poisson process of `per_hour` a cruiser-hour (on the call it is on, if any)."""
        gap = -math.log(1.0 - KeyedRandom(self._vehicle_key, cruiser.index, k).uniform()) * 3600.0 / per_hour

        def crash(_e: simpy.Event) -> None:
            call = self.officers[cruiser.index].assignment
            cruiser.crashed(None if call is None else call.number)
            self._crash_after(cruiser, per_hour, k + 1)

        self._env.timeout(gap).callbacks.append(crash)

    def finish(self, end: float) -> None:
        """Each officer's status up to `end`."""
        for off in self.officers:
            self.probes.status(off.index, off.status, off.status_since, end)

    def _light_bar(self, cruiser: Cruiser, incident: int | None) -> None:
        """A light bar went on: its own car's camera is wired to it, and it is a trigger."""
        self.cameras.light_bar_on(cruiser.index, cruiser.emitter_id, incident)
        self.hardware.fire("light_bar", cruiser.body, cruiser.emitter_id, incident)

    def _vehicle(self, cruiser: Cruiser, kind: TriggerKind, incident: int | None) -> None:
        """Another of the car's inputs went off: where the department fields it, its own car's camera starts and it
        broadcasts. The siren (an emergency response setting off) also has the car pass its speed threshold a while
        later, if it is still driving above it then."""
        if kind == "siren" and "speed" in self._fielded:
            self._speed_check(cruiser, incident)
        if kind not in self._fielded:
            return
        self.cameras.light_bar_on(cruiser.index, cruiser.emitter_id, incident, kind)
        self.hardware.fire(kind, cruiser.body, cruiser.emitter_id, incident)

    def _speed_check(self, cruiser: Cruiser, incident: int | None) -> None:
        veh, patrol = self.scenario.signal.vehicle, self.scenario.patrol
        after = veh.speed_after_s.sample(KeyedRandom(self._vehicle_key, cruiser.index, (1 << 40) + (incident or 0)))

        def check(_e: simpy.Event) -> None:
            road_mph = self.motion.speed(cruiser.body, float(self._env.now)) * patrol.detour_factor / MPH_TO_FTPS
            if road_mph > veh.speed_mph:
                cruiser.over_speed(incident)

        self._env.timeout(after).callbacks.append(check)
