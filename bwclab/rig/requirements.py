"""A procurement spec as data (`fixtures/requirements/*.yaml`) and the verdict on a measurement.

Each requirement names a procedure and its parameters, the quantity it judges, a limit (`max`
or `min`), the units, how many trials, how many retries an errored trial gets, and which side
of the uncertainty is judged: `estimate` (the figure itself), `upper` or `lower` (the one-sided 95%
confidence bound on the unfavourable side, the cautious reading).

A spec is checked twice before any bench is touched: against the procedures' declared parameters
and measure options (`load_spec`), and against the bench it is to run on (`check_against_bench`):
an emitter kind, instrument or distance the bench lacks is refused, naming the requirement and field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, cast

from pydantic import Field, ValidationError, model_validator

from bwclab.bench.description import Bench
from bwclab.core.config import ConfigError, describe_errors, read_yaml, validate
from bwclab.core.strict import Line, Strict
from bwclab.rig.measurements import Limit, Measurement
from bwclab.rig.procedures import PROCEDURES
from bwclab.rig.procedures.declare import Options, Params, Procedure

Verdict = Literal["pass", "fail", "error", "not applicable"]


class Drift(Strict):
    """How a nightly comparison judges this requirement: the smallest change (in the quantity's units) that
    matters. A change whose 95% CI lies within +/- max_change reads `same` even when it is significant."""

    max_change: float = Field(default=0.0, ge=0, description="smallest change that matters (0: any)")


class Requirement(Strict):
    id: str = Field(pattern=r"^[A-Za-z][\w.-]{0,31}$")
    text: Line = Field(min_length=1)
    procedure: str
    params: dict[str, Any] = Field(default_factory=dict)
    quantity: str
    limit: Limit
    units: str = Field(default="", max_length=16)
    judge: Literal["estimate", "upper", "lower"] = "estimate"
    trials: int = Field(default=10, ge=1, le=100_000)
    retries: int = Field(default=2, ge=0, le=20)
    measure: dict[str, Any] = Field(default_factory=dict, description="options of the quantity, e.g. at_ft")
    optional: bool = Field(default=False, description="not applicable where the bench lacks what it needs")
    drift: Drift = Field(default_factory=Drift, description="night-to-night comparison (bwclab history compare)")

    @model_validator(mode="after")
    def _known(self) -> Requirement:
        if self.procedure not in PROCEDURES:
            raise ValueError(f"procedure {self.procedure!r} is not one of {sorted(PROCEDURES)}")
        if self.quantity not in self.proc.quantities:
            raise ValueError(f"quantity {self.quantity!r} of {self.procedure} is not one of "
                             f"{list(self.proc.quantities)}")
        return self

    @property
    def proc(self) -> Procedure[Any, Any, Any]:
        return PROCEDURES[self.procedure]

    def settings(self) -> Params:
        """The parameters as the procedure's model (validated at load)."""
        return cast(Params, self.proc.params.model_validate(self.params))

    def options(self) -> Options:
        return cast(Options, self.proc.options.model_validate(self.measure))

    @property
    def key(self) -> str:
        return self.proc.key(self.settings())


class Spec(Strict):
    name: Line = "requirements"
    not_applicable: Literal["allow", "forbid"] = Field(
        default="allow", description="forbid: a requirement a camera cannot serve refuses the run")
    requirements: list[Requirement] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Spec:
        seen: set[str] = set()
        for r in self.requirements:
            if r.id in seen:
                raise ValueError(f"requirement id {r.id!r} appears twice")
            seen.add(r.id)
        return self


def _where(i: int, req: Requirement) -> str:
    return f"requirements.{i} ({req.id})"


def load_spec(path: Path) -> Spec:
    """Read a spec; every requirement's params and measure options validated against its procedure."""
    spec = validate(Spec, read_yaml(path), path)
    problems: list[str] = []
    for i, req in enumerate(spec.requirements):
        for field, model, data in (("params", req.proc.params, req.params), ("measure", req.proc.options, req.measure)):
            try:
                model.model_validate(data)
            except ValidationError as err:
                problems += describe_errors(err, prefix=f"{_where(i, req)}.{field}")
    if problems:
        raise ConfigError(path, problems)
    return spec


def check_against_bench(spec: Spec, path: Path, bench: Bench, cameras: list[str]) -> None:
    """Refuse a spec that asks for what this bench lacks (an emitter kind, an instrument, a distance), unless
    the requirement is optional; with `not_applicable: forbid`, also one that a camera cannot serve."""
    problems: list[str] = []
    for i, req in enumerate(spec.requirements):
        where, params, options = _where(i, req), req.settings(), req.options()
        found: list[str] = []
        kind = getattr(params, "trigger", None)
        if kind is not None and kind not in bench.kinds():
            found.append(f"params.trigger: no {kind} emitter on bench {bench.name!r} "
                         f"(it has {', '.join(bench.kinds())})")
        for inst in req.proc.instruments:
            if getattr(bench.instruments, inst) is None:
                found.append(f"procedure: {req.procedure} needs the bench's {inst}, and bench {bench.name!r} has none")
        if req.proc.check is not None:
            found += req.proc.check(req.quantity, params, options, bench)
        if not req.optional:
            problems += [f"{where}.{p}" for p in found]
        if spec.not_applicable == "forbid":
            for s in cameras:
                why = next((w for n in req.proc.needs_for(req.quantity) if (w := bench.lacks(s, n))), None)
                if why:
                    problems.append(f"{where}: not applicable to camera {s} ({why}), and the spec forbids that")
    if problems:
        raise ConfigError(path, problems)


def unmet(req: Requirement, bench: Bench, camera: str) -> str | None:
    """Why this requirement does not apply to this camera on this bench (only an optional requirement may
    lack an emitter or instrument: the spec was checked against the bench), or None."""
    for need in req.proc.needs_for(req.quantity):
        why = bench.lacks(camera, need)
        if why:
            return why
    params = req.settings()
    kind = getattr(params, "trigger", None)
    if kind is not None and kind not in bench.kinds():
        return f"no {kind} emitter on this bench (optional requirement)"
    for inst in req.proc.instruments:
        if getattr(bench.instruments, inst) is None:
            return f"no {inst} on this bench (optional requirement)"
    found = req.proc.check(req.quantity, params, req.options(), bench) if req.proc.check is not None else []
    return f"{found[0]} (optional requirement)" if found else None


def verdict(req: Requirement, m: Measurement) -> Verdict:
    if m.value is None or m.unsure:
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
