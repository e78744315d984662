import math

import numpy as np
import pytest
from scipy import stats

from bwclab.camera.ble import DiscoveryModel


def brute_force_discovery(adv, window, interval, rng, horizon=60.0):
    """An independent check: lay out scan windows and advertising events on a time line."""
    scan_start = -rng.uniform(0, interval)
    t = rng.uniform(0, adv + 0.010)
    while t < horizon:
        k = math.floor((t - scan_start) / interval)
        if t - (scan_start + k * interval) < window:
            return t
        t += adv + rng.uniform(0, 0.010)
    return math.inf


@pytest.mark.parametrize(
    "adv, window, interval",
    [(0.100, 0.183, 0.730), (1.000, 0.183, 0.730), (0.250, 0.140, 1.400), (0.020, 0.030, 0.060)],
)
def test_duty_cycled_discovery_matches_a_brute_force_timeline(adv, window, interval):
    model = DiscoveryModel(adv, window, interval, processing_s=0.0, processing_jitter_s=0.0)
    rng = np.random.default_rng(1)
    ours = [model.sample_discovery(rng) for _ in range(4000)]
    rng2 = np.random.default_rng(2)
    theirs = [brute_force_discovery(adv, window, interval, rng2) for _ in range(4000)]
    assert stats.ks_2samp(ours, theirs).pvalue > 0.001


def test_continuous_scanning_discovery_has_its_closed_form_mean():
    model = DiscoveryModel(0.100, 0.1, 0.1, 0.0, 0.0)
    rng = np.random.default_rng(3)
    x = np.array([model.sample_discovery(rng) for _ in range(20_000)])
    assert model.mean_discovery() == pytest.approx((0.100 + 0.010) / 2)
    assert abs(x.mean() - model.mean_discovery()) < 5 * x.std() / math.sqrt(len(x))


def test_nothing_is_discovered_after_the_broadcast_ends():
    model = DiscoveryModel(1.0, 0.01, 10.0, 0.0, 0.0)
    rng = np.random.default_rng(2)
    results = [model.sample_discovery(rng, limit_s=0.5) for _ in range(2000)]
    assert all(r <= 0.5 or math.isinf(r) for r in results)
    assert any(math.isinf(r) for r in results)


def test_advertising_interval_must_be_within_the_spec():
    with pytest.raises(ValueError):
        DiscoveryModel(adv_interval_s=0.010)
