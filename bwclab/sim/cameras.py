"""The department's cameras in a shift: a body camera on every officer and a dash camera in every cruiser fitted
with one (the clock-free camera model of bwclab/camera, on the shift's clock). What each does with a reception, a
press of its button, its own car's light bar, the end of a call, and sleep."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol

import simpy

from bwclab.camera.bodycam import BodyCamera, CameraSettings, CameraState, SignalOutcome
from bwclab.sim.broadcast import ShiftBroadcast
from bwclab.sim.component import Component, Connection
from bwclab.sim.incident import Incident
from bwclab.sim.probes import Probes
from bwclab.sim.records import ActivationRow, Reception
from bwclab.sim.scenario import Scenario
from bwclab.sim.streams import KeyedRandom, Stream, Streams

DASH_DRAWS = 10**6  # a dash camera's bystander draw is addressed as camera DASH_DRAWS + its cruiser's index


class OnCall(Protocol):
    """What the cameras know of an officer: the call it is on, and a token a new call changes."""

    @property
    def assignment(self) -> Incident | None: ...

    @property
    def stop_token(self) -> int: ...


class Cameras(Component):
    probes = Connection[Probes]()  # activations and receptions are recorded there
    officers = Connection[Sequence[OnCall]]()  # a bystander's camera stops unless its officer is on a call
    incidents = Connection[Sequence[Incident]]()  # who was sent to the trigger's incident

    def __init__(self, env: simpy.Environment, scenario: Scenario, foot: list[bool], streams: Streams) -> None:
        self.env = env
        self.spec = sc = scenario
        n = self.n_officers = len(foot)
        settings = CameraSettings(sc.camera.buffer_s, sc.camera.audio_in_buffer)
        self.body = [BodyCamera(f"BWC-{i:05d}", settings) for i in range(n)]
        dash = CameraSettings(sc.dash.buffer_s)
        self.dash: list[BodyCamera | None] = [
            BodyCamera(f"DASH-{i:05d}", dash) if sc.dash.fitted and not foot[i] else None for i in range(n)]
        self.asleep: dict[int, list[tuple[float, float]]] = {}  # officer -> spans its camera slept
        sleep_key = streams.key("sleep")
        self._sleep_rngs = [Stream(sleep_key, i) for i in range(n)]
        self._bystander_key = streams.key("bystander")

    # --- what starts a camera ------------------------------------------------------------------
    def hear(self, b: ShiftBroadcast, camera: int, t_entry: float, dist: float) -> None:
        """A reception: a broadcast discovered and processed by this camera (a body camera's officer index, or
        n + a cruiser's index for its dash camera)."""
        now = float(self.env.now)
        n = self.n_officers
        if camera >= n:
            self._start_dash(camera - n, "signal", b.emitter_id, b.kind, b.number, b.incident, dist,
                             now - max(b.start, t_entry), now - b.start)
            return
        cam = self.body[camera]
        outcome = cam.hear(now, b.emitter_id)
        self.probes.receptions.append(Reception(now, camera, b.number, b.incident, outcome.value))
        if outcome is not SignalOutcome.ACTIVATED:
            return
        inc = self.incidents[b.incident] if b.incident is not None else None
        bystander = inc is not None and camera not in inc.assigned
        self.probes.activations.append(ActivationRow(
            time_s=now, camera=cam.camera_id, camera_kind="body", cause="signal", trigger=b.emitter_id,
            trigger_kind=b.kind, broadcast=b.number, incident=b.incident, distance_ft=dist,
            latency_s=now - max(b.start, t_entry), since_trigger_s=now - b.start, bystander=bystander))
        if self.officers[camera].assignment is None:
            self._stop_later(camera, KeyedRandom(self._bystander_key, b.number, camera))

    def press(self, officer: int, incident: int) -> None:
        """The officer starts its body camera by hand (a sleeping camera wakes, with no buffer)."""
        now = float(self.env.now)
        cam = self.body[officer]
        was_asleep = cam.state is CameraState.SLEEP
        if cam.press(now):
            if was_asleep:
                self._wake(officer, now)
            self.probes.activations.append(ActivationRow(
                time_s=now, camera=cam.camera_id, camera_kind="body", cause="manual", trigger="",
                trigger_kind="manual", broadcast=None, incident=incident, distance_ft=math.nan, latency_s=0.0,
                since_trigger_s=0.0, bystander=False))

    def light_bar_on(self, cruiser: int, emitter_id: str, incident: int | None, kind: str = "light_bar") -> None:
        """A cruiser's light bar (or another of its vehicle triggers, `kind`) went on: its own dash camera, wired
        to it, starts."""
        self._start_dash(cruiser, "wired", emitter_id, kind, None, incident, math.nan)

    def _start_dash(self, index: int, cause: str, emitter: str, kind: str, broadcast: int | None,
                    incident: int | None, dist: float, latency: float = 0.0, since: float = 0.0) -> None:
        cam = self.dash[index]
        now = float(self.env.now)
        if cam is None or not cam.start_direct(now, cause, emitter):
            return
        bystander = incident is not None and index not in self.incidents[incident].assigned
        self.probes.activations.append(ActivationRow(
            time_s=now, camera=cam.camera_id, camera_kind="dash", cause=cause, trigger=emitter, trigger_kind=kind,
            broadcast=broadcast, incident=incident, distance_ft=dist, latency_s=latency, since_trigger_s=since,
            bystander=bystander))
        if incident is not None and not bystander:
            self.incidents[incident].dash_started.append(index)
        else:
            self._stop_dash_later(index, broadcast or 0)

    # --- what stops it --------------------------------------------------------------------------
    def _stop_later(self, officer: int, rng: KeyedRandom) -> None:
        """A bystander's camera stops after a while, unless its officer has been sent to a call meanwhile."""
        off = self.officers[officer]
        token = off.stop_token
        delay = self.spec.camera.stop_unassigned_after_s.sample(rng)

        def stop(_e: simpy.Event) -> None:
            if off.stop_token == token and off.assignment is None:
                self.body[officer].stop(float(self.env.now))

        self.env.timeout(delay).callbacks.append(stop)

    def _stop_dash_later(self, index: int, broadcast: int) -> None:
        delay = self.spec.camera.stop_unassigned_after_s.sample(KeyedRandom(self._bystander_key, broadcast,
                                                                            DASH_DRAWS + index))

        def stop(_e: simpy.Event) -> None:
            cam = self.dash[index]
            if cam is not None and self.officers[index].assignment is None:
                cam.stop(float(self.env.now))

        self.env.timeout(delay).callbacks.append(stop)

    def release(self, officer: int, now: float) -> None:
        """The officer clears a call: its camera stops, and may be left asleep."""
        self.body[officer].stop(now)
        self.maybe_sleep(officer, now)

    def incident_over(self, inc: Incident) -> None:
        """The incident's scene cleared: the dash cameras it started stop."""
        now = float(self.env.now)
        for c in inc.dash_started:
            cam = self.dash[c]
            if cam is not None:
                cam.stop(now)

    # --- sleep ------------------------------------------------------------------------------------
    def maybe_sleep(self, officer: int, now: float) -> None:
        """At the start and after each call, the camera is left asleep with the scenario's probability."""
        cam = self.body[officer]
        if self._sleep_rngs[officer].uniform() < self.spec.camera.sleep_probability:
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

    def finish(self, end: float) -> None:
        """A camera still asleep at `end` slept until then."""
        for spans in self.asleep.values():
            if spans and math.isinf(spans[-1][1]):
                spans[-1] = (spans[-1][0], end)
