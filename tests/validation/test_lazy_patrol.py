"""A lazy patrol (legs drawn when asked for) gives the shift an eager one gives (a SimPy event per leg), draw for
draw: every incident, activation, reception, status span, view and broadcast, on shifts where patrolling officers
hear broadcasts and are sent to calls mid-leg."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from bwclab.sim.model import Shift, ShiftResult
from bwclab.sim.officer import Officer
from bwclab.sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent.parent


def everything(r: ShiftResult) -> list[Any]:
    incidents = [{f.name: getattr(i, f.name) for f in dataclasses.fields(i) if f.name not in ("spec", "ended")}
                 for i in r.incidents]
    broadcasts = [(b.number, b.emitter_body, b.kind, b.start, b.end, b.incident, sorted(b.done)) for b in r.broadcasts]
    views = sorted((k, sorted(v.body.items()), sorted(v.dash.items())) for k, v in r.views.items())
    return [incidents, r.activations, r.receptions, sorted(r.statuses, key=lambda s: (s.officer, s.start_s)),
            views, broadcasts, sorted(r.undiscovered), r.waits_s, sorted(r.asleep_spans.items()), r.busy_s]


DENSE = ["area.width_mi=1", "area.height_mi=1", "signal.detection.r50_ft=300"]  # patrols within earshot of scenes


@pytest.mark.parametrize(("scenario", "variant", "seed", "sets"), [
    ("hartford-patrol-shift", None, 1, DENSE), ("hartford-patrol-shift", "all-triggers", 2, DENSE),
    ("west-hartford-shift", "light-bar", 5, DENSE), ("hartford-patrol-shift", None, 4, [])])
def test_a_lazy_patrol_gives_the_eager_patrols_shift(scenario: str, variant: str | None, seed: int,
                                                     sets: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    sc = load_scenario(ROOT / "scenarios" / f"{scenario}.yaml", sets, variant=variant)
    heard_changes = []
    watched = Officer._watched

    def counted(self: Officer, token: int, t: float) -> None:
        before = self._change_at
        watched(self, token, t)
        heard_changes.append(self._change_at != before)

    monkeypatch.setattr(Officer, "_watched", counted)
    lazy = Shift(sc, seed).run()
    monkeypatch.undo()
    eager = Shift(sc, seed, lazy_patrol=False).run()
    assert any(heard_changes)  # legs that changed course while a broadcast nearby listened
    assert lazy.events < eager.events  # the patrol legs are no events of their own
    patrolling = {s.officer for s in eager.statuses if s.status == "patrol"}
    heard_on_patrol = [x for x in eager.receptions if x.incident is None or x.officer not in
                       eager.incidents[x.incident].assigned]
    assert patrolling and (heard_on_patrol or not sets)  # patrolling officers hearing broadcasts, to get right
    assert everything(lazy) == everything(eager)


@pytest.mark.parametrize("sets", [
    [], ["patrol.speed_mph=60", "patrol.emergency_speed_mph=30"], ["patrol.run_speed_ftps=90"],
    ["patrol.foot_speed_mph=80", "fleet.on_foot_share=0.5"]])
def test_no_body_moves_faster_than_the_airwaves_bound(sets: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The watch box, and the cameras a broadcast looks at, assume no body outruns `Airwaves.max_speed`: a
    scenario whose patrol, foot or running speed tops its emergency speed must not break that."""
    import math

    from bwclab.sim.motion import Motion

    sc = load_scenario(ROOT / "scenarios" / "hartford-patrol-shift.yaml", ["calls.per_hour=20", *sets],
                       variant="all-triggers")
    speeds: list[float] = []
    put = Motion._set

    def noted(self: Motion, i: int, t: float, x: float, y: float, vx: float, vy: float, t1: float) -> None:
        speeds.append(math.hypot(vx, vy))
        put(self, i, t, x, y, vx, vy, t1)

    monkeypatch.setattr(Motion, "_set", noted)
    shift = Shift(sc, 1)
    shift.run()
    assert speeds and max(speeds) > 0
    # (a velocity's length is its speed to a rounding: dist / (dist / speed) in each component)
    assert max(speeds) <= shift.airwaves.max_speed * (1 + 1e-12), (max(speeds), shift.airwaves.max_speed)


@pytest.mark.parametrize(("scenario", "variant", "seed", "sets"), [
    ("hartford-patrol-shift", "all-triggers", 1, DENSE), ("west-hartford-shift", "light-bar", 2, []),
    ("hartford-patrol-shift", None, 3, [])])
def test_a_small_fleet_without_the_grid_gives_the_gridded_shift(scenario: str, variant: str | None, seed: int,
                                                                sets: list[str],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Up to `GRID_ABOVE` bodies, queries look at every body (every camera, every lazy body) instead of the grid:
    a superset the callers check exactly, so nothing may change."""

    sc = load_scenario(ROOT / "scenarios" / f"{scenario}.yaml", sets, variant=variant)
    plain = Shift(sc, seed)
    assert not plain.motion.gridded  # the shipped small departments run without the grid
    plain_result = plain.run()
    from bwclab.sim import motion

    monkeypatch.setattr(motion, "GRID_ABOVE", 0)
    gridded = Shift(sc, seed)
    assert gridded.motion.gridded
    gridded_result = gridded.run()
    assert plain_result.receptions and plain_result.broadcasts
    assert everything(plain_result) == everything(gridded_result)
