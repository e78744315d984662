"""Confidence intervals over replications stay inside what a figure can be; the headline figures, the
use-of-force capture rate and the spread over officers, counted by hand over a scripted shift."""

from __future__ import annotations

from typing import Any

from bwclab.sim.metrics import RATES, officers_on_scene, summarize
from bwclab.sim.model import run_shift
from bwclab.sim.replicate import aggregate, mean_ci, paired
from tests.conftest import deep_merge, scripted


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


# Officer 0 answers two fights (a struggle at each: a use of force), the first lit by its light bar as it arrives
# (captured), the second dark (missed); officer 1 answers a stop, lit (captured).
FIGHT = {"units": 1, "time_on_scene_min": 5, "critical_after_arrival_s": 120,
         "scene": {"cruiser_stop_ft": 0, "exit_s": 5, "stand_ft": 0, "struggle": 1.0}}
LIT = {"lights": {"probability": 1, "after_s": 0}}
SHIFT: dict[str, Any] = {
    "shift": {"duration_h": 1},
    "camera": {"manual": {"expected": False}},
    "call_types": {"stop": {"scene": LIT},
                   "fight_lit": deep_merge(FIGHT, {"scene": LIT}),
                   "fight_dark": FIGHT},
    "script": {"calls": [{"at_s": 10, "type": "fight_lit", "at_ft": [1000, 1200], "units": [0]},
                         {"at_s": 60, "type": "stop", "at_ft": [3000, 1200], "units": [1]},
                         {"at_s": 1200, "type": "fight_dark", "at_ft": [1000, 1400], "units": [0]}]},
}


def scripted_summary(extra: dict[str, Any]) -> dict[str, Any]:
    res = run_shift(scripted(deep_merge(SHIFT, extra)))
    return summarize(res, officers_on_scene(res))


def test_use_of_force_capture_rate_over_a_scripted_shift_is_the_hand_count() -> None:
    s = scripted_summary({})
    assert s["by_severity"]["use_of_force"]["incidents"] == 2  # the two fights
    assert s["capture_rate"] == round(2 / 3, 6)  # the lit fight and the stop, of three
    assert s["use_of_force_capture_rate"] == 0.5  # the lit fight, of two
    assert s["by_call_type"]["fight_lit"]["use_of_force_capture_rate"] == 1.0
    assert s["by_call_type"]["fight_dark"]["use_of_force_capture_rate"] == 0.0
    assert s["by_call_type"]["stop"]["use_of_force_capture_rate"] is None  # no use of force on a stop


def test_a_shift_without_a_use_of_force_has_no_use_of_force_rate() -> None:
    calm = {"call_types": {"fight_lit": {"scene": {"struggle": 0.0}}, "fight_dark": {"scene": {"struggle": 0.0}}}}
    s = scripted_summary(calm)
    assert s["by_severity"]["use_of_force"]["incidents"] == 0
    assert s["use_of_force_capture_rate"] is None and s["capture_rate"] == round(2 / 3, 6)


def test_officer_spread_over_a_scripted_shift_is_the_hand_count() -> None:
    # officer 0 captured 1 of its 2 moments, officer 1 its 1: shares 0.5 and 1.0
    spread = scripted_summary({})["officer_spread"]
    assert spread == {"p10": 0.55, "median": 0.75, "p90": 0.95, "officers": 2}


def test_a_replication_without_a_use_of_force_is_left_out_of_its_mean() -> None:
    reps: list[dict[str, Any]] = [{"use_of_force_capture_rate": 1.0, "by_call_type": {}},
            {"use_of_force_capture_rate": None, "by_call_type": {}},
            {"use_of_force_capture_rate": 0.5, "by_call_type": {}}]
    got = aggregate(reps)["figures"]["use_of_force_capture_rate"]
    assert got["n"] == 2 and got["mean"] == 0.75  # not 0.5, as a missing figure read as 0 would give


def test_every_headline_rate_is_aggregated_per_call_type_and_officer_spread_with_its_ci() -> None:
    reps = [scripted_summary({}), scripted_summary({"seed": 4})]
    got = aggregate(reps)
    assert set(RATES) <= set(got["figures"]) and "use_of_force_capture_rate" in RATES
    assert set(got["by_call_type"]["fight_dark"]) == {"incidents", *RATES}
    assert got["by_call_type"]["fight_lit"]["use_of_force_capture_rate"]["mean"] == 1.0
    assert got["officer_spread"]["median"]["mean"] == 0.75 and got["officer_spread"]["officers"]["n"] == 2


def test_a_call_type_a_replication_did_not_see_counts_zero_incidents_there() -> None:
    """Two replications with a pursuit each (2 and 4 incidents) and two without: 1.5 a shift, not 3."""
    with_pursuit = [{"by_call_type": {"pursuit": {"incidents": n, "capture_rate": 0.5}}} for n in (2, 4)]
    without: list[dict[str, Any]] = [{"by_call_type": {}}, {"by_call_type": {}}]
    got = aggregate(with_pursuit + without)["by_call_type"]["pursuit"]
    assert got["incidents"]["mean"] == 1.5 and got["incidents"]["n"] == 4
    assert got["capture_rate"]["n"] == 2  # a rate over no incident is no figure, not 0
