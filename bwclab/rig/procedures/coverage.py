"""2. Radius coverage: activation probability against distance, every camera at once, each at its
own distance (its own attenuator channel), distances chosen adaptively.

Design, per camera (each has its own curve): until a probit curve can be fitted, the camera
brackets the edge: farther after a hit, nearer after a miss, then bisecting the gap. Then it is
put where its current fit says P is 0.97, 0.95, 0.87 and 0.3 in turn. r95 is best pinned by
broadcasts at r95 itself (the c-optimal design for one quantile puts every trial there); the
points either side, and the one below the centre, keep the slope, and with it P(30 ft),
identified. Every `at_every`-th broadcast puts the camera at the requirement's distance (`at_ft`):
direct evidence where the verdict is given, should a real camera's curve not be the probit's shape.
The run stops when the requirement's trial count is reached or r95's CI is narrower than
`target_ft` either side.
benchmarks/coverage_design.py measures the design against a fixed grid and the previous targets.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from pydantic import Field

from bwclab.bench.description import Bench
from bwclab.core.profile import ProbitCurve
from bwclab.core.strict import Feet
from bwclab.core.triggers import TriggerKind
from bwclab.rig import plots
from bwclab.rig.certificate import Observations
from bwclab.rig.measurements import FEET, FRACTION, Measurement, NoData, bound_text
from bwclab.rig.procedures.base import Context, Plan, run_steps
from bwclab.rig.procedures.declare import Options, Procedure, ProfilePart, Quantity, TriggerParams
from bwclab.rig.stats import Estimate, ProbitFit, fit_probit
from bwclab.rig.trials import Row, StepResult

TARGETS = (0.97, 0.95, 0.87, 0.3)  # r95 and either side of it, and one below the centre for the slope
MIN_ROUNDS = 5
AT_EVERY = 4  # every 4th broadcast at the requirement's distance
SPREAD = (-0.3, 0.15, -0.15, 0.3, 0.0)  # ln-distance offsets around the edge before a fit exists


class CoverageParams(TriggerParams):
    at_ft: Feet = Field(default=30.0, gt=0, description="the requirement's distance: every at_every-th broadcast")
    near_ft: Feet = Field(default=5.0, gt=0)
    far_ft: Feet = Field(default=150.0, gt=0)
    target_ft: Feet = Field(default=0.0, description="stop once r95's CI is this narrow either side (0: never)")
    at_every: int = Field(default=AT_EVERY, ge=0, le=100, description="0: no broadcasts at at_ft")


class CoverageOptions(Options):
    at_ft: Feet | None = Field(default=None, gt=0, description="where p_at is judged")


class CoverageRow(Row):
    distance_ft: float
    activated: bool


def observations(done: list[StepResult], camera: str) -> tuple[list[float], list[bool]]:
    rows = [CoverageRow.model_validate(r.cameras[camera]) for r in done if camera in r.cameras]
    return [r.distance_ft for r in rows], [r.activated for r in rows]


def undetermined(done: list[StepResult], cams: list[str]) -> list[str]:
    """The cameras whose broadcasts so far fit no probit curve (one outcome only, or separated by distance)."""
    return [s for s in cams if fit_probit(*observations(done, s)) is None]


def turn(seq: int, index: int, at_every: int) -> int | None:
    """The camera's turn in the design cycle at step `seq`, or None when this broadcast is at the
    requirement's distance. `index` staggers the cameras, so they are not all at 30 ft at once."""
    n = seq + index
    if at_every > 0 and n % at_every == at_every - 1:
        return None
    return n - n // at_every if at_every > 0 else n


def next_distance(done: list[StepResult], camera: str, index: int, turn_no: int, near_ft: float,
                  far_ft: float, targets: tuple[float, ...] = TARGETS) -> float:
    """Each camera's own curve decides its next distance; `turn_no` (see `turn`) walks the targets."""
    d, y = observations(done, camera)
    fit = fit_probit(d, y)
    if fit is not None:
        p = targets[turn_no % len(targets)]
        return float(np.clip(fit.distance(p), near_ft, far_ft))
    if not d:  # start spread over the bracket, one camera at each log-spaced point
        return float(np.geomspace(near_ft, far_ft, 5)[(index * 2 + 1) % 5])
    heard = [x for x, ok in zip(d, y, strict=True) if ok]
    missed = [x for x, ok in zip(d, y, strict=True) if not ok]
    if not missed:
        return float(min(max(heard) * 2, far_ft))
    if not heard:
        return float(max(min(missed) / 2, near_ft))
    lo, hi = max(heard), min(missed)
    if hi / lo > 1.3:  # a wide gap: bisect it (in log distance)
        return float(np.sqrt(lo * hi))
    # the edge is found but the slope is not: spread around it until outcomes overlap enough to fit
    centre = np.sqrt(lo * hi)
    return float(np.clip(centre * np.exp(SPREAD[turn_no % len(SPREAD)]), near_ft, far_ft))


def _within(r95: Estimate | None, target_ft: float) -> bool:
    return r95 is not None and r95.low is not None and r95.high is not None and (r95.high - r95.low) / 2 <= target_ft


def converged(done: list[StepResult], cams: list[str], target_ft: float) -> bool:
    """Every camera's r95 CI within +/-target_ft: first by the cheap delta method, then, once that
    says so, by the profile-likelihood CI the report gives (the delta method's is too narrow)."""
    if len(done) < MIN_ROUNDS:
        return False
    fits = [fit_probit(*observations(done, s)) for s in cams]
    if not all(f is not None and _within(f.radius_wald(0.95), target_ft) for f in fits):
        return False
    return all(f is not None and _within(f.radius(0.95), target_ft) for f in fits)


def run(ctx: Context, plan: Plan, p: CoverageParams) -> None:
    emitter = ctx.emitter_for(p.trigger)
    cams = everyone = list(ctx.cameras)
    st = ctx.station
    far = min(p.far_ft, ctx.bench.distance_range_ft()[1])
    done: list[StepResult] = []  # the results so far, read once per broadcast

    def step(seq: int, cams: list[str]) -> StepResult:
        cams = ctx.ensure_idle(cams)
        rows: dict[str, dict[str, Any]] = {}
        for s in cams:
            i = everyone.index(s)  # a camera keeps its place in the stagger when retried alone
            k = turn(seq, i, p.at_every)
            want = p.at_ft if k is None else next_distance(done, s, i, k, p.near_ft, far)
            rows[s] = {"distance_ft": st.set_distance(s, want), "activated": False}
        t0 = st.fire(emitter)
        deadline = time.monotonic() + ctx.window_s(emitter)
        waiting = set(cams)
        while waiting and time.monotonic() < deadline:
            for s in list(waiting):
                if st.wait_indicator(s, t0, 0.0) is not None:
                    rows[s]["activated"] = True
                    waiting.discard(s)
            if waiting:
                time.sleep(0.01)
        ctx.finish_step(emitter, {s: rows[s]["activated"] for s in cams})
        return StepResult.of({s: CoverageRow.model_validate(r) for s, r in rows.items()}, fired_ns=t0,
                             emitter=emitter)

    for seq in range(plan.trials):
        done = [t.result for t in ctx.store.trials(plan.key) if t.status == "ok"]
        if p.target_ft > 0 and converged(done, cams, p.target_ft):
            break
        run_steps(ctx, plan, cams, step, upto=seq + 1)
    # At its trial count a camera's broadcasts may not determine a curve yet (all one outcome, or hits and misses
    # separated by distance: likelier the steeper the curve). Rather than an error, up to half as many more, each
    # put where the design puts it, until every camera's do; the certificate counts the broadcasts it used.
    for seq in range(plan.trials, plan.trials + plan.trials // 2):
        done = [t.result for t in ctx.store.trials(plan.key) if t.status == "ok"]
        short = undetermined(done, cams)
        if not short:
            break
        ctx.progress(f"{plan.key}: {', '.join(short)}: the broadcasts do not determine a curve yet; one more")
        run_steps(ctx, plan, cams, step, upto=seq + 1)


def fit(rows: list[CoverageRow]) -> ProbitFit:
    fitted = fit_probit([r.distance_ft for r in rows], [r.activated for r in rows])
    if fitted is None:
        raise NoData(f"the {len(rows)} broadcasts do not determine a curve yet (all one outcome or separated)")
    return fitted


def measure(quantity: str, rows: list[CoverageRow], o: CoverageOptions) -> Measurement:
    d = [r.distance_ft for r in rows]
    f = fit(rows)
    plot: dict[str, Any] = {"distance_ft": d, "activated": [r.activated for r in rows], "a": f.a, "b": f.b,
                            "cov": f.cov.tolist()}
    if quantity == "p_at":
        assert o.at_ft is not None  # checked at load
        at = o.at_ft
        est, one = f.p_ci(at), f.p_ci(at, level=0.90)
        plot["at_ft"] = at
        near = sum(abs(x - at) / at < 0.03 for x in d)
        return Measurement("p_at", est.value, "", len(d), est.low, est.high,
                           uncertainty=f"95% CI {bound_text(est.low, '.4f')}-{bound_text(est.high, '.4f')}, one-sided "
                                       f"95% bounds {bound_text(one.low, '.4f')} / {bound_text(one.high, '.4f')} "
                                       f"(probit fit, delta method, {len(d)} broadcasts, {near} at {at:g} ft)",
                           plot=plot, lower95=one.low, upper95=one.high)
    p = {"r50": 0.5, "r95": 0.95}[quantity]
    est, one = f.radius(p), f.radius(p, level=0.90)
    return Measurement(quantity, est.value, "ft", len(d), est.low, est.high,
                       uncertainty=f"95% CI {bound_text(est.low, '.1f')}-{bound_text(est.high, '.1f')} ft (probit fit, "
                                   f"profile likelihood, {len(d)} broadcasts)", plot=plot, lower95=one.low,
                       upper95=one.high)


def observe(rows: list[CoverageRow], _m: Measurement) -> Observations:
    """Every broadcast's distance and outcome: a comparison of nights fits one curve to both nights' raw data."""
    return Observations(distance_ft=[round(r.distance_ft, 3) for r in rows], activated=[r.activated for r in rows])


def profile(rows: list[CoverageRow], kind: TriggerKind) -> ProfilePart:
    try:
        f = fit(rows)
    except NoData:
        return ProfilePart()
    c = f.cov.tolist()
    return ProfilePart(detection={kind: ProbitCurve(a=f.a, b=f.b, cov=((c[0][0], c[0][1]), (c[1][0], c[1][1])),
                                                    broadcasts=f.n)})


def check(quantity: str, p: CoverageParams, o: CoverageOptions, bench: Bench) -> list[str]:
    problems = []
    if quantity == "p_at" and o.at_ft is None:
        problems.append("measure.at_ft: required to judge p_at (the distance P is judged at)")
    near, far = bench.distance_range_ft()
    for name, ft in (("params.at_ft", p.at_ft), ("measure.at_ft", o.at_ft)):
        if ft is not None and not near <= ft <= far:
            problems.append(f"{name}: {ft:g} ft is outside what the bench can stand for ({near:.1f}-{far:.1f} ft)")
    if p.near_ft >= p.far_ft:
        problems.append(f"params.near_ft: {p.near_ft:g} ft must be below far_ft ({p.far_ft:g} ft)")
    return problems


COVERAGE = Procedure(
    name="coverage", summary="activation probability against distance, adaptive, per camera",
    params=CoverageParams, options=CoverageOptions, row=CoverageRow,
    quantities={"p_at": Quantity(FRACTION, "P(activate) at measure.at_ft"),
                "r50": Quantity(FEET, "distance of P = 0.5"), "r95": Quantity(FEET, "distance of P = 0.95")},
    needs=("indicator",), run=run, measure=measure, plot=plots.coverage_curve, check=check, observe=observe,
    profile=profile)
