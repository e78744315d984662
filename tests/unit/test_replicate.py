"""Confidence intervals over replications stay inside what a figure can be."""

from __future__ import annotations

from bwclab.sim.replicate import aggregate, mean_ci, paired


def test_a_share_interval_from_two_replications_stays_in_0_1() -> None:
    plain = mean_ci([0.0, 0.956])
    assert plain["ci_low"] is not None and plain["ci_low"] < 0  # the bare t interval runs past 0
    cut = mean_ci([0.0, 0.956], 0.0, 1.0)
    assert cut["ci_low"] == 0.0 and cut["ci_high"] == 1.0 and cut["mean"] == 0.478


def test_an_interval_inside_the_range_is_left_alone() -> None:
    values = [0.50, 0.52, 0.49, 0.51, 0.50]
    assert mean_ci(values, 0.0, 1.0) == mean_ci(values)


def test_aggregate_cuts_shares_to_0_1_and_counts_at_0() -> None:
    reps = [{"capture_rate": 0.02, "bystander_activations": 0, "by_call_type": {}},
            {"capture_rate": 0.98, "bystander_activations": 9, "by_call_type": {}}]
    got = aggregate(reps)["figures"]
    assert got["capture_rate"]["ci_low"] == 0.0 and got["capture_rate"]["ci_high"] == 1.0
    assert got["bystander_activations"]["ci_low"] == 0.0
    assert got["bystander_activations"]["ci_high"] is not None and got["bystander_activations"]["ci_high"] > 9


def test_a_paired_difference_of_shares_stays_in_minus_1_1() -> None:
    a = [{"capture_rate": 0.0}, {"capture_rate": 0.9}]
    b = [{"capture_rate": 0.9}, {"capture_rate": 0.0}]
    d = paired(a, b, "capture_rate")
    assert d["ci_low"] == -1.0 and d["ci_high"] == 1.0 and d["mean"] == 0.0
