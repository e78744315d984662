"""A department's officers and their cruisers: each officer's beat (a grid cell of the area), where it starts,
its manual-start compliance, and the ports that connect it to the rest of the shift."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from functools import cache
from statistics import NormalDist

import numpy as np
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
from bwclab.sim.scenario import ManualSpec, Scenario
from bwclab.sim.streams import KeyedRandom, Stream, Streams

Beat = tuple[float, float, float, float]  # x0, y0, x1, y1

_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(40)  # E[f(Z)], Z standard normal, by quadrature
_WEIGHTS = _WEIGHTS / _WEIGHTS.sum()


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


@cache
def level_logit(rate: float, spread: float) -> float:
    """The logit level whose officers, each shifted by a normal propensity of sd `spread`, comply at `rate` on
    average: E[sigmoid(level + spread Z)] = rate (solved by bisection; kept, since every shift of a scenario asks
    for the same few)."""
    rate = min(max(rate, 1e-9), 1.0 - 1e-9)
    if spread == 0.0:
        return math.log(rate / (1.0 - rate))
    lo, hi = -40.0, 40.0
    for _ in range(80):
        mid = (lo + hi) / 2
        mean = float(np.dot(_WEIGHTS, 1.0 / (1.0 + np.exp(-(mid + spread * _NODES)))))
        lo, hi = (mid, hi) if mean < rate else (lo, mid)
    return (lo + hi) / 2


def officer_compliance(manual: ManualSpec, call_types: Sequence[str], key: int,
                       n: int) -> list[tuple[float, dict[str, float]]]:
    """Each officer's compliance: (the department-wide figure, per call type). Without `by_call_type`, one draw of
    `compliance` per officer for every type; with it, an officer's propensity z (normal, drawn once per shift from
    the keyed stream) added to each type's logit level."""
    if not manual.by_call_type:
        return [(manual.compliance.sample(KeyedRandom(key, i)), {}) for i in range(n)]
    spread, default = manual.officer_spread_logit, manual.compliance.expected()
    levels = {t: level_logit(manual.by_call_type.get(t, default), spread) for t in call_types}
    overall, unit, out = level_logit(default, spread), NormalDist(), []
    for i in range(n):
        z = unit.inv_cdf(min(max(KeyedRandom(key, i).uniform(), 1e-12), 1.0 - 1e-12))
        out.append((_sigmoid(overall + spread * z),
                    {t: _sigmoid(lv + spread * z) for t, lv in levels.items()}))
    return out


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
        drawn = officer_compliance(sc.camera.manual, list(sc.call_types), streams.key("compliance"), n)
        self.compliance = [c for c, _ in drawn]  # department-wide (a call type not in by_call_type)
        self.compliance_by_type = [by_type for _, by_type in drawn]
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
            compliance=self.compliance[i], compliance_by_type=self.compliance_by_type[i], lazy=self._lazy,
            air_until=lambda region: self.airwaves.air_until(region))

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
