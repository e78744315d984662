"""The drift tests on data whose truth is known: synthetic nights drawn from known distributions and curves,
and nights whose level moves from night to night by a known spread."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.stats as sps

from bwclab.history.drift import MIN_NIGHTS, NightValue, compare, holm, predict
from bwclab.history.record import CameraRecord, ResultRecord, RunRecord
from bwclab.rig.certificate import Observations


def run(run_id: str, results: list[ResultRecord], firmware: str = "1.0.0") -> RunRecord:
    return RunRecord(run_id=run_id, started=run_id, ended=run_id, bench="b", bench_sha256="x", spec="s",
                     spec_sha256="y", verdict="pass", operator="o", host="h", bwclab_version="0", git_commit="",
                     folder="/", trials=0, errored_attempts=0, retried_steps=0, lost="", errors_by_device={},
                     cameras=[CameraRecord("CAM001", "M", firmware, "console")], results=results)


def lat(samples: np.ndarray, max_change: float = 0.05) -> ResultRecord:
    return ResultRecord("LAT", "CAM001", "pass", "p95", "s", "estimate", None, 1.0, float(np.percentile(samples, 95)),
                        None, None, len(samples), max_change, Observations(samples=[float(x) for x in samples]))


def cov(rng: np.random.Generator, r50: float, n: int = 40, max_change: float = 2.0) -> ResultRecord:
    d = rng.uniform(0.4 * r50, 1.8 * r50, n)  # where an adaptive design puts its broadcasts: about the edge
    p = sps.norm.cdf(-4.0 * np.log(d / r50))
    y = rng.uniform(size=n) < p
    return ResultRecord("COV", "CAM001", "pass", "r95", "ft", "estimate", 30.0, None, 0.0, None, None, n, max_change,
                        Observations(distance_ft=[float(x) for x in d], activated=[bool(v) for v in y]))


def count(value: float, quantity: str = "frame_errors") -> ResultRecord:
    return ResultRecord("FRAMES", "CAM001", "pass", quantity, "", "estimate", None, 0.0, value, value, value, 1, 0.0,
                        Observations(samples=[value]))


def latency_samples(rng: np.random.Generator, n: int, shift: float = 0.0) -> np.ndarray:
    return 0.2 + rng.uniform(0, 0.11, n) + rng.uniform(-0.05, 0.05, n) + shift


def test_holm_matches_its_definition_on_every_ordering() -> None:
    ps = [0.01, 0.04, 0.03, 0.005]
    for perm in itertools.permutations(range(4)):
        got = holm([ps[i] for i in perm])
        order = sorted(range(4), key=lambda k: ps[perm[k]])
        want, running = {}, 0.0
        for rank, k in enumerate(order):
            running = max(running, min(1.0, (4 - rank) * ps[perm[k]]))
            want[k] = running
        assert got == [want[k] for k in range(4)]
    assert holm([0.01, 0.04, 0.03, 0.005]) == [0.03, 0.06, 0.06, 0.02]


def test_a_120_ms_latency_shift_is_a_regression_and_its_effect_ci_covers_the_truth() -> None:
    rng = np.random.default_rng(1)
    base = [run(f"b{i}", [lat(latency_samples(rng, 20))]) for i in range(5)]
    night = run("n", [lat(latency_samples(rng, 20, 0.12))])
    d = compare(night, base)[0]
    assert d.verdict == "regressed" and d.ci_low is not None and d.ci_high is not None
    assert d.ci_low <= 0.12 <= d.ci_high and d.p_adjusted is not None and d.p_adjusted < 0.01
    assert d.baseline_nights == 5 and d.between_night_sd is not None and "between 5 baseline nights" in d.between_nights


def test_with_two_baseline_nights_the_shift_is_judged_on_pooled_samples_and_the_drift_says_nights_went_unmeasured(
        ) -> None:
    rng = np.random.default_rng(1)
    base = [run(f"b{i}", [lat(latency_samples(rng, 20))]) for i in range(2)]
    d = compare(run("n", [lat(latency_samples(rng, 20, 0.12))]), base)[0]
    assert d.verdict == "regressed" and d.p_adjusted is not None and d.p_adjusted < 1e-6
    assert d.baseline_nights == 2 and d.between_night_sd is None
    assert "cannot be estimated from 2 baseline nights (3 needed)" in d.between_nights


def wandering_nights(rng: np.random.Generator, levels_s: list[float], n: int = 20) -> list[RunRecord]:
    return [run(f"b{i}", [lat(latency_samples(rng, n, x), 0.0)]) for i, x in enumerate(levels_s)]


def test_a_night_inside_the_spread_between_baseline_nights_is_not_flagged_though_its_samples_differ() -> None:
    """Baseline nights 60 ms apart (each night's own level, as a real bench's nights differ): tonight 45 ms above
    their mean is significant against the pooled samples, but within what nights do."""
    rng = np.random.default_rng(11)
    base = wandering_nights(rng, [-0.06, 0.0, 0.06, -0.03, 0.03])
    night = run("n", [lat(latency_samples(rng, 20, 0.045), 0.0)])
    d = compare(night, base)[0]
    assert d.verdict == "same" and d.between_night_sd is not None and d.between_night_sd > 0.02, d
    pooled = compare(night, base[:2])[0]  # the same night against two of them: the spread goes unmeasured
    assert pooled.verdict == "regressed" and pooled.between_night_sd is None, pooled


def test_a_night_beyond_the_spread_between_baseline_nights_is_flagged() -> None:
    rng = np.random.default_rng(12)
    base = wandering_nights(rng, [-0.02, 0.0, 0.02, -0.01, 0.01])
    d = compare(run("n", [lat(latency_samples(rng, 20, 0.25), 0.0)]), base)[0]
    assert d.verdict == "regressed" and d.ci_low is not None and d.ci_high is not None
    assert d.ci_low <= 0.25 <= d.ci_high


@pytest.mark.parametrize("spread_to_error", [0.0, 1.0, 30.0])
def test_the_between_night_test_holds_its_false_alarm_rate_whatever_the_spread_between_nights(
        spread_to_error: float) -> None:
    """Nights drawn as y = level + night's own shift (sd tau) + sampling error (sd 1), three baseline nights:
    tonight is one more such night. A test that ignored the spread, or trusted a spread estimated from three
    nights as if known, alarms far more often than 5% once tau is large."""
    rng = np.random.default_rng(13)
    draws, alarms = 4000, 0
    for _ in range(draws):
        ys = rng.normal(0, spread_to_error, MIN_NIGHTS + 1) + rng.normal(0, 1, MIN_NIGHTS + 1)
        alarms += predict(NightValue(ys[0], 1.0), [NightValue(y, 1.0) for y in ys[1:]]).p < 0.05
    # at most 5% expected; 4000 draws put 5.9% at p < 0.01
    assert alarms / draws <= 0.059, alarms / draws


def test_a_shift_smaller_than_max_change_reads_same_even_when_significant() -> None:
    rng = np.random.default_rng(2)
    base = [run(f"b{i}", [lat(latency_samples(rng, 200), max_change=0.05)]) for i in range(5)]
    night = run("n", [lat(latency_samples(rng, 200, 0.02), max_change=0.05)])
    d = compare(night, base)[0]
    assert d.p is not None and d.p < 0.01 and d.verdict == "same"


def test_a_faster_camera_reads_better_not_regressed() -> None:
    rng = np.random.default_rng(3)
    base = [run(f"b{i}", [lat(latency_samples(rng, 20, 0.12))]) for i in range(5)]
    assert compare(run("n", [lat(latency_samples(rng, 20))]), base)[0].verdict == "better"


def test_coverage_reach_moved_out_is_detected_by_the_likelihood_ratio_and_a_same_curve_is_not() -> None:
    rng = np.random.default_rng(4)
    base = [run(f"b{i}", [cov(rng, 60.0, n=120)]) for i in range(2)]
    moved = compare(run("n", [cov(rng, 100.0, n=80)]), base)[0]
    assert moved.verdict == "better" and moved.effect is not None and moved.effect > 10
    assert "likelihood-ratio" in moved.test
    fewer = compare(run("m", [cov(rng, 36.0, n=80)]), base)[0]
    assert fewer.verdict == "regressed"
    same = compare(run("k", [cov(rng, 60.0, n=80)]), base)[0]
    assert same.verdict == "same" and same.p is not None and same.p > 0.01


def test_coverage_against_five_nights_is_judged_on_their_r95_spread() -> None:
    rng = np.random.default_rng(4)
    base = [run(f"b{i}", [cov(rng, 60.0, n=80)]) for i in range(5)]
    fewer = compare(run("m", [cov(rng, 30.0, n=80)]), base)[0]
    assert fewer.verdict == "regressed" and "spread between 5 baseline nights" in fewer.between_nights, fewer
    same = compare(run("k", [cov(rng, 60.0, n=80)]), base)[0]
    assert same.verdict == "same" and same.between_night_sd is not None


def test_coverage_against_one_night_says_the_spread_between_nights_is_unmeasured_and_judges_the_pooled_curve() -> None:
    rng = np.random.default_rng(20)
    base = [run("b0", [cov(rng, 60.0, n=60)])]
    d = compare(run("n", [cov(rng, 36.0, n=60)]), base)[0]
    assert d.verdict == "regressed" and "likelihood-ratio" in d.test and d.between_night_sd is None
    assert "cannot be estimated from 1 baseline night (3 needed)" in d.between_nights


def test_counts_any_rise_over_a_clean_baseline_is_a_regression() -> None:
    base = [run(f"b{i}", [count(0.0)]) for i in range(3)]
    assert compare(run("n", [count(1.0)]), base)[0].verdict == "regressed"
    assert compare(run("m", [count(0.0)]), base)[0].verdict == "same"
    dirty = [run("b0", [count(2.0)]), run("b1", [count(0.0)])]
    assert compare(run("k", [count(2.0)]), dirty)[0].verdict == "same"


def test_buffer_length_is_judged_against_one_frame() -> None:
    base = [run(f"b{i}", [count(0.2, "buffer_error_frames")]) for i in range(3)]
    assert compare(run("n", [count(0.9, "buffer_error_frames")]), base)[0].verdict == "same"
    assert compare(run("m", [count(1.6, "buffer_error_frames")]), base)[0].verdict == "regressed"


@pytest.mark.slow
def test_clean_nights_alarm_at_no_more_than_the_nominal_rate() -> None:
    rng = np.random.default_rng(5)
    alarms = 0
    nights = 200
    for k in range(nights):
        base = [run(f"b{i}", [lat(latency_samples(rng, 20), 0.0), cov(rng, 60.0, max_change=0.0)])
                for i in range(5)]
        night = run("n", [lat(latency_samples(rng, 20), 0.0), cov(rng, 60.0, max_change=0.0)])
        alarms += any(d.verdict in ("regressed", "better") for d in compare(night, base, seed=k))
    # Holm holds each night's chance of any false alarm to 5%: 200 nights, at most 10 expected, 19 is p < 0.01
    assert alarms <= 19, alarms


def test_alpha_sets_the_false_alarm_rate_a_change_is_judged_at() -> None:
    """A 40-ms shift from 8 trials: significant at the default 5% but not at 0.1%; the rate travels with the drift."""
    rng = np.random.default_rng(2)
    base = [run(f"b{i}", [lat(latency_samples(rng, 8), 0.0)]) for i in range(2)]
    night = run("n", [lat(latency_samples(rng, 8, 0.04), 0.0)])
    loose, strict = compare(night, base)[0], compare(night, base, alpha=0.001)[0]
    assert loose.p_adjusted == strict.p_adjusted and loose.p_adjusted is not None
    assert 0.001 <= loose.p_adjusted < 0.05, loose.p_adjusted
    assert (loose.verdict, loose.alpha) == ("regressed", 0.05) and (strict.verdict, strict.alpha) == ("same", 0.001)
    with pytest.raises(ValueError, match="alpha"):
        compare(night, base, alpha=0.0)
