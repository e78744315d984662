"""A department shift: builds the officers, cruisers, dispatcher and airwaves, runs SimPy.

Bodies: officers 0..n-1, cruisers n..2n-1, then fixed emitters. Cameras ride on them: a body camera
on every officer, a dash camera in every cruiser when fitted; all are receivers of every broadcast,
by range. Only the trigger kinds the department fields (`signal.triggers`) broadcast at all.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy

from bwclab.camera.bodycam import BodyCamera, CameraSettings, CameraState, SignalOutcome
from bwclab.camera.detection import DetectionCurve, ScaledCurve
from bwclab.sim.arrivals import arrival_times
from bwclab.sim.broadcast import Airwaves, Broadcast, Kind
from bwclab.sim.cruiser import Cruiser
from bwclab.sim.dispatcher import Dispatcher
from bwclab.sim.heap import collector_paused
from bwclab.sim.incident import Incident, Scene
from bwclab.sim.motion import Motion
from bwclab.sim.officer import FT_PER_MILE, Officer, Ports, around
from bwclab.sim.records import ActivationRow, Reception, StatusSpan, View
from bwclab.sim.scenario import PatrolSpec, Scenario, ScriptTrigger
from bwclab.sim.streams import KeyedRandom, Stream, Streams
from bwclab.sim.view import in_view, turned

EMITTER_PREFIX = {"taser": "TSR", "holster": "HOL", "light_bar": "VEH"}
FORCE_WINDOW_S = 5.0  # a draw this close to the critical moment may block a chest camera's view


class CountingEnvironment(simpy.Environment):
    """A SimPy environment that tells how many events it has processed: every event it scheduled (its event ids
    are a counter) less those still queued. Counted at the end, not in `step` (a Python call per event)."""

    @property
    def processed(self) -> int:
        scheduled = next(self._eid)  # the next id: one more than scheduled so far (SimPy 4: an itertools.count)
        return int(scheduled) - len(self._queue)


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
    dash_cams: list[BodyCamera | None]
    broadcasts: list[Broadcast]
    waits_s: list[float]
    undiscovered: set[tuple[int, int]] = field(default_factory=set)
    views: dict[int, View] = field(default_factory=dict)  # incident -> what each camera faced at its moment
    asleep_spans: dict[int, list[tuple[float, float]]] = field(default_factory=dict)
    compliance: list[float] = field(default_factory=list)
    busy_s: float = 0.0


class Shift:
    lazy_patrol = True  # patrol legs drawn when asked for (officer.py); a replay that tracks every body sets False

    def __init__(self, scenario: Scenario, seed: int | None = None, env: simpy.Environment | None = None) -> None:
        """`env`: the clock to run on (default: simulated time as fast as it goes; a hardware-in-the-loop
        replay passes a real-time one)."""
        self.scenario = sc = scenario
        self.seed = sc.seed if seed is None else int(seed)
        self.env = env if env is not None else CountingEnvironment()
        self.streams = Streams(self.seed)
        self.keys = {name: self.streams.key(name) for name in (
            "patrol", "scene", "incident", "call", "call-type", "sleep", "compliance", "duties", "bystander", "view",
            "dispatch")}
        n = self.n_officers = sc.fleet.officers
        fixed = [t for t in sc.script.triggers if t.at_ft is not None]
        self.motion = Motion(2 * n + len(fixed))
        self.motion.clock = self.env
        settings = CameraSettings(sc.camera.buffer_s, sc.camera.audio_in_buffer)
        self.cams = [BodyCamera(f"BWC-{i:05d}", settings) for i in range(n)]
        self.foot = [sc.fleet.foot(i) for i in range(n)]
        dash = CameraSettings(sc.dash.buffer_s)
        self.dash: list[BodyCamera | None] = [
            BodyCamera(f"DASH-{i:05d}", dash) if sc.dash.fitted and not self.foot[i] else None for i in range(n)]
        self.activations: list[ActivationRow] = []
        self.receptions: list[Reception] = []
        self.statuses: list[StatusSpan] = []
        self.incidents: list[Incident] = []
        self.scenes: dict[int, Scene] = {}
        self.views: dict[int, View] = {}
        self.asleep: dict[int, list[tuple[float, float]]] = {}
        self._sleep_rngs = [Stream(self.keys["sleep"], i) for i in range(n)]
        self.compliance = [sc.camera.manual.compliance.sample(KeyedRandom(self.keys["compliance"], i))
                           for i in range(n)]
        sig = sc.signal
        cameras = np.array([*range(n), *(n + i for i in range(n) if self.dash[i] is not None)], dtype=np.int64)
        self.airwaves = Airwaves(
            self.env, self.motion, cameras, {k: Kind(self._curve(k), sig.broadcast_for(k)) for k in EMITTER_PREFIX},
            sig.ble.model(), self.streams, self.deliver, _fastest_ftps(sc.patrol),
            sig.measured_latency, wired=np.arange(n, 2 * n), teleports=sc.patrol.instant_travel)
        self.cruisers = [None if self.foot[i] else Cruiser(i, n + i, self.dash[i], self.light_bar) for i in range(n)]
        self.dispatcher = Dispatcher(self.env, self.motion, n, sc.dispatch.processing_s,
                                     lambda inc: KeyedRandom(self.keys["dispatch"], inc))
        self.officers = [self._officer(i, b) for i, b in enumerate(self._beats())]
        self.dispatcher.connect(self.officers)
        self._place_fleet()
        self.motion.listener = self.airwaves.course_changed
        self._fixed_bodies = {id(t): 2 * n + k for k, t in enumerate(fixed)}
        self._script_incidents: dict[int, int] = {}

    # --- building ----------------------------------------------------------------------
    def _curve(self, kind: str) -> DetectionCurve:
        sig = self.scenario.signal
        base = sig.detection.curve()
        loss = sig.emitter(kind).loss_db
        return base if loss == 0 else ScaledCurve(base, loss, sig.path_loss_exponent)

    def _officer(self, i: int, beat: tuple[float, float, float, float]) -> Officer:
        """An officer, connected to its cruiser, its streams and the department's callbacks."""
        sc = self.scenario
        holder: list[Officer] = []
        ports = Ports(
            env=self.env, motion=self.motion, cruiser=self.cruisers[i], patrol_rng=Stream(self.keys["patrol"], i),
            scene_rng=lambda inc: Stream(self.keys["scene"], inc, i),
            arrive=lambda inc: self.scenes[inc.number].arrive(i),
            press=lambda inc: self.manual_start(i, inc),
            release_camera=lambda now: self.release_camera(i, now),
            log_status=lambda status, start, end: self.record_status(i, status, start, end),
            free=lambda: self.dispatcher.officer_free(holder[0]),
            compliance=self.compliance[i], lazy=self.lazy_patrol, air_until=self.airwaves.air_until,
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
        n = self.n_officers
        for off in self.officers:
            if given is not None:
                x, y = given[off.index]
            else:
                x0, y0, x1, y1 = off.beat
                x, y = off.rng.uniform(x0, x1), off.rng.uniform(y0, y1)
            self.motion.place(n + off.index, 0.0, x, y)
            self.motion.place(off.body, 0.0, x, y)
            self._maybe_sleep(off.index, 0.0)

    # --- running -----------------------------------------------------------------------
    def run(self, progress: Callable[[float], None] | None = None, until: float | None = None) -> ShiftResult:
        """Run the shift (to `until` seconds, default its end); `progress` is told the fraction done, 50 times."""
        with collector_paused():
            t0 = time.perf_counter()
            env, sc = self.env, self.scenario
            for off in self.officers:
                off.start_patrol()
            self._schedule_duties()
            env.process(self._citizen_calls())
            env.process(self._officer_stops())
            for k, _call in enumerate(sc.script.calls):
                env.process(self._scripted_call(k))
            for trig in sc.script.triggers:
                env.process(self._scripted_trigger(trig))
            end = sc.duration_s if until is None else min(until, sc.duration_s)
            if progress is None:
                env.run(until=end)
            else:
                for k in range(1, 51):
                    env.run(until=end * k / 50)
                    progress(k / 50)
            return self.result(end, time.perf_counter() - t0)

    def result(self, end: float, wall_s: float) -> ShiftResult:
        """What happened up to `end` (the shift's end, or where a run stopped)."""
        for off in self.officers:
            self.record_status(off.index, off.status, off.status_since, end)
        for spans in self.asleep.values():
            if spans and math.isinf(spans[-1][1]):
                spans[-1] = (spans[-1][0], end)
        return ShiftResult(
            self.scenario, self.seed, getattr(self.env, "processed", 0), wall_s, self.incidents, self.activations,
            self.receptions, self.statuses, self.cams, self.dash, self.airwaves.log, self.dispatcher.waits,
            self.airwaves.undiscovered, self.views, self.asleep, self.compliance, self.dispatcher.busy_s)

    @property
    def scripted_incidents(self) -> list[int]:
        """The incident numbers of the scenario's scripted calls that have come in so far, in script order."""
        return [self._script_incidents[k] for k in sorted(self._script_incidents)]

    def _schedule_duties(self) -> None:
        duties = self.scenario.dispatch.duties
        if duties.share <= 0:
            return
        mean_gap = duties.length_min.expected() * 60.0 * (1.0 - duties.share) / duties.share
        for off in self.officers:
            rng = Stream(self.keys["duties"], off.index)

            def due(_e: simpy.Event, off: Officer = off, rng: Stream = rng) -> None:
                self.dispatcher.duty_due(off, duties.length_min.sample(rng) * 60.0)
                self.env.timeout(rng.exponential(mean_gap)).callbacks.append(due)

            self.env.timeout(rng.exponential(mean_gap)).callbacks.append(due)

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
            crng = KeyedRandom(self.keys["call"], len(self.incidents))
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
        in_car = ~np.array(self.foot)
        for t, u in zip(times.tolist(), picks.tolist(), strict=True):
            yield self.env.timeout(t - self.env.now)
            free = np.flatnonzero(self.dispatcher.free & in_car)
            if len(free) == 0:
                continue
            o = int(free[min(int(u * len(free)), len(free) - 1)])
            crng = KeyedRandom(self.keys["call"], len(self.incidents))
            px, py = self.motion.position(self.n_officers + o, self.env.now)
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
        if call.stops_ft is not None:
            inc.stops = {o: (float(x), float(y)) for o, (x, y) in zip(call.units, call.stops_ft, strict=True)}
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
            cruiser = self.cruisers[trig.cruiser]
            if cruiser is not None:
                cruiser.light_bar_on(incident)
        elif trig.officer is not None:
            self.officer_trigger(trig.officer, trig.kind, incident)
        elif trig.at_ft is not None:
            body = self._fixed_bodies[id(trig)]
            self.motion.place(body, self.env.now, trig.at_ft[0], trig.at_ft[1])
            self.fire(trig.kind, body, f"{EMITTER_PREFIX[trig.kind]}-FIX{body}", incident)

    def new_incident(self, call_type: str, x: float, y: float, officer_initiated: bool) -> Incident:
        spec = self.scenario.call_types[call_type]
        n = len(self.incidents)
        rng = KeyedRandom(self.keys["call-type"], n)
        inc = Incident(n, call_type, spec, float(self.env.now), x, y, priority=False,
                       units_needed=_weighted(spec.units, rng.uniform()), officer_initiated=officer_initiated,
                       ended=self.env.event())
        inc.priority = rng.uniform() < spec.priority
        self.incidents.append(inc)
        self.scenes[n] = Scene(self.env, inc, Stream(self.keys["incident"], n),
                               self.scenario.patrol.run_speed_ftps, self.officer_trigger, self.chase,
                               self.at_critical, self.incident_over)
        return inc

    # --- what happens ------------------------------------------------------------------
    def fire(self, kind: str, body: int, emitter_id: str, incident: int | None) -> None:
        """A trigger of this kind went off: a broadcast, where the department fields this kind of trigger."""
        if kind not in self.scenario.signal.triggers:
            return
        b = self.airwaves.start(body, emitter_id, kind, incident)
        if incident is not None:
            self.incidents[incident].broadcasts.append(b.number)

    def light_bar(self, cruiser: Cruiser, incident: int | None) -> None:
        """A light bar went on: its own car's camera is wired to it; a broadcast if light bars are fielded."""
        if cruiser.dash is not None:
            self._start_dash(cruiser.index, "wired", cruiser.emitter_id, "light_bar", None, incident, math.nan)
        self.fire("light_bar", cruiser.body, cruiser.emitter_id, incident)

    def officer_trigger(self, officer: int, kind: str, incident: int | None) -> None:
        self.fire(kind, officer, f"{EMITTER_PREFIX[kind]}-{officer:05d}", incident)

    def chase(self, officer: int, x: float, y: float) -> None:
        self.officers[officer].run_after(x, y)

    def _start_dash(self, index: int, cause: str, emitter: str, kind: str, broadcast: int | None,
                    incident: int | None, dist: float, latency: float = 0.0, since: float = 0.0) -> None:
        cam = self.dash[index]
        now = float(self.env.now)
        if cam is None or not cam.start_direct(now, cause, emitter):
            return
        bystander = incident is not None and index not in self.incidents[incident].assigned
        self.activations.append(ActivationRow(
            time_s=now, camera=cam.camera_id, camera_kind="dash", cause=cause, trigger=emitter, trigger_kind=kind,
            broadcast=broadcast, incident=incident, distance_ft=dist, latency_s=latency, since_trigger_s=since,
            bystander=bystander))
        if incident is not None and not bystander:
            self.incidents[incident].dash_started.append(index)
        else:
            self._stop_dash_later(index, broadcast or 0)

    def deliver(self, b: Broadcast, camera: int, t_entry: float, dist: float) -> None:
        now = float(self.env.now)
        n = self.n_officers
        if camera >= n:
            self._start_dash(camera - n, "signal", b.emitter_id, b.kind, b.number, b.incident, dist,
                             now - max(b.start, t_entry), now - b.start)
            return
        cam = self.cams[camera]
        outcome = cam.hear(now, b.emitter_id)
        self.receptions.append(Reception(now, camera, b.number, b.incident, outcome.value))
        if outcome is not SignalOutcome.ACTIVATED:
            return
        inc = self.incidents[b.incident] if b.incident is not None else None
        bystander = inc is not None and camera not in inc.assigned
        self.activations.append(ActivationRow(
            time_s=now, camera=cam.camera_id, camera_kind="body", cause="signal", trigger=b.emitter_id,
            trigger_kind=b.kind, broadcast=b.number, incident=b.incident, distance_ft=dist,
            latency_s=now - max(b.start, t_entry), since_trigger_s=now - b.start, bystander=bystander))
        off = self.officers[camera]
        if off.assignment is None:
            self._stop_later(camera, KeyedRandom(self.keys["bystander"], b.number, camera))

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

    def _stop_later(self, officer: int, rng: KeyedRandom) -> None:
        off = self.officers[officer]
        token = off.stop_token
        delay = self.scenario.camera.stop_unassigned_after_s.sample(rng)

        def stop(_e: simpy.Event) -> None:
            if off.stop_token == token and off.assignment is None:
                self.cams[officer].stop(float(self.env.now))

        self.env.timeout(delay).callbacks.append(stop)

    def _stop_dash_later(self, index: int, broadcast: int) -> None:
        delay = self.scenario.camera.stop_unassigned_after_s.sample(KeyedRandom(self.keys["bystander"], broadcast,
                                                                                 10**6 + index))

        def stop(_e: simpy.Event) -> None:
            cam = self.dash[index]
            if cam is not None and self.officers[index].assignment is None:
                cam.stop(float(self.env.now))

        self.env.timeout(delay).callbacks.append(stop)

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
            cam = self.dash[c]
            if cam is not None:
                cam.stop(now)
        self.dispatcher.drop(inc)

    def record_status(self, officer: int, status: str, start: float, end: float) -> None:
        if end > start:
            self.statuses.append(StatusSpan(officer, status, start, end))

    # --- the critical moment: what each camera faced -----------------------------------
    def at_critical(self, inc: Incident) -> None:
        self.views[inc.number] = self._view(inc)

    def _view(self, inc: Incident) -> View:
        """Is the subject inside each present camera's field of view (and not blocked) at the moment?"""
        cam = self.scenario.camera
        t = inc.critical_at
        sx, sy = inc.subject_at_critical
        force = inc.struggle or any(abs(ft - t) <= FORCE_WINDOW_S for ft, _ in inc.force)
        block = cam.occlusion.get(cam.mount, 0.0) if force else 0.0
        body: dict[int, bool] = {}
        for o in inc.present_at(t):
            rng = KeyedRandom(self.keys["view"], inc.number, o)
            px, py = self.motion.position(o, t)
            hx, hy = self.motion.heading(o)
            if not self.motion.moving(o, t) and (o in inc.out_of_car or self.foot[o]):
                d = math.hypot(sx - px, sy - py)
                if d > 1e-9:  # on scene, out of the car: facing the subject, within the spread
                    hx, hy = turned((sx - px) / d, (sy - py) / d, rng.uniform(-1.0, 1.0) * cam.heading_spread_deg)
            body[o] = in_view(px, py, hx, hy, sx, sy, cam.fov_deg) and rng.uniform() >= block
        dash: dict[int, bool] = {}
        for o in inc.present_at(t):
            if self.dash[o] is not None:
                c = self.n_officers + o
                cx, cy = self.motion.position(c, t)
                hx, hy = self.motion.heading(c)
                dash[o] = in_view(cx, cy, hx, hy, sx, sy, self.scenario.dash.fov_deg)
        return View(body, dash)


def _fastest_ftps(patrol: PatrolSpec) -> float:
    """The fastest any body moves (before the detour factor slows a car): what bounds how far a camera or an
    emitter can go while a broadcast lasts."""
    mph = max(patrol.speed_mph, patrol.emergency_speed_mph, patrol.foot_speed_mph) * FT_PER_MILE / 3600
    return max(mph, patrol.walk_speed_ftps, patrol.run_speed_ftps)


def _weighted(weights: dict[int, float], u: float) -> int:
    """The key whose share of the total weight holds u (keys in increasing order)."""
    keys = sorted(weights)
    pick, acc = u * sum(weights.values()), 0.0
    for k in keys:
        acc += weights[k]
        if pick < acc:
            return k
    return keys[-1]


def run_shift(
    scenario: Scenario, seed: int | None = None, progress: Callable[[float], None] | None = None
) -> ShiftResult:
    return Shift(scenario, seed).run(progress)
