"""A procurement spec as data (`fixtures/requirements/*.yaml`) and the verdict on a measurement.

Each requirement names a procedure and its parameters, the quantity it judges, a limit (`max`
or `min`) in the spec's units (the quantity's own, or units that convert to them exactly: `ms` for `s`,
`%` for a fraction, `m` for `ft`), how many trials, how many retries an errored trial gets, and which side
of the uncertainty is judged: `estimate` (the figure itself), `upper` or `lower` (the one-sided 95%
confidence bound on the unfavourable side, the cautious reading).

A spec is checked twice before any bench is touched: against the procedures' declared parameters,
measure options and units (`load_spec`), and against the bench and the cameras it is to run on
(`check_against_bench`): an emitter kind, instrument or distance the bench lacks, or wiring a camera lacks
(its indicator, console, supply channel, dock), is refused naming the requirement, the field or camera and
what is missing, unless the requirement is `optional`: only an optional requirement is ever not applicable.
"""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal, cast

from pydantic import Field, ValidationError, model_validator

from bwclab.bench.description import Bench
from bwclab.core.config import ConfigError, describe_errors, read_yaml, validate
from bwclab.core.strict import Line, Strict
from bwclab.rig.certificate import Grade
from bwclab.rig.measurements import Limit, Measurement, Units
from bwclab.rig.procedures import PROCEDURES
from bwclab.rig.procedures.declare import Options, Params, Procedure

Verdict = Literal["pass", "fail", "error", "not applicable"]


class DriftRule(Strict):
    """How a nightly comparison judges this requirement: the smallest change that matters (in the requirement's
    units, like the limit; the certificate gives it in the quantity's). A change whose 95% CI lies within
    +/- max_change reads `same` even when it is significant."""

    max_change: float = Field(default=0.0, ge=0, description="smallest change that matters, in the requirement's "
                                                          "units (0: any)")


class Requirement(Strict):
    id: str = Field(pattern=r"^[A-Za-z][\w.-]{0,31}$")
    text: Line = Field(min_length=1)
    procedure: str
    params: dict[str, Any] = Field(default_factory=dict)
    quantity: str
    limit: Limit
    units: str = Field(default="", max_length=16, description="the limit's units: the quantity's or ones that "
                                                               "convert to them exactly (ms for s, % for a fraction)")
    judge: Literal["estimate", "upper", "lower"] = "estimate"
    trials: int = Field(default=10, ge=1, le=100_000)
    retries: int = Field(default=2, ge=0, le=20)
    measure: dict[str, Any] = Field(default_factory=dict, description="options of the quantity, e.g. at_ft")
    optional: bool = Field(default=False, description="not applicable where the bench or a camera lacks what it "
                                                       "needs; else such a bench or camera refuses the run")
    drift: DriftRule = Field(default_factory=DriftRule, description="night-to-night comparison (history compare)")

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

    @property
    def quantity_units(self) -> Units:
        return self.proc.quantities[self.quantity].units

    @property
    def scale(self) -> Fraction:
        """The exact factor from the spec's units to the quantity's (checked at load)."""
        factor = self.quantity_units.factor(self.units)
        if factor is None:
            raise ValueError(f"requirement {self.id}: units {self.units!r} are not {self.quantity}'s")
        return factor

    @property
    def judged_limit(self) -> Limit:
        """The limit in the quantity's own units: what a measurement is compared with."""
        return self.limit.scaled(self.scale)

    @property
    def judged_max_change(self) -> float:
        """`drift.max_change` in the quantity's own units, as a comparison of nights reads it."""
        return float(Fraction(self.drift.max_change) * self.scale)

    def shown(self, x: float | None) -> float | None:
        """A figure in the quantity's units, in the spec's (for the report)."""
        return None if x is None else x / self.scale


class Spec(Strict):
    name: Line = "requirements"
    grade: Grade = Field(default="procurement", description="indicative: a quick look, never a procurement "
                                                           "verdict; every certificate from this spec says so")
    not_applicable: Literal["forbid"] = Field(
        default="forbid", description="a requirement a camera cannot serve refuses the run unless it is optional")
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
    """Read a spec; every requirement's params, measure options and units validated against its procedure."""
    spec = validate(Spec, read_yaml(path), path)
    problems: list[str] = []
    for i, req in enumerate(spec.requirements):
        for field, model, data in (("params", req.proc.params, req.params), ("measure", req.proc.options, req.measure)):
            try:
                model.model_validate(data)
            except ValidationError as err:
                problems += describe_errors(err, prefix=f"{_where(i, req)}.{field}")
        units = req.quantity_units
        if units.factor(req.units) is None:
            got = ("missing" if req.units == "" else f"{req.units!r} does not convert exactly to {units.name!r}"
                   if units.name else f"{req.units!r} given")
            problems.append(f"{_where(i, req)}.units: {got}: {req.quantity} of {req.procedure} is measured in "
                            f"{units.name or 'no units'}; expected one of {units.expected()}")
    if problems:
        raise ConfigError(path, problems)
    return spec


def check_against_bench(spec: Spec, path: Path, bench: Bench, cameras: list[str]) -> None:
    """Refuse a spec that asks for what this bench lacks (an emitter kind, an instrument, a distance) or what
    one of these cameras lacks (its indicator, console, supply channel, dock), unless the requirement is
    optional: a requirement is not applicable only where the spec says so."""
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
        if req.optional:
            continue
        problems += [f"{where}.{p}" for p in found]
        for s in cameras:
            for need in req.proc.needs_for(req.quantity):
                why = bench.lacks(s, need)
                if why:
                    problems.append(f"{where}: camera {s} cannot be judged: {why} ({req.procedure} needs its "
                                    f"{need}); wire it in bench {bench.name!r} or mark the requirement optional: true")
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
    """The measurement (in its quantity's units) against the limit converted to them."""
    if m.value is None or m.unsure:
        return "error"
    side = judged_value(req, m)
    if side is None:  # the data do not bound that side: cannot be shown to meet the limit
        return "fail"
    limit = req.judged_limit
    if limit.max is not None:
        return "pass" if side <= limit.max else "fail"
    assert limit.min is not None
    return "pass" if side >= limit.min else "fail"


def indicative(req: Requirement, m: Measurement) -> str:
    """Why a verdict on this measurement is indicative only, or "": judged on its estimate where the data do not
    bound the unfavourable side at 95% (too few trials). A count or extreme over the trials run is exact."""
    if req.judge != "estimate" or m.exact or m.value is None:
        return ""
    worse = "above" if req.limit.max is not None else "below"
    if worse == "above":
        bound = m.upper95 if m.upper95 is not None else m.high
    else:
        bound = m.lower95 if m.lower95 is not None else m.low
    if bound is not None and math.isfinite(bound):
        return ""
    return f"judged on its estimate: {m.n} trials do not bound {req.quantity} from {worse} at 95%"


def judged_value(req: Requirement, m: Measurement) -> Any:
    """The estimate, or its one-sided 95% bound on the chosen side (the CI's end where none is given)."""
    if req.judge == "lower":
        return m.lower95 if m.lower95 is not None else m.low
    if req.judge == "upper":
        return m.upper95 if m.upper95 is not None else m.high
    return m.value
