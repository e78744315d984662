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
import os
import re
import shlex
import socket
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from bwclab.bench.description import Bench, load_bench
from bwclab.core.config import ConfigError
from bwclab.core.profile import (
    PROFILE_FORMAT,
    AudioMeasured,
    BufferMeasured,
    DeviceProfile,
    Identity,
    LatencySamples,
    ProbitCurve,
    Provenance,
    dump_profile,
)
from bwclab.rig.certificate import (
    BenchHealth,
    CameraIdentity,
    Certificate,
    InstrumentIdentity,
    Observations,
    Result,
    RunIdentity,
    Unjudged,
    atomic_write,
    finite,
    overall,
    write_certificate,
)
from bwclab.rig.emulated import EmulatorProcess
from bwclab.rig.interfaces import BenchLost, DriverError
from bwclab.rig.measurements import Measurement, NoData
from bwclab.rig.procedures import buffer, coverage, latency
from bwclab.rig.procedures.base import TRIAL_ERRORS, Context, GpioPath, Plan
from bwclab.rig.requirements import (
    Requirement,
    Spec,
    Verdict,
    check_against_bench,
    judged_value,
    load_spec,
    unmet,
    verdict,
)
from bwclab.rig.station import Station
from bwclab.rig.trials import TRIALS_FORMAT, TrialStore, camera_causes, camera_rows, lost_steps


@dataclass
class Outcome:
    requirement: str
    camera: str
    verdict: Verdict
    measurement: Measurement | None
    reason: str = ""
    observations: Observations | None = None

    def record(self, req: Requirement) -> Result:
        m = self.measurement
        return Result(
            requirement=req.id, text=req.text, camera=self.camera, verdict=self.verdict, quantity=req.quantity,
            judge=req.judge, limit=req.limit.model_dump(exclude_none=True), units=req.units,
            value=None if m is None else finite(m.value),
            judged_value=None if m is None else finite(judged_value(req, m)),
            ci_low=None if m is None else finite(m.low), ci_high=None if m is None else finite(m.high),
            uncertainty="" if m is None else m.uncertainty, trials=0 if m is None else m.n,
            note=self.reason or ("" if m is None else m.note), observations=self.observations,
            drift_max_change=req.drift.max_change)


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


INSTRUMENT_CAUSE = re.compile(r"\b(attenuator|scope|psu) \(|no (GPIO|loopback) edge|numato", re.IGNORECASE)


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


def observations(req: Requirement, rows: list[Any], m: Measurement) -> Observations:
    """The raw data a later night-to-night comparison pools (bwclab/rig/certificate.py Observations)."""
    if req.procedure == "latency":
        got, misses = latency.samples(rows)
        return Observations(samples=[round(x, 6) for x in got], misses=misses)
    if req.procedure == "coverage":
        return Observations(distance_ft=[round(r.distance_ft, 3) for r in rows], activated=[r.activated for r in rows])
    return Observations(samples=[m.value] if m.value is not None and np.isfinite(m.value) else [])


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
        self.identities: dict[str, str] = {}
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
        self.stopped = ""  # why the run ended before judging everything

    def _release(self) -> None:
        self.store.close()
        self._lock.close()

    # --- bench --------------------------------------------------------------------------
    def open(self) -> None:
        """Bring the bench up; BenchLost (the run stops, incomplete, exit 3) when it cannot be reached."""
        try:
            self._open()
        except DriverError as exc:
            self.stopped = f"the bench was lost: it could not be opened: {exc}"
            raise BenchLost(str(exc)) from None

    def _open(self) -> None:
        resources = None
        if self.bench.emulate is not None:
            self.progress("starting the emulated bench")
            state = self.out / "bench" / f"session-{self.session}"
            self.emulated = EmulatorProcess(self.bench_path, state, self.faults)
            resources = self.emulated.resources
        self.station = Station(self.bench, resources)
        self.identities = self.station.identities()
        silent = {name: why[7:] for name, why in self.identities.items() if why.startswith("error: ")}
        if silent:  # an instrument that does not answer its identity query will not answer a trial either
            raise DriverError("; ".join(f"{name} does not answer: {why}" for name, why in silent.items()))
        self._idents = {s: self.identity(s) for s in self.cameras}
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
        if self.stopped:
            raise BenchLost(self.stopped)
        why = unmet(req, self.bench, camera)
        if why is not None:
            outcome = Outcome(req.id, camera, "not applicable", None, why)
        else:
            try:
                self.run_procedure(req)
            except BenchLost as exc:
                self.stopped = f"the bench was lost: {exc}"
                raise
            outcome = self._judge(req, camera)
        self.outcomes[(req.id, camera)] = outcome
        return outcome

    def _judge(self, req: Requirement, camera: str) -> Outcome:
        trials = self.store.trials(req.key)
        try:
            rows = camera_rows(trials, camera, req.proc.row)
            if not rows:
                causes = camera_causes(trials, camera)
                bench = [c for c in causes if INSTRUMENT_CAUSE.search(c)]
                if causes and len(bench) == len(causes):  # every attempt failed at an instrument, not the camera
                    self.stopped = f"the bench was lost: every attempt of {req.procedure} failed at an instrument: " \
                                   f"{_summary(bench)}"
                    raise BenchLost(self.stopped)
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
        obs = observations(req, rows, m)
        if m.unsure:
            return Outcome(req.id, camera, "error", m, m.unsure, obs)
        return Outcome(req.id, camera, verdict(req, m), m, observations=obs)

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
        unjudged = [Unjudged(requirement=r.id, camera=c) for r in self.spec.requirements for c in self.cameras
                    if (r.id, c) not in self.outcomes]
        trials = self.store.trials()
        verdict_ = overall(results, unjudged)
        counts = {v: sum(r.verdict == v for r in results) for v in ("pass", "fail", "error", "not applicable")}
        counts["unjudged"] = len(unjudged)
        cert = Certificate(
            bench=self.bench.name, spec=self.spec.name, cameras=self.cameras, verdict=verdict_,
            reason=(self.stopped or "the run ended before judging every requirement") if unjudged else "",
            unjudged=unjudged, resume=self.resume_command() if unjudged or verdict_ == "error" else "",
            counts=counts, trials=len(trials), errored_attempts=sum(t.status == "error" for t in trials),
            dropped_camera_attempts=sum(len(t.result.dropped) for t in trials), sessions=self.session,
            results=results)
        cert.identity = self.run_identity()
        cert.health = self.health(trials)
        if self.ctx is not None and self.ctx.gpio.samples:
            cert.gpio_loopback_ms = {"median": self.ctx.gpio.lag_median_ns / 1e6,
                                     "u95": self.ctx.gpio.lag_spread_ns / 1e6}
        return cert

    def write_results(self) -> Certificate:
        cert = self.certificate()
        write_certificate(self.out / "measurements.json", cert)
        for s in self.cameras:
            profile = self.profile(s)
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
            idn = self.identities.get(name, "")
            c = cal.get(name)
            bad = idn.startswith("error: ")
            instruments.append(InstrumentIdentity(
                name=name, idn="" if bad else idn, error=idn[7:] if bad else "",
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

    def health(self, trials: list[Any]) -> BenchHealth:
        errored = [t for t in trials if t.status == "error"]
        by_device: dict[str, int] = {}
        for t in errored:
            device = t.cause.split(":", 1)[0].strip()[:40] or "unknown"
            by_device[device] = by_device.get(device, 0) + 1
        retried = len({(t.key, t.seq) for t in trials if t.attempt > 1})
        return BenchHealth(errored_attempts=len(errored), retried_steps=retried, errors_by_device=by_device,
                           lost=self.stopped if self.stopped.startswith("the bench was lost") else "")

    def identity(self, serial: str) -> Identity:
        if serial in self._idents:
            return self._idents[serial]
        con = self.station.consoles.get(serial) if self.station else None
        if con is not None:
            with contextlib.suppress(*TRIAL_ERRORS):
                ident = con.identity()
                return Identity(serial=serial, model=ident.get("model"), firmware=ident.get("firmware"))
        return Identity(serial=serial)

    def profile(self, serial: str) -> DeviceProfile | None:
        """The camera as the fleet simulator models it (bwclab/core/profile.py): device properties only."""
        detection: dict[str, ProbitCurve] = {}
        lat: dict[str, LatencySamples] = {}
        buf: BufferMeasured | None = None
        audio: AudioMeasured | None = None
        for req in self.spec.requirements:
            kind = getattr(req.settings(), "trigger", None) or next(iter(self.bench.emitters.values())).kind
            trials = self.store.trials(req.key)
            if req.procedure == "latency" and kind not in lat:
                got, misses = latency.samples(camera_rows(trials, serial, latency.LatencyRow))
                if got:
                    lat[kind] = LatencySamples(samples_s=[round(x, 4) for x in sorted(got)], misses=misses)
            elif req.procedure == "coverage" and kind not in detection:
                with contextlib.suppress(NoData):
                    f = coverage.fit(camera_rows(trials, serial, coverage.CoverageRow))
                    c = f.cov.tolist()
                    detection[kind] = ProbitCurve(a=f.a, b=f.b, cov=((c[0][0], c[0][1]), (c[1][0], c[1][1])),
                                                  broadcasts=f.n)
            elif req.procedure == "buffer" and buf is None:
                got_buffer = buffer.buffered(camera_rows(trials, serial, buffer.BufferRow))
                if got_buffer is not None:
                    configured, reach, found = got_buffer
                    buf = BufferMeasured(configured_s=configured, measured_s=[round(x, 4) for x in reach])
                    cfg = next((r for r in camera_rows(trials, serial, buffer.BufferRow) if r.activated), None)
                    audio = AudioMeasured(configured_in_buffer=bool(cfg and cfg.audio_in_buffer), found_in_buffer=found)
        if not (detection or lat or buf):
            return None
        return DeviceProfile(format=PROFILE_FORMAT, device=self.identity(serial), detection=detection, latency=lat,
                             buffer=buf, audio=audio,
                             measured=Provenance(bench=self.bench.name, spec=self.spec.name, run=str(self.out),
                                                 measured_at=time.strftime("%Y-%m-%dT%H:%M:%S%z")))


def _summary(causes: list[str]) -> str:
    distinct = sorted(set(causes))
    return "; ".join(distinct[:3]) + (f" (+{len(distinct) - 3} more)" if len(distinct) > 3 else "")

