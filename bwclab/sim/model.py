"""A department shift: its components (desmod's pattern) built from the scenario, wired, and run on one clock.

- `Patrols` (patrols.py): the officers and their cruisers;
- `Dispatcher` (dispatcher.py): calls to units, and the officers' duties;
- `Calls` (calls.py): citizen calls, officer-initiated stops, the script; an incident and its scene each;
- `Airwaves` (broadcast.py): the broadcasts on the air, and when each camera hears one;
- `Cameras` (cameras.py): the body and dash cameras;
- `Hardware` (hardware.py): the triggers and cameras as the rest reaches them, the model's own (`ModelHardware`)
  unless another is swapped in (a hardware-in-the-loop replay's bench);
- `Probes` (probes.py): what happens, recorded as it happens.

Bodies (motion.py): officers 0..n-1, cruisers n..2n-1, then fixed emitters. Cameras ride on them: a body camera
on every officer, a dash camera in every cruiser when fitted; all are receivers of every broadcast, by range.
Only the trigger kinds the department fields (`signal.triggers`) broadcast at all.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import simpy

from bwclab.camera.bodycam import BodyCamera
from bwclab.camera.detection import DetectionCurve, ScaledCurve
from bwclab.sim.broadcast import Airwaves, EmitterKind, ShiftBroadcast
from bwclab.sim.calls import Calls
from bwclab.sim.cameras import Cameras
from bwclab.sim.component import elaborate
from bwclab.sim.dispatcher import Dispatcher
from bwclab.sim.hardware import EMITTER_PREFIX, Hardware, ModelHardware
from bwclab.sim.heap import collector_paused
from bwclab.sim.incident import Incident
from bwclab.sim.motion import Motion
from bwclab.sim.officer import FT_PER_MILE
from bwclab.sim.patrols import Patrols
from bwclab.sim.probes import Probes
from bwclab.sim.records import ActivationRow, Reception, StatusSpan, View
from bwclab.sim.scenario import PatrolSpec, Scenario
from bwclab.sim.streams import KeyedRandom, Streams


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
    broadcasts: list[ShiftBroadcast]
    waits_s: list[float]
    undiscovered: set[tuple[int, int]] = field(default_factory=set)
    views: dict[int, View] = field(default_factory=dict)  # incident -> what each camera faced at its moment
    asleep_spans: dict[int, list[tuple[float, float]]] = field(default_factory=dict)
    compliance: list[float] = field(default_factory=list)
    busy_s: float = 0.0


class Shift:
    """The components of one shift, built, wired and run."""

    def __init__(self, scenario: Scenario, seed: int | None = None, env: simpy.Environment | None = None,
                 hardware: Hardware | None = None, lazy_patrol: bool = True) -> None:
        """`env`: the clock to run on (default: simulated time as fast as it goes; a hardware-in-the-loop replay
        passes a real-time one). `hardware`: in place of the model's (`ModelHardware`, still built: `model_hardware`),
        connected by whoever made it. `lazy_patrol`: patrol legs drawn when asked for (officer.py); a replay, which
        tracks every body, has every leg an event."""
        self.scenario = sc = scenario
        self.seed = sc.seed if seed is None else int(seed)
        self.env = env if env is not None else CountingEnvironment()
        self.streams = streams = Streams(self.seed)
        n = sc.fleet.officers
        fixed = [t for t in sc.script.triggers if t.at_ft is not None]
        self.motion = Motion(2 * n + len(fixed))
        self.motion.clock = self.env
        foot = [sc.fleet.foot(i) for i in range(n)]
        self.cameras = Cameras(self.env, sc, foot, streams)
        has_dash = [c is not None for c in self.cameras.dash]
        self.probes = Probes(self.motion, sc.camera, sc.dash.fov_deg, foot, has_dash, streams.key("view"))
        self.airwaves = self._airwaves(has_dash)
        dispatch_key = streams.key("dispatch")
        self.dispatch = Dispatcher(self.env, self.motion, n, sc.dispatch.processing_s,
                                   lambda inc: KeyedRandom(dispatch_key, inc))
        self.patrols = Patrols(self.env, self.motion, sc, streams, foot, self.cameras.dash, lazy_patrol)
        self.calls = Calls(self.env, self.motion, sc, streams, foot)
        self.model_hardware = ModelHardware(sc.signal.triggers)
        self.hardware: Hardware = self.model_hardware if hardware is None else hardware
        self._connect()
        self.patrols.place()
        self.motion.listener = self.airwaves.course_changed

    def _airwaves(self, has_dash: list[bool]) -> Airwaves:
        sig, n = self.scenario.signal, len(has_dash)
        cameras = np.array([*range(n), *(n + i for i in range(n) if has_dash[i])], dtype=np.int64)
        kinds = {k: EmitterKind(self._curve(k), sig.broadcast_for(k)) for k in EMITTER_PREFIX}
        return Airwaves(self.env, self.motion, cameras, kinds, sig.ble.model(), self.streams,
                        _fastest_ftps(self.scenario.patrol), sig.measured_latency, wired=np.arange(n, 2 * n),
                        teleports=self.scenario.patrol.instant_travel, body_loss_db=sig.body_loss_db,
                        path_loss_exponent=sig.path_loss_exponent)

    def _curve(self, kind: str) -> DetectionCurve:
        sig = self.scenario.signal
        base = sig.detection.curve()
        loss = sig.emitter(kind).loss_db
        return base if loss == 0 else ScaledCurve(base, loss, sig.path_loss_exponent)

    def _connect(self) -> None:
        hw, model, officers, incidents = self.hardware, self.model_hardware, self.patrols.officers, self.calls.incidents
        self.airwaves.deliver = hw.deliver
        model.airwaves, model.cameras, model.incidents = self.airwaves, self.cameras, incidents
        self.cameras.probes, self.cameras.officers, self.cameras.incidents = self.probes, officers, incidents
        self.dispatch.units = officers
        p = self.patrols
        p.hardware, p.cameras, p.dispatch, p.scenes = hw, self.cameras, self.dispatch, self.calls.scenes
        p.airwaves, p.probes = self.airwaves, self.probes
        c = self.calls
        c.dispatch, c.officers, c.cruisers, c.hardware = self.dispatch, officers, self.patrols.cruisers, hw
        c.cameras, c.probes = self.cameras, self.probes

    def components(self) -> list[tuple[str, object]]:
        return [("airwaves", self.airwaves), ("dispatch", self.dispatch), ("patrols", self.patrols),
                ("calls", self.calls), ("cameras", self.cameras), ("probes", self.probes),
                ("model_hardware", self.model_hardware), ("hardware", self.hardware)]

    def run(self, progress: Callable[[float], None] | None = None, until: float | None = None) -> ShiftResult:
        """Run the shift (to `until` seconds, default its end); `progress` is told the fraction done, 50 times.
        Raises `Unconnected` first if any component's connection was left unmade."""
        elaborate(self.components())
        with collector_paused():
            t0 = time.perf_counter()
            env, sc = self.env, self.scenario
            self.patrols.start()
            self.dispatch.start_duties(sc.dispatch.duties, self.streams.key("duties"))
            self.calls.start()
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
        self.patrols.finish(end)
        self.cameras.finish(end)
        pr, air = self.probes, self.airwaves
        return ShiftResult(
            self.scenario, self.seed, getattr(self.env, "processed", 0), wall_s, self.calls.incidents, pr.activations,
            pr.receptions, pr.statuses, self.cameras.body, self.cameras.dash, air.log, self.dispatch.waits,
            air.undiscovered, pr.views, self.cameras.asleep, self.patrols.compliance, self.dispatch.busy_s)

    @property
    def scripted_incidents(self) -> list[int]:
        """The incident numbers of the scenario's scripted calls that have come in so far, in script order."""
        return self.calls.scripted_incidents


def _fastest_ftps(patrol: PatrolSpec) -> float:
    """The fastest any body moves (before the detour factor slows a car): what bounds how far a camera or an
    emitter can go while a broadcast lasts."""
    mph = max(patrol.speed_mph, patrol.emergency_speed_mph, patrol.foot_speed_mph) * FT_PER_MILE / 3600
    return max(mph, patrol.walk_speed_ftps, patrol.run_speed_ftps)


def run_shift(
    scenario: Scenario, seed: int | None = None, progress: Callable[[float], None] | None = None
) -> ShiftResult:
    return Shift(scenario, seed).run(progress)
