"""Did anything change since the baseline? Per camera and requirement, a test suited to the quantity:

- latency: the Mann-Whitney test of a shift in the distribution; the effect is the Hodges-Lehmann shift
  (the median of all current-minus-baseline differences) with a bootstrap 95% CI; the p95 change is
  reported beside it;
- coverage: a likelihood-ratio test (2 df) that one probit curve fits the baseline's and tonight's raw
  broadcasts as well as two do; the effect is the r95 change with a delta-method 95% CI;
- buffer length: tonight's error against the baseline's, beyond one frame;
- counts (frame errors, foreign activations, damaged clips, ...): any rise over a clean baseline;
- anything else: tonight's CI clear of the baseline's values.

The night's p-values are corrected together by Holm's step-down method: it bounds the chance of any
false alarm in a night (the family-wise error rate) under any dependence between the tests (two
requirements on one camera share a bench), and is uniformly more powerful than Bonferroni. A morning's
alarm costs an engineer's time, so the error controlled is "any false alarm", not a false-discovery share.

A change reads `regressed` or `better` only when it is significant after correction (or, for the
deterministic rules, beyond them) and its CI lies wholly beyond the requirement's `drift.max_change`;
else `same`. Coverage is the exception: the likelihood-ratio test, on every raw broadcast, is what says
the curve moved, and one night's r95 is too loose (a 95% CI some 20 ft wide from 60 broadcasts) for its
CI to clear a few feet; there the point change must lie beyond `max_change`. The direction comes from
the limit: a `max` limit makes higher worse, a `min` lower (for coverage, a longer reach is better).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.stats as sps

from bwclab.history.record import ResultRecord, RunRecord
from bwclab.rig.stats import fit_probit

ALPHA = 0.05
COUNTS = {"frame_errors", "foreign_activations", "damaged_clips", "hash_mismatches", "audio_errors",
          "activations_asleep", "misses"}
Verdict = Literal["same", "better", "regressed", "no baseline"]


@dataclass
class Drift:
    requirement: str
    camera: str
    quantity: str
    units: str
    test: str
    effect: float | None
    ci_low: float | None
    ci_high: float | None
    p: float | None
    baseline_n: int
    current_n: int
    max_change: float
    higher_is_worse: bool
    note: str = ""
    p_adjusted: float | None = None
    verdict: Verdict = "same"
    on_point: bool = False  # the test decides that something moved; the point effect, how far (coverage)
    alpha: float = ALPHA  # the night's family-wise false-alarm rate the adjusted p-value is held to

    def decide(self) -> None:
        """The verdict from the (adjusted) p-value and where the effect's CI lies against max_change."""
        if self.effect is None or self.ci_low is None or self.ci_high is None:
            self.verdict = "no baseline"
            return
        significant = self.p_adjusted is None or self.p_adjusted < self.alpha
        low, high = (self.effect, self.effect) if self.on_point else (self.ci_low, self.ci_high)
        up = low > self.max_change
        down = high < -self.max_change
        if not significant or not (up or down):
            self.verdict = "same"
        elif up == self.higher_is_worse:
            self.verdict = "regressed"
        else:
            self.verdict = "better"


def holm(ps: list[float]) -> list[float]:
    """Holm's step-down adjusted p-values, in the order given."""
    m = len(ps)
    order = sorted(range(m), key=lambda i: ps[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * ps[i]))
        adjusted[i] = running
    return adjusted


def hodges_lehmann(cur: np.ndarray, base: np.ndarray) -> float:
    return float(np.median(np.subtract.outer(cur, base)))


def latency(cur: ResultRecord, base: list[ResultRecord], seed: int) -> Drift:
    c = np.asarray(cur.observations.samples, dtype=float)
    b = np.concatenate([np.asarray(r.observations.samples, dtype=float) for r in base]) if base else np.array([])
    d = _drift(cur, "latency: Mann-Whitney shift, Hodges-Lehmann effect", len(b), len(c))
    if len(c) < 3 or len(b) < 3:
        return d
    d.p = float(sps.mannwhitneyu(c, b, alternative="two-sided").pvalue)
    d.effect = hodges_lehmann(c, b)
    rng = np.random.default_rng(seed)
    boots = np.array([hodges_lehmann(rng.choice(c, len(c)), rng.choice(b, len(b))) for _ in range(400)])
    d.ci_low, d.ci_high = (float(x) for x in np.percentile(boots, [2.5, 97.5]))
    p95 = float(np.percentile(c, 95) - np.percentile(b, 95))
    p95s = np.array([np.percentile(rng.choice(c, len(c)), 95) - np.percentile(rng.choice(b, len(b)), 95)
                     for _ in range(400)])
    lo, hi = np.percentile(p95s, [2.5, 97.5])
    d.note = f"p95 {p95 * 1e3:+.0f} ms [{lo * 1e3:+.0f}, {hi * 1e3:+.0f}]"
    return d


def coverage(cur: ResultRecord, base: list[ResultRecord]) -> Drift:
    cd, ca = cur.observations.distance_ft, cur.observations.activated
    bd = [x for r in base for x in r.observations.distance_ft]
    ba = [x for r in base for x in r.observations.activated]
    d = _drift(cur, "coverage: likelihood-ratio test of one probit curve, r95 effect", len(bd), len(cd))
    d.higher_is_worse = False  # a longer reach is better whatever the quantity
    d.on_point = True
    fc, fb, fp = fit_probit(cd, ca), fit_probit(bd, ba), fit_probit(cd + bd, ca + ba)
    if fc is None or fb is None or fp is None:
        d.note = "a probit curve could not be fitted to " + ("tonight's" if fc is None else "the baseline's") + " data"
        return d
    lr = max(2 * (fc.loglik() + fb.loglik() - fp.loglik()), 0.0)
    d.p = float(sps.chi2.sf(lr, 2))
    rc, rb = fc.radius_wald(0.95), fb.radius_wald(0.95)
    d.effect = rc.value - rb.value
    se = math.hypot(_se(rc.value, rc.low, rc.high), _se(rb.value, rb.low, rb.high))
    d.ci_low, d.ci_high = d.effect - 1.96 * se, d.effect + 1.96 * se
    r50c, r50b = fc.distance(0.5), fb.distance(0.5)
    d.note = f"r95 {rb.value:.1f} -> {rc.value:.1f} ft, r50 {r50b:.1f} -> {r50c:.1f} ft, LR {lr:.1f}"
    d.units = "ft"
    return d


def _se(value: float, low: float | None, high: float | None) -> float:
    if low is None or high is None or low <= 0:
        return math.inf
    return value * (math.log(high) - math.log(low)) / (2 * 1.96)


def buffer_length(cur: ResultRecord, base: list[ResultRecord]) -> Drift:
    vals = [r.value for r in base if r.value is not None and math.isfinite(r.value)]
    d = _drift(cur, "buffer length: against one frame", len(vals), 1)
    if cur.value is None or not vals or not math.isfinite(cur.value):
        return d
    d.effect = abs(cur.value) - max(abs(v) for v in vals)
    d.ci_low = d.ci_high = d.effect
    d.max_change = max(d.max_change, 1.0)
    d.higher_is_worse = True
    return d


def count(cur: ResultRecord, base: list[ResultRecord]) -> Drift:
    vals = [r.value for r in base if r.value is not None and math.isfinite(r.value)]
    d = _drift(cur, "count: any rise over a clean baseline", len(vals), 1)
    if cur.value is None or not vals or not math.isfinite(cur.value):
        return d
    worst = max(vals)
    d.effect = cur.value - worst
    d.ci_low = d.ci_high = d.effect
    d.higher_is_worse = True
    d.max_change = max(d.max_change, 0.5)  # counts are whole: a rise of one is a change
    if worst > 0:
        d.note = f"the baseline was not clean (up to {worst:g}); only a rise above it counts"
    return d


def generic(cur: ResultRecord, base: list[ResultRecord]) -> Drift:
    vals = [r.value for r in base if r.value is not None and math.isfinite(r.value)]
    d = _drift(cur, "value: tonight's CI against the baseline's range", len(vals), cur.trials)
    if cur.value is None or not vals or cur.ci_low is None or cur.ci_high is None:
        return d
    lo, hi = min(vals), max(vals)
    d.effect = cur.value - float(np.mean(vals))
    if cur.ci_low > hi or cur.ci_high < lo:
        d.ci_low, d.ci_high = cur.ci_low - hi, cur.ci_high - lo
    else:
        d.ci_low, d.ci_high = min(cur.ci_low - hi, 0.0), max(cur.ci_high - lo, 0.0)
    return d


def _drift(cur: ResultRecord, test: str, nb: int, nc: int) -> Drift:
    return Drift(requirement=cur.requirement, camera=cur.camera, quantity=cur.quantity, units=cur.units, test=test,
                 effect=None, ci_low=None, ci_high=None, p=None, baseline_n=nb, current_n=nc,
                 max_change=cur.max_change, higher_is_worse=cur.limit_max is not None)


def baseline_results(cur: ResultRecord, current: RunRecord, baseline: list[RunRecord]) -> list[ResultRecord]:
    """The baseline's results for the same requirement on the same camera; where the baseline never saw that
    camera, on cameras of the same model."""
    same = [r for run in baseline for r in run.results if r.requirement == cur.requirement
            and r.camera == cur.camera and r.verdict in ("pass", "fail")]
    if same:
        return same
    model = current.model(cur.camera)
    return [r for run in baseline for r in run.results if r.requirement == cur.requirement
            and r.verdict in ("pass", "fail") and model is not None and run.model(r.camera) == model]


def compare(current: RunRecord, baseline: list[RunRecord], seed: int = 0, alpha: float = ALPHA) -> list[Drift]:
    """Every judged requirement on every camera of `current` against the baseline, Holm-corrected together:
    the chance of any false alarm in the run is held to `alpha`."""
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha: expected a false-alarm rate between 0 and 1, got {alpha}")
    out: list[Drift] = []
    for i, cur in enumerate(current.results):
        if cur.verdict not in ("pass", "fail"):
            continue
        base = baseline_results(cur, current, baseline)
        if not base:
            out.append(_drift(cur, "no baseline result for this requirement and camera", 0, cur.trials))
            continue
        if cur.observations.samples and cur.quantity in ("p50", "p95", "p99", "max"):
            out.append(latency(cur, base, seed + i))
        elif cur.observations.distance_ft:
            out.append(coverage(cur, base))
        elif cur.quantity == "buffer_error_frames":
            out.append(buffer_length(cur, base))
        elif cur.quantity in COUNTS:
            out.append(count(cur, base))
        else:
            out.append(generic(cur, base))
    tested = [d for d in out if d.p is not None]
    for d, adj in zip(tested, holm([d.p for d in tested if d.p is not None]), strict=True):
        d.p_adjusted = adj
    for d in out:
        d.alpha = alpha
        d.decide()
    return out
