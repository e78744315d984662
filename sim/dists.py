"""Random quantities in a scenario: a constant, a [low, high] range, or a named distribution."""

from __future__ import annotations

import math
from typing import Annotated, Literal

import numpy as np
from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from core.strict import Strict


class Dist(Strict):
    """`dist` is constant, uniform, exponential, lognormal or gamma.

    constant needs `value`; uniform `low` and `high`; exponential `mean`;
    lognormal and gamma `mean` and `cv` (coefficient of variation).
    """

    dist: Literal["constant", "uniform", "exponential", "lognormal", "gamma"]
    value: float | None = None
    low: float | None = None
    high: float | None = None
    mean: float | None = Field(default=None, gt=0)
    cv: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _needs(self) -> Dist:
        need = {
            "constant": ("value",),
            "uniform": ("low", "high"),
            "exponential": ("mean",),
            "lognormal": ("mean", "cv"),
            "gamma": ("mean", "cv"),
        }[self.dist]
        missing = [n for n in need if getattr(self, n) is None]
        if missing:
            raise ValueError(f"a {self.dist} distribution needs {', '.join(missing)}")
        if self.dist == "uniform" and self.low is not None and self.high is not None and self.high < self.low:
            raise ValueError("uniform needs low <= high")
        return self

    def sample(self, rng: np.random.Generator) -> float:
        d = self.dist
        if d == "constant":
            return float(self.value)  # type: ignore[arg-type]
        if d == "uniform":
            return float(rng.uniform(self.low, self.high))  # type: ignore[arg-type]
        mean = float(self.mean)  # type: ignore[arg-type]
        if d == "exponential":
            return float(rng.exponential(mean))
        cv = float(self.cv)  # type: ignore[arg-type]
        if d == "lognormal":
            s2 = math.log1p(cv * cv)
            return float(rng.lognormal(math.log(mean) - s2 / 2, math.sqrt(s2)))
        shape = 1.0 / (cv * cv)
        return float(rng.gamma(shape, mean / shape))

    def expected(self) -> float:
        if self.dist == "constant":
            return float(self.value)  # type: ignore[arg-type]
        if self.dist == "uniform":
            return (float(self.low) + float(self.high)) / 2  # type: ignore[arg-type]
        return float(self.mean)  # type: ignore[arg-type]


def _coerce(v: object) -> object:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return {"dist": "constant", "value": v}
    if isinstance(v, (list, tuple)):
        if len(v) != 2:
            raise ValueError("a range is [low, high]")
        return {"dist": "uniform", "low": v[0], "high": v[1]}
    return v


DistSpec = Annotated[Dist, BeforeValidator(_coerce)]
"""A number (constant), a [low, high] list (uniform) or a {dist: ...} mapping."""


def _never_negative(d: Dist) -> Dist:
    lowest = {"constant": d.value, "uniform": d.low}.get(d.dist, 0.0)
    if lowest is not None and lowest < 0:
        raise ValueError(f"a duration or distance cannot be negative (got {d.dist} reaching {lowest:g})")
    return d


Duration = Annotated[Dist, BeforeValidator(_coerce), AfterValidator(_never_negative)]
"""A DistSpec that can never draw a negative value: every duration and distance."""

