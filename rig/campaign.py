"""One certification run: bench up, procedures run on demand (each once, for every requirement
that uses it), every trial committed as it finishes, requirements judged, results written.

The run folder holds `trials.sqlite` (every attempt), `clips/` (the clips the buffer checks read),
and at the end `measurements.json` and `<serial>/profile.yaml`. `--resume` reopens the folder and
runs only the trials it lacks; a folder that already holds trials is never overwritten.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from bench.description import Bench, load_bench
from bwclab.configfile import ConfigError
from rig.emulated import EmulatedBench
from rig.interfaces import DriverError, NotApplicable
from rig.measurements import Measurement, NoData, latency_samples, measure
from rig.procedures import PROCEDURES
from rig.procedures.base import TRIAL_ERRORS, Context, GpioPath
from rig.requirements import Requirement, Spec, Verdict, judged_value, load_spec, verdict
from rig.station import Station
from rig.stats import fit_probit
from rig.trials import DROPPED, TrialStore, camera_causes, camera_rows, lost_steps

NEEDS = {  # procedure -> what each camera must have for it to apply
    "allowlist": ("console",), "sleep": ("console",), "console": ("console",), "clock": ("console",),
    "powercut": ("psu", "dock"), "buffer": ("dock",), "latency": ("indicator",), "coverage": ("indicator",),
    "window": ("indicator",), "group": ("indicator",),
}


@dataclass
class Outcome:
    requirement: str
    camera: str
    verdict: Verdict
    measurement: Measurement | None
    reason: str = ""

    def as_json(self, req: Requirement) -> dict[str, Any]:
        m = self.measurement
        return {"requirement": req.id, "text": req.text, "camera": self.camera, "verdict": self.verdict,
                "quantity": req.quantity, "judge": req.judge, "limit": req.limit.model_dump(exclude_none=True),
                "units": req.units, "value": None if m is None else _finite(m.value),
                "judged_value": None if m is None else _finite(judged_value(req, m)),
                "ci_low": None if m is None else _finite(m.low), "ci_high": None if m is None else _finite(m.high),
                "uncertainty": "" if m is None else m.uncertainty, "trials": 0 if m is None else m.n,
                "note": self.reason or ("" if m is None else m.note)}


def _finite(x: float | None) -> float | str | None:
    if x is None:
        return None
    return x if np.isfinite(x) else ("inf" if x > 0 else "-inf")


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def check_selection(bench: Bench, bench_path: Path, camera: str | None, faults: Path | None, out: Path,
                    resume: bool) -> None:
    """The run's choices against the bench and the run folder: a folder with trials is only ever resumed."""
    if camera is not None and camera not in bench.cameras:
        raise ConfigError(bench_path, [f"--camera {camera}: no such camera (have {', '.join(sorted(bench.cameras))})"])
    if faults is not None and bench.emulate is None:
        raise ConfigError(bench_path, ["--faults applies to an emulated bench only (this file has no emulate:)"])
    db = out / "trials.sqlite"
    if db.exists() and not resume:
        raise ConfigError(out, ["already holds a run's trials: pass --resume to finish it, or choose a new --out"])
    if resume and not db.exists():
        raise ConfigError(out, ["--resume: no trials.sqlite here to resume"])


class Campaign:
    def __init__(self, bench_path: Path, spec_path: Path, out: Path, camera: str | None = None,
                 faults: Path | None = None, resume: bool = False,
                 progress: Callable[[str], None] = lambda _t: None) -> None:
        self.bench_path, self.spec_path, self.out = bench_path, spec_path, out
        self.bench: Bench = load_bench(bench_path)
        self.spec: Spec = load_spec(spec_path)
        check_selection(self.bench, bench_path, camera, faults, out, resume)
        self.cameras = [camera] if camera else list(self.bench.cameras)
        self.faults = faults
        self.progress = progress
        out.mkdir(parents=True, exist_ok=True)
        self.store = TrialStore(out / "trials.sqlite")
        meta = {"bench": str(bench_path), "bench_sha256": file_digest(bench_path),
                "spec_sha256": file_digest(spec_path),
                "cameras": ",".join(self.cameras), "faults_sha256": file_digest(faults) if faults else ""}
        if resume:
            old = self.store.meta()
            changed = [k for k in meta if k != "bench" and old.get(k) != meta[k]]
            if changed:
                self.store.close()
                raise ConfigError(out, [f"--resume: the run was started with a different {', '.join(changed)}"])
        else:
            self.store.set_meta(**meta, started=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
        self.emulated: EmulatedBench | None = None
        self.station: Station | None = None
        self.ctx: Context | None = None
        self.ran: dict[str, str | None] = {}  # procedure key -> None when run, else why not applicable
        self.outcomes: dict[tuple[str, str], Outcome] = {}

    # --- bench --------------------------------------------------------------------------
    def open(self) -> None:
        resources = None
        if self.bench.emulate is not None:
            self.progress("starting the emulated bench")
            self.emulated = EmulatedBench(self.bench_path, self.out / "bench", self.faults)
            resources = self.emulated.resources
        self.station = Station(self.bench, resources)
        rs = self.bench.rig
        self.ctx = Context(self.station, self.store, self.cameras, self.out, near_ft=rs.near_ft, settle_s=rs.settle_s,
                           boot_wait_s=rs.boot_wait_s, progress=self.progress)
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

    def close(self) -> None:
        if self.station is not None:
            for name in self.bench.emitters:
                with contextlib.suppress(*TRIAL_ERRORS):
                    self.station.release(name)
            self.station.close()
        if self.emulated is not None:
            self.emulated.stop()
        self.store.close()

    # --- running ------------------------------------------------------------------------
    def missing(self, procedure: str, serial: str) -> str | None:
        st, wiring = self.station, self.bench.cameras[serial]
        assert st is not None
        for need in NEEDS[procedure]:
            if need == "console" and st.console_port(serial) is None:
                return "the camera has no console"
            if need == "psu" and (st.psu is None or wiring.psu_channel is None):
                return "the camera has no supply channel on this bench"
            if need == "dock" and st.dock(serial) is None:
                return "the camera has no dock folder"
            if need == "indicator" and wiring.indicator is None:
                return "the camera's indicator is not wired"
        return None

    def run_procedure(self, req: Requirement) -> None:
        if req.key in self.ran:
            return
        assert self.ctx is not None
        users = [r for r in self.spec.requirements if r.key == req.key]
        trials, retries = max(r.trials for r in users), max(r.retries for r in users)
        cams = [s for s in self.cameras if self.missing(req.procedure, s) is None]
        if not cams:
            self.ran[req.key] = self.missing(req.procedure, self.cameras[0])
            return
        self.progress(f"{req.key}: {trials} trials on {', '.join(cams)}")
        self.ctx.cameras = cams
        try:
            PROCEDURES[req.procedure](self.ctx, req.key, trials, retries, **dict(req.params))
            self.ran[req.key] = None
        except NotApplicable as exc:
            self.ran[req.key] = str(exc)
        finally:
            self.ctx.cameras = list(self.cameras)

    def evaluate(self, req: Requirement, camera: str) -> Outcome:
        if (req.id, camera) in self.outcomes:
            return self.outcomes[(req.id, camera)]
        why = self.missing(req.procedure, camera)
        if why is None:
            self.run_procedure(req)
            why = self.ran.get(req.key)
        if why is not None:
            outcome = Outcome(req.id, camera, "not applicable", None, why)
        else:
            try:
                trials = self.store.trials(req.key)
                m = measure(req.procedure, req.quantity, trials, camera, dict(req.measure))
                lost = lost_steps(trials, camera)
                if lost:  # fewer trials than the requirement asks: never a pass on what is left
                    causes = "; ".join(sorted(set(camera_causes(trials, camera)))[:3])
                    steps = len({t.seq for t in trials})
                    outcome = Outcome(req.id, camera, "error", m, f"{len(lost)} of {steps} steps gave this camera "
                                      f"no result after their retries: {causes}")
                else:
                    outcome = Outcome(req.id, camera, verdict(req, m), m)
            except NotApplicable as exc:
                outcome = Outcome(req.id, camera, "not applicable", None, str(exc))
            except NoData as exc:
                outcome = Outcome(req.id, camera, "error", None, str(exc))
            except DriverError as exc:
                outcome = Outcome(req.id, camera, "error", None, str(exc))
        self.outcomes[(req.id, camera)] = outcome
        return outcome

    # --- results ------------------------------------------------------------------------
    def write_results(self) -> None:
        by_id = {r.id: r for r in self.spec.requirements}
        rows = [o.as_json(by_id[o.requirement]) for o in self.outcomes.values()]
        trials = self.store.trials()
        summary = {"bench": self.bench.name, "spec": self.spec.name, "cameras": self.cameras,
                   "trials": len(trials), "errored_attempts": sum(t.status == "error" for t in trials),
                   "dropped_camera_attempts": sum(isinstance(v, dict) and DROPPED in v for t in trials
                                                  for v in t.result.values()),
                   "verdict": overall(list(self.outcomes.values())), "results": rows}
        if self.ctx is not None and self.ctx.gpio.samples:
            summary["gpio_loopback_ms"] = {"median": self.ctx.gpio.lag_median_ns / 1e6,
                                           "u95": self.ctx.gpio.lag_spread_ns / 1e6}
        atomic_write(self.out / "measurements.json", json.dumps(summary, indent=2, allow_nan=False) + "\n")
        for s in self.cameras:
            profile = self.profile(s)
            if profile:
                (self.out / s).mkdir(exist_ok=True)
                atomic_write(self.out / s / "profile.yaml", yaml.safe_dump(profile, sort_keys=False))

    def profile(self, serial: str) -> dict[str, Any]:
        """The camera as the fleet simulator models it (sim/profile.py's format)."""
        prof: dict[str, Any] = {"device": {"serial": serial}}
        con = self.station.consoles.get(serial) if self.station else None
        if con is not None:
            try:
                ident = con.identity()
                prof["device"] = {k: ident[k] for k in ("model", "serial", "firmware") if k in ident}
            except TRIAL_ERRORS:
                pass
        keys = {r.key for r in self.spec.requirements}
        lat = [x for k in keys if k.startswith("latency ") for x in latency_samples(self.store.trials(k), serial)]
        if lat:
            prof["latency_s"] = [round(float(x), 4) for x in sorted(lat)]
        for k in keys:
            if k.startswith("coverage "):
                rows = camera_rows(self.store.trials(k), serial)
                fit = fit_probit([r["distance_ft"] for r in rows], [r["activated"] for r in rows])
                if fit is not None:
                    grid = [0.0, *(float(x) for x in np.arange(5.0, 205.0, 5.0))]
                    prob = [1.0, *(round(float(fit.p(d)), 4) for d in grid[1:])]
                    prof["detection"] = {"kind": "table", "distance_ft": grid, "probability": prob}
            if k.startswith("buffer "):
                reach = [r["buffered_s"] for r in camera_rows(self.store.trials(k), serial) if "buffered_s" in r]
                if reach:
                    prof["buffer_s"] = round(float(statistics.median(reach)), 3)
        return prof if len(prof) > 1 else {}


def overall(outcomes: list[Outcome]) -> str:
    verdicts = {o.verdict for o in outcomes}
    if "fail" in verdicts or "error" in verdicts:
        return "fail"
    return "pass"

