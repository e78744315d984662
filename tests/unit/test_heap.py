"""A shift runs with Python's cyclic collector paused, and leaves it as it found it, however the run ends."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from bwclab.sim.model import Shift
from bwclab.sim.scenario import load_scenario

TRAFFIC_STOP = Path(__file__).resolve().parents[2] / "scenarios" / "traffic-stop.yaml"


@pytest.fixture
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_the_collector_is_off_while_a_shift_runs_and_on_again_after(collector_on: None) -> None:
    seen: list[bool] = []
    Shift(load_scenario(TRAFFIC_STOP), seed=1).run(progress=lambda _f: seen.append(gc.isenabled()))
    assert seen and not any(seen)
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off() -> None:
    was = gc.isenabled()
    gc.disable()
    try:
        Shift(load_scenario(TRAFFIC_STOP), seed=1).run()
        assert not gc.isenabled()
    finally:
        if was:
            gc.enable()


def test_an_interrupted_shift_turns_the_collector_back_on(collector_on: None) -> None:
    def interrupt(_fraction: float) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        Shift(load_scenario(TRAFFIC_STOP), seed=1).run(progress=interrupt)
    assert gc.isenabled()


def test_the_same_seed_gives_the_same_shift_with_the_collector_paused_or_not() -> None:
    # the pause changes when memory is freed, never what is drawn: compare against a run that collects all along
    sc = load_scenario(TRAFFIC_STOP)
    paused = Shift(sc, seed=3).run()
    collecting: list[object] = []

    def collect(_fraction: float) -> None:
        gc.enable()
        gc.collect()
        collecting.append(1)

    again = Shift(sc, seed=3).run(progress=collect)
    assert collecting
    for rows in ("receptions", "activations", "statuses"):  # repr: a distance may be nan, which is never ==
        assert repr(getattr(paused, rows)) == repr(getattr(again, rows)), rows
