"""Calls arrive as a Poisson process whose rate follows the clock hour.

Tolerance: over D simulated days the count in each clock hour is Poisson(lambda_h), so its
sample mean must lie within 4.5 standard errors of lambda_h and its dispersion statistic
(D - 1) s^2 / lambda_h within the chi-square(D - 1) interval of probability 1 - 1e-4 / 24.
"""

import numpy as np
from scipy import stats

from bwclab.sim.arrivals import arrival_times
from bwclab.sim.model import run_shift
from tests.conftest import scripted

RATES = [2.0, 1.0, 0.5, 0.5, 0.3, 0.3, 1.0, 3.0, 6.0, 8.0, 9.0, 10.0,
         10.0, 9.0, 9.0, 10.0, 12.0, 12.0, 11.0, 9.0, 7.0, 5.0, 4.0, 3.0]


def test_hourly_counts_have_poisson_means_and_variances():
    days = 800
    rng = np.random.default_rng(11)
    t = arrival_times(RATES, 6.5, days * 86400.0, rng)  # starts mid-hour on purpose
    clock = (6.5 + t / 3600.0) % 24
    day = ((6.5 + t / 3600.0) // 24).astype(int)
    counts = np.zeros((days + 1, 24))
    np.add.at(counts, (day, clock.astype(int)), 1)
    counts = counts[1:days]  # whole days only
    n = len(counts)
    alpha = 1e-4 / 24
    lo, hi = stats.chi2.ppf([alpha / 2, 1 - alpha / 2], n - 1)
    for h, lam in enumerate(RATES):
        c = counts[:, h]
        assert abs(c.mean() - lam) < 4.5 * np.sqrt(lam / n), (h, c.mean(), lam)
        disp = (n - 1) * c.var(ddof=1) / lam
        assert lo < disp < hi, (h, c.var(ddof=1), lam)


def test_the_model_receives_calls_at_the_configured_rate():
    sc = scripted({
        "shift": {"start_hour": 0, "duration_h": 24 * 20},
        "fleet": {"officers": 40, "officers_at_ft": None},
        "patrol": {"enabled": False, "instant_travel": True},
        "calls": {"per_hour": RATES},
        "call_types": {"stop": {"share": 1, "time_on_scene_min": 1}},
    })
    res = run_shift(sc)
    hours = np.array([int(i.called_at // 3600) % 24 for i in res.incidents])
    expected = np.array(RATES) * 20
    observed = np.bincount(hours, minlength=24)
    chi2 = float(((observed - expected) ** 2 / expected).sum())
    assert chi2 < stats.chi2.ppf(1 - 1e-4, 24)
