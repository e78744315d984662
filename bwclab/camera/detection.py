"""Detection probability against distance, P(d), and its inverse.

A camera-broadcast pair draws one uniform U; the camera hears the broadcast once its
distance falls to P^-1(U), its effective radius for that broadcast. For a camera standing
still at d this gives exactly P(d); for a moving one it gives a well-defined entry time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from statistics import NormalDist
from typing import Protocol

import numpy as np
from numpy.typing import NDArray
from scipy import special

TAIL = 1e-6
"""Effective radii are drawn from u in [TAIL, 1 - TAIL]: a camera-broadcast pair hears from beyond the curve's
TAIL radius with probability TAIL at most, which bounds how far any broadcast need be solved for."""


class DetectionCurve(Protocol):
    def probability(self, distance_ft: NDArray[np.float64]) -> NDArray[np.float64]: ...

    def radius_for(self, u: NDArray[np.float64]) -> NDArray[np.float64]: ...

    def radius_of(self, u: float) -> float: ...

    @property
    def max_radius_ft(self) -> float: ...


@dataclass(frozen=True)
class LogisticCurve:
    """P(d) = 1 / (1 + exp((d - r50) / slope)): r50 where half the attempts succeed."""

    r50_ft: float
    slope_ft: float

    def probability(self, distance_ft: NDArray[np.float64]) -> NDArray[np.float64]:
        z = np.clip((np.asarray(distance_ft, dtype=float) - self.r50_ft) / self.slope_ft, -700, 700)
        return np.asarray(1.0 / (1.0 + np.exp(z)), dtype=float)

    def radius_for(self, u: NDArray[np.float64]) -> NDArray[np.float64]:
        u = np.clip(np.asarray(u, dtype=float), TAIL, 1 - TAIL)
        r = self.r50_ft + self.slope_ft * np.log(1.0 / u - 1.0)
        return np.asarray(np.maximum(r, -1.0), dtype=float)  # negative: never heard

    def radius_of(self, u: float) -> float:
        u = min(max(u, TAIL), 1 - TAIL)
        return max(self.r50_ft + self.slope_ft * math.log(1.0 / u - 1.0), -1.0)

    @property
    def max_radius_ft(self) -> float:
        return self.radius_of(TAIL)


@dataclass(frozen=True)
class StepCurve:
    """Every camera within `radius_ft` hears, none beyond."""

    radius_ft: float

    def probability(self, distance_ft: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray(np.asarray(distance_ft, dtype=float) <= self.radius_ft, dtype=float)

    def radius_for(self, u: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.full(np.shape(u), self.radius_ft, dtype=float)

    def radius_of(self, u: float) -> float:
        return self.radius_ft

    @property
    def max_radius_ft(self) -> float:
        return self.radius_ft


@dataclass(frozen=True)
class TableCurve:
    """A measured curve: P at given distances, linear between them, non-increasing."""

    distance_ft: tuple[float, ...]
    probability_at: tuple[float, ...]

    def __post_init__(self) -> None:
        d = np.asarray(self.distance_ft)
        p = np.asarray(self.probability_at)
        if len(d) < 2 or len(d) != len(p):
            raise ValueError("a table curve needs two or more (distance, probability) points")
        if np.any(np.diff(d) <= 0):
            raise ValueError("table distances must increase")
        if np.any(np.diff(p) > 1e-12) or np.any((p < 0) | (p > 1)):
            raise ValueError("table probabilities must lie in 0..1 and must not increase")

    def probability(self, distance_ft: NDArray[np.float64]) -> NDArray[np.float64]:
        p = np.interp(distance_ft, self.distance_ft, self.probability_at)
        return np.asarray(p, dtype=float)

    def radius_for(self, u: NDArray[np.float64]) -> NDArray[np.float64]:
        u = np.asarray(u, dtype=float)
        d = np.asarray(self.distance_ft)
        p = np.asarray(self.probability_at)
        # invert a non-increasing curve: interpolate distance on reversed probability
        r = np.interp(u, p[::-1], d[::-1], left=d[-1], right=-1.0)
        return np.asarray(np.where(u > p[0], -1.0, r), dtype=float)

    def radius_of(self, u: float) -> float:
        return float(self.radius_for(np.array([u]))[0])

    @property
    def max_radius_ft(self) -> float:
        return float(self.distance_ft[-1])


@dataclass(frozen=True)
class LogNormalCurve:
    """P(d) = Phi(a + b ln d), d in feet, b < 0 (a log-normal fall-off): the form of the rig's probit fit, and the
    radio's own shape (a log-distance path loss with a normal fade in dB: b = -10 n / (sigma ln 10),
    a = -b ln r50)."""

    a: float
    b: float

    @classmethod
    def shadowed(cls, r50_ft: float, shadowing_db: float, exponent: float) -> LogNormalCurve:
        b = -10.0 * exponent / (shadowing_db * math.log(10.0))
        return cls(-b * math.log(r50_ft), b)

    def probability(self, distance_ft: NDArray[np.float64]) -> NDArray[np.float64]:
        d = np.maximum(np.asarray(distance_ft, dtype=float), 1e-9)
        return np.asarray(special.ndtr(self.a + self.b * np.log(d)), dtype=float)

    def radius_for(self, u: NDArray[np.float64]) -> NDArray[np.float64]:
        u = np.clip(np.asarray(u, dtype=float), TAIL, 1 - TAIL)
        return np.asarray(np.exp((special.ndtri(u) - self.a) / self.b), dtype=float)

    def radius_of(self, u: float) -> float:
        u = min(max(u, TAIL), 1 - TAIL)
        return math.exp((_NORMAL.inv_cdf(u) - self.a) / self.b)

    @property
    def max_radius_ft(self) -> float:
        return self.radius_of(TAIL)


@dataclass(frozen=True)
class ScaledCurve:
    """A curve for an emitter with extra loss (a body, a car): `loss_db` more path loss shrinks every radius by
    10^(loss_db / (10 n)) under log-distance path loss with exponent n."""

    base: DetectionCurve
    loss_db: float
    exponent: float = 2.0

    @cached_property
    def factor(self) -> float:
        return float(10 ** (self.loss_db / (10.0 * self.exponent)))

    def probability(self, distance_ft: NDArray[np.float64]) -> NDArray[np.float64]:
        return self.base.probability(np.asarray(distance_ft, dtype=float) * self.factor)

    def radius_for(self, u: NDArray[np.float64]) -> NDArray[np.float64]:
        r = self.base.radius_for(u)
        return np.asarray(np.where(r < 0, r, r / self.factor), dtype=float)

    def radius_of(self, u: float) -> float:
        r = self.base.radius_of(u)
        return r if r < 0 else r / self.factor

    @property
    def max_radius_ft(self) -> float:
        return self.base.max_radius_ft / self.factor


_NORMAL = NormalDist()
