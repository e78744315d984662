"""A department shift: builds the officers, cruisers, dispatcher and airwaves, runs SimPy."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy

from camera.bodycam import BodyCamera, CameraSettings, CameraState, SignalOutcome
from sim.arrivals import arrival_times
from sim.broadcast import Airwaves, Broadcast
from sim.cruiser import Cruiser
from sim.dispatcher import Dispatcher
from sim.incident import Incident, Scene
from sim.motion import Motion
from sim.officer import FT_PER_MILE, Officer, Ports, around
from sim.records import ActivationRow, Reception, StatusSpan
from sim.scenario import Scenario, ScriptTrigger
from sim.streams import Streams

EMITTER_PREFIX = {"taser": "TSR", "holster": "HOL", "light_bar": "VEH"}


class CountingEnvironment(simpy.Environment):
    """A SimPy environment that counts the events it processes."""

    processed = 0

    def step(self) -> None:
        self.processed += 1
        super().step()


@dataclass
class ShiftResult:
    scenario: Scenario
    seed: int
    events: int
    wall_s: float
    incidents: list[Incident]
    activations: list[ActivationRow]
    receptions: list[Reception]
    statuses: list[StatusSpan]
    body_cams: list[BodyCamera]
    dash_cams: list[BodyCamera]
    broadcasts: list[Broadcast]
    waits_s: list[float]
    asleep_spans: dict[int, list[tuple[float, float]]] = field(default_factory=dict)


class Shift:
    def __init__(self, scenario: Scenario, seed: int | None = None) -> None:
        self.scenario = scenario
        self.seed = scenario.seed if seed is None else int(seed)
        self.env = CountingEnvironment()
        self.streams = Streams(self.seed)
        n = scenario.fleet.officers
        self.n_officers = n
        fixed = [t for t in scenario.script.triggers if t.at_ft is not None]
        self.motion = Motion(2 * n + len(fixed))
        settings = CameraSettings(scenario.camera.buffer_s, scenario.camera.audio_in_buffer)
        self.cams = [BodyCamera(f"BWC-{i:05d}", settings) for i in range(n)]
        self.activations: list[ActivationRow] = []
        self.receptions: list[Reception] = []
        self.statuses: list[StatusSpan] = []
        self.incidents: list[Incident] = []
        self.scenes: dict[int, Scene] = {}
        self.asleep: dict[int, list[tuple[float, float]]] = {}
        self._sleep_rngs = [self.streams.rng("sleep", i) for i in range(n)]
        sig = scenario.signal
        self.airwaves = Airwaves(
            self.env, self.motion, n, sig.detection.curve(), sig.ble.model(), sig.broadcast_s,
            self.streams, self.deliver, scenario.patrol.emergency_speed_mph * FT_PER_MILE / 3600,
            sig.measured_latency,
        )
        self.cruisers = [Cruiser(i, n + i, scenario.camera.buffer_s, self.fire, self.start_dash) for i in range(n)]
        self.dispatcher = Dispatcher(self.env, self.motion, n)
        self.officers = [self._officer(i, b) for i, b in enumerate(self._beats())]
        self.dispatcher.connect(self.officers)
        self._place_fleet()
        self.motion.listener = self.airwaves.course_changed
        self._fixed_bodies = {id(t): 2 * n + k for k, t in enumerate(fixed)}
        self._script_incidents: dict[int, int] = {}

    # --- building ----------------------------------------------------------------------
    def _officer(self, i: int, beat: tuple[float, float, float, float]) -> Officer:
        """An officer, connected to its cruiser, its streams and the department's callbacks."""
        sc = self.scenario
        holder: list[Officer] = []
        ports = Ports(
            env=self.env, motion=self.motion, cruiser=self.cruisers[i], patrol_rng=self.streams.rng("patrol", i),
            scene_rng=lambda inc: self.streams.rng("scene", inc, i),
            arrive=lambda inc: self.scenes[inc.number].arrive(i),
            press=lambda inc: self.manual_start(i, inc),
            release_camera=lambda now: self.release_camera(i, now),
            log_status=lambda status, start, end: self.record_status(i, status, start, end),
            free=lambda: self.dispatcher.officer_free(holder[0]),
        )
        holder.append(Officer(i, beat, sc.patrol, sc.camera.manual, ports))
        return holder[0]

    def _beats(self) -> list[tuple[float, float, float, float]]:
        n = self.n_officers
        w = self.scenario.area.width_mi * FT_PER_MILE
        h = self.scenario.area.height_mi * FT_PER_MILE
        cols = max(1, math.ceil(math.sqrt(n * w / h)))
        rows = math.ceil(n / cols)
        cw, ch = w / cols, h / rows
        return [((i % cols) * cw, (i // cols) * ch, (i % cols + 1) * cw, (i // cols + 1) * ch) for i in range(n)]

    def _place_fleet(self) -> None:
        given = self.scenario.fleet.officers_at_ft
        for off in self.officers:
            if given is not None:
                x, y = given[off.index]
            else:
                x0, y0, x1, y1 = off.beat
                x, y = off.rng.uniform(x0, x1), off.rng.uniform(y0, y1)
            self.motion.place(off.cruiser.body, 0.0, x, y)
            self.motion.place(off.body, 0.0, x, y)
            self._maybe_sleep(off.index, 0.0)

    # --- running -----------------------------------------------------------------------
    def run(self, progress: Callable[[float], None] | None = None) -> ShiftResult:
        """Run the shift; `progress` is told the simulated fraction done, 50 times."""
        t0 = time.perf_counter()
        env, sc = self.env, self.scenario
        env.process(self._citizen_calls())
        env.process(self._officer_stops())
        for k, _call in enumerate(sc.script.calls):
            env.process(self._scripted_call(k))
        for trig in sc.script.triggers:
            env.process(self._scripted_trigger(trig))
        end = sc.duration_s
        if progress is None:
            env.run(until=end)
        else:
            for k in range(1, 51):
                env.run(until=end * k / 50)
                progress(k / 50)
        for off in self.officers:
            self.record_status(off.index, off.status, off.status_since, end)
        for _i, spans in self.asleep.items():
            if spans and math.isinf(spans[-1][1]):
                spans[-1] = (spans[-1][0], end)
        return ShiftResult(
            sc, self.seed, env.processed, time.perf_counter() - t0, self.incidents,
            self.activations, self.receptions, self.statuses, self.cams,
            [c.dash for c in self.cruisers], self.airwaves.log, self.dispatcher.waits, self.asleep,
        )

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
            crng = self.streams.rng("call", len(self.incidents))
            x, y = crng.uniform(0, w), crng.uniform(0, h)
            inc = self.new_incident(names[k], x, y, officer_initiated=False)
            self.dispatcher.call(inc)

    def _officer_stops(self) -> Generator[simpy.Event, Any, None]:
        sc = self.scenario
        rng = self.streams.rng("stops")
        rates = sc.calls.officer_initiated_per_hour
        if not any(rates):
            return
        times = arrival_times(rates, sc.shift.start_hour, sc.duration_s, rng)
        picks = rng.uniform(size=len(times))
        for t, u in zip(times.tolist(), picks.tolist(), strict=True):
            yield self.env.timeout(t - self.env.now)
            free = np.flatnonzero(self.dispatcher.free)
            if len(free) == 0:
                continue
            o = int(free[min(int(u * len(free)), len(free) - 1)])
            crng = self.streams.rng("call", len(self.incidents))
            px, py = self.motion.position(self.officers[o].cruiser.body, self.env.now)
            spec = sc.call_types[sc.calls.officer_initiated_type]
            x, y = around(px, py, spec.scene.cruiser_stop_ft.sample(crng), crng.uniform())
            inc = self.new_incident(sc.calls.officer_initiated_type, x, y, officer_initiated=True)
            self.dispatcher.call(inc, first=o)

    def _scripted_call(self, k: int) -> Generator[simpy.Event, Any, None]:
        call = self.scenario.script.calls[k]
        yield self.env.timeout(call.at_s)
        inc = self.new_incident(call.type, call.at_ft[0], call.at_ft[1], officer_initiated=False)
        self._script_incidents[k] = inc.number
        inc.units_needed = len(call.units)
        for o in call.units:
            off = self.officers[o]
            if self.dispatcher.free[o]:
                self.dispatcher.send(off, inc)
            else:
                off.waiting_for.append(inc)

    def _scripted_trigger(self, trig: ScriptTrigger) -> Generator[simpy.Event, Any, None]:
        yield self.env.timeout(trig.at_s)
        incident = None if trig.call is None else self._script_incidents[trig.call]
        if trig.cruiser is not None:
            self.cruisers[trig.cruiser].light_bar_on(incident)
        elif trig.officer is not None:
            self.officer_trigger(trig.officer, trig.kind, incident)
        elif trig.at_ft is not None:
            body = self._fixed_bodies[id(trig)]
            self.motion.place(body, self.env.now, trig.at_ft[0], trig.at_ft[1])
            self.fire(trig.kind, body, f"{EMITTER_PREFIX[trig.kind]}-FIX{body}", incident)

    def new_incident(self, call_type: str, x: float, y: float, officer_initiated: bool) -> Incident:
        spec = self.scenario.call_types[call_type]
        n = len(self.incidents)
        rng = self.streams.rng("call-type", n)
        units = sorted(spec.units)
        w = np.array([spec.units[u] for u in units], dtype=float)
        inc = Incident(
            n, call_type, spec, float(self.env.now), x, y,
            priority=bool(rng.uniform() < spec.priority),
            units_needed=int(units[int(rng.choice(len(units), p=w / w.sum()))]),
            officer_initiated=officer_initiated, ended=self.env.event(),
        )
        self.incidents.append(inc)
        self.scenes[n] = Scene(self.env, inc, self.streams.rng("incident", n), self.officer_trigger, self.incident_over)
        return inc

    # --- what happens ------------------------------------------------------------------
    def scene_of(self, inc: Incident) -> Scene:
        return self.scenes[inc.number]

    def fire(self, kind: str, body: int, emitter_id: str, incident: int | None) -> None:
        b = self.airwaves.start(body, emitter_id, kind, incident)
        if incident is not None:
            self.incidents[incident].broadcasts.append(b.number)

    def officer_trigger(self, officer: int, kind: str, incident: int | None) -> None:
        emitter = f"{EMITTER_PREFIX[kind]}-{officer:05d}"
        self.fire(kind, officer, emitter, incident)
        if kind == "taser":  # a drawn taser also starts the nearest cruiser's camera
            n = self.n_officers
            ox, oy = self.motion.position(officer, self.env.now)
            cx, cy = self.motion.positions(np.arange(n, 2 * n), float(self.env.now))
            nearest = int(np.argmin((cx - ox) ** 2 + (cy - oy) ** 2))
            self.start_dash(self.cruisers[nearest], kind, emitter, incident)

    def start_dash(self, cruiser: Cruiser, kind: str, emitter: str, incident: int | None) -> None:
        now = float(self.env.now)
        if cruiser.dash.start_direct(now, "wired", emitter):
            self.activations.append(ActivationRow(
                time_s=now, camera=cruiser.dash.camera_id, camera_kind="dash", cause="wired", trigger=emitter,
                trigger_kind=kind, broadcast=None, incident=incident, distance_ft=math.nan, latency_s=0.0,
                since_trigger_s=0.0, bystander=False))
            if incident is not None:
                self.incidents[incident].dash_started.append(cruiser.index)

    def deliver(self, b: Broadcast, officer: int, t_entry: float, dist: float) -> None:
        now = float(self.env.now)
        cam = self.cams[officer]
        outcome = cam.hear(now, b.emitter_id)
        self.receptions.append(Reception(now, officer, b.number, b.incident, outcome.value))
        if outcome is not SignalOutcome.ACTIVATED:
            return
        inc = self.incidents[b.incident] if b.incident is not None else None
        bystander = inc is not None and officer not in inc.assigned
        self.activations.append(ActivationRow(
            time_s=now, camera=cam.camera_id, camera_kind="body", cause="signal", trigger=b.emitter_id,
            trigger_kind=b.kind, broadcast=b.number, incident=b.incident, distance_ft=dist,
            latency_s=now - max(b.start, t_entry), since_trigger_s=now - b.start, bystander=bystander))
        off = self.officers[officer]
        if off.assignment is None:
            self._stop_later(officer, self.streams.rng("bystander", b.number, officer))

    def manual_start(self, officer: int, incident: int) -> None:
        now = float(self.env.now)
        cam = self.cams[officer]
        was_asleep = cam.state is CameraState.SLEEP
        if cam.press(now):
            if was_asleep:
                self._wake(officer, now)
            self.activations.append(ActivationRow(
                time_s=now, camera=cam.camera_id, camera_kind="body", cause="manual", trigger="",
                trigger_kind="manual", broadcast=None, incident=incident, distance_ft=math.nan, latency_s=0.0,
                since_trigger_s=0.0, bystander=False))

    def _stop_later(self, officer: int, rng: np.random.Generator) -> None:
        off = self.officers[officer]
        token = off.stop_token
        delay = self.scenario.camera.stop_unassigned_after_s.sample(rng)

        def stop(_e: simpy.Event) -> None:
            if off.stop_token == token and off.assignment is None:
                self.cams[officer].stop(float(self.env.now))

        self.env.timeout(max(0.0, delay)).callbacks.append(stop)

    def release_camera(self, officer: int, now: float) -> None:
        self.cams[officer].stop(now)
        self._maybe_sleep(officer, now)

    def _maybe_sleep(self, officer: int, now: float) -> None:
        cam = self.cams[officer]
        if self._sleep_rngs[officer].uniform() < self.scenario.camera.sleep_probability:
            if cam.state is not CameraState.SLEEP:
                cam.sleep(now)
                self.asleep.setdefault(officer, []).append((now, math.inf))
        elif cam.state is CameraState.SLEEP:
            cam.wake(now)
            self._wake(officer, now)

    def _wake(self, officer: int, now: float) -> None:
        spans = self.asleep.get(officer)
        if spans and math.isinf(spans[-1][1]):
            spans[-1] = (spans[-1][0], now)

    def incident_over(self, inc: Incident) -> None:
        now = float(self.env.now)
        for c in inc.dash_started:
            self.cruisers[c].dash.stop(now)
        self.dispatcher.drop(inc)

    def record_status(self, officer: int, status: str, start: float, end: float) -> None:
        if end > start:
            self.statuses.append(StatusSpan(officer, status, start, end))


def run_shift(
    scenario: Scenario, seed: int | None = None, progress: Callable[[float], None] | None = None
) -> ShiftResult:
    return Shift(scenario, seed).run(progress)
