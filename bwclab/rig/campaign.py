"""One certification run: bench up, procedures run on demand (each once, for every requirement
that uses it), every trial committed as it finishes, requirements judged, results written.

The run folder holds `trials.sqlite` (every attempt of every session), `clips/` (the clips the buffer
checks read, named by session), `bench/session-N/` (an emulated bench's state, a fresh one per session)
and at the end `measurements.json` and `<serial>/profile.yaml`. `--resume` reopens the folder and runs
only the trials it lacks; a folder that already holds trials is never overwritten; a folder in use by
another run is refused (an `fcntl` lock, released when that run ends however it ends).
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import getpass
import hashlib
import importlib.metadata
import logging
import os
import shlex
import socket
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import IO

import numpy as np
from pydantic import ValidationError

from bwclab.bench.description import Bench, load_bench
from bwclab.core.config import ConfigError
from bwclab.core.outfolder import atomic_write
from bwclab.core.profile import PROFILE_FORMAT, DeviceProfile, Identity, Provenance, dump_profile
from bwclab.rig.certificate import (
    BenchHealth,
    CameraIdentity,
    Certificate,
    Grade,
    InstrumentIdentity,
    Observations,
    Result,
    RunIdentity,
    Unjudged,
    finite,
    grade,
    narrowing,
    overall,
    reason,
    write_certificate,
)
from bwclab.rig.emulated import EmulatorProcess
from bwclab.rig.interfaces import BenchLost, DriverError, InstrumentError
from bwclab.rig.measurements import Measurement, NoData
from bwclab.rig.procedures.base import TRIAL_ERRORS, Context, GpioPath, Plan
from bwclab.rig.procedures.declare import ProfilePart
from bwclab.rig.requirements import (
    Requirement,
    Spec,
    Verdict,
    check_against_bench,
    indicative,
    judged_value,
    load_spec,
    unmet,
    verdict,
)
from bwclab.rig.station import Identification, Station
from bwclab.rig.trials import (
    TRIALS_FORMAT,
    ErrorRow,
    Fault,
    Trial,
    TrialStore,
    camera_causes,
    camera_errors,
    camera_rows,
    lost_steps,
)

log = logging.getLogger(__name__)


class Stop(Enum):
    """Why a run ended before judging everything; exit codes are read from it, never from its wording."""

    BENCH_LOST = "bench lost"  # the bench, not the camera, failed: no further trial could be made (exit 3)
    INTERRUPTED = "interrupted"  # Ctrl-C (exit 130)
    CRASHED = "crashed"  # bwclab itself failed
    HALTED = "halted"  # pytest stopped the session for a reason of its own (-x, --maxfail)


@dataclass(frozen=True)
class Stopped:
    kind: Stop
    reason: str  # what happened, in words for people

    def __str__(self) -> str:
        return self.reason


@dataclass
class Outcome:
    requirement: str
    camera: str
    verdict: Verdict
    measurement: Measurement | None
    reason: str = ""
    observations: Observations | None = None
    indicative: str = ""  # why the verdict is indicative only (requirements.indicative)

    def record(self, req: Requirement) -> Result:
        """The result in the quantity's own units (what was judged), with the spec's limit and units beside."""
        m = self.measurement
        return Result(
            requirement=req.id, text=req.text, camera=self.camera, verdict=self.verdict, quantity=req.quantity,
            judge=req.judge, limit=req.judged_limit.model_dump(exclude_none=True), units=req.quantity_units.name,
            spec_limit=req.limit.model_dump(exclude_none=True), spec_units=req.units, optional=req.optional,
            value=None if m is None else finite(m.value),
            judged_value=None if m is None else finite(judged_value(req, m)),
            ci_low=None if m is None else finite(m.low), ci_high=None if m is None else finite(m.high),
            uncertainty="" if m is None else m.uncertainty, trials=0 if m is None else m.n,
            note=self.reason or ("" if m is None else m.note), observations=self.observations,
            drift_max_change=req.judged_max_change, indicative=self.indicative)


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def git_commit() -> str:
    """bwclab's commit when it runs from a git checkout, else ''."""
    here = Path(__file__).resolve().parent
    try:
        got = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True,  # noqa: S607 (git on PATH)
                             text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return ""
    return got.stdout.strip() if got.returncode == 0 else ""


def bwclab_version() -> str:
    try:
        return importlib.metadata.version("bwclab")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def now_text() -> str:
    return datetime.datetime.now().astimezone().isoformat(timespec="milliseconds")


def check_selection(bench: Bench, bench_path: Path, camera: str | None, faults: Path | None, out: Path,
                    resume: bool) -> None:
    """The run's choices against the bench and the run folder: a folder with trials is only ever resumed."""
    if camera is not None and camera not in bench.cameras:
        raise ConfigError(bench_path, [f"--camera {camera}: no such camera (have {', '.join(sorted(bench.cameras))})"])
    if faults is not None and bench.emulate is None:
        raise ConfigError(bench_path, ["--faults applies to an emulated bench only (this file has no emulate:)"])
    if out.exists() and not out.is_dir():
        raise ConfigError(out, ["--out names a file; a run folder is expected"])
    db = out / "trials.sqlite"
    if db.exists() and not resume:
        raise ConfigError(out, ["already holds a run's trials: pass --resume to finish it, or choose a new --out"])
    if resume and not db.exists():
        raise ConfigError(out, ["--resume: no trials.sqlite here to resume"])


def lock_folder(out: Path) -> IO[str]:
    """Hold `out/.lock` for this process's life; a second run on the same folder is refused."""
    out.mkdir(parents=True, exist_ok=True)
    fh = (out / ".lock").open("a+", encoding="utf-8")
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.seek(0)
        holder = fh.read().strip() or "another process"
        fh.close()
        raise ConfigError(out, [f"is in use by another bwclab run ({holder}); wait for it to end"]) from None
    fh.seek(0)
    fh.truncate()
    fh.write(f"pid {os.getpid()}\n")
    fh.flush()
    return fh


class Campaign:
    def __init__(self, bench_path: Path, spec_path: Path, out: Path, camera: str | None = None,
                 faults: Path | None = None, resume: bool = False, operator: str | None = None,
                 progress: Callable[[str], None] = lambda _t: None,
                 tick: Callable[[str, int, int], None] = lambda _label, _done, _total: None) -> None:
        self.bench_path, self.spec_path, self.out = bench_path, spec_path, out
        self.bench: Bench = load_bench(bench_path)
        self.spec: Spec = load_spec(spec_path)
        check_selection(self.bench, bench_path, camera, faults, out, resume)
        self.cameras = [camera] if camera else list(self.bench.cameras)
        check_against_bench(self.spec, spec_path, self.bench, self.cameras)
        self.faults = faults
        self.progress = progress
        self.tick = tick
        self.camera_arg = camera
        self.operator = operator or login()
        self.identities: dict[str, Identification] = {}
        self._idents: dict[str, Identity] = {}
        self._lock = lock_folder(out)
        self.store = TrialStore(out / "trials.sqlite")
        meta = {"bench": str(bench_path), "bench_sha256": file_digest(bench_path),
                "spec_sha256": file_digest(spec_path),
                "cameras": ",".join(self.cameras), "faults_sha256": file_digest(faults) if faults else ""}
        if resume:
            old = self.store.meta()
            if old.get("format", "1") != TRIALS_FORMAT:
                self._release()
                raise ConfigError(out, [f"--resume: the run was written in trials format {old.get('format', '1')}; "
                                        f"this bwclab writes format {TRIALS_FORMAT}: start a new run"])
            changed = [k for k in meta if k != "bench" and old.get(k) != meta[k]]
            if changed:
                self._release()
                raise ConfigError(out, [f"--resume: the run was started with a different {', '.join(changed)}"])
        else:
            self.store.set_meta(**meta, format=TRIALS_FORMAT, started=now_text(), run_id=str(uuid.uuid4()))
        self.session = self.store.begin_session()
        self.emulated: EmulatorProcess | None = None
        self.station: Station | None = None
        self.ctx: Context | None = None
        self.ran: dict[str, str | None] = {}  # procedure key -> None when run, else why it could not run
        self.outcomes: dict[tuple[str, str], Outcome] = {}
        self.ended: Stopped | None = None  # why the run ended before judging everything
        self.selection = ""  # how the run was narrowed to fewer requirements on purpose (pytest's -k), if it was
        self.deselected: set[tuple[str, str]] = set()  # (requirement, camera) left out by that selection

    def _release(self) -> None:
        self.store.close()
        self._lock.close()

    @property
    def stopped(self) -> str:
        """Why the run ended before judging everything, in words; "" while it has not."""
        return self.ended.reason if self.ended is not None else ""

    def stop(self, kind: Stop, reason: str, override: bool = False) -> None:
        """Record why the run ends early; the first cause stands unless `override`."""
        if self.ended is None or override:
            self.ended = Stopped(kind, reason)

    def _lose(self, why: str) -> BenchLost:
        """The bench is lost: recorded, and the BenchLost to raise."""
        self.stop(Stop.BENCH_LOST, f"the bench was lost: {why}")
        return BenchLost(why)

    # --- bench --------------------------------------------------------------------------
    def open(self) -> None:
        """Bring the bench up; BenchLost (the run stops, incomplete, exit 3) when it cannot be reached."""
        try:
            self._open()
        except (DriverError, BenchLost) as exc:
            raise self._lose(f"it could not be opened: {exc}") from None

    def _open(self) -> None:
        resources = None
        if self.bench.emulate is not None:
            self.progress("starting the emulated bench")
            state = self.out / "bench" / f"session-{self.session}"
            self.emulated = EmulatorProcess(self.bench_path, state, self.faults)
            resources = self.emulated.resources
        self.station = Station(self.bench, resources)
        self.identities = self.station.identities()
        silent = {name: i.error for name, i in self.identities.items() if i.error}
        if silent:  # an instrument that does not answer its identity query will not answer a trial either
            raise InstrumentError("; ".join(f"{name} does not answer: {why}" for name, why in silent.items()))
        self._idents = {s: self._console_identity(s) for s in self.cameras}
        rs = self.bench.rig
        self.ctx = Context(self.station, self.store, self.cameras, self.out, near_ft=rs.near_ft, settle_s=rs.settle_s,
                           boot_wait_s=rs.boot_wait_s, progress=self.progress, tick=self._tick,
                           bench_down=self.bench_down)
        lags = self.station.loopback_lags_ns(30)
        if lags:
            lo, med, hi = np.percentile(lags, [2.5, 50, 97.5])
            self.ctx.gpio = GpioPath(float(med), float(max(med - lo, hi - med)), lags)
            self.progress(f"GPIO loopback lag median {med / 1e6:.2f} ms, +/-{max(med - lo, hi - med) / 1e6:.2f} ms")
        for s in self.cameras:
            if self.station.console_port(s) is not None:
                try:
                    t = time.monotonic_ns()
                    off, rtt = self.ctx.console_call(s, lambda c: c.clock_offset_ns())
                    self.ctx.clock0[s] = (t, off, rtt)
                except TRIAL_ERRORS:
                    pass  # the clock check will say so
            self.ctx.last_end_ns[s] = time.monotonic_ns()

    def bench_down(self) -> str | None:
        """Why the bench itself is gone: an emulated bench's process has exited."""
        if self.emulated is not None and self.emulated.proc.poll() is not None:
            return f"the emulated bench (pid {self.emulated.proc.pid}) exited with {self.emulated.proc.returncode}"
        return None

    def close(self) -> None:
        if self.station is not None:
            for name in self.bench.emitters:
                with contextlib.suppress(*TRIAL_ERRORS):
                    self.station.release(name)
            self.station.close()
        if self.emulated is not None:
            self.emulated.stop()
        self._release()

    # --- running ------------------------------------------------------------------------
    def _tick(self, key: str, done: int, total: int) -> None:
        ids = [r.id for r in self.spec.requirements if r.key == key]
        self.tick(", ".join(ids[:3]) + (" ..." if len(ids) > 3 else ""), done, total)

    def run_procedure(self, req: Requirement) -> None:
        if req.key in self.ran:
            return
        assert self.ctx is not None
        users = [r for r in self.spec.requirements if r.key == req.key]
        plan = Plan(req.key, max(r.trials for r in users), max(r.retries for r in users))
        cams = [s for s in self.cameras if any(unmet(r, self.bench, s) is None for r in users)]
        self.progress(f"{req.id} ({req.key}): {plan.trials} trials on {', '.join(cams)}")
        self.ctx.cameras = cams
        try:
            req.proc.run(self.ctx, plan, req.settings())
            self.ran[req.key] = None
        finally:
            self.ctx.cameras = list(self.cameras)

    def evaluate(self, req: Requirement, camera: str) -> Outcome:
        """Judge one requirement on one camera; BenchLost when the bench is gone (the run stops, incomplete)."""
        if (req.id, camera) in self.outcomes:
            return self.outcomes[(req.id, camera)]
        if self.ended is not None and self.ended.kind is Stop.BENCH_LOST:
            raise BenchLost(self.ended.reason)
        why = unmet(req, self.bench, camera)
        if why is not None:
            outcome = Outcome(req.id, camera, "not applicable", None, why)
        else:
            try:
                self.run_procedure(req)
            except BenchLost as exc:
                self.stop(Stop.BENCH_LOST, f"the bench was lost: {exc}")
                raise
            except InstrumentError as exc:  # outside the step loop (placing cameras, say): lost if the bench is gone
                down = self.bench_down()
                if down is None:
                    raise
                self.stop(Stop.BENCH_LOST, f"the bench was lost: {down} ({exc})")
                raise BenchLost(down) from exc
            outcome = self._judge(req, camera)
        self.outcomes[(req.id, camera)] = outcome
        return outcome

    def _judge(self, req: Requirement, camera: str) -> Outcome:
        trials = self.store.trials(req.key)
        try:
            rows = camera_rows(trials, camera, req.proc.row)
            if not rows:
                causes = camera_causes(trials, camera)
                failed = camera_errors(self.store.errors(req.key), camera)
                if failed and all(f.fault is Fault.INSTRUMENT for f in failed):  # the bench failed, not the camera
                    raise self._lose(f"every attempt of {req.procedure} failed at an instrument: "
                                     f"{_summary([f.cause for f in failed])}")
                raise NoData(f"no successful trial of {req.procedure} for {camera}"
                             + (f": {_summary(causes)}" if causes else ""))
            m = req.proc.measure(req.quantity, rows, req.options())
        except (NoData, DriverError) as exc:
            return Outcome(req.id, camera, "error", None, str(exc))
        causes = camera_causes(trials, camera)
        if causes:
            m.note = (m.note + " " if m.note else "") + f"{len(causes)} errored attempt(s) recorded: {_summary(causes)}"
        lost = lost_steps(trials, camera)
        if lost:  # fewer trials than the requirement asks: never a pass on what is left
            steps = len({t.seq for t in trials})
            return Outcome(req.id, camera, "error", m, f"{len(lost)} of {steps} steps gave this camera no result "
                           f"after their retries: {_summary(causes)}; --resume retries them")
        obs = req.proc.observe(rows, m)  # the raw data a later night-to-night comparison pools
        if m.unsure:
            return Outcome(req.id, camera, "error", m, m.unsure, obs)
        return Outcome(req.id, camera, verdict(req, m), m, observations=obs, indicative=indicative(req, m))

    # --- results ------------------------------------------------------------------------
    def resume_command(self) -> str:
        words = ["bwclab", "rig", "certify", "--bench", str(self.bench_path), "--requirements", str(self.spec_path),
                 "--out", str(self.out)]
        if self.camera_arg:
            words += ["--camera", self.camera_arg]
        if self.faults:
            words += ["--faults", str(self.faults)]
        return shlex.join([*words, "--resume"])

    def certificate(self) -> Certificate:
        by_id = {r.id: r for r in self.spec.requirements}
        results = [o.record(by_id[o.requirement]) for o in self.outcomes.values()]
        unjudged = [Unjudged(requirement=r.id, camera=c, why="deselected" if (r.id, c) in self.deselected else
                             "not run") for r in self.spec.requirements for c in self.cameras
                    if (r.id, c) not in self.outcomes]
        left_out = [c for c in self.bench.cameras if c not in self.cameras]
        unjudged += [Unjudged(requirement=r.id, camera=c, why="camera left out") for r in self.spec.requirements
                     for c in left_out]
        narrowed = narrowing(self.selection, unjudged, self.camera_arg, left_out)
        trials, errors = self.store.trials(), self.store.errors()
        verdict_ = overall(results, unjudged)
        graded, graded_why = grade(self.spec.grade, self.spec.name, results)
        counts = {v: sum(r.verdict == v for r in results) for v in ("pass", "fail", "error", "not applicable")}
        counts["unjudged"] = len(unjudged)
        cert = Certificate(
            bench=self.bench.name, spec=self.spec.name, cameras=self.cameras, verdict=verdict_,
            reason=reason(results, unjudged, self.stopped, narrowed), grade=graded, grade_reasons=graded_why,
            narrowed=narrowed, unjudged=unjudged,
            resume=self.resume_command() if verdict_ == "error" or any(u.camera in self.cameras for u in unjudged)
            else "",
            counts=counts, trials=len(trials), errored_attempts=len(errors),
            dropped_camera_attempts=sum(len(t.result.dropped) for t in trials), sessions=self.session,
            results=results)
        cert.identity = self.run_identity()
        cert.health = self.health(trials, errors)
        if self.ctx is not None and self.ctx.gpio.samples:
            cert.gpio_loopback_ms = {"median": self.ctx.gpio.lag_median_ns / 1e6,
                                     "u95": self.ctx.gpio.lag_spread_ns / 1e6}
        return cert

    def write_results(self) -> Certificate:
        cert = self.certificate()
        write_certificate(self.out / "measurements.json", cert)
        for s in self.cameras:
            try:
                profile = self.profile(s, cert.grade)
            except ValidationError as exc:  # a profile is derived: its failure must not cost the report
                log.error("camera %s: no device profile written: %s", s, exc)
                self.progress(f"camera {s}: no device profile written: {exc.errors()[0]['msg']}")
                continue
            if profile is not None:
                (self.out / s).mkdir(exist_ok=True)
                atomic_write(self.out / s / "profile.yaml", dump_profile(profile))
        return cert

    def run_identity(self) -> RunIdentity:
        meta = self.store.meta()
        today = datetime.date.today()
        inst = self.bench.instruments
        cal = {"attenuator": inst.attenuator, "scope": inst.scope, "psu": inst.psu}
        names = list(dict.fromkeys([*self.identities, *(k for k, v in cal.items() if v is not None)]))
        instruments = []
        for name in names:
            answer = self.identities.get(name, Identification())
            c = cal.get(name)
            instruments.append(InstrumentIdentity(
                name=name, idn=answer.idn, error=answer.error,
                calibrated=str(c.calibrated) if c is not None and c.calibrated else None,
                calibration_due=str(c.calibration_due) if c is not None and c.calibration_due else None,
                overdue=c is not None and c.overdue(today)))
        cameras = []
        for s in self.cameras:
            ident = self.identity(s)
            wiring = self.bench.cameras[s]
            if ident.model or ident.firmware:
                cameras.append(CameraIdentity(serial=s, model=ident.model, firmware=ident.firmware, source="console"))
            elif wiring.model or wiring.firmware:
                cameras.append(CameraIdentity(serial=s, model=wiring.model, firmware=wiring.firmware,
                                              source="bench file"))
            else:
                cameras.append(CameraIdentity(serial=s))
        return RunIdentity(
            run_id=meta.get("run_id") or hashlib.sha256(f"{meta.get('started')}{self.out}".encode()).hexdigest()[:32],
            bench_sha256=meta.get("bench_sha256", ""), spec_sha256=meta.get("spec_sha256", ""),
            faults_sha256=meta.get("faults_sha256", ""), bwclab_version=bwclab_version(), git_commit=git_commit(),
            host=socket.gethostname(), operator=self.operator, started=meta.get("started", ""), ended=now_text(),
            cameras=cameras, instruments=instruments)

    def health(self, trials: list[Trial], errors: list[ErrorRow]) -> BenchHealth:
        lost = self.ended.reason if self.ended is not None and self.ended.kind is Stop.BENCH_LOST else ""
        return bench_health(trials, errors, lost)

    def _console_identity(self, serial: str) -> Identity:
        """A camera as its console names it, once the console is known to be this camera's (else it is closed,
        and each later use tries again: Station.verify_console)."""
        if self.station is None or self.station.consoles.get(serial) is None:
            return Identity(serial=serial)
        try:
            ident = self.station.verify_console(serial)
        except TRIAL_ERRORS as exc:
            self.progress(f"camera {serial}: console not in use: {exc}")
            return Identity(serial=serial)
        return Identity(serial=serial, model=ident.get("model"), firmware=ident.get("firmware"))

    def identity(self, serial: str) -> Identity:
        if serial in self._idents:
            return self._idents[serial]
        con = self.station.consoles.get(serial) if self.station else None
        if con is not None:
            with contextlib.suppress(*TRIAL_ERRORS):
                ident = con.identity()
                return Identity(serial=serial, model=ident.get("model"), firmware=ident.get("firmware"))
        return Identity(serial=serial)

    def profile(self, serial: str, graded: Grade) -> DeviceProfile | None:
        """The camera as the fleet simulator models it (bwclab/core/profile.py): device properties only, each
        from the procedure that measures it (its declared `profile`), with the certificate's grade."""
        part, seen = ProfilePart(), set()
        for req in self.spec.requirements:
            if req.proc.profile is None or req.key in seen:
                continue
            seen.add(req.key)
            kind = getattr(req.settings(), "trigger", None) or next(iter(self.bench.emitters.values())).kind
            part = part.then(req.proc.profile(camera_rows(self.store.trials(req.key), serial, req.proc.row), kind))
        if part.empty:
            return None
        return DeviceProfile(format=PROFILE_FORMAT, device=self.identity(serial), detection=part.detection,
                             latency=part.latency, buffer=part.buffer, audio=part.audio,
                             measured=Provenance(bench=self.bench.name, spec=self.spec.name, run=str(self.out),
                                                 measured_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"), grade=graded))


def bench_health(trials: list[Trial], errors: list[ErrorRow], lost: str = "") -> BenchHealth:
    """The bench's record, counted from the stored rows: every errored attempt (a whole step's, or one camera's
    part of a step), the steps tried more than once (in any session), and the errored attempts by the device
    that failed (an instrument's role or a camera's serial where the error named it, else whose fault it was)."""
    by_device = Counter(e.failure.device or e.failure.fault.value for e in errors)
    tries = Counter((t.key, t.seq) for t in trials)
    return BenchHealth(errored_attempts=len(errors), retried_steps=sum(n > 1 for n in tries.values()),
                       errors_by_device=dict(sorted(by_device.items())), lost=lost)


def _summary(causes: list[str]) -> str:
    distinct = sorted(set(causes))
    return "; ".join(distinct[:3]) + (f" (+{len(distinct) - 3} more)" if len(distinct) > 3 else "")

