"""`measurements.json`: the certificate of one run, one typed schema for its writer (the campaign) and its
readers (the CLI's table, the history). It says pass only when every requirement was judged on every
camera and none failed or erred; a run that stopped early says `incomplete`, lists what it did not
judge, and how to resume."""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

CERTIFICATE_FORMAT = 2
Overall = Literal["pass", "fail", "error", "incomplete"]
Number = float | Literal["inf", "-inf"] | None


def finite(x: float | None) -> Number:
    if x is None:
        return None
    return x if math.isfinite(x) else ("inf" if x > 0 else "-inf")


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Observations(Model):
    """What a later comparison of nights needs, beyond the verdict: the raw data of one requirement on one
    camera. Latency: the samples (s) and the trials that did not activate; coverage: each broadcast's
    distance and whether the camera activated; any other quantity: its value per run."""

    samples: list[float] = Field(default_factory=list)
    misses: int = 0
    distance_ft: list[float] = Field(default_factory=list)
    activated: list[bool] = Field(default_factory=list)


class Result(Model):
    requirement: str
    text: str
    camera: str
    verdict: Literal["pass", "fail", "error", "not applicable"]
    quantity: str
    judge: str
    limit: dict[str, float]
    units: str
    value: Number = None
    judged_value: Number = None
    ci_low: Number = None
    ci_high: Number = None
    uncertainty: str = ""
    trials: int = 0
    note: str = ""
    observations: Observations | None = None
    drift_max_change: float = 0.0


class Unjudged(Model):
    requirement: str
    camera: str


class CameraIdentity(Model):
    serial: str
    model: str | None = None
    firmware: str | None = None
    source: Literal["console", "bench file", "unknown"] = "unknown"


class InstrumentIdentity(Model):
    """An instrument or GPIO adapter as it answered (`*IDN?`, a Numato's `id get`), with its calibration."""

    name: str
    idn: str = ""
    calibrated: str | None = None
    calibration_due: str | None = None
    overdue: bool = False
    error: str = ""


class RunIdentity(Model):
    run_id: str
    bench_sha256: str
    spec_sha256: str
    faults_sha256: str = ""
    bwclab_version: str
    git_commit: str = ""
    host: str
    operator: str
    started: str
    ended: str = ""
    cameras: list[CameraIdentity] = Field(default_factory=list)
    instruments: list[InstrumentIdentity] = Field(default_factory=list)

    @property
    def overdue(self) -> list[str]:
        return [i.name for i in self.instruments if i.overdue]


class BenchHealth(Model):
    """The bench, not the camera: attempts that errored and were retried, and where the time-outs were."""

    errored_attempts: int = 0
    retried_steps: int = 0
    errors_by_device: dict[str, int] = Field(default_factory=dict, description="errored attempts by the device "
                                             "their cause names (the text before the first colon)")
    lost: str = ""


class Certificate(Model):
    format: Literal[2] = 2
    bench: str
    spec: str
    cameras: list[str]
    verdict: Overall
    reason: str = ""
    unjudged: list[Unjudged] = Field(default_factory=list)
    resume: str = ""
    counts: dict[str, int] = Field(default_factory=dict)
    trials: int = 0
    errored_attempts: int = 0
    dropped_camera_attempts: int = 0
    sessions: int = 1
    gpio_loopback_ms: dict[str, float] | None = None
    identity: RunIdentity | None = None
    health: BenchHealth = Field(default_factory=BenchHealth)
    results: list[Result] = Field(default_factory=list)

    @property
    def judged(self) -> int:
        return len(self.results)


def overall(results: list[Result], unjudged: list[Unjudged]) -> Overall:
    """incomplete if anything was not judged, else fail on any failure, error on any error, else pass."""
    verdicts = {r.verdict for r in results}
    if unjudged or not results:
        return "incomplete"
    if "fail" in verdicts:
        return "fail"
    if "error" in verdicts:
        return "error"
    return "pass"


def read_certificate(path: Path) -> Certificate:
    return Certificate.model_validate(json.loads(path.read_text(encoding="utf-8")))


def atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def write_certificate(path: Path, cert: Certificate) -> Path:
    """Write atomically; never replace a certificate that judged more with one that judged less (a resume
    that could not reach the bench keeps the earlier certificate, and writes its own beside it)."""
    text = cert.model_dump_json(indent=2) + "\n"
    if path.exists():
        try:
            old = read_certificate(path)
        except (OSError, ValueError):
            old = None
        if old is not None and old.judged > cert.judged:
            path = path.with_name(f"{path.stem}.incomplete{path.suffix}")
    atomic_write(path, text)
    return path
