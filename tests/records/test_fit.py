"""The statistics a calibration rests on, against values worked out by hand or known from the literature, and
their intervals' coverage on simulated data."""

from __future__ import annotations

import numpy as np
import pytest

from bwclab.records import fit


def test_a_share_has_the_wilson_interval() -> None:
    got = fit.share(np.array([True] * 50 + [False] * 50))
    assert (got["mean"], got["ci_low"], got["ci_high"], got["n"]) == (0.5, pytest.approx(0.403832, abs=1e-6),
                                                                       pytest.approx(0.596168, abs=1e-6), 100)
    none = fit.share(np.zeros(20, dtype=bool))
    assert none["ci_low"] == 0.0 and none["ci_high"] == pytest.approx(0.161125, abs=1e-6)


def test_a_rate_has_the_exact_poisson_interval() -> None:
    assert fit.rate(0, 10.0) == {"mean": 0.0, "ci_low": 0.0, "ci_high": pytest.approx(0.368888, abs=1e-6), "n": 0}
    ten = fit.rate(10, 2.0)
    assert ten["mean"] == 5.0 and ten["ci_low"] == pytest.approx(4.795389 / 2, abs=1e-5)
    assert ten["ci_high"] == pytest.approx(18.390356 / 2, abs=1e-5)


def test_officers_alike_in_their_responses_widen_a_share() -> None:
    rng = np.random.default_rng(5)
    officers = np.repeat(np.arange(40), 50)
    alike = rng.uniform(size=2000) < np.repeat(rng.beta(1, 1, 40), 50)  # each officer their own compliance
    independent = rng.uniform(size=2000) < 0.5
    assert fit.design_effect(alike, officers) > 5
    assert fit.design_effect(independent, officers) < 1.6
    wide, narrow = fit.share(alike, officers), fit.share(alike)
    assert wide["ci_high"] - wide["ci_low"] > 2 * (narrow["ci_high"] - narrow["ci_low"])


def test_a_lognormal_fit_finds_the_mean_and_cv() -> None:
    rng = np.random.default_rng(7)
    s2 = np.log1p(0.8**2)
    x = rng.lognormal(np.log(30.8) - s2 / 2, np.sqrt(s2), 20_000)
    got = fit.lognormal(x)
    assert got["mean"] == pytest.approx(30.8, rel=0.02) and got["cv"] == pytest.approx(0.8, rel=0.03)
    assert got["ci_low"] < 30.8 < got["ci_high"] and got["n"] == 20_000
    assert fit.lognormal_dist(got) == {"dist": "lognormal", "mean": round(got["mean"], 3), "cv": round(got["cv"], 3)}


def test_the_lognormal_means_interval_covers_the_truth_about_95_times_in_100() -> None:
    rng = np.random.default_rng(11)
    s2 = np.log1p(0.7**2)
    covered = 0
    for _ in range(400):
        x = rng.lognormal(np.log(47.9) - s2 / 2, np.sqrt(s2), 60)
        got = fit.lognormal(x)
        covered += got["ci_low"] <= 47.9 <= got["ci_high"]
    assert 0.91 <= covered / 400 <= 0.98


def test_zero_and_negative_values_are_left_out_of_a_lognormal() -> None:
    got = fit.lognormal(np.array([0.0, -3.0, np.nan, 10.0, 20.0, 40.0]))
    assert got["n"] == 3 and got["median"] == pytest.approx(20.0)
