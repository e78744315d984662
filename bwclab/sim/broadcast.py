"""Trigger broadcasts on the air, and which cameras (body and dash) hear them, when.

A broadcast lasts its emitter kind's `broadcast_s`. When it starts, and whenever a camera or the
emitter changes course while it lasts, every affected camera's entry into its effective radius is
solved exactly (no polling); a reception is scheduled at entry + BLE discovery + processing, and
dropped if a later course change makes it stale. A camera that came into range but whose discovery
would fall after the broadcast ended is recorded (`undiscovered`): in range, never heard.

Body loss: a worn camera (every camera but the dash cameras, which are wired to their own car) hears less far
when its wearer's body is between it and the emitter. The scenario's `signal.body_loss_db` (L, at the back) is
scaled by the facing: L (1 - cos a) / 2 for an emitter at angle a off the camera's facing (none facing it, L/2
side-on, L behind), and shortens the drawn radius by 10^(-loss / (10 n)) (log-distance path loss, exponent n):
the same as adding the loss before the detection curve. The facing is the camera's heading (motion.py): its
direction of travel when walking or riding; standing, the direction it last moved in (at a scene, towards
where it stands by the subject); seated in a car, the car's heading. It is taken when the reception is solved
(the broadcast's start and each course change of the camera or the emitter) and held until the next one. An
emitter at the camera (its own taser or holster, its own car's light bar overhead) costs no body loss.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import simpy

from bwclab.camera.ble import DiscoveryModel
from bwclab.camera.detection import DetectionCurve
from bwclab.core.triggers import TriggerKind
from bwclab.sim.component import Component, Connection
from bwclab.sim.motion import Motion, offset_to_box
from bwclab.sim.scenario import MeasuredLatency
from bwclab.sim.streams import KeyedRandom, Streams, keyed_prefix, keyed_uniform_at


@dataclass(eq=False)
class ShiftBroadcast:
    """A trigger's broadcast in the shift: when it lasts, and where each camera stands with it."""

    number: int
    emitter_body: int
    emitter_id: str
    kind: str
    start: float
    end: float
    incident: int | None
    entered: dict[int, float] = field(default_factory=dict)  # camera -> entry time
    pending: dict[int, int] = field(default_factory=dict)  # camera -> token
    done: set[int] = field(default_factory=set)
    draws: tuple[int, int] = (0, 0)  # keyed_prefix of its reception radii and its discovery draws (Airwaves.start)


Deliver = Callable[[ShiftBroadcast, int, float, float], None]
"""deliver(broadcast, camera, entry_time, distance_at_entry) at the reception time."""


@dataclass(frozen=True)
class EmitterKind:
    """One emitter kind on the air: its detection curve and how long it broadcasts."""

    curve: DetectionCurve
    broadcast_s: float

    @cached_property
    def max_radius_ft(self) -> float:
        """The curve's largest radius (worked out once: asked at every course change near a broadcast)."""
        return self.curve.max_radius_ft


class Airwaves(Component):
    """The broadcasts on the air and the cameras that hear them; each reception is delivered (`deliver`: to the
    hardware the shift fields) when it happens."""

    deliver = Connection[Deliver]()

    def __init__(self, env: simpy.Environment, motion: Motion, cameras: np.ndarray, kinds: Mapping[str, EmitterKind],
                 ble: DiscoveryModel, streams: Streams, max_speed_ftps: float,
                 measured_latency: Mapping[TriggerKind, MeasuredLatency] | None = None,
                 wired: np.ndarray | None = None, teleports: bool = False, body_loss_db: float = 0.0,
                 path_loss_exponent: float = 2.0) -> None:
        """`wired`: the bodies whose camera is wired to their own emitter (a cruiser's dash camera to its light
        bar) and does not also listen to it; every other camera hears its own body's emitter (an officer's
        taser or holster) at 0 ft.

        A patrol near a broadcast (`air_until`, and the lazy bodies watched when one starts) is one whose region
        meets the square of the largest radius plus `max_speed_ftps` times the broadcast's length around where
        the emitter was when it started: a patrol keeps to its region (until a call makes its course events
        again), and the emitter moves no faster than that, so a patrol whose region lies outside cannot come
        within the largest radius before the broadcast ends, and no course change of its can matter. Any other
        camera that can is, at the start, within twice that speed's reach (`reach`: the grid that finds the
        broadcasts near a course change). `teleports` (instant travel: a body may jump) widens the patrols'
        square to the broadcast's grid cells. `body_loss_db`: the body loss at a worn camera's back (the module's
        docstring; 0: none), `path_loss_exponent` turning it into range. It only shortens a radius: the curve's
        largest radius still bounds every reach."""
        self.env, self.motion, self.kinds, self.ble = env, motion, dict(kinds), ble
        self.cameras = np.asarray(cameras, dtype=np.int64)  # the bodies that carry a camera
        is_camera = np.zeros(motion.n, dtype=bool)
        is_camera[self.cameras] = True
        self.is_camera: list[bool] = is_camera.tolist()  # read one body at a time: a list is cheaper
        self.camera_list: list[int] = sorted(set(self.cameras.tolist()))  # what a query without the grid looks at
        is_wired = np.zeros(motion.n, dtype=bool)
        if wired is not None:
            is_wired[np.asarray(wired, dtype=np.int64)] = True
        self.wired: list[bool] = is_wired.tolist()
        self.body_loss_db, self.path_loss_exponent = float(body_loss_db), float(path_loss_exponent)
        self.measured: dict[str, MeasuredLatency] = {str(k): v for k, v in (measured_latency or {}).items()}
        self.active: list[ShiftBroadcast] = []
        self.log: list[ShiftBroadcast] = []
        self.undiscovered: set[tuple[int, int]] = set()  # (broadcast, camera): in range, not heard in time
        self._entry_unheard: dict[tuple[int, int], float] = {}  # when each of those came (or was to come) in range
        self._reception_key = streams.key("reception")
        self._discovery_key = streams.key("discovery")
        self._token = 0
        # Any camera that can reach an emitter's radius while it broadcasts is, at the start, within this
        # reach of the emitter; the grid finds broadcasts near a course change.
        self.max_speed = max_speed_ftps
        self.reach = {k: v.max_radius_ft + 2.0 * max_speed_ftps * v.broadcast_s for k, v in self.kinds.items()}
        self.patrol_reach = {k: v.max_radius_ft + max_speed_ftps * v.broadcast_s for k, v in self.kinds.items()}
        self.cell = max(max(self.reach.values(), default=1.0), 1.0)
        self.grid: dict[tuple[int, int], list[ShiftBroadcast]] = {}
        self.teleports = teleports
        self.boxes: dict[int, tuple[float, float, float, float]] = {}  # where an active broadcast can matter

    def start(self, emitter_body: int, emitter_id: str, kind: str, incident: int | None) -> ShiftBroadcast:
        now = float(self.env.now)
        k = self.kinds[kind]
        n = len(self.log)
        b = ShiftBroadcast(n, emitter_body, emitter_id, kind, now, now + k.broadcast_s, incident,
                           draws=(keyed_prefix(self._reception_key, n), keyed_prefix(self._discovery_key, n)))
        self.log.append(b)
        self.active.append(b)
        cx, cy = self.motion.position(emitter_body, now)
        cells = self._cells(cx, cy, self.reach[kind])
        for c in cells:
            self.grid.setdefault(c, []).append(b)
        r = self.patrol_reach[kind]
        box = self._box(cells) if self.teleports else (cx - r, cy - r, cx + r, cy + r)
        self.boxes[b.number] = box
        for course in self.motion.lazy_courses_in(box):  # a patrol nearby: its course changes are events while
            course.watch(b.end)  # this lasts
        self.env.timeout(k.broadcast_s).callbacks.append(lambda _e: self._expire(b, cells))
        self._solve(b, self._reachable(b, cx, cy, now), now)
        return b

    def _reachable(self, b: ShiftBroadcast, x: float, y: float, now: float) -> list[int]:
        """The cameras a broadcast's start or its emitter's course change has to solve, in increasing order: every
        camera but the patrols whose region the emitter cannot come within range of on its present course (a later
        course change is re-solved when it happens). `_solve_one` checks each one's own reach."""
        m = self.motion
        left = b.end - now
        emitter_speed = m.speed(b.emitter_body, now)
        max_r = self.kinds[b.kind].max_radius_ft
        is_camera, region = self.is_camera, m.region
        # A patrol keeps to its region (until a call makes its course events again, each re-solved): one whose
        # region the emitter cannot come within range of on its present course need not be worked out.
        patrol_reach = max_r + emitter_speed * left
        if m.gridded:  # every body near: the cameras among them
            cams = [c for c in sorted(m.near(x, y, max_r + (self.max_speed + emitter_speed) * left)) if is_camera[c]]
        else:
            cams = self.camera_list
        near = []
        for c in cams:
            r = region[c]
            if r is None or math.hypot(*offset_to_box(r, x, y)) <= patrol_reach:
                near.append(c)
        return near

    def air_until(self, region: tuple[float, float, float, float]) -> float:
        """The latest end of a broadcast on the air that can matter in `region` (its box meets it; -inf if none)."""
        x0, y0, x1, y1 = region
        until = -math.inf
        for b in self.active:
            bx0, by0, bx1, by1 = self.boxes[b.number]
            if bx0 <= x1 and x0 <= bx1 and by0 <= y1 and y0 <= by1:
                until = max(until, b.end)
        return until

    def _box(self, cells: list[tuple[int, int]]) -> tuple[float, float, float, float]:
        c = self.cell
        return (min(i for i, _ in cells) * c, min(j for _, j in cells) * c, (max(i for i, _ in cells) + 1) * c,
                (max(j for _, j in cells) + 1) * c)

    def _cells(self, x: float, y: float, r: float) -> list[tuple[int, int]]:
        c = self.cell
        return [(i, j) for i in range(math.floor((x - r) / c), math.floor((x + r) / c) + 1)
                for j in range(math.floor((y - r) / c), math.floor((y + r) / c) + 1)]

    def _expire(self, b: ShiftBroadcast, cells: list[tuple[int, int]]) -> None:
        self.active.remove(b)
        del self.boxes[b.number]
        for c in cells:
            lst = self.grid[c]
            lst.remove(b)
            if not lst:
                del self.grid[c]

    def course_changed(self, body: int, now: float, x: float, y: float) -> None:
        """A body started a new segment at (x, y): re-solve whatever it takes part in."""
        if not self.active:
            return
        for b in self.active:
            if body == b.emitter_body:  # a reception solved on the old course that cannot happen now is dropped
                cams = self._reachable(b, x, y, now)
                if b.pending:
                    cams = sorted(set(cams).union(b.pending))
                self._solve(b, cams, now)
        if not self.is_camera[body]:
            return
        near = self.grid.get((math.floor(x / self.cell), math.floor(y / self.cell)))
        if near:
            for b in near:
                if body != b.emitter_body and body not in b.done:
                    self._solve_one(b, body, now)

    def _solve(self, b: ShiftBroadcast, cams: list[int], now: float) -> None:
        """Solve these cameras' entries (in increasing order), but for those already done and a wired emitter's own."""
        e, done = b.emitter_body, b.done
        if self.wired[e] or done:
            cams = [c for c in cams if c not in done and not (c == e and self.wired[e])]
        if cams:
            at = self._emitter_at(b, now)
            for cam in cams:
                self._solve_one(b, cam, now, at)

    def _solve_one(self, b: ShiftBroadcast, cam: int, now: float,
                   emitter_at: tuple[float, float, float] | None = None) -> None:
        """One camera's entry; `emitter_at`: where the emitter is now and its speed, if the caller has them."""
        m, e = self.motion, b.emitter_body
        if cam == e and self.wired[e]:
            return  # a dash camera under its own light bar is wired to it, not listening
        cx, cy = m.position(cam, now)
        ex, ey, es = self._emitter_at(b, now) if emitter_at is None else emitter_at
        closing, left = m.speed(cam, now) + es, b.end - now
        d = math.hypot(cx - ex, cy - ey)
        gap = d - self.kinds[b.kind].max_radius_ft
        if gap > 0 and gap > closing * left:  # out of reach on this course
            if cam in b.pending or (b.number, cam) in self.undiscovered:  # a reception foreseen is stale
                self._settle(b, cam, math.inf, now)
            return
        radius = self.kinds[b.kind].curve.radius_of(keyed_uniform_at(b.draws[0], cam))
        if radius < 0:
            return
        gap = d - radius
        if gap > 0 and gap > closing * left:  # too far to close the gap before it ends, even head on
            self._settle(b, cam, math.inf, now)
            return
        if self.body_loss_db > 0.0 and not self.wired[cam]:  # (the body only shortens a radius: after the test)
            radius *= self.body_factor(m.heading(cam), ex - cx, ey - cy)
        self._settle(b, cam, m.entry_time(cam, e, now, b.end, radius), now)

    def body_factor(self, heading: tuple[float, float], dx: float, dy: float) -> float:
        """What the wearer's body leaves of a radius, for a camera facing `heading` (a unit vector) and an
        emitter at (dx, dy) from it: 10^(-L (1 - cos a) / 2 / (10 n))."""
        d = math.hypot(dx, dy)
        if d < 1e-9:
            return 1.0
        cos = (heading[0] * dx + heading[1] * dy) / d
        loss = self.body_loss_db * (1.0 - cos) / 2.0
        return float(10.0 ** (-loss / (10.0 * self.path_loss_exponent)))

    def _emitter_at(self, b: ShiftBroadcast, now: float) -> tuple[float, float, float]:
        m = self.motion
        ex, ey = m.position(b.emitter_body, now)
        return ex, ey, m.speed(b.emitter_body, now)

    def _settle(self, b: ShiftBroadcast, cam: int, t: float, now: float) -> None:
        earlier = b.entered.get(cam)
        if earlier is not None and earlier < now and t == now:
            return  # still in range: discovery already under way
        if math.isinf(t):
            b.pending.pop(cam, None)
            b.entered.pop(cam, None)
            self._unpredict(b, cam, now)
            return
        self._schedule(b, cam, t)

    def _unpredict(self, b: ShiftBroadcast, cam: int, now: float) -> None:
        """A camera foreseen to come into range too late to be heard has changed course before it got there: it
        is not recorded as in range after all (unless it did come into range, before now)."""
        key = (b.number, cam)
        if key in self.undiscovered and self._entry_unheard[key] > now:
            self.undiscovered.discard(key)
            del self._entry_unheard[key]

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

    def _schedule(self, b: ShiftBroadcast, cam: int, t_entry: float) -> None:
        rng = KeyedRandom.at(b.draws[1], cam)
        latency = self._latency(rng, b.kind, b.end - t_entry)
        if math.isinf(latency):
            b.pending.pop(cam, None)
            b.entered.pop(cam, None)
            self.undiscovered.add((b.number, cam))
            self._entry_unheard[b.number, cam] = t_entry
            return
        self.undiscovered.discard((b.number, cam))
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
