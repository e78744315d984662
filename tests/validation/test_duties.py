"""Duties and the status records. Every officer is away on duties (reports, breaks) for about the scenario's share
of a long shift, each on its own blocks; and the status records obey Little's law: the mean number of officers in a
status is the rate its spans begin times their mean length, every officer in exactly one status at every moment;
officers.csv gives each officer's time by status, adding up to the shift.

Tolerances: over 400 h without calls, each officer's share lies within 0.14 (5 standard deviations of one officer's
share, 0.028 over 8 seeds) of the scenario's 0.33, and the mean over the 37 officers within 0.025; Little's law on
the records holds to 0.5% of the fleet (instants sampled every 4 s)."""

from __future__ import annotations

import csv
import statistics
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest

from bwclab.sim.model import ShiftResult, run_shift
from bwclab.sim.replicate import run_reps
from bwclab.sim.runfolder import write_run
from bwclab.sim.scenario import Scenario, load_scenario

HARTFORD = Path(__file__).resolve().parent.parent.parent / "scenarios" / "hartford-patrol-shift.yaml"
NO_CALLS = ["shift.duration_h=400", "calls.per_hour=0", "calls.officer_initiated_per_hour=0"]


def time_in(res: ShiftResult, officer: int, status: str) -> float:
    return sum(s.end_s - s.start_s for s in res.statuses if s.officer == officer and s.status == status)


@pytest.fixture(scope="module")
def long_shift() -> tuple[Scenario, ShiftResult]:
    sc = load_scenario(HARTFORD, NO_CALLS)
    return sc, run_shift(sc, 1)


def test_each_officer_spends_about_the_scenarios_share_of_a_long_shift_on_duties(
        long_shift: tuple[Scenario, ShiftResult]) -> None:
    sc, res = long_shift
    share = sc.dispatch.duties.share
    shares = [time_in(res, o, "duty") / sc.duration_s for o in range(sc.fleet.officers)]
    assert all(abs(s - share) < 0.14 for s in shares), [round(s, 3) for s in shares]
    assert abs(statistics.mean(shares) - share) < 0.025


def test_officers_on_duties_are_the_rate_duties_fall_due_times_their_mean_length(
        long_shift: tuple[Scenario, ShiftResult]) -> None:
    """Little's law against the scenario: blocks fall due at n x share / mean length a second, each of the mean
    length, so n x share officers are on duties on average (blocks falling due during another wait for it)."""
    sc, res = long_shift
    duties = sc.dispatch.duties
    mean_length_s = duties.length_min.expected() * 60.0
    due_per_s = sc.fleet.officers * duties.share / mean_length_s
    on_duty = sum(time_in(res, o, "duty") for o in range(sc.fleet.officers)) / sc.duration_s
    assert on_duty == pytest.approx(due_per_s * mean_length_s, rel=0.075)


@pytest.mark.parametrize("seed", [1, 2])
def test_the_status_records_obey_littles_law_with_every_officer_in_one_status_at_a_time(seed: int) -> None:
    sc = load_scenario(HARTFORD)
    res = run_shift(sc, seed)
    end, n = sc.duration_s, sc.fleet.officers
    for o in range(n):  # each officer's spans tile its shift: no gap, no overlap
        spans = sorted((s.start_s, s.end_s) for s in res.statuses if s.officer == o)
        assert spans[0][0] == 0.0 and spans[-1][1] == end
        assert all(a[1] == b[0] for a, b in pairwise(spans))
    instants = (np.arange(int(end / 4.0)) + 0.5) * 4.0
    statuses = sorted({s.status for s in res.statuses})
    assert statuses == ["duty", "on_scene", "patrol", "responding"]
    counted = np.zeros(len(instants))
    for status in statuses:
        in_status = [s for s in res.statuses if s.status == status]
        rate, mean_s = len(in_status) / end, statistics.mean(s.end_s - s.start_s for s in in_status)
        starts, ends = np.sort([s.start_s for s in in_status]), np.sort([s.end_s for s in in_status])
        present = np.searchsorted(starts, instants, "right") - np.searchsorted(ends, instants, "right")
        assert present.mean() == pytest.approx(rate * mean_s, abs=0.005 * n), status
        counted += present
    assert (counted == n).all()  # at every instant, every officer in one status


def test_officers_csv_has_a_row_per_replication_and_officer_whose_time_adds_up_to_the_shift(tmp_path: Path) -> None:
    sc = load_scenario(HARTFORD)
    first, summaries = run_reps(sc, 7, 2)
    write_run(first, summaries, tmp_path, 7, plots=False)
    with (tmp_path / "officers.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    n = sc.fleet.officers
    assert [(int(r["rep"]), int(r["seed"]), int(r["officer"])) for r in rows] == [
        (k, s["seed"], o) for k, s in enumerate(summaries) for o in range(n)]
    for r in rows:
        assert float(r["patrol_s"]) + float(r["on_call_s"]) + float(r["on_duty_s"]) == pytest.approx(
            sc.duration_s, abs=1e-5)
        assert int(r["moments_captured"]) <= int(r["moments_present"]) <= int(r["incidents_attended"])
    with (tmp_path / "incidents.csv").open(encoding="utf-8") as fh:
        on_scene = [r for r in csv.DictReader(fh) if r["present_at_critical"] == "1"]
    first_rep = rows[:n]
    assert sum(int(r["moments_present"]) for r in first_rep) == len(on_scene) > 0
    assert sum(int(r["moments_captured"]) for r in first_rep) == sum(r["covered"] == "1" for r in on_scene) > 0
