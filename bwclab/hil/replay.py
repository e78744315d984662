"""A shift whose mapped officers' cameras are on the bench, in real time: the shift's hardware component
(`bwclab.sim.hardware.Hardware`) swapped for the bench's (`BenchHardware`), the rest of the shift as it is.

Inside the replay window:
- a broadcast of a kind the bench has, near enough a mapped camera to matter, fires that kind's bench
  emitter (its line raised, and lowered `PULSE_S` host seconds later), after the paths are set;
- the model camera of a mapped officer is not consulted: the model's delivery to it is kept only as its
  prediction, and the bench camera's indicator edge (read from the clock's Store, in the simulation's
  thread) is its activation in the simulation;
- a mapped officer's manual start presses the bench camera's button, where one is wired.
Every command that touches the bench is stamped: host ns before it left against the host time its
simulated time was due (its lateness).
"""

from __future__ import annotations

import math
import time
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import simpy

from bwclab.bench.description import Bench
from bwclab.camera.bodycam import CameraState
from bwclab.hil.clock import HostEvent, ReplayClock
from bwclab.hil.mapping import OfficerMap
from bwclab.hil.paths import PathFollower
from bwclab.hil.track import Tracks
from bwclab.hil.window import Window
from bwclab.sim.broadcast import Airwaves, ShiftBroadcast
from bwclab.sim.cameras import Cameras
from bwclab.sim.component import Component, Connection
from bwclab.sim.hardware import Hardware
from bwclab.sim.incident import Incident
from bwclab.sim.model import Shift, ShiftResult
from bwclab.sim.motion import Motion
from bwclab.sim.officer import Officer
from bwclab.sim.probes import Probes
from bwclab.sim.records import ActivationRow
from bwclab.sim.scenario import Scenario

PULSE_S = 0.2  # host seconds a trigger or button line is held high


class BenchPort(Protocol):
    """What a replay drives: lines, and the path between an emitter and a camera."""

    def drive(self, ref: str, level: bool) -> int: ...

    def set_path_attenuation(self, serial: str, emitter: str, db: float, verify: bool = True) -> float: ...

    def path_attenuation(self, serial: str, emitter: str) -> float: ...

    def park(self, serial: str) -> None: ...


@dataclass
class Stamp:
    what: str
    t_s: float  # simulated time it was due
    host_ns: int  # host monotonic ns just before the command left
    lateness_ms: float
    details: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"what": self.what, "t_s": self.t_s, "host_ns": self.host_ns,
                "lateness_ms": round(self.lateness_ms, 3), **self.details}


@dataclass
class Observed:
    """A bench camera's indicator edge, as the simulation took it."""

    serial: str
    officer: int
    t_s: float
    host_ns: int
    rising: bool
    cause: str = ""
    broadcast: int | None = None
    emitter_id: str = ""
    distance_ft: float = math.nan


@dataclass
class FiredOnBench:
    """A broadcast of the shift fired on a bench emitter."""

    broadcast: ShiftBroadcast
    emitter: str  # bench emitter name
    host_ns: int | None  # None: merged into a pulse still high


class BenchHardware(Component):
    """The shift's hardware, with the mapped officers' cameras on the bench inside the window: a `Hardware`, as the
    model's is, and what does not reach the bench goes to the model's (`model`)."""

    model = Connection[Hardware]()  # the model's hardware: everything the bench does not take
    airwaves = Connection[Airwaves]()  # the broadcasts the model's hardware started
    cameras = Connection[Cameras]()  # the model's cameras: a mapped one follows its bench camera's indicator
    probes = Connection[Probes]()  # a bench camera's activations are recorded there
    officers = Connection[Sequence[Officer]]()
    incidents = Connection[Sequence[Incident]]()
    motion = Connection[Motion]()
    paths = Connection[PathFollower]()  # the radio paths between the bench's emitters and cameras

    def __init__(self, clock: ReplayClock, bench: Bench, omap: OfficerMap, window: Window, port: BenchPort) -> None:
        self.clock, self.bench, self.omap, self.window, self.port = clock, bench, omap, window, port
        self.body_of = {s: o for o, s in omap.cameras.items()}  # an officer's camera rides on its body (= index)
        self.indicator = {bench.cameras[s].indicator: s for s in omap.cameras.values()}
        self.stamps: list[Stamp] = []
        self.observed: list[Observed] = []
        self.fired: list[FiredOnBench] = []
        self.skipped: list[str] = []
        self.predicted: dict[int, list[tuple[int, float]]] = {}  # officer -> (broadcast, model's activation time)
        self.presses: dict[int, list[float]] = {}
        self.state_at_start: dict[int, str] = {}
        self.feedback_lag_ms: list[float] = []
        self.tracks = Tracks()
        self.high: dict[str, bool] = {}
        self.far_ft = bench.distance_range_ft()[1]
        self._due: list[tuple[ShiftBroadcast, str, str]] = []  # (broadcast, emitter, line): fired once paths are set

    # --- time ---------------------------------------------------------------------------------
    @property
    def live(self) -> bool:
        return self.clock.live and self.clock.now >= self.window.start_s

    def stamp(self, what: str, host_ns: int, details: dict[str, Any]) -> None:
        now = float(self.clock.now)
        self.stamps.append(Stamp(what, now, host_ns, self.clock.lateness_ms(host_ns, now), details))

    def window_opens(self) -> Generator[simpy.Event, Any, None]:
        yield self.clock.timeout(self.window.start_s)
        self.tracks.snapshot(self.motion, list(range(self.motion.n)))
        for o in self.omap.cameras:
            self.state_at_start[o] = str(self.cameras.body[o].state)
        for serial in self.bench.cameras:
            if serial not in self.body_of:  # a bench camera that stands for nobody hears nothing
                self.clock.due()
                t = time.monotonic_ns()
                self.port.park(serial)
                self.stamp("park", t, {"camera": serial})
        self.paths.evaluate()  # every mapped path parked before the first broadcast

    def course_changed(self, body: int, now: float, x: float, y: float) -> None:
        self.airwaves.course_changed(body, now, x, y)
        if self.live:
            self.tracks.record(self.motion, body)
            self.paths.course_changed(body)

    # --- Hardware: triggers onto the bench, the model's cameras of mapped officers not consulted ------
    def fire(self, kind: str, body: int, emitter_id: str, incident: int | None) -> None:
        before = len(self.airwaves.log)
        self.model.fire(kind, body, emitter_id, incident)
        if len(self.airwaves.log) == before or not self.live:
            return
        b = self.airwaves.log[-1]
        if not self._relevant(b):
            return
        emitter = self._emitter_for(kind)
        if emitter is None:
            self.skipped.append(f"{kind} broadcast {b.number} at {b.start:.1f} s: no {kind} emitter on the bench")
            return
        self._due.append((b, emitter, self.bench.emitters[emitter].line))
        self.paths.start(b, emitter)  # the paths first: the camera must be where it is when the signal goes out
        self.clock.timeout(b.end - b.start).callbacks.append(lambda _e: self.paths.end(b))

    def deliver(self, b: ShiftBroadcast, camera: int, t_entry: float, dist: float) -> None:
        if self.live and camera in self.omap.cameras:
            self.predicted.setdefault(camera, []).append((b.number, float(self.clock.now)))
            return
        self.model.deliver(b, camera, t_entry, dist)

    def press(self, officer: int, incident: int) -> None:
        if not (self.live and officer in self.omap.cameras):
            self.model.press(officer, incident)
            return
        now = float(self.clock.now)
        self.presses.setdefault(officer, []).append(now)
        button = self.bench.cameras[self.omap.cameras[officer]].button
        if button is None:
            self.skipped.append(f"officer {officer}'s manual start at {now:.1f} s: camera {self.omap.cameras[officer]} "
                                "has no button wired; the model's press stands")
            self.model.press(officer, incident)
            return
        t = self._drive(button, True)
        self.stamp("press", t, {"camera": self.omap.cameras[officer]})
        self._release_later(button)

    def fire_due(self) -> None:
        """The trigger lines of the broadcasts that started this instant, right after the paths were set."""
        due, self._due = self._due, []
        for b, emitter, line in due:
            if self.high.get(line):  # a broadcast of this emitter started this instant, or within the pulse
                self.fired.append(FiredOnBench(b, emitter, None))
                continue
            t = self._drive(line, True)
            self.high[line] = True
            self.stamp("fire", t, {"emitter": emitter, "broadcast": b.number, "kind": b.kind})
            self.fired.append(FiredOnBench(b, emitter, t))
            self._release_later(line)

    def _drive(self, line: str, level: bool) -> int:
        self.clock.due()
        return self.port.drive(line, level)

    def _emitter_for(self, kind: str) -> str | None:
        """A bench emitter of this kind not on the air for another broadcast, else the one that started longest ago
        (re-fired: on a bench with fewer emitters than broadcasts, concurrent ones share it)."""
        names = self.omap.emitters.get(kind)
        if not names:
            return None
        now = float(self.clock.now)
        last = {f.emitter: f.broadcast for f in self.fired} | {e: b for b, e, _line in self._due}
        free = [e for e in names if e not in last or last[e].end <= now]
        return free[0] if free else min(names, key=lambda e: last[e].start)

    def _release_later(self, line: str) -> None:
        def low(_e: simpy.Event) -> None:
            t = self._drive(line, False)
            self.high[line] = False
            self.stamp("release", t, {"line": line})

        self.clock.timeout(PULSE_S * self.clock.speed).callbacks.append(low)

    def _relevant(self, b: ShiftBroadcast) -> bool:
        """A broadcast of a replayed incident, or one that starts within the bench's farthest distance of a mapped
        camera, allowing for how far both may move while it lasts on their present course."""
        if b.incident is not None and b.incident in self.window.incidents:
            return True
        now = float(self.clock.now)
        for o in self.omap.cameras:
            d = math.dist(self.motion.position(o, now), self.motion.position(b.emitter_body, now))
            closing = (self.motion.speed(o, now) + self.motion.speed(b.emitter_body, now)) * (b.end - b.start)
            if d - closing <= self.far_ft:
                return True
        return False

    # --- what the bench said -------------------------------------------------------------------
    def feedback(self) -> Generator[simpy.Event, Any, None]:
        while True:
            item: HostEvent = yield self.clock.arrivals.get()
            serial = self.indicator.get(item.line)
            if serial is None or not self.live:
                continue
            self.feedback_lag_ms.append((self.clock.now - self.clock.sim_time(item.t_ns)) * 1e3 * self.clock.factor)
            self._edge(serial, item)

    def rising(self, serial: str) -> list[Observed]:
        """A bench camera's rising indicator edges in the replay."""
        return [o for o in self.observed if o.serial == serial and o.rising]

    def starts(self, serial: str) -> list[Observed]:
        """Its activations: the rising edges the simulation took as a start (a cause found)."""
        return [o for o in self.rising(serial) if o.cause]

    def _edge(self, serial: str, item: HostEvent) -> None:
        """An indicator edge, at the simulated time of its stamp (the clock computes a few ms ahead: `now` may be
        later); distances from the tracks, which hold every segment since the window opened."""
        o = self.body_of[serial]
        cam = self.cameras.body[o]
        t = min(self.clock.sim_time(item.t_ns), float(self.clock.now))
        obs = Observed(serial, o, t, item.t_ns, item.level)
        self.observed.append(obs)
        if not item.level:
            if cam.state is CameraState.RECORDING:
                cam.stop(t)
            return
        if cam.state is CameraState.RECORDING:
            return
        pressed = any(0 <= t - p <= 2.0 * self.clock.speed for p in self.presses.get(o, []))
        b = self._cause_of(o, t)
        obs.cause = "manual" if pressed or b is None else "signal"
        if b is not None and obs.cause == "signal":
            obs.broadcast, obs.emitter_id = b.number, b.emitter_id
            obs.distance_ft = self.tracks.distance(o, b.emitter_body, t)
        cam.start_direct(t, obs.cause, obs.emitter_id or "button")
        assignment = self.officers[o].assignment
        incident = b.incident if b is not None else (assignment.number if assignment is not None else None)
        self.probes.activations.append(ActivationRow(
            time_s=t, camera=cam.camera_id, camera_kind="body", cause=obs.cause, trigger=obs.emitter_id,
            trigger_kind=b.kind if b is not None and obs.cause == "signal" else "manual",
            broadcast=obs.broadcast, incident=incident, distance_ft=obs.distance_ft, latency_s=math.nan,
            since_trigger_s=t - b.start if b is not None and obs.cause == "signal" else 0.0,
            bystander=incident is not None and o not in self.incidents[incident].assigned))

    def _cause_of(self, o: int, t: float) -> ShiftBroadcast | None:
        """The bench broadcast an activation is put down to: the nearest on the air, else the last to have started
        (a camera may show an activation after the model's broadcast ended: the bench's own processing)."""
        started = [f.broadcast for f in self.fired if f.broadcast.start <= t]
        on_air = [b for b in started if b.end >= t]
        if on_air:
            return min(on_air, key=lambda x: self.tracks.distance(o, x.emitter_body, t))
        return max(started, key=lambda x: x.start, default=None)

    def finish(self) -> None:
        """The window is over: every line low, every path parked."""
        for line, high in list(self.high.items()):
            if high:
                t = self._drive(line, False)
                self.high[line] = False
                self.stamp("release", t, {"line": line})
        self.paths.park_all()


class ReplayShift:
    """A replay: the scenario's shift on the replay clock, its hardware the bench's (`hardware`), every patrol leg an
    event (the bench's paths follow every body in the window). What the bench did is the hardware's: the properties
    below read it."""

    def __init__(self, scenario: Scenario, seed: int, clock: ReplayClock, bench: Bench, port: BenchPort,
                 omap: OfficerMap, window: Window) -> None:
        self.clock, self.omap, self.window = clock, omap, window
        self.hardware = hw = BenchHardware(clock, bench, omap, window, port)
        self.shift = shift = Shift(scenario, seed, env=clock, hardware=hw, lazy_patrol=False)
        hw.model, hw.airwaves, hw.cameras, hw.probes = shift.model_hardware, shift.airwaves, shift.cameras, shift.probes
        hw.officers, hw.incidents, hw.motion = shift.patrols.officers, shift.calls.incidents, shift.motion
        loss = {k: scenario.signal.emitter(k).loss_db for k in omap.emitters}
        hw.paths = PathFollower(clock, shift.motion, bench, port, dict(hw.body_of), loss, hw.stamp, time.monotonic_ns,
                                then=hw.fire_due, due=clock.due)
        shift.motion.listener = hw.course_changed
        clock.process(hw.window_opens())
        clock.process(hw.feedback())

    def run(self, until: float | None = None) -> ShiftResult:
        return self.shift.run(until=until)

    def result(self, end: float, wall_s: float) -> ShiftResult:
        return self.shift.result(end, wall_s)

    def finish(self) -> None:
        self.hardware.finish()

    def rising(self, serial: str) -> list[Observed]:
        return self.hardware.rising(serial)

    def starts(self, serial: str) -> list[Observed]:
        return self.hardware.starts(serial)

    @property
    def airwaves(self) -> Airwaves:
        return self.shift.airwaves

    @property
    def paths(self) -> PathFollower:
        return self.hardware.paths

    @property
    def tracks(self) -> Tracks:
        return self.hardware.tracks

    @property
    def stamps(self) -> list[Stamp]:
        return self.hardware.stamps

    @property
    def fired(self) -> list[FiredOnBench]:
        return self.hardware.fired

    @property
    def skipped(self) -> list[str]:
        return self.hardware.skipped

    @property
    def predicted(self) -> dict[int, list[tuple[int, float]]]:
        return self.hardware.predicted

    @property
    def presses(self) -> dict[int, list[float]]:
        return self.hardware.presses

    @property
    def state_at_start(self) -> dict[int, str]:
        return self.hardware.state_at_start

    @property
    def feedback_lag_ms(self) -> list[float]:
        return self.hardware.feedback_lag_ms
