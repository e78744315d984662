"""Did anything change since the baseline? Per camera and requirement, a test suited to the quantity.

A real bench's nights may differ more than one night's sampling error says (its radio and timing move from night
to night). With three or more baseline nights, latency and coverage are judged against that spread: each night
is summarised (latency: its mean, with its standard error; coverage: ln r95 from its own probit fit, with
the delta method's error), a random-effects model (DerSimonian-Laird) estimates the variance between nights
beyond those errors, and tonight's value is tested against the baseline nights' prediction: t = (tonight -
mean) / sqrt(tonight's error + between-night variance + the mean's error), on k - 1 degrees of freedom (the
exact prediction test when the within-night errors are small, conservative when the nights agree). The
effect is tonight's departure from the baseline nights' level, with that test's 95% interval.

With fewer baseline nights the variation between nights cannot be estimated, and the drift says so (a bench
whose nights differ then alarms more often than `alpha`: benchmarks/drift_power.py). The nights' data are
pooled and judged on their sampling error alone:

- latency: the Mann-Whitney test of a shift in the distribution; the effect is the Hodges-Lehmann shift
  (the median of all current-minus-baseline differences) with a bootstrap 95% CI; the p95 change is
  reported beside it;
- coverage: a likelihood-ratio test (2 df) that one probit curve fits the baseline's and tonight's raw
  broadcasts as well as two do; the effect is the r95 change with a delta-method 95% CI;

and for any quantity:

- buffer length: tonight's error against the baseline's, beyond one frame;
- counts (frame errors, foreign activations, damaged clips, ...): any rise over a clean baseline;
- anything else: tonight's CI clear of the baseline's values.

The night's p-values are corrected together by Holm's step-down method: it bounds the chance of any
false alarm in a night (the family-wise error rate) under any dependence between the tests (two
requirements on one camera share a bench), and is uniformly more powerful than Bonferroni. A morning's
alarm costs an engineer's time, so the error controlled is "any false alarm", not a false-discovery share.

A change reads `regressed` or `better` only when it is significant after correction (or, for the
deterministic rules, beyond them) and its CI lies wholly beyond the requirement's `drift.max_change`;
else `same`. Coverage is the exception: the test (on the raw broadcasts, or on the nights' r95) says whether
the curve moved, and r95's interval is too wide to clear a few feet (from one night's 60 broadcasts a 95% CI
some 20 ft wide; from a few nights, t on k - 1 df); there the point change must lie beyond `max_change`. The
direction comes from the limit: a `max` limit makes higher worse, a `min` lower (for coverage, a longer reach
is better).

`judge` walks the history in the order the nights started: a night's `last:N` baseline is the last N
earlier nights of its spec and camera model that passed both their spec and their own drift check, or
whose change a person accepted (`bwclab history accept`). A night that regressed stays out of every later
baseline until then, so a regression never becomes the standard the next nights are held to.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import scipy.stats as sps

from bwclab.history.record import HistoryError, ResultRecord, RunRecord
from bwclab.history.store import Acceptance
from bwclab.rig.stats import fit_probit

ALPHA = 0.05
MIN_NIGHTS = 3  # fewer baseline nights cannot estimate the variance between nights
BOOTSTRAPS = 400
COUNTS = {"frame_errors", "foreign_activations", "damaged_clips", "hash_mismatches", "audio_errors",
          "activations_asleep", "misses"}
DriftVerdict = Literal["same", "better", "regressed", "no baseline"]


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
    verdict: DriftVerdict = "same"
    on_point: bool = False  # the test decides that something moved; the point effect, how far (coverage)
    alpha: float = ALPHA  # the night's family-wise false-alarm rate the adjusted p-value is held to
    baseline_nights: int = 0  # the baseline nights with a result for this requirement and camera
    between_night_sd: float | None = None  # the spread between nights beyond their own errors; None: not estimated
    between_nights: str = ""  # what the change was judged against, said for a reader

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


def hodges_lehmann_rows(cur: np.ndarray, base: np.ndarray) -> np.ndarray:
    """The Hodges-Lehmann shift of each row pair (bootstrap resamples), a few million differences at a time."""
    step = max(1, 2_000_000 // (cur.shape[1] * base.shape[1]))
    out = [np.median((cur[i:i + step, :, None] - base[i:i + step, None, :]).reshape(len(cur[i:i + step]), -1), axis=1)
           for i in range(0, len(cur), step)]
    return np.concatenate(out)


@dataclass(frozen=True)
class NightValue:
    """One night's summary of a requirement on a camera, and its sampling variance within that night."""

    value: float
    var: float


@dataclass(frozen=True)
class BaselinePrediction:
    """Tonight against the baseline nights (random effects): tonight's departure from their level, its
    standard error (tonight's own, the variance between nights, the level's) and the t test's df."""

    effect: float
    se: float
    df: int
    tau2: float
    level: float

    @property
    def p(self) -> float:
        return float(2 * sps.t.sf(abs(self.effect) / self.se, self.df)) if self.se > 0 else float(self.effect == 0)

    def ci(self, level: float = 0.95) -> tuple[float, float]:
        half = float(sps.t.ppf(0.5 + level / 2, self.df)) * self.se
        return self.effect - half, self.effect + half


def predict(tonight: NightValue, nights: list[NightValue]) -> BaselinePrediction:
    """DerSimonian-Laird: the variance between nights beyond their within-night variances (the moment
    estimate, 0 when the nights agree as their errors say), then tonight against the weighted mean."""
    y = np.array([n.value for n in nights])
    v = np.maximum(np.array([n.var for n in nights]), 1e-18)
    w = 1 / v
    q = float(np.sum(w * (y - np.sum(w * y) / np.sum(w)) ** 2))
    c = float(np.sum(w) - np.sum(w**2) / np.sum(w))
    tau2 = max(0.0, (q - (len(y) - 1)) / c) if c > 0 else 0.0
    ws = 1 / (v + tau2)
    level = float(np.sum(ws * y) / np.sum(ws))
    se = math.sqrt(max(tonight.var, 0.0) + tau2 + 1 / float(np.sum(ws)))
    return BaselinePrediction(tonight.value - level, se, len(y) - 1, tau2, level)


Cache = dict[tuple[str, str, str, tuple[str, ...]], NightValue | None]  # one summary per night, result, kind
NightResults = tuple[str, list[ResultRecord]]  # a baseline night's run id and its results for one comparison


def _night(kind: str, results: list[ResultRecord], run_id: str, cache: Cache | None) -> NightValue | None:
    key = (kind, run_id, results[0].requirement, tuple(sorted(r.camera for r in results)))
    if cache is not None and key in cache:
        return cache[key]
    got = night_latency(results) if kind == "latency" else night_coverage(results)
    if cache is not None:
        cache[key] = got
    return got


def night_latency(results: list[ResultRecord]) -> NightValue | None:
    """The night's mean latency and its squared standard error."""
    x = np.concatenate([np.asarray(r.observations.samples, dtype=float) for r in results])
    if len(x) < 3:
        return None
    return NightValue(float(np.mean(x)), float(np.var(x, ddof=1)) / len(x))


def night_coverage(results: list[ResultRecord]) -> NightValue | None:
    """The night's ln r95 from its own probit fit, and the delta method's variance of it."""
    f = fit_probit([x for r in results for x in r.observations.distance_ft],
                   [x for r in results for x in r.observations.activated])
    if f is None:
        return None
    r = f.radius_wald(0.95)
    if r.low is None or r.high is None or not (0 < r.low <= r.value <= r.high < math.inf):
        return None
    se = (math.log(r.high) - math.log(r.low)) / (2 * 1.96)
    return NightValue(math.log(r.value), se**2)


def _cannot_estimate(d: Drift, nights: int) -> None:
    d.between_night_sd = None
    d.between_nights = (f"variation between nights cannot be estimated from {nights} baseline "
                        f"night{'s' if nights != 1 else ''} ({MIN_NIGHTS} needed): judged on the nights' sampling "
                        "error alone, which a bench whose nights differ exceeds")


def _usable(kind: str, nights: list[NightResults], cache: Cache | None) -> list[NightValue]:
    got = [_night(kind, rs, run_id, cache) for run_id, rs in nights]
    return [v for v in got if v is not None]


def latency(cur: ResultRecord, nights: list[NightResults], seed: int, cache: Cache | None = None) -> Drift:
    """Against the spread between nights when three or more baseline nights can be summarised, else pooled."""
    usable, tonight = _usable("latency", nights, cache), night_latency([cur])
    if tonight is not None and len(usable) >= MIN_NIGHTS:
        return latency_between(cur, nights, tonight, usable)
    d = latency_pooled(cur, nights, seed)
    _cannot_estimate(d, len(usable))
    return d


def latency_pooled(cur: ResultRecord, nights: list[NightResults], seed: int) -> Drift:
    c = np.asarray(cur.observations.samples, dtype=float)
    b = np.concatenate([np.asarray(r.observations.samples, dtype=float) for _, rs in nights for r in rs])
    d = _drift(cur, "latency: Mann-Whitney shift, Hodges-Lehmann effect", len(b), len(c))
    if len(c) < 3 or len(b) < 3:
        return d
    d.p = float(sps.mannwhitneyu(c, b, alternative="two-sided").pvalue)
    d.effect = hodges_lehmann(c, b)
    rng = np.random.default_rng(seed)
    cs, bs = c[rng.integers(0, len(c), (BOOTSTRAPS, len(c)))], b[rng.integers(0, len(b), (BOOTSTRAPS, len(b)))]
    d.ci_low, d.ci_high = (float(x) for x in np.percentile(hodges_lehmann_rows(cs, bs), [2.5, 97.5]))
    p95 = float(np.percentile(c, 95) - np.percentile(b, 95))
    p95s = np.percentile(cs, 95, axis=1) - np.percentile(bs, 95, axis=1)
    lo, hi = np.percentile(p95s, [2.5, 97.5])
    d.note = f"p95 {p95 * 1e3:+.0f} ms [{lo * 1e3:+.0f}, {hi * 1e3:+.0f}]"
    return d


def latency_between(cur: ResultRecord, nights: list[NightResults], tonight: NightValue, usable: list[NightValue]
                    ) -> Drift:
    c = np.asarray(cur.observations.samples, dtype=float)
    base = np.concatenate([np.asarray(r.observations.samples, dtype=float) for _, rs in nights for r in rs])
    d = _drift(cur, "latency: tonight's mean against the baseline nights' spread (random effects, t on k-1 df)",
               len(base), len(c))
    pred = predict(tonight, usable)
    d.p, d.effect = pred.p, pred.effect
    d.ci_low, d.ci_high = pred.ci()
    d.between_night_sd = math.sqrt(pred.tau2)
    d.between_nights = (f"judged against the spread between {len(usable)} baseline nights: "
                        f"sd {d.between_night_sd * 1e3:.1f} ms beyond each night's own error")
    p95 = float(np.percentile(c, 95) - np.percentile(base, 95))
    d.note = f"mean {pred.level * 1e3:.0f} -> {tonight.value * 1e3:.0f} ms, p95 {p95 * 1e3:+.0f} ms"
    return d


def coverage(cur: ResultRecord, nights: list[NightResults], cache: Cache | None = None) -> Drift:
    """Against the spread between nights when three or more baseline nights fit a curve, else pooled."""
    usable, tonight = _usable("coverage", nights, cache), night_coverage([cur])
    if tonight is not None and len(usable) >= MIN_NIGHTS:
        return coverage_between(cur, nights, tonight, usable)
    d = coverage_pooled(cur, nights)
    _cannot_estimate(d, len(usable))
    if len(usable) < len(nights):
        d.note = "; ".join(x for x in (d.note, f"a curve could not be fitted to {len(nights) - len(usable)} of the "
                                       f"{len(nights)} baseline nights alone") if x)
    return d


def coverage_pooled(cur: ResultRecord, nights: list[NightResults]) -> Drift:
    base = [r for _, rs in nights for r in rs]
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


def coverage_between(cur: ResultRecord, nights: list[NightResults], tonight: NightValue, usable: list[NightValue]
                     ) -> Drift:
    d = _drift(cur, "coverage: tonight's r95 against the baseline nights' spread (random effects on ln r95, "
               "t on k-1 df)", sum(r.trials for _, rs in nights for r in rs), len(cur.observations.distance_ft))
    d.higher_is_worse = False  # a longer reach is better whatever the quantity
    d.units = "ft"
    d.on_point = True
    pred = predict(tonight, usable)
    level = math.exp(pred.level)
    lo, hi = pred.ci()
    d.p, d.effect = pred.p, math.exp(tonight.value) - level
    d.ci_low, d.ci_high = level * math.expm1(lo), level * math.expm1(hi)
    d.between_night_sd = level * math.sqrt(pred.tau2)
    d.between_nights = (f"judged against the spread between {len(usable)} baseline nights: "
                        f"sd {d.between_night_sd:.1f} ft ({math.sqrt(pred.tau2):.3f} in ln r95) beyond each "
                        "night's own error")
    d.note = f"r95 {level:.1f} -> {math.exp(tonight.value):.1f} ft (the baseline nights' level, tonight)"
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


def baseline_nights(cur: ResultRecord, current: RunRecord, baseline: list[RunRecord]) -> list[NightResults]:
    """Per baseline night, its results for the same requirement on the same camera; where the baseline never
    saw that camera, on cameras of the same model. Nights without one are left out."""
    judged = ("pass", "fail")
    same = [(run.run_id, [r for r in run.results if r.requirement == cur.requirement and r.camera == cur.camera
                          and r.verdict in judged]) for run in baseline]
    if not any(rs for _, rs in same):
        model = current.model(cur.camera)
        same = [(run.run_id, [r for r in run.results if r.requirement == cur.requirement and r.verdict in judged
                              and model is not None and run.model(r.camera) == model]) for run in baseline]
    return [(run_id, rs) for run_id, rs in same if rs]


def compare(current: RunRecord, baseline: list[RunRecord], seed: int = 0, alpha: float = ALPHA,
            cache: Cache | None = None) -> list[Drift]:
    """Every judged requirement on every camera of `current` against the baseline, Holm-corrected together:
    the chance of any false alarm in the run is held to `alpha`. `cache` keeps each night's summaries
    between calls (a history judged night by night meets each night in several baselines)."""
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha: expected a false-alarm rate between 0 and 1, got {alpha}")
    out: list[Drift] = []
    for i, cur in enumerate(current.results):
        if cur.verdict not in ("pass", "fail"):
            continue
        nights = baseline_nights(cur, current, baseline)
        base = [r for _, rs in nights for r in rs]
        if not base:
            out.append(_drift(cur, "no baseline result for this requirement and camera", 0, cur.trials))
            continue
        if cur.observations.samples and cur.quantity in ("p50", "p95", "p99", "max"):
            out.append(latency(cur, nights, seed + i, cache))
        elif cur.observations.distance_ft:
            out.append(coverage(cur, nights, cache))
        elif cur.quantity == "buffer_error_frames":
            out.append(buffer_length(cur, base))
        elif cur.quantity in COUNTS:
            out.append(count(cur, base))
        else:
            out.append(generic(cur, base))
        out[-1].baseline_nights = len(nights)
    tested = [d for d in out if d.p is not None]
    for d, adj in zip(tested, holm([d.p for d in tested if d.p is not None]), strict=True):
        d.p_adjusted = adj
    for d in out:
        d.alpha = alpha
        d.decide()
    return out


def last_n(ref: str) -> int | None:
    """N of a `last:N` baseline; None for a named run (number, run id or tag)."""
    if not ref.startswith("last:"):
        return None
    n = int(ref[5:]) if ref[5:].isdigit() else 0
    if n < 1:
        raise HistoryError(f"--baseline {ref!r}: expected last:N with N >= 1")
    return n


def comparable(earlier: RunRecord, run: RunRecord) -> bool:
    """Could `earlier` be part of `run`'s baseline: the same spec, started before it, a camera model shared."""
    return (earlier.spec_sha256 == run.spec_sha256 and earlier.run_id != run.run_id and earlier.started < run.started
            and bool({c.model for c in run.cameras} & {c.model for c in earlier.cameras}))


@dataclass
class Judged:
    """A night as the history judges it: its baseline, its drift against that, and a person's acceptance."""

    run: RunRecord
    baseline: list[RunRecord]
    drifts: list[Drift]
    accepted: Acceptance | None = None

    @property
    def regressed(self) -> bool:
        return any(d.verdict == "regressed" for d in self.drifts)

    @property
    def clean(self) -> bool:
        """Fit to be a later night's baseline: it passed its spec, and its drift check or a person's word."""
        return self.run.verdict == "pass" and (not self.regressed or self.accepted is not None)


@dataclass
class Judgement:
    """Every night of a history judged in the order they started, against `last:N` or one named run."""

    nights: dict[str, Judged] = field(default_factory=dict)

    def __getitem__(self, run_id: str) -> Judged:
        return self.nights[run_id]

    def drifts_by_run(self) -> dict[str, list[Drift]]:
        return {k: j.drifts for k, j in self.nights.items() if j.baseline}


def judge(runs: list[RunRecord], ref: str, named: RunRecord | None = None,
          accepted: Mapping[int, Acceptance] | None = None, alpha: float = ALPHA) -> Judgement:
    """Each run against its baseline: `named` (the run `ref` names) for every night, or, for `last:N`, the
    last N comparable nights before it that are clean (see `Judged.clean`), judged first in the same way."""
    n = last_n(ref)
    if n is None and named is None:
        raise ValueError(f"{ref!r} names a run: pass it as `named`")
    accepted = accepted or {}
    cache: Cache = {}
    clean: list[RunRecord] = []
    out = Judgement()
    for run in sorted(runs, key=lambda r: (r.started, r.run_id)):
        if n is None:
            base = [named] if named is not None and named.run_id != run.run_id else []
        else:
            base = [b for b in clean if comparable(b, run)][-n:]
        drifts = compare(run, base, alpha=alpha, cache=cache) if base else []
        j = Judged(run, base, drifts, accepted.get(run.id) if run.id is not None else None)
        out.nights[run.run_id] = j
        if j.clean:
            clean.append(run)
    return out
