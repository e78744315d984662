"""A procedure declared as one object: its parameters and measure options (pydantic models, so a spec is
checked against them at load), the row each step gives a camera, the quantities it yields and their units,
what a camera needs for it to apply, the instruments it cannot run without, its plot, and what its trials
give beyond the verdict: the observations a night-to-night comparison pools, and its part of a device profile.
A campaign reads only these declarations: adding a procedure is adding its module."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from bwclab.bench.description import Bench
from bwclab.core.profile import AudioMeasured, BufferMeasured, LatencySamples, ProbitCurve
from bwclab.core.strict import Strict
from bwclab.core.triggers import TriggerKind
from bwclab.rig.certificate import Observations
from bwclab.rig.measurements import Limit, Measurement, Units
from bwclab.rig.procedures.base import Context, Plan
from bwclab.rig.trials import Row

Need = Literal["indicator", "console", "psu", "dock"]


class Params(Strict):
    """A procedure's parameters: `params:` of a requirement."""


class TriggerParams(Params):
    """Parameters of a procedure that fires one emitter: its kind (default: the bench's first emitter)."""

    trigger: TriggerKind | None = None


class Options(Strict):
    """Options of the quantity judged: `measure:` of a requirement."""


P = TypeVar("P", bound=Params)
Q = TypeVar("Q", bound=Options)
R = TypeVar("R", bound=Row)


@dataclass(frozen=True)
class Quantity:
    units: Units
    text: str
    needs: tuple[Need, ...] = ()  # what a camera needs for this quantity, beyond the procedure's own needs


@dataclass(frozen=True)
class ProfilePart:
    """What one procedure's trials say of a camera as the fleet simulator models it (bwclab/core/profile.py),
    per trigger kind where the property depends on it. Parts are merged in spec order, the first one to
    say a thing keeps it."""

    detection: dict[TriggerKind, ProbitCurve] = field(default_factory=dict)
    latency: dict[TriggerKind, LatencySamples] = field(default_factory=dict)
    buffer: BufferMeasured | None = None
    audio: AudioMeasured | None = None

    def then(self, later: ProfilePart) -> ProfilePart:
        """This part, with what only `later` says added."""
        buffer, audio = (self.buffer, self.audio) if self.buffer is not None else (later.buffer, later.audio)
        return ProfilePart(detection=_first(self.detection, later.detection),
                           latency=_first(self.latency, later.latency), buffer=buffer, audio=audio)

    @property
    def empty(self) -> bool:
        return not (self.detection or self.latency or self.buffer)


K = TypeVar("K")
V = TypeVar("V")


def _first(earlier: dict[K, V], later: dict[K, V]) -> dict[K, V]:
    return earlier | {k: v for k, v in later.items() if k not in earlier}


def value_observations(_rows: list[Any], m: Measurement) -> Observations:
    """What a comparison of nights pools of most quantities: the measured value of each run."""
    return Observations(samples=[m.value] if m.value is not None and math.isfinite(m.value) else [])


@dataclass(frozen=True)
class Procedure(Generic[P, Q, R]):
    name: str
    summary: str
    params: type[P]
    options: type[Q]
    row: type[R]
    quantities: Mapping[str, Quantity]
    needs: tuple[Need, ...]
    run: Callable[[Context, Plan, P], None]
    measure: Callable[[str, list[R], Q], Measurement]
    plot: Callable[[str, Limit, Measurement], str | None] | None = None
    instruments: tuple[Literal["psu", "scope"], ...] = ()
    check: Callable[[str, P, Q, Bench], list[str]] | None = None
    observe: Callable[[list[R], Measurement], Observations] = value_observations
    profile: Callable[[list[R], TriggerKind], ProfilePart] | None = None  # its part of a device profile

    def needs_for(self, quantity: str) -> tuple[Need, ...]:
        return self.needs + self.quantities[quantity].needs

    def key(self, params: P) -> str:
        """The trials key: the procedure and every parameter, defaults included, so equal runs share trials."""
        values = params.model_dump(mode="json")
        return " ".join([self.name, *(f"{k}={values[k]}" for k in sorted(values) if values[k] is not None)])
