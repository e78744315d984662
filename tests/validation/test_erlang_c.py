"""Dispatch against queueing theory: with exponential time on scene, zero travel and one unit
per call, the shift is an M/M/c queue, so the waiting probability and the mean wait must
match Erlang C. Tolerance: 4 batch-means standard errors (20 batches), after a warm-up."""

import math

import numpy as np
import pytest

from bwclab.sim.model import run_shift
from tests.conftest import scripted


def erlang_c(c: int, lam: float, mu: float) -> tuple[float, float]:
    a = lam / mu
    top = a**c / math.factorial(c) * c / (c - a)
    p_wait = top / (sum(a**k / math.factorial(k) for k in range(c)) + top)
    return p_wait, p_wait / (c * mu - lam)


@pytest.mark.parametrize("c, lam_per_h, mean_min", [(4, 2.4, 60.0), (8, 6.0, 60.0)])
def test_waits_match_erlang_c(c, lam_per_h, mean_min):
    hours = 3000.0
    sc = scripted({
        "seed": 5,
        "shift": {"start_hour": 0, "duration_h": hours},
        "fleet": {"officers": c, "officers_at_ft": None},
        "patrol": {"enabled": False, "instant_travel": True},
        "calls": {"per_hour": lam_per_h},
        "call_types": {"stop": {"share": 1, "units": 1,
                                "time_on_scene_min": {"dist": "exponential", "mean": mean_min}}},
    })
    res = run_shift(sc)
    called = np.array([i.called_at for i in res.incidents])
    waits = np.array(res.waits_s + [np.nan] * (len(called) - len(res.waits_s)))
    keep = (called > 50 * 3600) & ~np.isnan(waits)  # warm-up out; calls still waiting at the end out
    w = waits[keep] / 3600.0
    p_theory, w_theory = erlang_c(c, lam_per_h, 60.0 / mean_min)
    batches = np.array_split(np.arange(len(w)), 20)
    p_b = np.array([(w[b] > 1e-12).mean() for b in batches])
    w_b = np.array([w[b].mean() for b in batches])
    assert abs(p_b.mean() - p_theory) < 4 * p_b.std(ddof=1) / math.sqrt(20)
    assert abs(w_b.mean() - w_theory) < 4 * w_b.std(ddof=1) / math.sqrt(20)
