"""A procurement spec as data (`fixtures/requirements/*.yaml`) and the verdict on a measurement.

Each requirement names a procedure and its parameters, the quantity it judges, a limit (`max`
or `min`), the units, how many trials, how many retries an errored trial gets, and which side
of the uncertainty is judged: `estimate` (the figure itself), `upper` or `lower` (the one-sided 95%
confidence bound on the unfavourable side, the cautious reading).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bwclab.configfile import load
from rig.measurements import QUANTITIES, Measurement
from rig.procedures import PROCEDURES, procedure_key

Verdict = Literal["pass", "fail", "error", "not applicable"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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


class Requirement(Strict):
    id: str = Field(pattern=r"^[A-Za-z][\w.-]{0,31}$")
    text: str = Field(min_length=1)
    procedure: str
    params: dict[str, str | float | int | bool] = Field(default_factory=dict)
    quantity: str
    limit: Limit
    units: str = ""
    judge: Literal["estimate", "upper", "lower"] = "estimate"
    trials: int = Field(default=10, ge=1, le=100_000)
    retries: int = Field(default=2, ge=0, le=20)
    measure: dict[str, str | float | int | bool] = Field(default_factory=dict,
                                                         description="parameters of the quantity, e.g. at_ft")

    @model_validator(mode="after")
    def _known(self) -> Requirement:
        if self.procedure not in PROCEDURES:
            raise ValueError(f"procedure {self.procedure!r} is not one of {sorted(PROCEDURES)}")
        if self.quantity not in QUANTITIES[self.procedure]:
            raise ValueError(f"quantity {self.quantity!r} of {self.procedure} is not one of "
                             f"{list(QUANTITIES[self.procedure])}")
        return self

    @property
    def key(self) -> str:
        return procedure_key(self.procedure, dict(self.params))


class Spec(Strict):
    name: str = "requirements"
    requirements: list[Requirement] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Spec:
        seen: set[str] = set()
        for r in self.requirements:
            if r.id in seen:
                raise ValueError(f"requirement id {r.id!r} appears twice")
            seen.add(r.id)
        return self


def load_spec(path: Path) -> Spec:
    return load(Spec, path)


def verdict(req: Requirement, m: Measurement) -> Verdict:
    if m.value is None:
        return "error"
    side = judged_value(req, m)
    if side is None:  # the data do not bound that side: cannot be shown to meet the limit
        return "fail"
    if req.limit.max is not None:
        return "pass" if side <= req.limit.max else "fail"
    assert req.limit.min is not None
    return "pass" if side >= req.limit.min else "fail"


def judged_value(req: Requirement, m: Measurement) -> Any:
    """The estimate, or its one-sided 95% bound on the chosen side (the CI's end where none is given)."""
    if req.judge == "lower":
        return m.lower95 if m.lower95 is not None else m.low
    if req.judge == "upper":
        return m.upper95 if m.upper95 is not None else m.high
    return m.value
