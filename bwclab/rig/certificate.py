"""`measurements.json`: the certificate of one run, one typed schema for its writer (the campaign) and its
readers (the CLI's table, the history). It says pass only when every requirement was judged on every
camera and none failed or erred (an optional requirement a camera cannot serve excepted); a run that
stopped early, or was narrowed on purpose (`-k`, `--camera` on a bench with other cameras), says
`incomplete`, lists what it did not judge and why, and how to finish. Its grade says whether the verdict
is one to procure on (`procurement`) or a quick look (`indicative`: the spec says so, or a requirement
was judged on an estimate its trials cannot bound), with the reasons.

Figures are in each quantity's own units (what was judged: a limit the spec gave in `ms` is here in
`s`); `spec_limit` and `spec_units` repeat the spec's own words."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bwclab.core.outfolder import atomic_write

CERTIFICATE_FORMAT = 2
Overall = Literal["pass", "fail", "error", "incomplete"]
Grade = Literal["procurement", "indicative"]
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
    spec_limit: dict[str, float] = Field(default_factory=dict, description="the limit as the spec gave it")
    spec_units: str = ""
    optional: bool = False
    value: Number = None
    judged_value: Number = None
    ci_low: Number = None
    ci_high: Number = None
    uncertainty: str = ""
    trials: int = 0
    note: str = ""
    observations: Observations | None = None
    drift_max_change: float = 0.0
    indicative: str = Field(default="", description="why this verdict is indicative only (an unbounded estimate)")


class Unjudged(Model):
    requirement: str
    camera: str
    why: Literal["not run", "deselected", "camera left out"] = Field(
        default="not run", description="the run stopped before it, or it was left out on purpose (-k, --camera)")


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
    """How the run went on the bench, counted from trials.sqlite's rows: attempts that errored (a whole step's or
    one camera's part), steps tried again, and which devices failed."""

    errored_attempts: int = 0
    retried_steps: int = Field(default=0, description="steps tried more than once, in any session")
    errors_by_device: dict[str, int] = Field(default_factory=dict, description="errored attempts by the device "
                                             "that failed (an instrument's role, a camera's serial), else by whose "
                                             "fault it was ('instrument', 'camera')")
    lost: str = ""


class Certificate(Model):
    format: Literal[2] = 2
    bench: str
    spec: str
    cameras: list[str]
    verdict: Overall
    reason: str = ""
    grade: Grade = "procurement"
    grade_reasons: list[str] = Field(default_factory=list)
    narrowed: str = Field(default="", description="how the run was narrowed on purpose (-k, --camera), if it was")
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


def _unserved(results: list[Result]) -> list[Result]:
    """Requirements not applicable that the spec did not make optional: not judged, whatever the cause."""
    return [r for r in results if r.verdict == "not applicable" and not r.optional]


def _idle(results: list[Result]) -> list[str]:
    """Cameras on which nothing at all was judged (every requirement not applicable)."""
    cameras = dict.fromkeys(r.camera for r in results)
    return [c for c in cameras if all(r.verdict == "not applicable" for r in results if r.camera == c)]


def overall(results: list[Result], unjudged: list[Unjudged]) -> Overall:
    """incomplete if anything was not judged (a requirement not applicable that the spec did not make optional
    was not judged either, nor was a camera on which every requirement was not applicable), else fail on any
    failure, error on any error, else pass."""
    verdicts = {r.verdict for r in results}
    if unjudged or not results or _unserved(results) or _idle(results):
        return "incomplete"
    if "fail" in verdicts:
        return "fail"
    if "error" in verdicts:
        return "error"
    return "pass"


def narrowing(selection: str, unjudged: list[Unjudged], camera: str | None, left_out: list[str]) -> str:
    """What a run narrowed on purpose left out, or "" when it was not narrowed."""
    parts = []
    skipped = list(dict.fromkeys(u.requirement for u in unjudged if u.why == "deselected"))
    if skipped:
        parts.append(f"{selection} left out {len(skipped)} requirement(s): {', '.join(skipped)}")
    if left_out:
        parts.append(f"--camera {camera} left out the bench's other camera(s) {', '.join(left_out)}")
    return ("narrowed on purpose: " + "; ".join(parts)) if parts else ""


def reason(results: list[Result], unjudged: list[Unjudged], stopped: str, narrowed: str) -> str:
    """Why a certificate is not final (every cause), or "" when it is."""
    parts = [(stopped or "the run ended before judging every requirement")] if any(
        u.why == "not run" for u in unjudged) else []
    if narrowed:
        parts.append(narrowed)
    unserved = _unserved(results)
    if unserved:
        parts.append("not applicable, and the spec does not make it optional: " + ", ".join(
            f"{r.requirement} on {r.camera} ({r.note})" for r in unserved[:10]))
    idle = _idle(results)
    if idle:
        parts.append(f"nothing was judged on {', '.join(idle)}: every requirement was not applicable")
    return "; ".join(parts)


def grade(spec_grade: Grade, spec_name: str, results: list[Result]) -> tuple[Grade, list[str]]:
    """The certificate's grade and why it is indicative: the spec says so, or a verdict rests on an estimate
    whose trials cannot bound it (each named)."""
    reasons = [f"the spec ({spec_name}) is graded indicative"] if spec_grade == "indicative" else []
    reasons += [f"{r.requirement} on {r.camera}: {r.indicative}" for r in results
                if r.indicative and r.verdict in ("pass", "fail")]
    return ("indicative" if reasons else "procurement"), reasons


def read_certificate(path: Path) -> Certificate:
    return Certificate.model_validate(json.loads(path.read_text(encoding="utf-8")))


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
