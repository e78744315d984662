"""A procedure declared as one object: its parameters and measure options (pydantic models, so a spec is
checked against them at load), the row each step gives a camera, the quantities it yields, what a camera
needs for it to apply, the instruments it cannot run without, and its plot."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

from bwclab.bench.description import Bench
from bwclab.core.strict import Strict
from bwclab.core.triggers import TriggerKind
from bwclab.rig.measurements import Limit, Measurement
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
    units: str
    text: str
    needs: tuple[Need, ...] = ()  # what a camera needs for this quantity, beyond the procedure's own needs


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

    def needs_for(self, quantity: str) -> tuple[Need, ...]:
        return self.needs + self.quantities[quantity].needs

    def key(self, params: P) -> str:
        """The trials key: the procedure and every parameter, defaults included, so equal runs share trials."""
        values = params.model_dump(mode="json")
        return " ".join([self.name, *(f"{k}={values[k]}" for k in sorted(values) if values[k] is not None)])
