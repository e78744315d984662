"""Random quantities in a scenario: a constant, a [low, high] range, or a named distribution."""

from __future__ import annotations

import math
from functools import cached_property
from typing import Annotated, Literal, Protocol

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from bwclab.core.strict import Strict


class Draws(Protocol):
    """What a distribution samples from: a numpy Generator, or the model's keyed streams."""

    def random(self) -> float: ...

    def uniform(self, low: float = 0.0, high: float = 1.0) -> float: ...

    def exponential(self, scale: float = 1.0) -> float: ...

    def lognormal(self, mean: float = 0.0, sigma: float = 1.0) -> float: ...

    def gamma(self, shape: float, scale: float = 1.0) -> float: ...

    def beta(self, a: float, b: float) -> float: ...


class Dist(Strict):
    """`dist` is constant, uniform, exponential, lognormal, gamma or beta.

    constant needs `value`; uniform `low` and `high`; exponential `mean`;
    lognormal and gamma `mean` and `cv` (coefficient of variation); beta `a` and `b` (in 0..1).
    """

    dist: Literal["constant", "uniform", "exponential", "lognormal", "gamma", "beta"]
    value: float | None = None
    low: float | None = None
    high: float | None = None
    mean: float | None = Field(default=None, gt=0)
    cv: float | None = Field(default=None, gt=0)
    a: float | None = Field(default=None, gt=0)
    b: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _needs(self) -> Dist:
        need = {
            "constant": ("value",),
            "uniform": ("low", "high"),
            "exponential": ("mean",),
            "lognormal": ("mean", "cv"),
            "gamma": ("mean", "cv"),
            "beta": ("a", "b"),
        }[self.dist]
        missing = [n for n in need if getattr(self, n) is None]
        if missing:
            raise ValueError(f"a {self.dist} distribution needs {', '.join(missing)}")
        if self.dist == "uniform" and self.low is not None and self.high is not None and self.high < self.low:
            raise ValueError("uniform needs low <= high")
        return self

    def sample(self, rng: Draws) -> float:
        kind, p, q = self.params
        if kind == "uniform":
            return float(rng.uniform(p, q))
        if kind == "constant":
            return p
        if kind == "lognormal":
            return float(rng.lognormal(p, q))
        if kind == "exponential":
            return float(rng.exponential(p))
        if kind == "gamma":
            return float(rng.gamma(p, q))
        return float(rng.beta(p, q))

    @cached_property
    def params(self) -> tuple[str, float, float]:
        """What `sample` draws with, worked out once (a distribution is drawn from millions of times): the kind
        and two numbers (uniform: low, high; constant: the value; lognormal: mu, sigma; gamma: shape, scale;
        beta: a, b; exponential: the mean)."""
        d = self.dist
        if d == "constant":
            return d, float(self.value), 0.0  # type: ignore[arg-type]
        if d == "uniform":
            return d, float(self.low), float(self.high)  # type: ignore[arg-type]
        if d == "beta":
            return d, float(self.a), float(self.b)  # type: ignore[arg-type]
        mean = float(self.mean)  # type: ignore[arg-type]
        if d == "exponential":
            return d, mean, 0.0
        cv = float(self.cv)  # type: ignore[arg-type]
        if d == "lognormal":
            s2 = math.log1p(cv * cv)
            return d, math.log(mean) - s2 / 2, math.sqrt(s2)
        shape = 1.0 / (cv * cv)
        return d, shape, mean / shape

    def expected(self) -> float:
        if self.dist == "constant":
            return float(self.value)  # type: ignore[arg-type]
        if self.dist == "beta":
            return float(self.a) / (float(self.a) + float(self.b))  # type: ignore[arg-type]
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


def _fraction(d: Dist) -> Dist:
    if d.dist == "constant" and d.value is not None and not 0 <= d.value <= 1:
        raise ValueError(f"a probability is within 0..1 (got {d.value:g})")
    if d.dist == "uniform" and d.low is not None and d.high is not None and not 0 <= d.low <= d.high <= 1:
        raise ValueError("a probability range is within 0..1")
    if d.dist not in ("constant", "uniform", "beta"):
        raise ValueError("a probability is a number, a [low, high] range within 0..1, or a beta distribution")
    return d


Share = Annotated[Dist, BeforeValidator(_coerce), AfterValidator(_fraction)]
"""A probability that may vary (between officers, say): a number, a range, or {dist: beta, a, b}."""


def _never_negative(d: Dist) -> Dist:
    lowest = {"constant": d.value, "uniform": d.low}.get(d.dist, 0.0)
    if lowest is not None and lowest < 0:
        raise ValueError(f"a duration or distance cannot be negative (got {d.dist} reaching {lowest:g})")
    return d


NonNegative = Annotated[Dist, BeforeValidator(_coerce), AfterValidator(_never_negative)]
"""A DistSpec that can never draw a negative value: every duration and distance."""

