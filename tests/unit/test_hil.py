"""Hardware in the loop, piece by piece: crossings, the paths' event-driven settings, the replay clock's
inbox, the prediction region, the map and the window (no bench; the integration tests use one)."""

from __future__ import annotations

import math
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import simpy

from bwclab.bench.description import load_bench
from bwclab.core.config import ConfigError
from bwclab.hil.clock import LEAD_S, LOOKAHEAD_S, HostEvent, ReplayClock
from bwclab.hil.mapping import Duration, build_map, fitting_speed, misfits, parse_map
from bwclab.hil.paths import PathFollower
from bwclab.hil.prediction import region
from bwclab.hil.track import crossing
from bwclab.hil.window import replay_window
from bwclab.sim.broadcast import ShiftBroadcast
from bwclab.sim.model import Shift
from bwclab.sim.motion import Motion
from bwclab.sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
QUICK = load_bench(ROOT / "fixtures" / "emulated.yaml")
MATRIX = load_bench(ROOT / "fixtures" / "matrix.yaml")


def test_crossing_solves_when_a_linear_offset_reaches_a_distance() -> None:
    assert crossing(10, 0, -1, 0, 5) == pytest.approx(5.0)  # closing in from 10 to 5
    assert crossing(1, 0, 1, 0, 5) == pytest.approx(4.0)  # moving out from inside
    assert crossing(0, 10, 1, 0, 5) == math.inf  # passes by at 10, never within 5
    assert crossing(3, 4, 0, 0, 4) == math.inf  # standing still


class Port:
    def __init__(self, step: float) -> None:
        self.calls: list[tuple[float, str, str, float]] = []
        self.now: dict[tuple[str, str], float] = {}
        self.step = step
        self.env: simpy.Environment | None = None

    def set_path_attenuation(self, serial: str, emitter: str, db: float, verify: bool = True) -> float:
        assert self.env is not None
        self.calls.append((float(self.env.now), serial, emitter, db))
        self.now[(serial, emitter)] = round(db / self.step) * self.step
        return self.now[(serial, emitter)]

    def path_attenuation(self, serial: str, emitter: str) -> float:
        return self.now[(serial, emitter)]


def follower(bench_name: str, cameras: dict[str, int], n_bodies: int) -> tuple[simpy.Environment, Motion, Port,
                                                                                 PathFollower]:
    bench = QUICK if bench_name == "quick" else MATRIX
    env = simpy.Environment()
    motion = Motion(n_bodies)
    port = Port(bench.instruments.attenuator.step_db)
    port.env = env
    f = PathFollower(env, motion, bench, port, cameras, {}, lambda *_a: None, time.monotonic_ns)
    return env, motion, port, f


def loss(bench_att: float, bench_max: float) -> float:
    return min(max(bench_att, 0.0), bench_max)


def test_a_walking_camera_is_set_again_only_when_its_loss_moves_half_a_step_and_always_to_the_loss_then() -> None:
    env, motion, port, f = follower("quick", {"CAM001": 0}, 2)
    motion.place(1, 0.0, 0.0, 0.0)  # the emitter
    motion.place(0, 0.0, 100.0, 0.0)
    motion.move_to(0, 0.0, 10.0, 0.0, 4.5)  # walks in from 100 ft to 10 ft: 20 s
    b = ShiftBroadcast(0, 1, "LB", "light_bar", 0.0, 30.0, None)
    f.start(b, "light_bar")
    env.run(until=25.0)
    pl, top, step = QUICK.path_loss, QUICK.instruments.attenuator.max_db, QUICK.instruments.attenuator.step_db

    def want(t: float) -> float:
        return loss(pl.attenuation_for(math.dist(motion.position(0, t), motion.position(1, t))), top)

    sets = [(t, db) for t, _s, _e, db in port.calls]
    assert all(abs(db - round(want(t) / step) * step) < 1e-9 for t, db in sets)  # each set: the loss at that time
    span = want(0.0) - want(20.0)
    assert span / step - 2 <= len(sets) <= span / step + 2  # one per step the walk crosses: no polling
    applied = [db for _t, db in sets]
    for t in np.linspace(0.0, 24.9, 800):  # between sets, the loss stays within half a step of what is applied
        k = max(i for i, (ts, _db) in enumerate(sets) if ts <= t)
        assert abs(want(float(t)) - applied[k]) <= step / 2 + 1e-6


def test_one_channel_follows_the_strongest_broadcast_and_parks_when_none_is_on_the_air() -> None:
    env, motion, port, f = follower("quick", {"CAM001": 0}, 3)
    motion.place(0, 0.0, 0.0, 0.0)
    motion.place(1, 0.0, 80.0, 0.0)  # a far emitter
    motion.place(2, 0.0, 0.0, 20.0)  # a near one
    far = ShiftBroadcast(0, 1, "LB", "light_bar", 0.0, 10.0, None)
    near = ShiftBroadcast(1, 2, "TZ", "taser", 2.0, 6.0, None)
    f.start(far, "light_bar")
    env.run(until=2.0)
    f.start(near, "taser")
    env.run(until=6.0)
    f.end(near)
    env.run(until=10.0)
    f.end(far)
    env.run(until=11.0)
    pl, top = QUICK.path_loss, QUICK.instruments.attenuator.max_db
    dbs = [db for _t, _s, _e, db in port.calls]
    assert dbs == pytest.approx([round(pl.attenuation_for(80) * 4) / 4, round(pl.attenuation_for(20) * 4) / 4,
                                 round(pl.attenuation_for(80) * 4) / 4, top], abs=1e-9)


def test_a_matrix_bench_sets_each_emitter_camera_path_to_its_own_distance() -> None:
    env, motion, port, f = follower("matrix", {"CAM002": 0}, 3)
    motion.place(0, 0.0, 0.0, 0.0)
    motion.place(1, 0.0, 80.0, 0.0)
    motion.place(2, 0.0, 0.0, 20.0)
    f.start(ShiftBroadcast(0, 1, "LB", "light_bar", 0.0, 10.0, None), "light_bar")
    f.start(ShiftBroadcast(1, 2, "TZ", "taser", 0.0, 10.0, None), "taser")
    env.run(until=1.0)
    assert len(port.calls) == 3  # both starts of one instant: each path set once
    pl = MATRIX.path_loss
    last = {e: db for _t, _s, e, db in port.calls}
    assert last["light_bar"] == pytest.approx(round(pl.attenuation_for(80) * 4) / 4)
    assert last["taser"] == pytest.approx(round(pl.attenuation_for(20) * 4) / 4)
    assert last["light_bar_2"] == MATRIX.instruments.attenuator.max_db  # nothing on the air there: parked


class StillHost(queue.SimpleQueue[HostEvent | None]):
    """The host as the clock sees it, where no time passes unless the clock waits: its CLOCK_MONOTONIC (`monotonic`)
    moves only while the clock waits on this inbox, by the wait it asked for, or up to the stamp of a bench edge
    that comes in meanwhile (`edges`, each put in at its stamp)."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0
        self.edges: list[HostEvent] = []

    def monotonic(self) -> float:
        return self.now

    def _next_edge(self, by: float) -> HostEvent | None:
        come = sorted((e for e in self.edges if e.t_ns / 1e9 <= by), key=lambda e: e.t_ns)
        if not come:
            return None
        self.edges.remove(come[0])
        self.now = max(self.now, come[0].t_ns / 1e9)
        return come[0]

    def get(self, block: bool = True, timeout: float | None = None) -> HostEvent | None:
        assert block and timeout is not None and timeout > 0  # the clock always waits for a while, never for ever
        edge = self._next_edge(self.now + timeout)
        if edge is None:
            self.now = max(self.now + timeout, math.nextafter(self.now, math.inf))
            raise queue.Empty
        return edge

    def get_nowait(self) -> HostEvent | None:
        edge = self._next_edge(self.now)
        if edge is None:
            raise queue.Empty
        return edge

    def empty(self) -> bool:
        return not any(e.t_ns / 1e9 <= self.now for e in self.edges)


def test_the_clock_runs_to_the_window_at_once_then_keeps_host_time_at_the_speed_and_takes_an_edge_at_its_stamp(
) -> None:
    host = StillHost()
    clock = ReplayClock(speed=10.0, window_start_s=500.0, host_clock=host.monotonic)
    clock.inbox = host
    edge = HostEvent(round((LEAD_S + 0.37) * 1e9), "numato0:8", True)  # 0.37 host s into the window: simulated 503.7
    host.edges.append(edge)
    host_at: dict[float, float] = {}
    seen: list[tuple[float, HostEvent, float]] = []

    def ticks() -> simpy.events.ProcessGenerator:
        for t in (100.0, 250.0, 499.0, 500.0, 505.0):
            yield clock.timeout(t - clock.now)
            host_at[t] = host.now

    def reader() -> simpy.events.ProcessGenerator:
        item = yield clock.arrivals.get()
        seen.append((float(clock.now), item, host.now))

    clock.process(ticks())
    clock.process(reader())
    clock.run(until=510.0)
    clock.close()
    assert host_at[100.0] == host_at[250.0] == host_at[499.0] == 0.0  # before the window: no host time at all
    # each instant is computed LOOKAHEAD_S early; the window starts LEAD_S after the fast-forward, then 5 simulated
    # s take 0.5 host s at speed 10, and the run ends at 510: 1 host s into the window
    assert host_at[500.0] == pytest.approx(LEAD_S - LOOKAHEAD_S, abs=1e-9)
    assert host_at[505.0] == pytest.approx(LEAD_S + 0.5 - LOOKAHEAD_S, abs=1e-9)
    assert host.now == pytest.approx(LEAD_S + 1.0 - LOOKAHEAD_S, abs=1e-9)
    (now, item, host_then), = seen
    assert item == edge and host_then == pytest.approx(LEAD_S + 0.37, abs=1e-9)  # taken as it came in
    assert now == pytest.approx(503.7, abs=1e-6) == clock.sim_time(edge.t_ns)  # at the simulated time of its stamp


def test_an_edge_a_bench_thread_reports_is_handed_to_simpy_in_the_simulations_thread_at_its_stamped_time() -> None:
    clock = ReplayClock(speed=10.0, window_start_s=500.0)
    seen: list[tuple[float, HostEvent, int]] = []
    stamped: list[int] = []

    def bench_thread() -> None:
        time.sleep(max(0.0, clock.real_start + 0.1 - time.monotonic()))  # an edge once the window is under way
        t = time.monotonic_ns()
        stamped.append(t)
        clock.inbox.put(HostEvent(t, "numato0:8", True))

    bench = threading.Thread(target=bench_thread)

    def reader() -> simpy.events.ProcessGenerator:
        item = yield clock.arrivals.get()
        seen.append((float(clock.now), item, threading.get_ident()))

    def opens() -> simpy.events.ProcessGenerator:
        yield clock.timeout(500.0)
        bench.start()

    got = clock.process(reader())
    clock.process(opens())
    clock.run(until=clock.any_of([got, clock.timeout(1100.0)]))  # the edge, or a minute of host time without it
    clock.close()
    bench.join()
    (now, item, thread), = seen
    assert thread == threading.get_ident()  # taken in the simulation's own thread
    assert item.t_ns == stamped[0]
    assert now == pytest.approx(clock.sim_time(stamped[0]), abs=1e-9)  # at the simulated time of its stamp


def test_the_prediction_region_judges_a_late_activation_and_a_missing_one() -> None:
    finite = region(np.array([10.0 + i * 0.01 for i in range(1000)]))
    assert finite.holds(12.0) and not finite.holds(25.0) and not finite.holds(math.inf)
    half_none = region(np.array([10.0 + i * 0.01 for i in range(500)] + [math.inf] * 500))
    assert half_none.none_plausible and half_none.holds(math.inf)
    assert not half_none.holds(40.0)  # "or none" never lets a late activation pass


def test_the_map_is_parsed_and_checked_against_the_bench() -> None:
    assert parse_map("0=CAM001, 3=CAM002") == {0: "CAM001", 3: "CAM002"}
    for bad in ("0:CAM001", "0=CAM001,0=CAM002", "0=CAM001,1=CAM001", "x=CAM001"):
        with pytest.raises(ConfigError):
            parse_map(bad)
    with pytest.raises(ConfigError, match=r"4 officers .* 3 cameras"):
        build_map(QUICK, 6, None, [0, 1, 2, 3], ["light_bar"], "bench")
    with pytest.raises(ConfigError, match="camera CAM009 is not on the bench"):
        build_map(QUICK, 6, {0: "CAM009"}, [], ["light_bar"], "bench")
    nightly = load_bench(ROOT / "fixtures" / "nightly" / "bench.yaml")
    with pytest.raises(ConfigError, match="no taser emitter"):
        build_map(nightly, 2, None, [0, 1], ["taser"], "bench")
    m = build_map(MATRIX, 2, None, [0, 1], ["light_bar", "taser"], "bench")
    assert m.cameras == {0: "CAM001", 1: "CAM002"} and m.emitters["light_bar"] == ["light_bar", "light_bar_2"]


def test_the_window_of_the_traffic_stop_runs_from_before_its_broadcast_to_after_its_critical_moment() -> None:
    sc = load_scenario(ROOT / "scenarios" / "traffic-stop.yaml")
    shift = Shift(sc)
    res = shift.run()
    w = replay_window(res, shift.scripted_incidents, None, None, "traffic-stop")
    inc = res.incidents[w.incidents[0]]
    assert w.start_s == pytest.approx(res.broadcasts[inc.broadcasts[0]].start - 10.0)
    assert w.end_s == pytest.approx(inc.critical_at + 30.0)
    assert replay_window(res, shift.scripted_incidents, None, 70.0, "x").end_s == 70.0
    with pytest.raises(ConfigError, match="--window 5"):
        replay_window(res, [], 5, None, "x")


class BenchLog:
    """A bench that only writes down what it was told, in order."""

    def __init__(self, clock: ReplayClock) -> None:
        self.clock = clock
        self.log: list[tuple[float, str, str]] = []
        self.set: dict[tuple[str, str], float] = {}

    def drive(self, ref: str, level: bool) -> int:
        self.log.append((float(self.clock.now), "drive", f"{ref}={int(level)}"))
        return time.monotonic_ns()

    def set_path_attenuation(self, serial: str, emitter: str, db: float, verify: bool = True) -> float:
        self.log.append((float(self.clock.now), "set", serial))
        self.set[(serial, emitter)] = db
        return db

    def path_attenuation(self, serial: str, emitter: str) -> float:
        return self.set[(serial, emitter)]

    def park(self, serial: str) -> None:
        self.log.append((float(self.clock.now), "park", serial))


def test_within_one_instant_every_path_is_set_once_before_the_trigger_line_goes_up() -> None:
    from bwclab.hil.replay import ReplayShift
    from bwclab.hil.run import plan

    p = plan(ROOT / "scenarios" / "hartford-patrol-shift.yaml", ROOT / "fixtures" / "emulated.yaml",
             Path("/nonexistent/hil-unit"), None, 100.0, 2019, None, None, 82, None, allow_mismatch=True)
    clock = ReplayClock(p.speed, p.window.start_s)
    bench = BenchLog(clock)
    shift = ReplayShift(p.scenario, p.seed, clock, p.bench, bench, p.omap, p.window)
    shift.run(until=p.window.start_s + 20.0)
    clock.close()
    fires = [(t, what) for t, kind, what in bench.log if kind == "drive" and what.endswith("=1")]
    assert len(fires) == 1 and len(shift.fired) == 3  # three light bars at one instant: one line, two merged
    t_fire = fires[0][0]
    at_once = [(kind, what) for t, kind, what in bench.log if t == t_fire]
    sets = [what for kind, what in at_once if kind == "set"]
    assert at_once.index(("drive", fires[0][1])) == len(sets)  # every setting of that instant came first
    assert sorted(sets) == sorted(set(sets)) == ["CAM001", "CAM002", "CAM003"]  # each camera once


def test_a_bench_duration_stands_for_the_scenarios_within_ten_percent_at_the_speed() -> None:
    three = Duration(3.0, 30.0, "emitter broadcasts", "the scenario's broadcasts")
    assert three.fits(10.0) and three.fits(10.9) and three.fits(9.1)
    assert not three.fits(11.1) and not three.fits(8.9) and not three.fits(1.0)
    assert three.speeds() == pytest.approx((9.0, 11.0))
    none_kept = Duration(0.0, 0.0, "buffer", "buffer")  # a bench camera without buffer for a scenario without one
    assert none_kept.fits(0.05) and none_kept.fits(100.0)
    assert not Duration(3.0, 0.0, "buffer", "buffer").fits(0.05)  # 0.15 s kept where the scenario keeps none


def test_the_speed_that_fits_every_duration_is_suggested_and_none_when_they_disagree() -> None:
    broadcast = Duration(3.0, 30.0, "emitter light_bar broadcasts", "the scenario's light_bar broadcasts")
    buffer = Duration(3.0, 30.0, "the emulated cameras buffer", "the scenario's cameras buffer")
    assert fitting_speed([broadcast, buffer], 0.05, 100.0) == 10.0
    assert fitting_speed([Duration(0.4, 30.0, "a", "b")], 0.05, 100.0) == 75.0
    assert fitting_speed([Duration(0.1, 30.0, "a", "b")], 0.05, 100.0) is None  # 300: faster than the replay goes
    short = Duration(1.0, 30.0, "the emulated cameras buffer", "the scenario's cameras buffer")
    assert fitting_speed([broadcast, short], 0.05, 100.0) is None  # 10 and 30: no one speed
    said = misfits([broadcast, buffer], 1.0, 0.05, 100.0)
    assert said[0] == ("emitter light_bar broadcasts 3 s = 3 simulated s at speed 1, where the scenario's light_bar "
                       "broadcasts 30 s: more than 10% apart")
    assert len(said) == 3 and said[-1].startswith("--speed 10 fits")
    assert misfits([broadcast, buffer], 10.0, 0.05, 100.0) == []
    assert "no speed from 0.05 to 100 fits" in misfits([broadcast, short], 10.0, 0.05, 100.0)[-1]


def test_ctrl_c_is_taken_between_two_instants_never_inside_one() -> None:
    """A request to stop made in the middle of an instant lets that instant's events run, then ends the run."""
    clock = ReplayClock(speed=100.0, window_start_s=0.0)
    ran: list[tuple[float, str]] = []

    def at(t: float, what: str, then: Callable[[], None] = lambda: None) -> None:
        def go(_e: simpy.Event) -> None:
            ran.append((t, what))
            then()

        clock.timeout(t).callbacks.append(go)

    at(1.0, "paths set", clock.interrupt)  # the request, as Ctrl-C's handler makes it
    at(1.0, "trigger line up")  # the same instant: still runs
    at(2.0, "next instant")
    with pytest.raises(KeyboardInterrupt):
        clock.run(until=3.0)
    clock.close()
    assert ran == [(1.0, "paths set"), (1.0, "trigger line up")] and clock.now == 1.0
