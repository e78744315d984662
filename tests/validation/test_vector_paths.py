"""The dispatcher's two ways of finding the nearest free units, one at a time in plain floats or together in numpy
arrays (`SCALAR_BELOW`: whichever is cheaper for how many there are), give the same shift: the same units sent, the
same cameras hearing the same broadcasts at the same times."""

from __future__ import annotations

from pathlib import Path

import pytest

from bwclab.sim import dispatcher
from bwclab.sim.model import Shift, ShiftResult
from bwclab.sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent.parent
DENSE = ["area.width_mi=1", "area.height_mi=1", "signal.detection.r50_ft=300"]  # many cameras near each broadcast


def _run(sc_args: tuple[str, str | None, list[str]], seed: int, below: int, monkeypatch: pytest.MonkeyPatch
         ) -> ShiftResult:
    name, variant, sets = sc_args
    monkeypatch.setattr(dispatcher, "SCALAR_BELOW", below)
    try:
        return Shift(load_scenario(ROOT / "scenarios" / f"{name}.yaml", sets, variant=variant), seed).run()
    finally:
        monkeypatch.undo()


@pytest.mark.parametrize(("scenario", "variant", "seed"), [("hartford-patrol-shift", None, 1),
                                                          ("hartford-patrol-shift", "all-triggers", 2),
                                                          ("west-hartford-shift", "light-bar", 3)])
def test_one_at_a_time_and_all_at_once_give_the_same_shift(scenario: str, variant: str | None, seed: int,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    args = (scenario, variant, DENSE)
    scalar = _run(args, seed, 10**9, monkeypatch)
    vector = _run(args, seed, 0, monkeypatch)
    assert [i.assigned for i in scalar.incidents] == [i.assigned for i in vector.incidents]
    assert sum(len(i.assigned) > 1 for i in scalar.incidents) > 0  # calls that took more than the nearest unit
    heard = [(r.officer, r.broadcast, r.outcome, r.time_s) for r in scalar.receptions]
    assert len(heard) > len(scalar.broadcasts) > 0  # more than one camera in earshot of a broadcast
    assert heard == [(r.officer, r.broadcast, r.outcome, r.time_s) for r in vector.receptions]
    assert repr(scalar.activations) == repr(vector.activations)  # repr: a distance may be nan, never ==
