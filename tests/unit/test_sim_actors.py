"""The officer and the dispatcher, each built alone from its narrow ports (no shift behind them); the shift's
components, wired, and the hardware a replay swaps in."""

from __future__ import annotations

import inspect
import math
import typing
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import simpy

from bwclab.hil.replay import BenchHardware
from bwclab.sim.broadcast import ShiftBroadcast
from bwclab.sim.component import Component, Connection, Unconnected
from bwclab.sim.cruiser import Cruiser
from bwclab.sim.dispatcher import Dispatcher
from bwclab.sim.dists import Dist
from bwclab.sim.hardware import Hardware, ModelHardware
from bwclab.sim.incident import Incident
from bwclab.sim.model import Shift
from bwclab.sim.motion import Motion
from bwclab.sim.officer import MPH_TO_FTPS, Officer, Ports
from bwclab.sim.scenario import CallTypeSpec, ManualSpec, PatrolSpec, load_scenario
from tests.unit.courses import Parked

ROOT = Path(__file__).resolve().parents[2]


def incident(env: simpy.Environment, number: int, x: float, y: float, *, priority: bool = False, units: int = 1,
             called_at: float = 0.0, **spec: Any) -> Incident:
    return Incident(number, "call", CallTypeSpec.model_validate(spec), called_at, x, y, priority, units, False,
                    env.event())


class World:
    """One officer (body 0) and its cruiser (body 1), with every port recorded."""

    def __init__(self, manual: ManualSpec | None = None, patrol: PatrolSpec | None = None,
                 compliance: float = 0.0) -> None:
        self.env = simpy.Environment()
        self.motion = Motion(2)
        self.log: list[tuple[Any, ...]] = []
        self.cruiser = Cruiser(0, 1, None, lambda c, inc: self.log.append(("light", c.emitter_id, inc)))
        ports = Ports(env=self.env, motion=self.motion, cruiser=self.cruiser,
                      patrol_rng=np.random.default_rng(1), scene_rng=lambda n: np.random.default_rng(100 + n),
                      arrive=lambda inc: self.log.append(("arrive", inc.number, self.env.now)),
                      press=lambda n: self.log.append(("press", n, self.env.now)),
                      release_camera=lambda now: self.log.append(("release", now)),
                      log_status=lambda status, a, b: self.log.append(("status", status, a, b)),
                      free=lambda: self.log.append(("free", self.env.now)), compliance=compliance)
        self.officer = Officer(0, (0.0, 0.0, 1000.0, 1000.0), patrol or PatrolSpec(enabled=False),
                               manual or ManualSpec(compliance=0.0), ports)
        self.motion.place(0, 0.0, 0.0, 0.0)
        self.motion.place(1, 0.0, 0.0, 0.0)
        self.officer.start_patrol()

    def events(self, kind: str) -> list[tuple[Any, ...]]:
        return [e for e in self.log if e[0] == kind]


def test_an_officer_drives_to_the_scene_works_it_and_clears_when_it_ends() -> None:
    w = World()
    inc = incident(w.env, 7, 1000.0, 0.0, scene={"cruiser_stop_ft": 0, "exit_s": 5, "stand_ft": 0})
    w.officer.assign(inc)
    w.env.run(until=60)
    speed = PatrolSpec().speed_mph * MPH_TO_FTPS / PatrolSpec().detour_factor
    arrive = 1000.0 / speed  # 44 s
    assert w.events("arrive") == [("arrive", 7, pytest.approx(arrive))]
    assert w.motion.position(1, w.env.now) == pytest.approx((1000.0, 0.0))  # the cruiser stopped at the scene
    assert w.motion.position(0, w.env.now) == pytest.approx((1000.0, 0.0))  # the officer got out and stands there
    assert not w.officer.in_car and w.events("release") == [] and w.events("free") == []
    inc.ended.succeed()
    w.env.run(until=61)
    assert w.events("release") == [("release", 60.0)] and w.events("free") == [("free", 60.0)]
    assert [e[1] for e in w.events("status")] == ["patrol", "responding", "on_scene"]
    assert w.officer.assignment is None and w.officer.status == "patrol"


def test_a_priority_call_turns_the_light_bar_on_while_responding() -> None:
    w = World()
    w.officer.assign(incident(w.env, 3, 500.0, 0.0, priority=True))
    w.env.run(until=1)
    assert w.events("light") == [("light", "VEH-00000", 3)]


def test_a_compliant_officer_presses_record_after_the_delay_and_a_non_compliant_one_never_does() -> None:
    for compliance, want in ((1.0, [("press", 4, pytest.approx(12.0))]), (0.0, [])):
        w = World(manual=ManualSpec(delay_s=12), compliance=compliance)
        w.officer.assign(incident(w.env, 4, 0.0, 0.0, scene={"cruiser_stop_ft": 0, "exit_s": 20, "stand_ft": 0}))
        w.env.run(until=5)  # on scene at once (already there): the press is planned from arrival
        w.env.run(until=100)
        assert w.events("press") == want


def test_an_officer_out_of_the_car_walks_back_before_driving_off() -> None:
    w = World()
    first = incident(w.env, 1, 0.0, 0.0, scene={"cruiser_stop_ft": 0, "exit_s": 1, "stand_ft": 45})
    w.officer.assign(first)
    w.env.run(until=30)
    assert math.hypot(*w.motion.position(0, w.env.now)) == pytest.approx(45.0)
    first.ended.succeed()
    w.env.run(until=31)
    w.officer.assign(incident(w.env, 2, 5000.0, 0.0))
    w.env.run(until=31 + 45.0 / PatrolSpec().walk_speed_ftps - 0.5)
    assert w.motion.position(1, w.env.now) == pytest.approx((0.0, 0.0))  # the cruiser waits for its officer
    w.env.run(until=31 + 45.0 / PatrolSpec().walk_speed_ftps + 5)
    assert w.motion.position(1, w.env.now)[0] > 0  # then drives off


class Unit:
    def __init__(self, index: int) -> None:
        self.index = index
        self.waiting_for: list[Incident] = []
        self.assigned: list[int] = []

    def assign(self, inc: Incident) -> None:
        self.assigned.append(inc.number)

    def duty(self, on: bool) -> None:
        self.assigned.append(-1 if on else -2)


def dispatcher(positions: list[tuple[float, float]]) -> tuple[simpy.Environment, Dispatcher, list[Unit]]:
    env = simpy.Environment()
    motion = Motion(len(positions))
    for i, (x, y) in enumerate(positions):
        motion.place(i, 0.0, x, y)
    d = Dispatcher(env, motion, len(positions))
    units = [Unit(i) for i in range(len(positions))]
    d.units = units
    return env, d, units


def test_the_dispatcher_sends_the_nearest_free_units() -> None:
    env, d, units = dispatcher([(0, 0), (100, 0), (50, 0), (1000, 0)])
    inc = incident(env, 0, 60.0, 0.0, units=2)
    d.call(inc)
    assert inc.assigned == [2, 1] and units[2].assigned == [0] and units[1].assigned == [0]
    assert list(d.free) == [True, False, False, True] and d.queue == [] and d.waits == [0.0]


def test_calls_short_of_units_wait_by_priority_then_age_and_a_freed_unit_takes_the_head() -> None:
    env, d, units = dispatcher([(0, 0)])
    busy = incident(env, 0, 0.0, 0.0)
    d.call(busy)
    old = incident(env, 1, 0.0, 0.0, called_at=0.0)
    urgent = incident(env, 2, 0.0, 0.0, called_at=0.0, priority=True)
    d.call(old)
    d.call(urgent)
    assert d.queue == [urgent, old]
    env.run(until=40)
    d.officer_free(units[0])
    assert units[0].assigned == [0, 2] and d.queue == [old]
    assert d.waits == [0.0, 40.0]  # call to first unit dispatched


def test_a_call_waits_for_its_processing_time_before_a_unit_is_sent() -> None:
    env = simpy.Environment()
    motion = Motion(1)
    d = Dispatcher(env, motion, 1, Dist(dist="constant", value=45), lambda n: np.random.default_rng(n))
    unit = Unit(0)
    d.units = [unit]
    d.call(incident(env, 0, 0.0, 0.0))
    env.run(until=44)
    assert unit.assigned == []
    env.run(until=46)
    assert unit.assigned == [0] and d.waits == [45.0]


def test_a_duty_falling_due_during_a_call_starts_when_the_call_ends() -> None:
    env, d, units = dispatcher([(0, 0)])
    d.call(incident(env, 0, 0.0, 0.0))
    d.duty_due(units[0], 600.0)
    assert units[0].assigned == [0]  # still on its call
    d.call(incident(env, 1, 0.0, 0.0))  # queued: no unit free
    d.officer_free(units[0])
    assert units[0].assigned == [0, -1]  # the duty first, the queued call waits
    env.run(until=601)
    assert units[0].assigned == [0, -1, -2, 1]  # back from duty, it takes the queued call


def test_a_freed_unit_answers_the_call_it_was_promised_first() -> None:
    env, d, units = dispatcher([(0, 0), (10, 0)])
    scripted = incident(env, 5, 0.0, 0.0)
    units[0].waiting_for.append(scripted)
    queued = incident(env, 6, 0.0, 0.0)
    d.queue.append(queued)
    d.free[0] = False
    d.officer_free(units[0])
    assert units[0].assigned == [5] and d.queue == [queued] and not d.free[0]


def test_the_nearest_free_units_found_through_the_grid_are_the_nearest_by_brute_force() -> None:
    rng = np.random.default_rng(5)
    n = 400
    env = simpy.Environment()
    motion = Motion(2 * n)
    for i in range(2 * n):
        x0, y0 = rng.uniform(0, 40_000, 2)
        motion.place(i, 0.0, float(x0), float(y0))
        if rng.uniform() < 0.5:
            x1, y1 = rng.uniform(0, 40_000, 2)
            motion.move_to(i, 0.0, float(x1), float(y1), speed=30.0)
    d = Dispatcher(env, motion, n)
    d.free[:] = rng.uniform(size=n) < 0.3
    env.run(until=100.0)
    for _ in range(50):
        x, y = rng.uniform(0, 40_000, 2)
        k = int(rng.integers(1, 5))
        idx = np.flatnonzero(d.free)
        px, py = motion.positions(idx, 100.0)
        dist = np.hypot(px - x, py - y)
        want = [int(i) for i in idx[np.lexsort((idx, dist))][:k]]
        assert d.nearest_free(x, y, k) == want


@pytest.mark.parametrize("n", [60, 600])  # every free unit at once; through the grid
def test_the_nearest_free_units_among_patrols_are_found_without_working_out_the_far_ones(n: int) -> None:
    rng = np.random.default_rng(7)
    env = simpy.Environment()
    motion = Motion(n)
    motion.clock = env
    courses = []
    for i in range(n):
        x0, y0 = rng.uniform(0, 60_000, 2)
        motion.place(i, 0.0, float(x0), float(y0))
        if i % 3:  # two in three on patrol: somewhere in a 4,000 ft beat around where they were
            region = (float(x0) - 2000, float(y0) - 2000, float(x0) + 2000, float(y0) + 2000)
            at_x, at_y = float(rng.uniform(region[0], region[2])), float(rng.uniform(region[1], region[3]))
            course = Parked(motion, i, at_x, at_y)
            motion.make_lazy(i, course, region)
            motion.set_due(i, 0.0)
            courses.append(course)
    d = Dispatcher(env, motion, n)
    d.free[:] = rng.uniform(size=n) < 0.7
    env.run(until=50.0)
    free_patrols = sum(bool(d.free[c.body]) for c in courses)
    worked_out = []
    for _ in range(20):
        for c in courses:  # where each patrol is: not yet known
            c.worked_out = False
            motion.set_due(c.body, 0.0)
        x, y = (float(v) for v in rng.uniform(0, 60_000, 2))
        k = int(rng.integers(1, 5))
        got = d.nearest_free(x, y, k)
        worked_out.append(sum(c.worked_out for c in courses if d.free[c.body]))
        idx = np.flatnonzero(d.free)
        px, py = motion.positions(idx, 50.0)  # every patrol worked out: the brute force
        want = [int(i) for i in idx[np.lexsort((idx, (px - x) ** 2 + (py - y) ** 2))][:k]]
        assert got == want
    assert max(worked_out) < free_patrols / 4  # the far patrols were left where they were


# --- the shift's components -----------------------------------------------------------------------------------
TRAFFIC_STOP = ROOT / "scenarios" / "traffic-stop.yaml"


class Tap(Component):
    """A hardware that hands everything to the model's and counts what went through it."""

    model = Connection[Hardware]()

    def __init__(self) -> None:
        self.seen: Counter[str] = Counter()

    def fire(self, kind: str, body: int, emitter_id: str, incident: int | None) -> None:
        self.seen["fire"] += 1
        self.model.fire(kind, body, emitter_id, incident)

    def deliver(self, b: ShiftBroadcast, camera: int, t_entry: float, dist: float) -> None:
        self.seen["deliver"] += 1
        self.model.deliver(b, camera, t_entry, dist)

    def press(self, officer: int, incident: int) -> None:
        self.seen["press"] += 1
        self.model.press(officer, incident)


def test_a_connection_read_before_it_is_made_says_which_it_is() -> None:
    with pytest.raises(Unconnected, match=r"Tap\.model is not connected"):
        Tap().fire("taser", 0, "TSR-00000", None)


def test_a_shift_with_a_connection_left_unmade_refuses_to_run_and_names_it() -> None:
    shift = Shift(load_scenario(TRAFFIC_STOP), seed=1, hardware=Tap())
    with pytest.raises(Unconnected, match=r"left unconnected: hardware\.model$"):
        shift.run()
    assert shift.env.now == 0  # nothing ran


def test_the_shift_makes_every_connection_its_own_components_declare() -> None:
    shift = Shift(load_scenario(TRAFFIC_STOP), seed=1)
    parts = [part for _name, part in shift.components() if isinstance(part, Component)]
    assert sum(len(p.connections()) for p in parts) >= 20
    assert [p.unconnected() for p in parts] == [[] for _ in parts]


def test_every_trigger_reception_and_press_of_a_shift_goes_through_its_hardware() -> None:
    sc = load_scenario(ROOT / "scenarios" / "hartford-patrol-shift.yaml", ["area.width_mi=1", "area.height_mi=1"],
                       variant="all-triggers")
    plain = Shift(sc, seed=2).run()
    tap = Tap()
    shift = Shift(sc, seed=2, hardware=tap)
    tap.model = shift.model_hardware
    tapped = shift.run()
    assert repr(tapped.activations) == repr(plain.activations) and tapped.receptions == plain.receptions
    signal_dash = sum(a.camera_kind == "dash" and a.cause == "signal" for a in tapped.activations)
    assert tap.seen["deliver"] >= len(tapped.receptions) + signal_dash > 0
    assert tap.seen["fire"] >= len(tapped.broadcasts) > 0
    assert tap.seen["press"] >= sum(a.cause == "manual" for a in tapped.activations) > 0


@pytest.mark.parametrize("hardware", [ModelHardware, BenchHardware, Tap])
def test_the_replays_hardware_and_the_models_answer_to_the_same_protocol(hardware: type) -> None:
    members = [n for n, v in vars(Hardware).items() if callable(v) and not n.startswith("_")]
    assert members == ["fire", "deliver", "press"]
    for name in members:
        want = inspect.signature(getattr(Hardware, name))
        got = inspect.signature(getattr(hardware, name))
        assert got == want, (hardware.__name__, name)
        assert typing.get_type_hints(getattr(hardware, name)) == typing.get_type_hints(getattr(Hardware, name))
    assert issubclass(hardware, Hardware)
