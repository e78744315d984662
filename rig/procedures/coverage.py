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

from rig.procedures.base import Context, run_steps
from rig.stats import Estimate, fit_probit
from rig.trials import DROPPED

TARGETS = (0.97, 0.95, 0.87, 0.3)  # r95 and either side of it, and one below the centre for the slope
MIN_ROUNDS = 5
AT_EVERY = 4  # every 4th broadcast at the requirement's distance
SPREAD = (-0.3, 0.15, -0.15, 0.3, 0.0)  # ln-distance offsets around the edge before a fit exists


def observations(results: list[dict[str, Any]], camera: str) -> tuple[list[float], list[bool]]:
    d, y = [], []
    for r in results:
        if camera in r and DROPPED not in r[camera]:
            d.append(float(r[camera]["distance_ft"]))
            y.append(bool(r[camera]["activated"]))
    return d, y


def turn(seq: int, index: int, at_every: int) -> int | None:
    """The camera's turn in the design cycle at step `seq`, or None when this broadcast is at the
    requirement's distance. `index` staggers the cameras, so they are not all at 30 ft at once."""
    n = seq + index
    if at_every > 0 and n % at_every == at_every - 1:
        return None
    return n - n // at_every if at_every > 0 else n


def next_distance(done: list[dict[str, Any]], camera: str, index: int, turn_no: int, near_ft: float,
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


def converged(done: list[dict[str, Any]], cams: list[str], target_ft: float) -> bool:
    """Every camera's r95 CI within +/-target_ft: first by the cheap delta method, then, once that
    says so, by the profile-likelihood CI the report gives (the delta method's is too narrow)."""
    if len(done) < MIN_ROUNDS:
        return False
    fits = [fit_probit(*observations(done, s)) for s in cams]
    if not all(f is not None and _within(f.radius_wald(0.95), target_ft) for f in fits):
        return False
    return all(f is not None and _within(f.radius(0.95), target_ft) for f in fits)


def run(ctx: Context, key: str, trials: int, retries: int, trigger: str | None = None, near_ft: float = 5.0,
        far_ft: float = 150.0, target_ft: float = 0.0, at_ft: float = 30.0, at_every: int = AT_EVERY) -> None:
    emitter = ctx.emitter_for(trigger)
    cams = everyone = list(ctx.cameras)
    st = ctx.station
    far = min(far_ft, ctx.bench.path_loss.distance_for(ctx.bench.instruments.attenuator.max_db))

    done: list[dict[str, Any]] = []  # the results so far, read once per broadcast

    def step(seq: int, cams: list[str]) -> dict[str, Any]:
        cams = ctx.ensure_idle(cams)
        result: dict[str, Any] = {}
        for s in cams:
            i = everyone.index(s)  # a camera keeps its place in the stagger when retried alone
            k = turn(seq, i, at_every)
            want = at_ft if k is None else next_distance(done, s, i, k, near_ft, far)
            result[s] = {"distance_ft": st.set_distance(s, want), "activated": False}
        t0 = st.fire(emitter)
        result["fired_ns"] = t0
        deadline = time.monotonic() + ctx.window_s(emitter)
        waiting = set(cams)
        while waiting and time.monotonic() < deadline:
            for s in list(waiting):
                if st.wait_indicator(s, t0, 0.0) is not None:
                    result[s]["activated"] = True
                    waiting.discard(s)
            if waiting:
                time.sleep(0.01)
        ctx.finish_step(emitter, {s: result[s]["activated"] for s in cams})
        return result

    for seq in range(trials):
        done = [t.result for t in ctx.store.trials(key) if t.status == "ok"]
        if target_ft > 0 and converged(done, cams, target_ft):
            break
        run_steps(ctx, key, seq + 1, retries, cams, step)
