"""Trigger broadcasts on the air, and which body cameras hear them, when.

A broadcast lasts `broadcast_s`. When it starts, and whenever a camera or the emitter
changes course while it lasts, every affected camera's entry into its effective radius
is solved exactly (no polling); a reception is scheduled at entry + BLE discovery +
processing, and dropped if a later course change makes it stale.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import simpy

from camera.ble import DiscoveryModel
from camera.detection import DetectionCurve
from core.triggers import TriggerKind
from sim.motion import Motion
from sim.scenario import MeasuredLatency
from sim.streams import KeyedRandom, Streams, keyed_uniform, keyed_uniform_one


@dataclass(eq=False)
class Broadcast:
    number: int
    emitter_body: int
    emitter_id: str
    kind: str
    start: float
    end: float
    incident: int | None
    entered: dict[int, float] = field(default_factory=dict)  # officer -> entry time
    pending: dict[int, int] = field(default_factory=dict)  # officer -> token
    done: set[int] = field(default_factory=set)


Deliver = Callable[[Broadcast, int, float, float], None]
"""deliver(broadcast, officer, entry_time, distance_at_entry) at the reception time."""


class Airwaves:
    def __init__(
        self,
        env: simpy.Environment,
        motion: Motion,
        n_officers: int,
        curve: DetectionCurve,
        ble: DiscoveryModel,
        broadcast_s: float,
        streams: Streams,
        deliver: Deliver,
        max_speed_ftps: float,
        measured_latency: Mapping[TriggerKind, MeasuredLatency] | None = None,
    ) -> None:
        self.measured: dict[str, MeasuredLatency] = {str(k): v for k, v in (measured_latency or {}).items()}
        self.env = env
        self.motion = motion
        self.n_officers = n_officers
        self.curve = curve
        self.ble = ble
        self.broadcast_s = broadcast_s
        self.streams = streams
        self.deliver = deliver
        self.active: list[Broadcast] = []
        self.log: list[Broadcast] = []
        self._reception_key = streams.key("reception")
        self._discovery_key = streams.key("discovery")
        self._token = 0
        self._officers = np.arange(n_officers, dtype=np.int64)
        # Any camera that can reach an emitter's radius while it broadcasts is, at the start,
        # within this reach of the emitter; the grid finds broadcasts near a course change.
        self.reach = curve.max_radius_ft + 2.0 * max_speed_ftps * broadcast_s
        self.cell = max(self.reach, 1.0)
        self.grid: dict[tuple[int, int], list[Broadcast]] = {}

    def start(self, emitter_body: int, emitter_id: str, kind: str, incident: int | None) -> Broadcast:
        now = float(self.env.now)
        b = Broadcast(len(self.log), emitter_body, emitter_id, kind, now, now + self.broadcast_s, incident)
        self.log.append(b)
        self.active.append(b)
        cx, cy = self.motion.position(emitter_body, now)
        cells = self._cells(cx, cy)
        for c in cells:
            self.grid.setdefault(c, []).append(b)
        self.env.timeout(self.broadcast_s).callbacks.append(lambda _e: self._expire(b, cells))
        self._solve(b, self._near(cx, cy, now), now)
        return b

    def _cells(self, x: float, y: float) -> list[tuple[int, int]]:
        c, r = self.cell, self.reach
        return [
            (i, j)
            for i in range(math.floor((x - r) / c), math.floor((x + r) / c) + 1)
            for j in range(math.floor((y - r) / c), math.floor((y + r) / c) + 1)
        ]

    def _expire(self, b: Broadcast, cells: list[tuple[int, int]]) -> None:
        self.active.remove(b)
        for c in cells:
            lst = self.grid[c]
            lst.remove(b)
            if not lst:
                del self.grid[c]

    def _near(self, x: float, y: float, now: float) -> np.ndarray:
        px, py = self.motion.positions(self._officers, now)
        close = (px - x) ** 2 + (py - y) ** 2 <= self.reach * self.reach
        return self._officers[close]

    def course_changed(self, body: int, now: float, x: float, y: float) -> None:
        """A body started a new segment at (x, y): re-solve whatever it takes part in."""
        if not self.active:
            return
        for b in self.active:
            if body == b.emitter_body:
                self._solve(b, self._near(x, y, now), now)
        if body >= self.n_officers:
            return
        near = self.grid.get((math.floor(x / self.cell), math.floor(y / self.cell)))
        if near:
            for b in near:
                if body != b.emitter_body and body not in b.done:
                    self._solve_one(b, body, now)

    def radii(self, b: Broadcast, cams: np.ndarray) -> np.ndarray:
        """Each camera's effective radius for this broadcast (one uniform per pair)."""
        return self.curve.radius_for(keyed_uniform(self._reception_key, b.number, cams))

    def _solve(self, b: Broadcast, cams: np.ndarray, now: float) -> None:
        if b.done:
            cams = cams[[c not in b.done for c in cams.tolist()]]
        if len(cams) == 0:
            return
        radii = self.radii(b, cams)
        keep = radii >= 0
        cams, radii = cams[keep], radii[keep]
        t_entry = self.motion.entry_times(cams, b.emitter_body, now, b.end, radii)
        for cam, t in zip(cams.tolist(), t_entry.tolist(), strict=True):
            self._settle(b, cam, t, now)

    def _solve_one(self, b: Broadcast, cam: int, now: float) -> None:
        radius = self.curve.radius_of(keyed_uniform_one(self._reception_key, b.number, cam))
        if radius < 0:
            return
        self._settle(b, cam, self.motion.entry_time(cam, b.emitter_body, now, b.end, radius), now)

    def _settle(self, b: Broadcast, cam: int, t: float, now: float) -> None:
        earlier = b.entered.get(cam)
        if earlier is not None and earlier < now and t == now:
            return  # still in range: discovery already under way
        if math.isinf(t):
            b.pending.pop(cam, None)
            b.entered.pop(cam, None)
            return
        self._schedule(b, cam, t)

    def _latency(self, rng: KeyedRandom, kind: str, limit_s: float) -> float:
        """Discovery (before the broadcast ends) plus processing, or a latency measured for this trigger kind
        (a measured miss is never heard)."""
        measured = self.measured.get(kind)
        if measured is not None:
            k = rng.integers(len(measured.samples_s) + measured.misses)
            if k >= len(measured.samples_s):
                return math.inf
            lat = float(measured.samples_s[k])
            return lat if lat <= limit_s + self.ble.processing_s else math.inf
        discovery = self.ble.sample_discovery(rng, limit_s=limit_s)
        return discovery + self.ble.sample_processing(rng)

    def _schedule(self, b: Broadcast, cam: int, t_entry: float) -> None:
        rng = KeyedRandom(self._discovery_key, b.number, cam)
        latency = self._latency(rng, b.kind, b.end - t_entry)
        if math.isinf(latency):
            b.pending.pop(cam, None)
            b.entered.pop(cam, None)
            return
        at = t_entry + latency
        self._token += 1
        token = self._token
        b.pending[cam] = token
        b.entered[cam] = t_entry
        cx, cy = self.motion.position(cam, t_entry)
        ex, ey = self.motion.position(b.emitter_body, t_entry)
        dist = math.hypot(cx - ex, cy - ey)

        def fire(_e: simpy.Event) -> None:
            if b.pending.get(cam) != token:
                return
            del b.pending[cam]
            b.done.add(cam)
            self.deliver(b, cam, t_entry, dist)

        self.env.timeout(at - float(self.env.now)).callbacks.append(fire)
