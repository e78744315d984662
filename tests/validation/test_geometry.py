"""Radius against geometry: officers uniform in a disc of radius 2R around a trigger, with a
step detection curve of radius R, activate in the area ratio, 1/4. Tolerance: 4.5 binomial
standard errors."""

import math

import numpy as np

from bwclab.sim.model import run_shift
from tests.conftest import scripted


def test_activated_share_matches_the_area_ratio():
    n, r = 3000, 40.0
    rng = np.random.default_rng(8)
    rho = 2 * r * np.sqrt(rng.uniform(size=n))
    phi = rng.uniform(0, 2 * math.pi, size=n)
    cx = cy = 5000.0
    pos = [[cx + a * math.cos(b), cy + a * math.sin(b)] for a, b in zip(rho, phi, strict=True)]
    sc = scripted({
        "fleet": {"officers": n, "officers_at_ft": pos},
        "area": {"width_mi": 2, "height_mi": 2},
        "signal": {"detection": {"kind": "step", "radius_ft": r}, "body_loss_db": 0},  # the radius alone
        "script": {"triggers": [{"at_s": 10, "kind": "light_bar", "at_ft": [cx, cy]}]},
    })
    res = run_shift(sc)
    hit = {a.camera for a in res.activations if a.cause == "signal"}
    share = len(hit) / n
    assert abs(share - 0.25) < 4.5 * math.sqrt(0.25 * 0.75 / n)
    inside = {f"BWC-{i:05d}" for i in range(n) if rho[i] <= r}
    assert hit == inside  # and exactly those inside, none outside
    assert all(a.distance_ft <= r + 1e-6 for a in res.activations if a.cause == "signal")


def test_a_camera_that_walks_in_during_the_broadcast_activates_and_one_after_does_not():
    # officer 0 responds to a call 300 ft away and walks to within range while a fixed
    # trigger at the scene still broadcasts; officer 1 arrives after the broadcast ended.
    sc = scripted({
        "fleet": {"officers": 2, "officers_at_ft": [[1000, 1000], [9000, 1000]]},
        "area": {"width_mi": 2, "height_mi": 1},
        "call_types": {"stop": {"units": 2, "scene": {"cruiser_stop_ft": 100, "exit_s": 1, "stand_ft": 0}}},
        "patrol": {"speed_mph": 20, "detour_factor": 1.0, "walk_speed_ftps": 5},
        "signal": {"broadcast_s": 30},
        "script": {
            "calls": [{"at_s": 0, "type": "stop", "at_ft": [1300, 1000], "units": [0, 1]}],
            "triggers": [{"at_s": 5, "kind": "light_bar", "at_ft": [1300, 1000], "call": 0}],
        },
    })
    res = run_shift(sc)
    acts = [a for a in res.activations if a.cause == "signal"]
    assert [a.camera for a in acts] == ["BWC-00000"]
    inc = res.incidents[0]
    # officer 0 is in range only once it walks within 40 ft, after arriving at ~ 10 s
    assert acts[0].time_s > inc.arrivals[0]
    assert acts[0].distance_ft == 40.0 or abs(acts[0].distance_ft - 40.0) < 1e-6
    assert inc.arrivals[1] > 35.0
