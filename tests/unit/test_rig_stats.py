"""The rig's statistics against known answers and by coverage over many simulated data sets."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from bwclab.rig.stats import clopper_pearson, fit_probit, quantile_ci


def test_quantile_ci_covers_the_true_quantile_at_its_level() -> None:
    rng = np.random.default_rng(1)
    true_p95 = float(sps.lognorm(0.4).ppf(0.95))
    hits = 0
    runs = 2000
    for _ in range(runs):
        est = quantile_ci(sps.lognorm(0.4).rvs(size=200, random_state=rng), 0.95)
        assert est.low is not None and est.high is not None
        hits += est.low <= true_p95 <= est.high
    assert hits / runs >= 0.94  # exact order-statistic CIs are conservative


def test_quantile_ci_says_when_the_data_cannot_bound_a_tail() -> None:
    est = quantile_ci([0.2, 0.3, 0.25, 0.4, 0.35], 0.95)
    assert est.value == 0.4 and est.high is None and est.low is not None


def test_clopper_pearson_two_sided_needs_72_straight_successes_for_a_095_lower_bound() -> None:
    assert clopper_pearson(72, 72).low == pytest.approx(0.025 ** (1 / 72), rel=1e-9)
    assert clopper_pearson(71, 71).low < 0.95 < clopper_pearson(72, 72).low  # type: ignore[operator]
    est = clopper_pearson(3, 10)
    assert est.low == pytest.approx(0.0667, abs=1e-4) and est.high == pytest.approx(0.6525, abs=1e-4)


def test_probit_fit_recovers_a_known_curve_and_its_radii() -> None:
    rng = np.random.default_rng(3)
    a, b = 14.0, -3.5  # r50 = exp(4) = 54.6 ft
    d = rng.uniform(20, 100, 3000)
    y = rng.random(3000) < sps.norm.cdf(a + b * np.log(d))
    fit = fit_probit(d, y)
    assert fit is not None and fit.converged
    r50 = fit.radius(0.5)
    assert r50.low is not None and r50.high is not None
    assert r50.low < math.exp(4) < r50.high and r50.high - r50.low < 3
    r95 = fit.radius(0.95)
    true_r95 = math.exp((sps.norm.ppf(0.95) - a) / b)
    assert r95.low is not None and r95.high is not None and r95.low < true_r95 < r95.high
    p30 = fit.p_ci(30.0)
    assert p30.low is not None and p30.low < float(sps.norm.cdf(a + b * math.log(30))) <= p30.high  # type: ignore[operator]


def test_probit_ci_coverage_of_r95_over_repeated_small_experiments() -> None:
    rng = np.random.default_rng(7)
    a, b = 14.0, -3.5
    true_r95 = math.exp((sps.norm.ppf(0.95) - a) / b)
    hits = n = 0
    for _ in range(300):
        d = rng.uniform(25, 90, 120)
        y = rng.random(120) < sps.norm.cdf(a + b * np.log(d))
        fit = fit_probit(d, y)
        if fit is None:
            continue
        n += 1
        r = fit.radius(0.95)
        hits += (r.low or 0) <= true_r95 <= (r.high or math.inf)
    assert n > 280 and 0.90 <= hits / n <= 0.99


def test_probit_fit_refuses_data_that_cannot_pin_a_curve() -> None:
    assert fit_probit([10, 20, 30, 40], [True] * 4) is None  # one outcome
    assert fit_probit([10, 20, 30, 40, 50, 60], [True, True, True, False, False, False]) is None  # separated
