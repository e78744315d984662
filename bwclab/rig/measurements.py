"""A measurement as data: the quantity, its value, its uncertainty, the one-sided bounds a requirement
may be judged on, the units a quantity is measured in (with the spellings a spec may use for them), and
the helpers the procedures' measure functions share.

Every figure says how many trials are behind it and how sure it is: quantiles carry their
order-statistic CI and the timing path's own uncertainty, probabilities a Clopper-Pearson or
fitted-curve CI, counts are exact over the trials run.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from pydantic import model_validator

from bwclab.core.strict import Strict
from bwclab.rig.stats import clopper_pearson


@dataclass(frozen=True)
class Units:
    """The units a quantity is measured in (`name`, as measurements.json writes them), and each spelling a
    spec's `units` may use for them with its exact factor to them: a limit in `ms` is the limit in `s`
    times 1/1000. Two quantities may share a name and not their spellings: a fraction takes `%`, a count not."""

    name: str
    spellings: Mapping[str, Fraction]

    def factor(self, spelled: str) -> Fraction | None:
        """The exact factor from the spec's spelling to these units; None when it is not one of them."""
        return self.spellings.get(spelled)

    def expected(self) -> str:
        return ", ".join(repr(s) if s else "'' (none)" for s in self.spellings)


SECONDS = Units("s", {"s": Fraction(1), "ms": Fraction(1, 1000), "us": Fraction(1, 10**6), "min": Fraction(60)})
FEET = Units("ft", {"ft": Fraction(1), "m": Fraction(10_000, 3048), "in": Fraction(1, 12)})
FRACTION = Units("", {"": Fraction(1), "%": Fraction(1, 100)})
COUNT = Units("", {"": Fraction(1)})
FRAMES = Units("frames", {"frames": Fraction(1)})
PPM = Units("ppm", {"ppm": Fraction(1)})


@dataclass
class Measurement:
    quantity: str
    value: float | None
    units: str
    n: int
    low: float | None = None
    high: float | None = None
    uncertainty: str = ""
    note: str = ""
    lower95: float | None = None  # one-sided 95% confidence bounds: what `judge: lower|upper` reads
    upper95: float | None = None
    plot: dict[str, Any] = field(default_factory=dict)
    unsure: str = ""  # set when the trials cannot show either way (a failed control): never judged a pass
    exact: bool = False  # a count or extreme over the trials run, with no sampling uncertainty to bound


class NoData(Exception):
    """No usable trial for this camera: the cause is in the message."""


class Limit(Strict):
    max: float | None = None
    min: float | None = None

    @model_validator(mode="after")
    def _one(self) -> Limit:
        if (self.max is None) == (self.min is None):
            raise ValueError("a limit is exactly one of: max, min")
        return self

    def text(self, units: str) -> str:
        u = f" {units}" if units else ""
        return f"<= {self.max:g}{u}" if self.max is not None else f">= {self.min:g}{u}"

    def scaled(self, factor: Fraction) -> Limit:
        """The same limit in other units: each bound times the exact factor, rounded once."""
        def scale(x: float | None) -> float | None:
            return None if x is None else float(Fraction(x) * factor)
        return Limit(max=scale(self.max), min=scale(self.min))


def bound_text(x: float | None, spec: str) -> str:
    """A CI end, or "unbounded" where the data do not bound it."""
    return "unbounded" if x is None or not math.isfinite(x) else format(x, spec)


def fraction(quantity: str, ok: list[bool], what: str) -> Measurement:
    k, n = sum(ok), len(ok)
    est, one = clopper_pearson(k, n), clopper_pearson(k, n, level=0.90)
    return Measurement(quantity, est.value, "", n, est.low, est.high,
                       uncertainty=f"{k} of {n} {what}; 95% CI {est.low:.2f}-{est.high:.2f}",
                       lower95=one.low, upper95=one.high)


def count(quantity: str, counts: list[int], what: str, note: str = "") -> Measurement:
    return Measurement(quantity, float(sum(counts)), "", len(counts),
                       uncertainty=f"exact count over {len(counts)} {what}", note=note, exact=True)


def count_with_control(quantity: str, counted: list[bool], control: list[bool], what: str,
                       control_text: str) -> Measurement:
    """Activations that must not happen, with the control trigger that must start the camera noted."""
    deaf = sum(not c for c in control)
    m = count(quantity, [int(c) for c in counted], what)
    if deaf:
        m.unsure = (f"control failed: {control_text} in {deaf} of {len(control)} trials, so a camera that "
                    "ignores every trigger would pass: not judged")
    return m
