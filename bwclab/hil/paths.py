"""The radio paths of a replay: each mapped camera's attenuator channel follows the simulated distance to
the emitter that is broadcasting, through the bench's path-loss calibration.

Event-driven, never polled: after each setting, the next time the path loss moves half an attenuator
step away from it is solved along the bodies' linear segments (or the next segment end, where a
velocity changes), and the channel is set again then; a course change or a broadcast starting or
ending re-solves at once. Each setting is the simulated loss at the moment it is made, to the device's step.

At most one setting per `MIN_GAP_S` of host time follows from the motion alone: where the loss
changes faster (a few feet from an emitter), each setting jumps to the loss at that moment.

A camera with one channel (the shipped benches) hears every emitter through it: it follows the
strongest broadcast on the air (the least loss), so a camera sees one emitter at a time. A matrix bench
(`paths:` in the bench file) gives each emitter-camera path its own channel, each following its own
distance, so two broadcasts at two distances reach one camera as they would in the street.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import simpy
from simpy.rt import RealtimeEnvironment

from bwclab.bench.description import Bench
from bwclab.hil.track import crossing, relative
from bwclab.sim.broadcast import ShiftBroadcast
from bwclab.sim.motion import Motion

MIN_GAP_S = 0.010
"""Host seconds between two settings the paths' own motion asks for: an attenuator takes a command in a
millisecond or so, and close to an emitter the loss changes by many steps a foot. A change faster than
this is taken in a larger step, set to the simulated loss at that moment."""


class AttenuatorPort(Protocol):
    def set_path_attenuation(self, serial: str, emitter: str, db: float, verify: bool = True) -> float: ...

    def path_attenuation(self, serial: str, emitter: str) -> float: ...


@dataclass
class Path:
    serial: str
    body: int
    channel: int
    emitters: frozenset[str]  # bench emitter names whose broadcasts reach the camera through this channel
    applied: float | None = None


@dataclass
class PathFollower:
    env: simpy.Environment
    motion: Motion
    bench: Bench
    port: AttenuatorPort
    cameras: dict[str, int]  # serial -> the officer body whose camera it stands for
    kind_loss_db: dict[str, float]  # trigger kind -> extra loss of its mounting (the scenario's)
    stamp: Callable[[str, int, dict[str, Any]], None]  # (what, host ns before the command, details)
    clock_ns: Callable[[], int]
    then: Callable[[], None] = lambda: None  # the time-critical commands that follow a setting (the trigger lines)
    due: Callable[[], None] = lambda: None  # wait for the instant's due host time (the replay clock's)
    paths: list[Path] = field(default_factory=list)
    on_air: list[tuple[ShiftBroadcast, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    _token: int = 0
    _requested: bool = False

    def __post_init__(self) -> None:
        att = self.bench.instruments.attenuator
        self.step, self.max_db = att.step_db, att.max_db
        for serial, body in self.cameras.items():
            by_channel: dict[int, set[str]] = {}
            for emitter, ch in self.bench.channels(serial).items():
                by_channel.setdefault(ch, set()).add(emitter)
            self.paths += [Path(serial, body, ch, frozenset(es)) for ch, es in sorted(by_channel.items())]

    # --- what changes the paths ---------------------------------------------------------------
    def start(self, b: ShiftBroadcast, emitter: str) -> None:
        self.on_air.append((b, emitter))
        self.request()

    def end(self, b: ShiftBroadcast) -> None:
        self.on_air = [(x, e) for x, e in self.on_air if x is not b]
        self.request()

    def course_changed(self, body: int) -> None:
        if self.on_air and (any(p.body == body for p in self.paths) or any(b.emitter_body == body
                                                                            for b, _ in self.on_air)):
            self.request()

    def request(self) -> None:
        """Re-solve once every event of this simulated instant has run (one instant may start several broadcasts
        and move several bodies): each path is then set once, before the trigger lines that follow."""
        if not self._requested:
            self._requested = True
            self.env.timeout(0).callbacks.append(lambda _e: self.evaluate())

    def park_all(self) -> None:
        self.on_air = []
        self.evaluate()

    # --- setting ------------------------------------------------------------------------------
    def _loss(self, body: int, b: ShiftBroadcast) -> float:
        """The attenuator setting that stands for this pair's simulated distance now (unclamped)."""
        d = math.hypot(*(p - q for p, q in zip(self.motion.position(body, self.env.now),
                                               self.motion.position(b.emitter_body, self.env.now), strict=True)))
        return self.bench.path_loss.attenuation_for(d) + self.kind_loss_db.get(b.kind, 0.0)

    def _next_change(self, body: int, b: ShiftBroadcast, loss: float) -> float:
        """Seconds until this pair's loss leaves the half-step band around its present setting."""
        now = float(self.env.now)
        rx, ry, wx, wy, until = relative(self.motion, body, b.emitter_body, now)
        s, past = self.step, 1e-6 * self.step  # aimed just past a band's edge, where rounding has one answer
        if loss < 0:
            edges = [s / 2 + past]
        elif loss > self.max_db:
            edges = [self.max_db - s / 2 - past]
        else:  # the band of the present setting
            k = round(loss / s)
            edges = [(k - 0.5) * s - past, (k + 0.5) * s + past]
        extra = self.kind_loss_db.get(b.kind, 0.0)
        taus = [crossing(rx, ry, wx, wy, self.bench.path_loss.distance_for(e - extra)) for e in edges]
        return min([*taus, until - now])

    def evaluate(self) -> None:
        """Set every path whose loss moved, unverified; then the commands that follow (`then`); then read the
        settings back (a setting that did not take is a problem of the run, never silently wrong)."""
        self._requested = False
        self._token += 1
        token = self._token
        soonest = math.inf
        changed: list[tuple[Path, str]] = []
        for path in self.paths:
            here = [(b, e) for b, e in self.on_air if e in path.emitters]
            if not here:
                changed += self._set(path, self.max_db, None, math.inf)
                continue
            losses = [(self._loss(path.body, b), b, e) for b, e in here]
            for loss, b, _e in losses:
                soonest = min(soonest, self._next_change(path.body, b, loss))
            loss, b, e = min(losses, key=lambda x: x[0])
            d = self.bench.path_loss.distance_for(loss - self.kind_loss_db.get(b.kind, 0.0))
            changed += self._set(path, loss, e, d, b)
        self.then()
        for path, target in changed:
            read = self.port.path_attenuation(path.serial, target)
            if path.applied is None or abs(read - path.applied) > self.step / 2 + 1e-9:
                self.problems.append(f"attenuator channel {path.channel} ({path.serial}) reads {read:g} dB after "
                                     f"it was set to {path.applied} dB at {self.env.now:.3f} s")
        if math.isfinite(soonest):
            gap = MIN_GAP_S / self.env.factor if isinstance(self.env, RealtimeEnvironment) else 0.0
            self.env.timeout(max(soonest, gap, 1e-6)).callbacks.append(lambda _e: self._due(token))

    def _due(self, token: int) -> None:
        if token == self._token:  # nothing has re-solved the paths since this was scheduled
            self.evaluate()

    def _set(self, path: Path, loss: float, emitter: str | None, distance_ft: float,
             b: ShiftBroadcast | None = None) -> list[tuple[Path, str]]:
        want = round(min(max(loss, 0.0), self.max_db) / self.step) * self.step
        if path.applied is not None and abs(path.applied - want) < self.step / 2:
            return []
        target = emitter or next(iter(sorted(path.emitters)))
        self.due()
        t = self.clock_ns()
        path.applied = self.port.set_path_attenuation(path.serial, target, want, verify=False)
        self.stamp("attenuation", t, {
            "camera": path.serial, "channel": path.channel, "emitter": emitter,
            "broadcast": None if b is None else b.number,
            "distance_ft": None if not math.isfinite(distance_ft) else round(distance_ft, 3),
            "db": round(path.applied, 4)})
        return [(path, target)]
