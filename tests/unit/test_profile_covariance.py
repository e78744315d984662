"""A device profile's detection curve carries the covariance of its fit, and a profile refuses one that is not
symmetric positive definite. Every fit the rig makes must therefore give one a profile accepts, or a
certification would fail writing profile.yaml."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from bwclab.core.profile import ProbitCurve
from bwclab.rig.stats import fit_probit


def test_every_fit_of_simulated_coverage_trials_gives_a_covariance_a_profile_accepts() -> None:
    rng = np.random.default_rng(20261204)
    fits = 0
    for _ in range(200):
        r50, slope, n = rng.uniform(20, 120), rng.uniform(1.5, 12), int(rng.integers(8, 200))
        distance = rng.uniform(5, 250, size=n)
        p = 1.0 / (1.0 + (distance / r50) ** slope)
        fit = fit_probit(distance, rng.random(n) < p)
        if fit is None:
            continue
        c = fit.cov.tolist()
        ProbitCurve(a=fit.a, b=fit.b, cov=((c[0][0], c[0][1]), (c[1][0], c[1][1])), broadcasts=fit.n)
        fits += 1
    assert fits >= 150


@pytest.mark.parametrize("cov", [((1.0, 0.0), (0.0, -1.0)), ((4.0, -1.0), (-1.0, 0.25)), ((4.1, -2.0), (-2.0, 0.3)),
                                 ((4.1, -1.1), (1.1, 0.3)), ((0.0, 0.0), (0.0, 0.0))])
def test_a_covariance_that_is_not_symmetric_positive_definite_is_refused(
        cov: tuple[tuple[float, float], tuple[float, float]]) -> None:
    with pytest.raises(ValidationError, match="expected a covariance of"):
        ProbitCurve(a=20.0, b=-5.0, cov=cov, broadcasts=60)
