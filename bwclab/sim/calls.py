"""A shift's calls for service: citizen calls and officer-initiated stops (Poisson by clock hour), and the
scenario's scripted calls and triggers. Each call becomes an incident, with the scene that drives it, handed to
dispatch."""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import Any

import numpy as np
import simpy

from bwclab.sim.arrivals import arrival_times
from bwclab.sim.cameras import Cameras
from bwclab.sim.component import Component, Connection
from bwclab.sim.cruiser import Cruiser
from bwclab.sim.dispatcher import Dispatcher
from bwclab.sim.hardware import EMITTER_PREFIX, Hardware
from bwclab.sim.incident import Incident, Scene
from bwclab.sim.motion import Motion, pulled_over_ahead
from bwclab.sim.officer import FT_PER_MILE, Officer
from bwclab.sim.probes import Probes
from bwclab.sim.scenario import Scenario, ScriptTrigger
from bwclab.sim.streams import KeyedRandom, Stream, Streams


class Calls(Component):
    dispatch = Connection[Dispatcher]()  # every call is handed to it
    officers = Connection[Sequence[Officer]]()  # scripted units; the officers a foot pursuit sends running
    cruisers = Connection[Sequence[Cruiser | None]]()  # a scripted light bar
    hardware = Connection[Hardware]()  # a trigger at a scene, or a scripted one, goes off
    cameras = Connection[Cameras]()  # a scene that clears stops the dash cameras it started
    probes = Connection[Probes]()  # what each camera faced at a critical moment

    def __init__(self, env: simpy.Environment, motion: Motion, scenario: Scenario, streams: Streams,
                 foot: list[bool]) -> None:
        self.env, self.motion, self.scenario, self.streams = env, motion, scenario, streams
        self.foot = foot
        n = self.n_officers = len(foot)
        self.incidents: list[Incident] = []
        self.scenes: dict[int, Scene] = {}
        self._call_key, self._type_key, self._scene_key = (streams.key(k) for k in ("call", "call-type", "incident"))
        fixed = [t for t in scenario.script.triggers if t.at_ft is not None]
        self._fixed_bodies = {id(t): 2 * n + k for k, t in enumerate(fixed)}  # after the officers and cruisers
        self._script_incidents: dict[int, int] = {}

    def start(self) -> None:
        """The calls' processes: citizen calls, officer-initiated stops, then the script's calls and triggers."""
        env, sc = self.env, self.scenario
        env.process(self._citizen_calls())
        env.process(self._officer_stops())
        for k, _call in enumerate(sc.script.calls):
            env.process(self._scripted_call(k))
        for trig in sc.script.triggers:
            env.process(self._scripted_trigger(trig))

    @property
    def scripted_incidents(self) -> list[int]:
        """The incident numbers of the scenario's scripted calls that have come in so far, in script order."""
        return [self._script_incidents[k] for k in sorted(self._script_incidents)]

    def _citizen_calls(self) -> Generator[simpy.Event, Any, None]:
        sc = self.scenario
        rng = self.streams.rng("arrivals")
        times = arrival_times(sc.calls.per_hour, sc.shift.start_hour, sc.duration_s, rng)
        names = [n for n, t in sc.call_types.items() if t.share > 0]
        if not names:
            return
        weights = np.array([sc.call_types[n].share for n in names])
        kinds = rng.choice(len(names), size=len(times), p=weights / weights.sum())
        w, h = sc.area.width_mi * FT_PER_MILE, sc.area.height_mi * FT_PER_MILE
        for t, k in zip(times.tolist(), kinds.tolist(), strict=True):
            yield self.env.timeout(t - self.env.now)
            crng = KeyedRandom(self._call_key, len(self.incidents))
            x, y = crng.uniform(0, w), crng.uniform(0, h)
            inc = self.new_incident(names[k], x, y, officer_initiated=False)
            self.dispatch.call(inc)

    def _officer_stops(self) -> Generator[simpy.Event, Any, None]:
        """A free officer in a car starts a stop near where its car is."""
        sc = self.scenario
        rng = self.streams.rng("stops")
        rates = sc.calls.officer_initiated_per_hour
        if not any(rates):
            return
        times = arrival_times(rates, sc.shift.start_hour, sc.duration_s, rng)
        picks = rng.uniform(size=len(times))
        in_car = ~np.array(self.foot)
        for t, u in zip(times.tolist(), picks.tolist(), strict=True):
            yield self.env.timeout(t - self.env.now)
            free = np.flatnonzero(self.dispatch.free & in_car)
            if len(free) == 0:
                continue
            o = int(free[min(int(u * len(free)), len(free) - 1)])
            crng = KeyedRandom(self._call_key, len(self.incidents))
            px, py = self.motion.position(self.n_officers + o, self.env.now)
            spec = sc.call_types[sc.calls.officer_initiated_type]
            hx, hy = self.motion.heading(self.n_officers + o)  # the car stopped is ahead, as the cruiser drove
            x, y = pulled_over_ahead(px, py, hx, hy, spec.scene.cruiser_stop_ft.sample(crng), crng.uniform())
            inc = self.new_incident(sc.calls.officer_initiated_type, x, y, officer_initiated=True)
            self.dispatch.call(inc, first=o)

    def _scripted_call(self, k: int) -> Generator[simpy.Event, Any, None]:
        call = self.scenario.script.calls[k]
        yield self.env.timeout(call.at_s)
        inc = self.new_incident(call.type, call.at_ft[0], call.at_ft[1], officer_initiated=False)
        self._script_incidents[k] = inc.number
        inc.units_needed = len(call.units)
        if call.stops_ft is not None:
            inc.stops = {o: (float(x), float(y)) for o, (x, y) in zip(call.units, call.stops_ft, strict=True)}
        for o in call.units:
            off = self.officers[o]
            if self.dispatch.free[o]:
                self.dispatch.send(off, inc)
            else:
                off.waiting_for.append(inc)

    def _scripted_trigger(self, trig: ScriptTrigger) -> Generator[simpy.Event, Any, None]:
        yield self.env.timeout(trig.at_s)
        incident = None if trig.call is None else self._script_incidents[trig.call]
        if trig.cruiser is not None:
            cruiser = self.cruisers[trig.cruiser]
            if cruiser is not None:
                {"light_bar": cruiser.light_bar_on, "door": cruiser.door_opens, "siren": cruiser.siren_on,
                 "speed": cruiser.over_speed, "crash": cruiser.crashed}[trig.kind](incident)
        elif trig.officer is not None:
            self.officer_trigger(trig.officer, trig.kind, incident)
        elif trig.at_ft is not None:
            body = self._fixed_bodies[id(trig)]
            self.motion.place(body, self.env.now, trig.at_ft[0], trig.at_ft[1])
            self.hardware.fire(trig.kind, body, f"{EMITTER_PREFIX[trig.kind]}-FIX{body}", incident)

    def new_incident(self, call_type: str, x: float, y: float, officer_initiated: bool) -> Incident:
        spec = self.scenario.call_types[call_type]
        n = len(self.incidents)
        rng = KeyedRandom(self._type_key, n)
        inc = Incident(n, call_type, spec, float(self.env.now), x, y, priority=False,
                       units_needed=_weighted(spec.units, rng.uniform()), officer_initiated=officer_initiated,
                       ended=self.env.event())
        inc.priority = rng.uniform() < spec.priority
        self.incidents.append(inc)
        self.scenes[n] = Scene(self.env, inc, Stream(self._scene_key, n), self.scenario.patrol.run_speed_ftps,
                               self.officer_trigger, self._chase, self.probes.at_critical, self._over)
        return inc

    def officer_trigger(self, officer: int, kind: str, incident: int | None) -> None:
        """An officer's taser or holster went off."""
        self.hardware.fire(kind, officer, f"{EMITTER_PREFIX[kind]}-{officer:05d}", incident)

    def _chase(self, officer: int, x: float, y: float) -> None:
        self.officers[officer].run_after(x, y)

    def _over(self, inc: Incident) -> None:
        self.cameras.incident_over(inc)
        self.dispatch.drop(inc)


def _weighted(weights: dict[int, float], u: float) -> int:
    """The key whose share of the total weight holds u (keys in increasing order)."""
    keys = sorted(weights)
    pick, acc = u * sum(weights.values()), 0.0
    for k in keys:
        acc += weights[k]
        if pick < acc:
            return k
    return keys[-1]
