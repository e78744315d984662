"""The coverage procedure's distance choice: its cycle, and where a fitted curve sends a camera."""

from __future__ import annotations

import numpy as np
from scipy import stats as sps

from bwclab.rig.procedures.coverage import TARGETS, next_distance, turn, undetermined
from bwclab.rig.stats import fit_probit
from bwclab.rig.trials import StepResult


def step(distance_ft: float, activated: bool) -> StepResult:
    return StepResult(cameras={"C": {"distance_ft": distance_ft, "activated": activated}})


def test_every_nth_broadcast_is_at_the_requirement_distance_and_the_rest_walk_every_target() -> None:
    for at_every in (3, 4, 5):
        for index in range(3):
            turns = [turn(seq, index, at_every) for seq in range(60)]
            at = [seq for seq, k in enumerate(turns) if k is None]
            assert len(at) == 60 // at_every  # exactly one in at_every
            walked = [k for k in turns if k is not None]
            assert walked == list(range(walked[0], walked[0] + len(walked)))  # no target skipped or repeated
            assert {k % len(TARGETS) for k in walked} == set(range(len(TARGETS)))
    # the cameras are staggered: never all at the requirement's distance in the same broadcast
    assert all(any(turn(seq, i, 4) is not None for i in range(3)) for seq in range(60))
    assert [turn(seq, 0, 0) for seq in range(5)] == [0, 1, 2, 3, 4]  # no interleave at all


def test_a_fitted_camera_is_sent_where_its_curve_gives_each_target_probability() -> None:
    rng = np.random.default_rng(3)
    a, b = 12.0, -3.0  # P(d) = Phi(a + b ln d): r50 = e^4 = 54.6 ft
    d = rng.uniform(20, 120, 400)
    y = rng.random(400) < sps.norm.cdf(a + b * np.log(d))
    done = [step(float(x), bool(h)) for x, h in zip(d, y, strict=True)]
    fit = fit_probit(d, y)
    assert fit is not None
    for k, p in enumerate(TARGETS):
        want = next_distance(done, "C", 0, k, 5.0, 150.0)
        assert abs(float(fit.p(want)) - p) < 1e-9  # the fit's own point, not the CI machinery's
        true_d = float(np.exp((sps.norm.ppf(p) - a) / b))
        assert abs(want - true_d) / true_d < 0.1
    assert next_distance(done, "C", 0, 0, 5.0, 20.0) == 20.0  # clipped to what the attenuator reaches


def test_before_a_fit_the_camera_brackets_the_edge() -> None:
    hit = [step(20.0, True)]
    assert next_distance(hit, "C", 0, 0, 5.0, 150.0) == 40.0  # farther after a hit
    miss = [step(20.0, False)]
    assert next_distance(miss, "C", 0, 0, 5.0, 150.0) == 10.0  # nearer after a miss
    both = [*hit, step(80.0, False)]
    assert abs(next_distance(both, "C", 0, 0, 5.0, 150.0) - 40.0) < 1e-9  # bisect the gap in log distance


def test_a_camera_whose_hits_and_misses_are_separated_by_distance_is_undetermined_until_they_overlap() -> None:
    separated = [step(float(d), d < 50) for d in range(20, 80, 2)]  # every hit nearer than every miss
    assert undetermined(separated, ["C"]) == ["C"]
    assert undetermined([step(30.0, True)] * 10, ["C"]) == ["C"]  # one outcome only
    overlapping = [*separated, step(60.0, True), step(40.0, False)]
    assert undetermined(overlapping, ["C"]) == []
