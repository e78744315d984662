"""What every procedure shares: the run context, the trial loop with retries, and the camera chores
between trials (put back in range, end a recording, wait for the buffer to refill, take a clip)."""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from bwclab.bench.description import Bench
from bwclab.core.triggers import TriggerKind
from bwclab.rig.dock import CLIP_ID, ClipLedger, new_sidecars, take_clip, wait_for_sidecars
from bwclab.rig.interfaces import BenchLost, CameraError, ConsoleLink, ConsoleRefused, DriverError, InstrumentError
from bwclab.rig.measurements import NoData
from bwclab.rig.station import Station
from bwclab.rig.trials import Failure, Row, StepResult, TrialStore, answered_steps

TRIAL_ERRORS = (DriverError, OSError, TimeoutError)
CLIP_LANDS_S = 30.0  # how long a camera may take to write a clip into its dock once its recording ended
T = TypeVar("T")


@dataclass(frozen=True)
class Plan:
    """How much of a procedure to run: its trials key, its steps, and the retries a step gets per session."""

    key: str
    trials: int
    retries: int


@dataclass
class GpioPath:
    """The GPIO path's own delay, out and back through the loopback wire (host ns)."""

    lag_median_ns: float = 0.0
    lag_spread_ns: float = 0.0  # half the central 95% range: the path's stated uncertainty
    samples: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Clip:
    """A clip taken from a camera's dock into the run folder, tied to its trial by the camera's own id and
    the hash of the file as copied."""

    path: Path
    clip_id: str
    sha256: str


@dataclass(frozen=True)
class Fired:
    """A trigger fired for a recording: when, each camera's indicator edge (None: no activation), its dock before."""

    fired_ns: int
    edges: dict[str, int | None]
    dock_before: dict[str, set[str]]


class ClipRow(Row):
    """A camera's row in a step that ends with a clip taken from its dock (or no activation, no clip)."""

    activated: bool
    clip: str | None = None
    clip_id: str | None = None
    clip_sha256: str | None = None

    @staticmethod
    def taken(clip: Clip, out: Path) -> dict[str, str | bool]:
        return {"activated": True, "clip": str(clip.path.relative_to(out)), "clip_id": clip.clip_id,
                "clip_sha256": clip.sha256}


C = TypeVar("C", bound=ClipRow)


def recorded(rows: list[C], why: str) -> list[C]:
    """The rows of the steps where the camera activated (and so left a clip); NoData when there are none."""
    clips = [r for r in rows if r.activated]
    if not clips:
        raise NoData(why)
    return clips


class NoCameraLeft(Exception):
    """Every camera of an attempt dropped out while it was being readied: the step fires nothing (a trigger fired
    for no camera would still start the cameras outside the attempt, whose next trial it would then spoil)."""


@dataclass
class Context:
    station: Station
    store: TrialStore
    cameras: list[str]  # the cameras under certification
    out: Path
    near_ft: float = 10.0
    settle_s: float = 1.0  # after a broadcast ends, how long an activation may still take
    boot_wait_s: float = 5.0
    gpio: GpioPath = field(default_factory=GpioPath)
    clock0: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # serial -> (host ns, offset, rtt)
    last_end_ns: dict[str, int] = field(default_factory=dict)  # when each camera's buffer started refilling
    console_errors: dict[str, int] = field(default_factory=dict)
    dropped: dict[str, Failure] = field(default_factory=dict)  # this attempt: camera -> why its part failed
    clips: ClipLedger = field(default_factory=ClipLedger)  # clips the cameras named, not yet taken from a dock
    progress: Callable[[str], None] = lambda _text: None
    tick: Callable[[str, int, int], None] = lambda _key, _done, _total: None  # (trials key, steps done, of)
    bench_down: Callable[[], str | None] = lambda: None  # why the bench itself is gone, when it is known

    @property
    def bench(self) -> Bench:
        return self.station.bench

    def console(self, serial_no: str) -> ConsoleLink | None:
        return self.station.consoles.get(serial_no)

    def need_console(self, serial_no: str) -> ConsoleLink:
        con = self.console(serial_no) or self.station.reopen_console(serial_no)
        if con is None:
            raise CameraError(f"camera {serial_no}: console cannot be opened", device=serial_no)
        return con

    def console_call(self, serial_no: str, fn: Callable[[ConsoleLink], Any]) -> Any:
        """Run a console exchange; a failure counts against the console and reopens it for the retry."""
        con = self.need_console(serial_no)
        try:
            return fn(con)
        except TRIAL_ERRORS:
            self.console_errors[serial_no] = self.console_errors.get(serial_no, 0) + 1
            with contextlib.suppress(*TRIAL_ERRORS):  # a console that cannot be reopened says so when next used
                self.station.reopen_console(serial_no)
            raise

    # --- one camera's part of a step -----------------------------------------------------
    def each(self, serials: Iterable[str], part: Callable[[str], T]) -> dict[str, T]:
        """Run one camera's part of a step for every camera still in it. A camera whose part fails
        (its console, its clip) drops out of this attempt with the cause; the others go on."""
        out: dict[str, T] = {}
        for s in self.live(serials):
            try:
                out[s] = part(s)
            except TRIAL_ERRORS as exc:
                self.dropped[s] = Failure.of(exc, camera=s)
        return out

    def live(self, serials: Iterable[str]) -> list[str]:
        """The cameras of `serials` still in this attempt."""
        return [s for s in serials if s not in self.dropped]

    # --- chores -------------------------------------------------------------------------
    def emitter_for(self, kind: TriggerKind | None = None) -> str:
        """The bench's emitter of this trigger kind (the spec was checked against the bench at load)."""
        for name, e in self.bench.emitters.items():
            if kind is None or e.kind == kind:
                return str(name)
        raise InstrumentError(f"no {kind} emitter on bench {self.bench.name!r}")

    def window_s(self, emitter: str) -> float:
        return float(self.bench.broadcast_s(emitter)) + self.settle_s

    def all_near(self, serials: list[str]) -> None:
        for s in serials:
            self.station.set_distance(s, self.near_ft)

    def ready_near(self, serials: list[str]) -> list[str]:
        """Before a step: recordings still running ended, every camera near. The cameras still in it."""
        cams = self.ensure_idle(serials)
        self.all_near(cams)
        return cams

    def ensure_idle(self, serials: list[str]) -> list[str]:
        """End any recording still running (say, a late activation after the previous trial's window):
        asked on the console where there is one, else read from the indicator's last edge. Returns the
        cameras still in the attempt."""
        def idle(s: str) -> None:
            if self.station.console_port(s) is not None:
                recording = self.console_call(s, lambda c: c.state()) == "RECORDING"
            else:
                ref = self.station.indicator(s)
                edges = self.station.edges.by_line.get(ref, []) if ref else []
                recording = bool(edges) and edges[-1][1]
            if recording:
                self.end_recording(s)

        self.each(serials, idle)
        live = self.live(serials)
        if serials and not live:
            raise NoCameraLeft()
        return live

    def see_activations(self, emitter: str, fired_ns: int, serials: list[str]) -> dict[str, bool]:
        """Which cameras' indicators rose after `fired_ns`, waiting out the broadcast and `settle_s`."""
        deadline = time.monotonic() + self.window_s(emitter)
        return {s: self.station.wait_indicator(s, fired_ns, max(deadline - time.monotonic(), 0.0)) is not None
                for s in serials}

    def trigger(self, emitter: str, serials: list[str]) -> dict[str, bool]:
        """One whole step: fire, see who activated, finish (line low, recordings stopped)."""
        seen = self.see_activations(emitter, self.station.fire(emitter), self.live(serials))
        self.finish_step(emitter, seen)
        return seen

    def finish_step(self, emitter: str, activated: dict[str, bool]) -> None:
        """Trigger line low, the recordings it started stopped, the line low long enough for the next rise
        (the light bar's input filter)."""
        self.station.release(emitter)
        self.each([s for s, on in activated.items() if on], self.end_recording)
        time.sleep(0.1)

    def end_recording(self, serial_no: str) -> str | None:
        """Stop a recording: console STOP when there is a console, else a power cycle. Returns the clip id
        when the console names it."""
        if self.station.console_port(serial_no) is not None:
            reply: str | None = self.console_call(serial_no, _stop)
            self.last_end_ns[serial_no] = time.monotonic_ns()
            if reply is not None:
                self.clips.named(serial_no, reply)  # being written: when it lands it is not a later trial's clip
            return reply
        if self.station.psu is not None and self.bench.cameras[serial_no].psu_channel is not None:
            dock = self.station.dock(serial_no)
            before = self.dock_contents(serial_no) if dock is not None else set()
            self.station.power(serial_no, False)
            time.sleep(0.3)
            self.station.power(serial_no, True)
            time.sleep(self.boot_wait_s)
            if dock is not None:  # the clip the cut ended lands before the next trigger, never after it
                wait_for_sidecars(dock, before, 1, CLIP_LANDS_S)
            self.last_end_ns[serial_no] = time.monotonic_ns()
            return None
        raise InstrumentError(f"camera {serial_no}: no console and no supply channel to end a recording")

    def recover(self, serials: list[str] | None = None) -> None:
        """After an errored attempt: lines low, cameras powered, consoles reopened (of `serials`, or all)."""
        if serials is None:
            for name in self.bench.emitters:
                with contextlib.suppress(*TRIAL_ERRORS):
                    self.station.release(name)
        for s in self.bench.cameras if serials is None else serials:
            if self.station.psu is not None and self.bench.cameras[s].psu_channel is not None:
                with contextlib.suppress(*TRIAL_ERRORS):
                    self.station.power(s, True)
            if self.console(s) is None:
                with contextlib.suppress(*TRIAL_ERRORS):
                    self.station.reopen_console(s)
        time.sleep(0.2)

    def wait_buffer_full(self, serials: list[str], buffer_s: float) -> None:
        ready = max((self.last_end_ns.get(s, 0) for s in serials), default=0) + int((buffer_s + 0.5) * 1e9)
        delay = (ready - time.monotonic_ns()) / 1e9
        if delay > 0:
            time.sleep(delay)

    def record_a_while(self, emitter: str, serials: list[str], record_s: float) -> Fired:
        """Fire, note which cameras activated, let them record `record_s`, release the line; the docks' contents
        from before the trigger are kept, so a clip written since is told apart from any older one."""
        before = {s: self.dock_contents(s) for s in serials}
        t0 = self.station.fire(emitter)
        edges = {s: self.station.wait_indicator(s, t0, self.window_s(emitter)) for s in serials}
        time.sleep(record_s)
        self.station.release(emitter)
        return Fired(t0, edges, before)

    # --- clips --------------------------------------------------------------------------
    def dock(self, serial_no: str) -> Path:
        dock = self.station.dock(serial_no)
        if dock is None:
            raise InstrumentError(f"camera {serial_no} has no dock folder")
        return dock

    def dock_contents(self, serial_no: str) -> set[str]:
        """The sidecars in a camera's dock now, and those of the clips it named that are still being written: a
        clip written later is one that is not among them."""
        return {p.name for p in self.dock(serial_no).glob("*.json")} | self.clips.sidecars(serial_no)

    def collect_clip(self, serial_no: str, clip_id: str | None, before: set[str], timeout_s: float = 30.0) -> Clip:
        """Wait for the clip's sidecar (written last) in the dock: the one the camera named, else the one
        clip that appeared since `before`; copy both files into the run folder under this session's name."""
        if clip_id is not None and not CLIP_ID.match(clip_id):
            raise CameraError(f"camera {serial_no}: clip id {clip_id[:80]!r} is not a plain name; refused as a path",
                              device=serial_no)
        dock = self.dock(serial_no)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if clip_id is not None:
                found = [dock / f"{clip_id}.json"] if (dock / f"{clip_id}.json").exists() else []
            else:
                found = new_sidecars(dock, before)
            if len(found) > 1:
                raise CameraError(f"camera {serial_no}: {len(found)} new clips in {dock}, expected one",
                                  device=serial_no)
            if found:
                clip = found[0].stem
                mp4 = take_clip(serial_no, found[0], self.out / "clips" / serial_no, f"s{self.store.session}-{clip}")
                self.clips.taken(serial_no, clip)
                return Clip(mp4, clip, hashlib.sha256(mp4.read_bytes()).hexdigest())
            time.sleep(0.1)
        raise CameraError(f"camera {serial_no}: no clip in {dock} within {timeout_s:.0f} s", device=serial_no)


def _stop(con: ConsoleLink) -> str | None:
    try:
        reply = con.command("STOP")
    except ConsoleRefused:
        return None  # was not recording
    return reply.removeprefix("clip=") or None


Step = Callable[[int, list[str]], StepResult]


def run_steps(ctx: Context, plan: Plan, cams: list[str], step: Step, upto: int | None = None) -> None:
    """Run steps 0..n-1 of a procedure on `cams` (n: `upto`, else the plan's trials), skipping what a
    resumed run already has.

    `step(seq, cameras)` returns each camera's row. An error that stops the whole step (a shared
    instrument, the trigger line) is recorded with its cause; a camera whose own part failed is recorded
    as dropped (`ctx.each`). Either way the step is tried again, for the cameras still without a row, up
    to `retries` more attempts in this session; then the run goes on."""
    key, retries = plan.key, plan.retries
    stored = ctx.store.trials(key)
    answered = {s: answered_steps(stored, s) for s in cams}
    for seq in range(plan.trials if upto is None else upto):
        pending = [s for s in cams if seq not in answered[s]]
        attempt = ctx.store.attempts(key, seq)
        while pending and attempt <= retries:
            ctx.dropped = {}
            t0 = time.monotonic_ns()
            try:
                result = step(seq, pending)
            except NoCameraLeft:  # every camera of the attempt dropped before the trigger: nothing is fired
                result = StepResult()
            except TRIAL_ERRORS as exc:
                ctx.store.record(key, seq, attempt, "error", t0, StepResult(), [Failure.of(exc)])
                down = ctx.bench_down()
                if down:  # no retry can succeed: end the session, leave the step to --resume
                    raise BenchLost(down) from None
                ctx.progress(f"{key} #{seq}: error ({exc}); {'retrying' if attempt < retries else 'giving up'}")
                attempt += 1
                ctx.recover()
                continue
            result.dropped.update({s: f.cause for s, f in ctx.dropped.items()})
            for s in ctx.dropped:
                result.cameras.pop(s, None)
            ctx.store.record(key, seq, attempt, "ok", t0, result, list(ctx.dropped.values()))
            attempt += 1
            for s in result.cameras:
                answered.setdefault(s, set()).add(seq)
            pending = [s for s in pending if s in ctx.dropped]
            if pending:
                ctx.progress(f"{key} #{seq}: {', '.join(f'{s} ({ctx.dropped[s]})' for s in pending)}; "
                             f"{'retrying' if attempt <= retries else 'giving up'}")
                ctx.recover(pending)
            else:
                ctx.progress(f"{key} #{seq + 1}/{plan.trials}")
        ctx.tick(key, seq + 1, plan.trials)
        ctx.dropped = {}
