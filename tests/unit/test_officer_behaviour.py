"""Officer behaviour: manual compliance per call type with a per-officer spread, presses en route to priority
calls, the program-start variant, and weapons whose sensors go off on every draw and every arming."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import simpy

from bwclab.core.builtin import resolve
from bwclab.core.config import ConfigError
from bwclab.sim.incident import Incident, Scene
from bwclab.sim.patrols import level_logit, officer_compliance
from bwclab.sim.scenario import CallTypeSpec, ManualSpec, load_scenario
from tests.unit.test_sim_actors import World, incident

OFFICERS = 4000
TYPES = ("service", "disturbance", "traffic_stop")


def _logit(p: float) -> float:
    return math.log(p / (1.0 - p))


def test_each_call_type_is_pressed_at_its_stated_rate_over_many_officer_incidents() -> None:
    """4,000 officers, 10 incidents of each type each: the share pressed is the type's rate within 4 standard
    errors (the error counts both the officers' spread and the coin of each incident)."""
    manual = ManualSpec(by_call_type={"service": 0.62, "disturbance": 0.70, "traffic_stop": 0.90},
                        officer_spread_logit=1.0)
    officers = officer_compliance(manual, TYPES, key=11, n=OFFICERS)
    rng = np.random.default_rng(5)
    for t in TYPES:
        p = np.array([by_type[t] for _, by_type in officers])
        pressed = rng.uniform(size=(OFFICERS, 10)) < p[:, None]
        per_officer = pressed.mean(axis=1)
        se = per_officer.std(ddof=1) / math.sqrt(OFFICERS)
        assert abs(pressed.mean() - manual.by_call_type[t]) < 4 * se, t


def test_officers_spread_around_each_type_by_the_stated_logit_sd_the_same_officer_high_on_every_type() -> None:
    manual = ManualSpec(by_call_type={"service": 0.62, "traffic_stop": 0.90}, officer_spread_logit=1.5)
    officers = officer_compliance(manual, TYPES, key=3, n=OFFICERS)
    shifts = {t: np.array([_logit(by_type[t]) for _, by_type in officers]) - level_logit(
        manual.by_call_type.get(t, manual.compliance.expected()), 1.5) for t in TYPES}
    # the sd of a sample sd of 4,000 normals is about 1.5 / sqrt(8,000) = 0.017: 0.07 is 4 of them
    assert shifts["service"].std(ddof=1) == pytest.approx(1.5, abs=0.07)
    assert shifts["service"] == pytest.approx(shifts["traffic_stop"], abs=1e-6)  # one propensity per officer
    assert officer_compliance(manual, TYPES, key=3, n=OFFICERS) == officers  # drawn from a keyed stream


def test_without_a_spread_every_officer_complies_at_the_type_rate() -> None:
    manual = ManualSpec(by_call_type={"service": 0.3})
    assert {round(by_type["service"], 9) for _, by_type in officer_compliance(manual, TYPES, 1, 50)} == {0.3}


def test_the_program_start_variant_draws_the_old_beta_mean_026_for_every_call_type() -> None:
    sc = load_scenario(resolve("scenario", "hartford-patrol-shift"), variant="program-start")
    assert sc.camera.manual.by_call_type == {} and sc.camera.manual.when == "arrival" and sc.signal.triggers == []
    officers = officer_compliance(sc.camera.manual, list(sc.call_types), key=7, n=20_000)
    drawn = np.array([c for c, _ in officers])
    # Beta(1.04, 2.95): mean 0.261, sd 0.195; the sd of a mean of 20,000 is 0.0014: 0.006 is 4 of them
    assert drawn.mean() == pytest.approx(0.26, abs=0.006)
    assert all(by_type == {} for _, by_type in officers)  # one figure for every call type


def test_the_steady_state_hartford_shift_averages_within_the_audited_range_of_dispatches() -> None:
    sc = load_scenario(resolve("scenario", "hartford-patrol-shift"))
    shares = {t: s.share for t, s in sc.call_types.items() if s.share > 0}
    mean = sum(sc.camera.manual.by_call_type[t] * w for t, w in shares.items()) / sum(shares.values())
    assert 0.65 <= mean <= 0.80  # Minneapolis: 65-80% of dispatches recorded


def test_an_unknown_call_type_under_by_call_type_is_refused_naming_the_file_the_field_and_the_types(
        tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\ncall_types:\n  service: {share: 1}\n  domestic: {share: 1}\n"
                    "camera:\n  manual:\n    by_call_type: {burglary: 0.5, service: 0.6}\n")
    with pytest.raises(ConfigError) as err:
        load_scenario(path)
    text = str(err.value)
    assert str(path) in text and "camera.manual.by_call_type" in text and "'burglary'" in text
    assert "service, domestic" in text


def _priority_far(w: World) -> Incident:
    return incident(w.env, 9, 4000.0, 0.0, priority=True, scene={"cruiser_stop_ft": 0, "exit_s": 20, "stand_ft": 0})


def _arrival(w: World) -> float:
    return float(next(e[2] for e in w.events("arrive")))


def test_an_en_route_press_happens_while_driving_to_a_priority_call_counted_from_setting_off() -> None:
    w = World(manual=ManualSpec(when="en_route", en_route_share=1.0, delay_s=5), compliance=1.0)
    w.officer.assign(_priority_far(w))
    w.env.run(until=600)
    presses = w.events("press")
    assert len(presses) == 1 and presses[0][2] == pytest.approx(5.0)
    assert presses[0][2] < _arrival(w)


def test_an_en_route_press_with_a_delay_longer_than_the_drive_comes_on_arrival() -> None:
    w = World(manual=ManualSpec(when="en_route", en_route_share=1.0, delay_s=3000), compliance=1.0)
    w.officer.assign(_priority_far(w))
    w.env.run(until=600)
    assert [e[2] for e in w.events("press")] == [pytest.approx(_arrival(w))]


def test_with_no_en_route_share_the_press_comes_after_arrival() -> None:
    w = World(manual=ManualSpec(when="en_route", en_route_share=0.0, delay_s=5), compliance=1.0)
    w.officer.assign(_priority_far(w))
    w.env.run(until=600)
    assert [e[2] for e in w.events("press")] == [pytest.approx(_arrival(w) + 5.0)]


def test_the_call_type_figure_overrides_the_department_wide_one() -> None:
    w = World(manual=ManualSpec(delay_s=5), compliance=0.0)
    w.officer.ports = type(w.officer.ports)(**{**w.officer.ports.__dict__, "compliance_by_type": {"call": 1.0}})
    w.officer.assign(incident(w.env, 4, 0.0, 0.0, scene={"cruiser_stop_ft": 0, "exit_s": 20, "stand_ft": 0}))
    w.env.run(until=100)
    assert len(w.events("press")) == 1


def _scene(**spec: Any) -> tuple[simpy.Environment, Incident, list[tuple[float, int, str]]]:
    env = simpy.Environment()
    inc = Incident(0, "call", CallTypeSpec.model_validate({"severity": "report", **spec}), 0.0, 0.0, 0.0, False, 1,
                   False, env.event())
    inc.assigned = [0]
    fired: list[tuple[float, int, str]] = []
    scene = Scene(env, inc, np.random.default_rng(2), 15.0, lambda o, kind, n: fired.append((float(env.now), o, kind)),
                  lambda o, x, y: None, lambda i: None, lambda i: None)
    scene.arrive(0)
    env.run(until=3600)
    return env, inc, fired


def test_the_holster_sensor_fires_on_every_draw_and_the_draw_makes_the_incident_a_use_of_force() -> None:
    _, inc, fired = _scene(holster={"probability": 1.0, "offset_s": 0}, critical_after_arrival_s=30,
                           time_on_scene_min=10)
    assert [kind for _, _, kind in fired] == ["holster"]
    assert inc.severity == "use_of_force"
    _, calm, none = _scene(holster={"probability": 0.0}, critical_after_arrival_s=30, time_on_scene_min=10)
    assert none == [] and calm.severity == "report"


def test_a_taser_armed_broadcasts_once_and_armed_then_fired_twice_from_the_same_officer() -> None:
    _, armed_only, once = _scene(taser={"probability": 0.0, "armed": 1.0, "offset_s": 0},
                                 critical_after_arrival_s=30, time_on_scene_min=10)
    assert [(t, kind) for t, _, kind in once] == [(30.0, "taser")] and armed_only.severity == "use_of_force"
    _, _, twice = _scene(taser={"probability": 1.0, "armed": 1.0, "offset_s": 0, "fire_after_s": 4},
                         critical_after_arrival_s=30, time_on_scene_min=10)
    assert [(t, o, kind) for t, o, kind in twice] == [(30.0, 0, "taser"), (34.0, 0, "taser")]


def test_armed_below_fired_is_refused() -> None:
    with pytest.raises(ValueError, match="armed"):
        CallTypeSpec.model_validate({"taser": {"probability": 0.5, "armed": 0.1}})
