"""A measured device profile: what the rig measured of one camera, as the fleet simulator applies it.

It carries properties of the device only, never of the bench it was measured on: the detection
curve per trigger with its uncertainty, latency samples per trigger, the buffer's error against the
length it was configured to, whether audio appeared in the buffer, and the device's identity.
Written by `bwclab rig certify` (`<serial>/profile.yaml`), read by `bwclab sim shift --profile`.
"""

from __future__ import annotations

import math
import statistics
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, field_validator, model_validator

from bwclab.core.config import ConfigError, read_yaml, validate
from bwclab.core.strict import Line, Seconds, Strict, Token
from bwclab.core.triggers import TriggerKind

PROFILE_FORMAT = 2


class Identity(Strict):
    serial: Token
    model: Token | None = None
    firmware: Token | None = None


class ProbitCurve(Strict):
    """P(d) = Phi(a + b ln d), d in feet, fitted by maximum likelihood from `broadcasts` hit/miss trials;
    `cov` is the covariance of (a, b): the curve's uncertainty."""

    kind: Literal["probit"] = "probit"
    a: float
    b: float = Field(lt=0, description="negative: detection falls with distance")
    cov: tuple[tuple[float, float], tuple[float, float]]
    broadcasts: int = Field(ge=1)

    @field_validator("cov")
    @classmethod
    def _positive_definite(cls, cov: tuple[tuple[float, float], tuple[float, float]]
                           ) -> tuple[tuple[float, float], tuple[float, float]]:
        """A covariance is symmetric and positive definite: a negative variance or a singular matrix cannot
        be the uncertainty of a fit, and would draw no curves (or nonsense) in `sim compare`."""
        (var_a, cov_ab), (cov_ba, var_b) = cov
        if var_a <= 0 or var_b <= 0:
            raise ValueError("expected a covariance of (a, b): its variances (the diagonal) must be above 0")
        if abs(cov_ab - cov_ba) > 1e-9 * math.sqrt(var_a * var_b):
            raise ValueError("expected a covariance of (a, b): symmetric, [[var a, cov], [cov, var b]]")
        det = var_a * var_b - cov_ab * cov_ba
        if det <= 0:
            raise ValueError(f"expected a covariance of (a, b): positive definite, its determinant above 0 (this "
                             f"one's is {det:.3g}: singular, or a and b correlated beyond -1 or 1)")
        return cov

    def distance_ft(self, p: float) -> float:
        from statistics import NormalDist

        return math.exp((NormalDist().inv_cdf(p) - self.a) / self.b)


class LatencySamples(Strict):
    samples_s: list[Seconds] = Field(min_length=1, description="trigger edge to recording, per trial that activated")
    misses: int = Field(default=0, ge=0, description="trials that did not activate within the window")


class BufferMeasured(Strict):
    configured_s: Seconds
    measured_s: list[Seconds] = Field(min_length=1)

    @property
    def shortfall_s(self) -> float:
        """How much less pre-event video the device keeps than it was configured to (never negative)."""
        return max(0.0, self.configured_s - statistics.median(self.measured_s))


class AudioMeasured(Strict):
    configured_in_buffer: bool
    found_in_buffer: bool


class Provenance(Strict):
    bench: Line = ""
    spec: Line = ""
    run: Line = ""
    measured_at: Line = ""
    grade: Literal["procurement", "indicative", "unknown"] = Field(
        default="unknown", description="the certificate's grade (indicative: a quick look, not a procurement "
                                       "verdict); unknown in a profile written before grades were recorded")


class DeviceProfile(Strict):
    format: Literal[2]
    device: Identity
    detection: dict[TriggerKind, ProbitCurve] = Field(default_factory=dict)
    latency: dict[TriggerKind, LatencySamples] = Field(default_factory=dict)
    buffer: BufferMeasured | None = None
    audio: AudioMeasured | None = None
    measured: Provenance = Field(default_factory=Provenance)

    @model_validator(mode="before")
    @classmethod
    def _format(cls, data: Any) -> Any:
        if isinstance(data, dict):
            fmt = data.get("format")
            if fmt is None:
                raise ValueError("format: missing. This is not a device profile of format 2 (profiles written "
                                 "before format 2 have none): certify the camera again to write one")
            if fmt != PROFILE_FORMAT:
                raise ValueError(f"format: {fmt!r} is not known to this bwclab (it reads format {PROFILE_FORMAT})")
        return data


def load_profile(path: Path) -> DeviceProfile:
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(path, ["(top level): expected a device profile (a mapping with format: 2)"])
    return validate(DeviceProfile, data, path)


def dump_profile(profile: DeviceProfile) -> str:
    return yaml.safe_dump(profile.model_dump(mode="json", exclude_none=True), sort_keys=False)
