"""Replications with common random numbers: every headline figure of a scenario as a mean over
replications with its 95% CI (a t interval over the replications' values).

Replication r gets the r-th child of the seed's SeedSequence whatever is being compared, so two
configurations (two buffers, two vendors' profiles) see the same calls, scenes and draws, and their
difference is estimated with far less noise than either figure alone."""

from __future__ import annotations

import concurrent.futures as cf
import math
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import stats

from bwclab.sim.fixes import add_fixes
from bwclab.sim.metrics import CAUSES, RATES, SEVERITIES, SPREAD, officers_on_scene, summarize
from bwclab.sim.model import ShiftResult, run_shift
from bwclab.sim.scenario import Scenario

HEADLINE = (*RATES, "officer_time_coverage", "bystander_activations", "storage_tb_per_year", "storage_tb_held")
DISPATCH = ("wait_s_mean", "response_s_mean", "response_s_p90", "utilisation")


def rep_seeds(seed: int, reps: int) -> list[int]:
    """Replication r gets the same seed at every point of a comparison: common random numbers."""
    return [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(seed).spawn(reps)]


def summarized(res: ShiftResult, fixes: bool = False) -> dict[str, Any]:
    """One replication's figures; with `fixes`, what would have fixed each miss (bwclab/sim/fixes.py)."""
    rows = officers_on_scene(res)
    summary = summarize(res, rows)
    return add_fixes(summary, res, rows) if fixes else summary


def one(scenario: Scenario, seed: int, fixes: bool = True) -> dict[str, Any]:
    """One replication's figures; runs in a worker process."""
    return summarized(run_shift(scenario, seed), fixes)


def run_reps(scenario: Scenario, seed: int, reps: int, workers: int = 1,
             progress: Callable[[float], None] | None = None,
             fixes: bool = False) -> tuple[ShiftResult, list[dict[str, Any]]]:
    """All replications' figures, and the first replication's whole result (its run-folder files); with `fixes`,
    each replication's fixes too (about 20 more runs of its shift: bwclab/sim/fixes.py)."""
    seeds = rep_seeds(seed, reps)
    first = run_shift(scenario, seeds[0])
    summaries = [summarized(first, fixes)]
    if progress:
        progress(1 / reps)
    rest = seeds[1:]
    if workers > 1 and rest:
        with cf.ProcessPoolExecutor(max_workers=workers) as pool:
            for k, got in enumerate(pool.map(one, [scenario] * len(rest), rest, [fixes] * len(rest)), 2):
                summaries.append(got)
                if progress:
                    progress(k / reps)
    else:
        for k, rep_seed in enumerate(rest, 2):
            summaries.append(one(scenario, rep_seed, fixes))
            if progress:
                progress(k / reps)
    return first, summaries


SHARES = frozenset({*RATES, "officer_time_coverage", "utilisation"})  # figures that are shares: in [0, 1]


def figure_range(name: str, difference: bool = False) -> tuple[float | None, float | None]:
    """What a figure can be: a share in [0, 1], anything else (a count, a time, a size) 0 and up; a difference
    of two shares in [-1, 1], of anything else unbounded."""
    if difference:
        return (-1.0, 1.0) if name in SHARES else (None, None)
    return 0.0, 1.0 if name in SHARES else None


def mean_ci(values: list[Any], low: float | None = None, high: float | None = None) -> dict[str, float | int | None]:
    """Mean and two-sided 95% t interval over the replications that have a value (None where fewer than 2),
    cut to the figure's own range [low, high] where it has one: a share's interval from a few replications can
    reach past 0 or 1, values it cannot take."""
    x = np.asarray([v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))],
                   dtype=float)
    if len(x) == 0:
        return {"mean": None, "ci_low": None, "ci_high": None, "n": 0}
    m = float(x.mean())
    if len(x) < 2:
        return {"mean": round(m, 6), "ci_low": None, "ci_high": None, "n": 1}
    half = float(stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x)))
    lo, hi = m - half, m + half
    if low is not None:
        lo = max(lo, low)
    if high is not None:
        hi = min(hi, high)
    return {"mean": round(m, 6), "ci_low": round(lo, 6), "ci_high": round(hi, 6), "n": len(x)}


def _at(summary: dict[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = summary
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def aggregate(summaries: list[dict[str, Any]]) -> dict[str, Any]:
    """Every headline figure, missed cause, dispatch figure, call type and severity, with its 95% CI."""
    def over(*path: str) -> dict[str, float | int | None]:
        return mean_ci([_at(s, path) for s in summaries], *figure_range(path[-1]))

    def count(*path: str) -> dict[str, float | int | None]:
        """A count over every replication: one that did not see it (a call type with no call) counted 0."""
        return mean_ci([_at(s, path) or 0 for s in summaries], 0.0)

    types = sorted({t for s in summaries for t in s["by_call_type"]})
    fixed = list(dict.fromkeys(k for s in summaries for k in s.get("fixes", {})))  # misses each fix fixes
    return {
        "figures": {k: over(k) for k in HEADLINE},
        "officer_spread": {k: mean_ci([_at(s, ("officer_spread", k)) for s in summaries], 0.0, 1.0 if k in SPREAD
                                      else None) for k in (*SPREAD, "officers")},
        "missed": {c: over("missed", c) for c in CAUSES},
        "dispatch": {k: over("dispatch", k) for k in DISPATCH},
        "by_call_type": {t: {"incidents": count("by_call_type", t, "incidents"),
                             **{k: over("by_call_type", t, k) for k in RATES}} for t in types},
        "by_severity": {v: {k: over("by_severity", v, k) for k in ("incidents", *RATES)} for v in SEVERITIES},
        **({"fixes": {k: over("fixes", k) for k in fixed}} if fixed else {}),
    }


def paired(a: list[dict[str, Any]], b: list[dict[str, Any]], key: str) -> dict[str, float | int | None]:
    """B minus A, replication by replication (common random numbers), with its 95% CI."""
    diffs = [None if x[key] is None or y[key] is None else y[key] - x[key] for x, y in zip(a, b, strict=True)]
    return mean_ci(diffs, *figure_range(key, difference=True))
