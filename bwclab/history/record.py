"""One run as the history keeps it, read from a run folder's `measurements.json` (bwclab/rig/certificate.py)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from bwclab.core.config import ConfigError
from bwclab.rig.certificate import Certificate, Number, Observations, read_certificate


class HistoryError(Exception):
    """A bad history URL, an unknown run, a database from a newer bwclab: exit 2 with this message."""


def number(x: Number) -> float | None:
    if x is None:
        return None
    if isinstance(x, str):
        return math.inf if x == "inf" else -math.inf
    return float(x)


@dataclass
class ResultRecord:
    requirement: str
    camera: str
    verdict: str
    quantity: str
    units: str
    judge: str
    limit_min: float | None
    limit_max: float | None
    value: float | None
    ci_low: float | None
    ci_high: float | None
    trials: int
    max_change: float
    observations: Observations


@dataclass
class CameraRecord:
    serial: str
    model: str | None
    firmware: str | None
    source: str


@dataclass
class InstrumentRecord:
    name: str
    idn: str
    calibrated: str | None
    calibration_due: str | None
    overdue: bool
    error: str


@dataclass
class RunRecord:
    run_id: str
    started: str
    ended: str
    bench: str
    bench_sha256: str
    spec: str
    spec_sha256: str
    verdict: str
    operator: str
    host: str
    bwclab_version: str
    git_commit: str
    folder: str
    trials: int
    errored_attempts: int
    retried_steps: int
    lost: str
    errors_by_device: dict[str, int]
    cameras: list[CameraRecord] = field(default_factory=list)
    instruments: list[InstrumentRecord] = field(default_factory=list)
    results: list[ResultRecord] = field(default_factory=list)
    id: int | None = None  # the history's own number for the run, once recorded

    @property
    def overdue(self) -> list[str]:
        return [i.name for i in self.instruments if i.overdue]

    def firmware(self, serial: str) -> str | None:
        return next((c.firmware for c in self.cameras if c.serial == serial), None)

    def model(self, serial: str) -> str | None:
        return next((c.model for c in self.cameras if c.serial == serial), None)


def from_certificate(cert: Certificate, folder: Path) -> RunRecord:
    ident = cert.identity
    if ident is None:
        raise HistoryError(f"{folder / 'measurements.json'}: identity: missing (written by a bwclab before the "
                           "history existed); re-run the certification to record it")
    return RunRecord(
        run_id=ident.run_id, started=ident.started, ended=ident.ended, bench=cert.bench,
        bench_sha256=ident.bench_sha256, spec=cert.spec, spec_sha256=ident.spec_sha256, verdict=cert.verdict,
        operator=ident.operator, host=ident.host, bwclab_version=ident.bwclab_version, git_commit=ident.git_commit,
        folder=str(folder.resolve()), trials=cert.trials, errored_attempts=cert.health.errored_attempts,
        retried_steps=cert.health.retried_steps, lost=cert.health.lost or (cert.reason if cert.unjudged else ""),
        errors_by_device=dict(cert.health.errors_by_device),
        cameras=[CameraRecord(c.serial, c.model, c.firmware, c.source) for c in ident.cameras],
        instruments=[InstrumentRecord(i.name, i.idn, i.calibrated, i.calibration_due, i.overdue, i.error)
                     for i in ident.instruments],
        results=[ResultRecord(
            requirement=r.requirement, camera=r.camera, verdict=r.verdict, quantity=r.quantity, units=r.units,
            judge=r.judge, limit_min=r.limit.get("min"), limit_max=r.limit.get("max"), value=number(r.value),
            ci_low=number(r.ci_low), ci_high=number(r.ci_high), trials=r.trials, max_change=r.drift_max_change,
            observations=r.observations or Observations()) for r in cert.results])


def read_run(folder: Path) -> RunRecord:
    """A run folder's record; HistoryError naming the file when it is not a finished bwclab run."""
    path = folder / "measurements.json"
    if not path.is_file():
        raise HistoryError(f"{folder}: no measurements.json here: not a bwclab run folder, or the run never ended")
    try:
        cert = read_certificate(path)
    except (OSError, ValueError) as exc:
        first = exc.errors()[0] if isinstance(exc, ValidationError) else None
        where = ".".join(str(p) for p in first["loc"]) + ": " + first["msg"] if first else str(exc)[:200]
        raise HistoryError(f"{path}: {where}") from None
    except ConfigError as exc:
        raise HistoryError(exc.render()) from None
    return from_certificate(cert, folder)
