"""What would have fixed each miss holds when the shift is run again with it: on the Hartford shift (light-bar
variant) and several seeds, the scenario re-read with the stated value (`--set`, as a user would give
it) captures the officer-incidents that list it, and a miss that lists no buffer is still missed at 120 s."""

from __future__ import annotations

import math
from functools import cache

import pytest

from bwclab.core.builtin import resolve
from bwclab.sim.fixes import BUFFER_MAX_S, FixRow, fixes
from bwclab.sim.metrics import officers_on_scene
from bwclab.sim.model import ShiftResult, run_shift
from bwclab.sim.scenario import Scenario, load_scenario

SEEDS = (1, 2, 3, 4, 5)  # the whole shift: a shorter one has too few misses a radius fixes


def scenario(*overrides: str) -> Scenario:
    return load_scenario(resolve("scenario", "hartford-patrol-shift"), list(overrides), "light-bar")


@cache
def base(seed: int) -> tuple[ShiftResult, tuple[FixRow, ...]]:
    res = run_shift(scenario(), seed)
    return res, tuple(fixes(res, officers_on_scene(res))[0])


def captured(seed: int, *overrides: str) -> set[tuple[int, int]]:
    res = run_shift(scenario(*overrides), seed)
    return {(r.incident, r.officer) for r in officers_on_scene(res) if r.present_at_critical and r.covered}


def listing(attr: str) -> list[tuple[int, list[FixRow]]]:
    got = [(s, [r for r in base(s)[1] if not math.isnan(getattr(r, attr))]) for s in SEEDS]
    return [(s, rows) for s, rows in got if rows]


def largest_listed_captures_all(attr: str, key: str) -> None:
    """Re-run each seed with the largest value of `attr` its misses list (`key` set to it): every one of them is
    captured."""
    found = listing(attr)
    assert sum(len(rows) for _, rows in found) >= 3, f"too few misses listing {attr} to test"
    for seed, rows in found:
        got = captured(seed, f"{key}={max(getattr(r, attr) for r in rows)}")
        assert {(r.incident, r.officer) for r in rows} <= got, seed


def test_the_largest_buffer_listed_captures_every_miss_that_lists_a_buffer() -> None:
    largest_listed_captures_all("buffer_s_needed", "camera.buffer_s")


def test_a_buffer_just_short_of_the_one_listed_does_not_capture_it() -> None:
    for seed, rows in listing("buffer_s_needed"):
        for r in rows:
            shorter = round(r.buffer_s_needed - 0.1, 6)
            if shorter >= 0:
                assert (r.incident, r.officer) not in captured(seed, f"camera.buffer_s={shorter}"), (seed, r)


def test_a_miss_that_lists_no_buffer_is_still_missed_with_the_longest_buffer() -> None:
    for seed in SEEDS:
        rows = [r for r in base(seed)[1] if math.isnan(r.buffer_s_needed)]
        assert rows
        got = captured(seed, f"camera.buffer_s={BUFFER_MAX_S}")
        assert not {(r.incident, r.officer) for r in rows} & got, seed


def test_the_largest_radius_listed_captures_every_miss_that_lists_a_radius() -> None:
    largest_listed_captures_all("r50_ft_needed", "signal.detection.r50_ft")


@pytest.mark.parametrize("kind", ["door", "siren", "speed", "holster"])
def test_fielding_a_trigger_listed_captures_the_misses_that_list_it(kind: str) -> None:
    tested = 0
    for seed in SEEDS:
        rows = [r for r in base(seed)[1] if kind in r.trigger_needed.split(";")]
        if not rows:
            continue
        got = captured(seed, f"signal.triggers=[light_bar, {kind}]")
        assert {(r.incident, r.officer) for r in rows} <= got, (seed, kind)
        tested += len(rows)
    if kind == "door":
        assert tested >= 3


def test_full_compliance_captures_exactly_the_misses_that_say_a_press_would() -> None:
    for seed in SEEDS:
        rows = base(seed)[1]
        got = captured(seed, "camera.manual.compliance=1.0", "camera.manual.by_call_type={}")
        assert {(r.incident, r.officer) for r in rows if r.press_needed} <= got, seed
        assert not {(r.incident, r.officer) for r in rows if not r.press_needed} & got, seed
