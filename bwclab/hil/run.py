"""`bwclab hil run`: a shift's situations replayed onto a bench, the bench's cameras closing the loop.

1. Every input is read and checked before the bench is touched (scenario, profile, bench, map, faults).
2. A dry run of the same seed finds the replay window and what it fires (the bench does not change
   where anyone goes or which triggers fire).
3. The bench starts (an emulated one in its own process), the shift runs again on the replay clock,
   fast up to the window and in real time through it.
4. The mapped cameras' recordings are ended and their clips read: their footage is their recordings.
5. The run folder: what `sim shift` writes, plus hil.json and hil.png.

Every bench resource (the emulator, the station's devices, the edge feed, the clock's frozen
collector, the window's lines and paths) is closed by one `ExitStack` on every way out. A replay that
does not get to its end says so: Ctrl-C writes hil.json `valid: false` with where it got (exit 130),
a lost bench writes it with what failed (exit 3).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bwclab.bench.description import Bench, load_bench
from bwclab.core.config import ConfigError
from bwclab.core.profile import load_profile
from bwclab.hil.clock import HostEvent, ReplayClock
from bwclab.hil.footage import Footage, as_recording, collect, end_recording
from bwclab.hil.mapping import Duration, OfficerMap, build_map, camera_buffer, durations, misfits
from bwclab.hil.prediction import Prediction, first_activation
from bwclab.hil.replay import ReplayShift
from bwclab.hil.window import Window, replay_window
from bwclab.rig.emulated import EmulatorProcess
from bwclab.rig.interfaces import BenchLost, DriverError
from bwclab.rig.station import Station
from bwclab.sim.metrics import officers_on_scene, summarize
from bwclab.sim.model import Shift, ShiftResult
from bwclab.sim.profile import apply_profile
from bwclab.sim.runfolder import prepare_run_folder, write_json, write_run
from bwclab.sim.scenario import Scenario, load_scenario

TOLERANCE_MS = 20.0
SPEEDS = (0.05, 100.0)  # the replay's speed factors, slowest to fastest
HIL_FILES = ("hil.json", "hil.png")  # beside the run folder's files: a folder that holds them holds a replay
MISMATCH_HINT = "or pass --allow-mismatch to replay it anyway, marked invalid"


@dataclass
class ReplayPlan:
    scenario: Scenario
    scenario_path: Path
    bench: Bench
    bench_path: Path
    omap: OfficerMap
    window: Window
    seed: int
    speed: float
    out: Path
    faults: Path | None = None
    profile: Path | None = None
    tolerance_ms: float = TOLERANCE_MS
    dry: ShiftResult | None = None
    durations: list[Duration] = field(default_factory=list)  # the bench's that stand for the scenario's
    fidelity: list[str] = field(default_factory=list)  # what of them does not fit at this speed (allowed)
    allow_mismatch: bool = False
    scenario_buffer_s: float = 30.0  # the scenario's own buffer (a profile's shortfall is the device's)


def _number(option: str, value: float, ok: bool, expected: str) -> None:
    """A number option that is NaN, infinite or out of range is refused naming the option."""
    if not (math.isfinite(value) and ok):
        raise ConfigError(option, [f"{value:g}: expected {expected}"])


def plan(scenario_path: Path, bench_path: Path, out: Path, given_map: dict[int, str] | None, speed: float,
         seed: int | None, profile: Path | None, faults: Path | None, incident: int | None, until: float | None,
         tolerance_ms: float = TOLERANCE_MS, overrides: list[str] | None = None, overwrite: bool = False,
         variant: str | None = None, allow_mismatch: bool = False) -> ReplayPlan:
    """Read and check everything; raises ConfigError naming the file and the field, before anything is started
    or removed."""
    lo, hi = SPEEDS
    _number("--speed", speed, lo <= speed <= hi, f"a finite factor from {lo:g} to {hi:g} (1 = real time)")
    _number("--tolerance-ms", tolerance_ms, 0 < tolerance_ms <= 10_000,
            "finite milliseconds above 0, at most 10000")
    if until is not None:
        _number("--until", until, until > 0, "a finite simulated second, after the replay window starts")
    if faults is not None and not faults.is_file():
        raise ConfigError(faults, ["--faults: no such file"])
    if not overwrite:  # refused at once; --overwrite empties the folder only once everything is checked
        prepare_run_folder(out, overwrite=False)
        if any((out / f).exists() for f in HIL_FILES):
            raise ConfigError(out, ["already holds a replay (hil.json): choose a new --out, or pass --overwrite"])
    scenario = load_scenario(scenario_path, overrides or [], variant)
    sc = apply_profile(scenario, load_profile(profile)) if profile is not None else scenario
    bench = load_bench(bench_path)
    run_seed = sc.seed if seed is None else seed
    dry_shift = Shift(sc, run_seed)
    dry = dry_shift.run()
    window = replay_window(dry, dry_shift.scripted_incidents, incident, until, str(scenario_path))
    default = list(dry.incidents[incident].assigned) if incident is not None else list(sc.script.calls[0].units)
    in_window = [b for b in dry.broadcasts if window.start_s <= b.start <= window.end_s]
    kinds = sorted({dry.broadcasts[b].kind for n in window.incidents for b in dry.incidents[n].broadcasts
                    if window.start_s <= dry.broadcasts[b].start <= window.end_s})
    omap = build_map(bench, sc.fleet.officers, given_map, default, kinds, str(bench_path))
    # the bench's durations against the scenario's own (a profile's buffer shortfall is the device's, not the bench's)
    ds = durations(bench, bench_path, scenario, sorted({b.kind for b in in_window}))
    misfit = misfits(ds, speed, lo, hi)
    if misfit and not allow_mismatch:
        raise ConfigError(f"--speed {speed:g}", [*misfit, MISMATCH_HINT])
    prepare_run_folder(out, overwrite)
    for f in HIL_FILES:
        (out / f).unlink(missing_ok=True)
    return ReplayPlan(sc, scenario_path, bench, bench_path, omap, window, run_seed, speed, out, faults, profile,
                tolerance_ms, dry, ds, misfit, allow_mismatch, scenario.camera.buffer_s)


def _quantiles(xs: list[float]) -> dict[str, float | None]:
    if not xs:
        return {"p50": None, "p99": None, "max": None, "n": 0}
    a = np.array(xs)
    return {"p50": round(float(np.percentile(a, 50)), 3), "p99": round(float(np.percentile(a, 99)), 3),
            "max": round(float(a.max()), 3), "n": len(xs)}


@dataclass
class ReplayOutcome:
    hil: dict[str, Any]
    summary: dict[str, Any] | None
    exit_code: int
    problems: list[str] = field(default_factory=list)


@dataclass
class Stage:
    """What the replay is doing, for a message that says where it stopped."""

    now: str = "starting the bench"


@dataclass
class Played:
    """What a replay on the bench produced, for the judging (with the bench already closed)."""

    shift: ReplayShift
    res: ShiftResult
    footage: dict[str, list[Footage]]
    problems: list[str]
    interrupted: str  # why it was cut short, "" when it was not
    reached: float  # the simulated second it got to
    fidelity: list[str]
    wall: dict[str, float]


def _restrict(res: ShiftResult, w: Window) -> ShiftResult:
    """Only the critical moments inside the window are judged: the rest of the shift was not replayed."""
    incidents = [i if w.start_s <= i.critical_at <= w.end_s or math.isnan(i.critical_at)
                 else dataclasses.replace(i, critical_at=math.nan) for i in res.incidents]
    return dataclasses.replace(res, incidents=incidents)


def replay(p: ReplayPlan, on_clock: Callable[[ReplayShift], None] | None = None) -> ReplayOutcome:
    """Run the replay on the bench and judge it. `on_clock` may add processes to the replay before it runs (tests).
    Ctrl-C: hil.json says where it stopped, exit 130. A bench that fails: hil.json says so, BenchLost."""
    p.out.mkdir(parents=True, exist_ok=True)
    stage = Stage()
    played: Played | None = None
    try:
        with contextlib.ExitStack() as bench:
            played = _play(p, bench, stage, on_clock)
            stage.now = "the bench was stopped"
    except KeyboardInterrupt:
        if played is None:
            return _cut_short(p, f"interrupted (Ctrl-C) while {stage.now}", 130)
        played.interrupted = played.interrupted or f"interrupted (Ctrl-C) while {stage.now}"
    except BenchLost as exc:
        _cut_short(p, f"the bench was lost while {stage.now}: {exc}", 3)
        raise
    try:
        return _judge(p, played)
    except KeyboardInterrupt:
        return _cut_short(p, "interrupted (Ctrl-C) while the results were written", 130)


def _play(p: ReplayPlan, bench: contextlib.ExitStack, stage: Stage,
          on_clock: Callable[[ReplayShift], None] | None) -> Played:
    """Start the bench and replay the window on it; every resource opened goes on `bench`, to be closed on every
    way out. A device that fails is the bench lost (an emulated one that died says so)."""
    emu = bench.enter_context(EmulatorProcess(p.bench_path, p.out / "bench", p.faults)) \
        if p.bench.emulate is not None else None
    try:
        return _on_bench(p, bench, stage, emu, on_clock)
    except DriverError as exc:
        if emu is not None and emu.proc.poll() is not None:
            raise BenchLost(f"the emulated bench died: {exc}") from None
        raise BenchLost(str(exc)) from None


def _on_bench(p: ReplayPlan, bench: contextlib.ExitStack, stage: Stage, emu: EmulatorProcess | None,
              on_clock: Callable[[ReplayShift], None] | None) -> Played:
    started = time.monotonic()
    station = bench.enter_context(contextlib.closing(Station(p.bench, emu.resources if emu is not None else None)))
    stage.now = "the cameras' buffers filled, before the window"
    warmup_s, fidelity = _warm_up(p, station, started)
    clock = ReplayClock(p.speed, p.window.start_s)
    bench.callback(clock.close)

    def feed(ref: str, t: int, level: bool) -> None:  # the drivers' reader threads hand each edge to the clock
        clock.inbox.put(HostEvent(t, ref, level))

    station.edges.subscribers.append(feed)
    bench.callback(station.edges.subscribers.remove, feed)
    docks = {s: station.dock(s) for s in p.omap.cameras.values()}
    before = {s: {x.name for x in d.glob("*.json")} if d is not None else set() for s, d in docks.items()}
    shift = ReplayShift(p.scenario, p.seed, clock, p.bench, station, p.omap, p.window)
    if on_clock is not None:
        on_clock(shift)
    stage.now = "replaying the window"
    problems: list[str] = []
    unsettled: list[str] = []
    res, interrupted, reached = _run_window(p, shift, problems, unsettled)
    replay_s = time.monotonic() - clock.real_start if clock.live else 0.0  # host s from the window's start
    footage: dict[str, list[Footage]] = {}
    if unsettled:
        problems.append("the footage was not read: the bench did not answer at the window's end")
    else:
        stage.now = "the footage was read"
        try:
            _footage(shift, station, docks, before, p.out, problems, footage)
        except KeyboardInterrupt:
            interrupted = interrupted or "interrupted (Ctrl-C) while the footage was read"
            problems.append("the footage was not all read (Ctrl-C)")
    wall = {"window_s": round(p.window.length_s / p.speed, 4), "replay_s": round(replay_s, 4),
            "overrun_s": round(replay_s - p.window.length_s / p.speed, 4), "warmup_s": warmup_s,
            "until_footage_read_s": round(time.monotonic() - started, 3)}
    return Played(shift, res, footage, problems, interrupted, reached, fidelity, wall)


def _run_window(p: ReplayPlan, shift: ReplayShift, problems: list[str],
                unsettled: list[str]) -> tuple[ShiftResult, str, float]:
    """The shift on the replay clock to the window's end, or to the instant where Ctrl-C stopped it; then every line
    low and every path parked, however it ended. Returns the result, why it was cut short ("" if it was not) and
    the simulated second it got to."""
    clock, w = shift.clock, p.window
    with contextlib.ExitStack() as window:
        window.enter_context(clock.ctrl_c_between_instants())
        window.callback(_settle, shift, problems, unsettled)  # runs first: a Ctrl-C meanwhile waits for it
        try:
            res, reached, why = shift.run(until=w.end_s), w.end_s, ""
        except KeyboardInterrupt:
            reached = float(clock.now)
            where = (f"at {reached:.1f} s of the window {w.start_s:.1f}-{w.end_s:.1f} s" if reached >= w.start_s
                     else f"at {reached:.1f} s, before the window {w.start_s:.1f}-{w.end_s:.1f} s opened")
            res, why = shift.result(reached, 0.0), f"interrupted (Ctrl-C) {where}"
    if clock.interrupted and not why:
        why = "interrupted (Ctrl-C) as the window ended"
    return res, why, reached


def _settle(shift: ReplayShift, problems: list[str], unsettled: list[str]) -> None:
    """The window is over, or cut short: every line low, every path parked. A bench that is already gone is
    written down, never a second failure. Before the window the replay has not touched the bench."""
    if not shift.clock.live:
        return
    try:
        shift.finish()
    except DriverError as exc:
        unsettled.append(str(exc))
        problems.append(f"the bench did not take the window's end (every line low, every path parked): {exc}")


def _cut_short(p: ReplayPlan, reason: str, code: int) -> ReplayOutcome:
    """hil.json for a replay that did not get to its end: the one already written marked invalid, else what is
    known before the bench (never a stale or a missing verdict)."""
    path = p.out / "hil.json"
    if path.exists():  # written by this replay: plan() removed or refused an earlier one
        hil: dict[str, Any] = json.loads(path.read_text())
        reason = "; ".join(x for x in (reason, hil.pop("reason", "")) if x)
        hil.pop("valid", None)
    else:
        hil = {"scenario": p.scenario.name, "bench": p.bench.name, "seed": p.seed, "speed": p.speed,
               "window": {"start_s": p.window.start_s, "end_s": p.window.end_s,
                          "incidents": list(p.window.incidents), "why": p.window.why},
               "reached_s": None, "tolerance_ms": p.tolerance_ms, "lateness_ms": _quantiles([]),
               "cameras": {s: {"officer": o, "consistent_with_model": None, "activations": []}
                           for o, s in p.omap.cameras.items()},
               "fidelity": p.fidelity, "prediction": _prediction_source(p)}
    hil = {"valid": False, "reason": reason, **hil}
    write_json(path, hil)
    return ReplayOutcome(hil, None, code, [reason])


def _warm_up(p: ReplayPlan, station: Station, started: float) -> tuple[float, list[str]]:
    """Wait until the mapped cameras' pre-event buffers are full (the console's CONFIG?, else the emulated
    cameras' setting): a camera that has just booted keeps less than it is set to. Returns the buffer waited for
    and what of the bench's durations does not fit the scenario's at the replay's speed, a real camera's buffer
    (its CONFIG?) included; one that does not fit is refused (ConfigError) unless the mismatch is allowed."""
    longest = p.bench.emulate.camera.buffer_s if p.bench.emulate is not None else 0.0
    own: list[Duration] = []
    for serial in p.omap.cameras.values():
        con = station.consoles.get(serial)
        if con is None:
            continue
        try:
            buffer_s = float(con.fields("CONFIG?")["buffer_s"])
        except (DriverError, KeyError, ValueError):
            continue
        longest = max(longest, buffer_s)
        if p.bench.emulate is None:  # an emulated camera's is the bench file's, checked before the bench started
            own.append(camera_buffer(buffer_s, p.scenario_buffer_s, f"camera {serial} buffers (its CONFIG?)"))
    fidelity = misfits(p.durations + own, p.speed, *SPEEDS) if own else p.fidelity
    if fidelity and not p.allow_mismatch:
        raise ConfigError(f"--speed {p.speed:g}", [*fidelity, MISMATCH_HINT])
    wait = started + longest + 0.5 - time.monotonic()
    if wait > 0:
        time.sleep(wait)
    return longest, fidelity


def _footage(shift: ReplayShift, station: Station, docks: dict[str, Path | None], before: dict[str, set[str]],
             out: Path, problems: list[str], found: dict[str, list[Footage]]) -> None:
    """End the mapped cameras' recordings and read their clips into `found` (as far as it gets); each in-window
    activation gets its clip."""
    for serial in shift.omap.cameras.values():
        starts = shift.rising(serial)
        dock = docks[serial]
        if not starts:
            found[serial] = []
            continue
        with contextlib.suppress(DriverError):
            end_recording(station.consoles.get(serial))
        if dock is None:
            problems.append(f"camera {serial}: no dock folder, so its footage cannot be read")
            found[serial] = []
            continue
        found[serial] = collect(serial, dock, before[serial], out, len(starts))
        if len(found[serial]) < len(starts):
            problems.append(f"camera {serial}: {len(starts)} activation(s) but {len(found[serial])} clip(s) "
                            "in its dock")


def _prediction_source(p: ReplayPlan) -> dict[str, str]:
    if p.profile is None:
        return {"from": "scenario", "says": "the model's prediction is the scenario's assumed camera (its detection "
                "curve and BLE latency), not the bench device's measured one: expect disagreement; --profile "
                "(a device profile from rig certify) predicts by the device"}
    return {"from": "profile", "says": f"the model's prediction is the device as measured: profile {p.profile}"}


def _judge(p: ReplayPlan, played: Played) -> ReplayOutcome:
    shift, res, footage, problems, interrupted = (played.shift, played.res, played.footage, played.problems,
                                                  played.interrupted)
    clock, w, reached = shift.clock, p.window, played.reached
    cut = reached < w.end_s  # the model's interval covers the whole window: a camera is not judged on part of it
    started = {serial: shift.starts(serial) for serial in p.omap.cameras.values()}
    # the footage is the mapped officers' recordings
    for serial, clips in footage.items():
        o = p.omap.officer_of(serial)
        cam = res.body_cams[o]
        kept = [r for r in cam.recordings if r.activated_at < w.start_s]
        for obs in started[serial]:
            clip = next((f for f in clips if f.first_ns is not None and f.last_ns is not None
                         and f.first_ns <= obs.host_ns + int(5e8) and obs.host_ns <= f.last_ns), None)
            if clip is None:
                problems.append(f"camera {serial}: no readable clip for its activation at {obs.t_s:.2f} s")
                continue
            kept.append(as_recording(clip, obs.t_s, obs.cause, obs.emitter_id or "button", clock.sim_time))
        cam.recordings = kept
    judged = _restrict(res, Window(w.start_s, reached, w.incidents, w.why))  # an interrupted run: up to where it got
    rows = officers_on_scene(judged)
    summary = write_run(judged, [summarize(judged, rows)], p.out, p.seed)
    predictions = _predict(p, shift)
    lateness = [s.lateness_ms for s in shift.stamps]
    late = max(lateness, default=0.0)
    reasons = []
    if interrupted:
        reasons.append(interrupted)
    if played.fidelity:
        reasons.append(f"the bench does not stand for the scenario at speed {p.speed:g} (--allow-mismatch): "
                       + "; ".join(played.fidelity))
    if late > p.tolerance_ms:
        worst = max(shift.stamps, key=lambda s: s.lateness_ms)
        reasons.append(f"a bench event ran {late:.1f} ms late ({worst.what} at {worst.t_s:.2f} s), past the "
                       f"{p.tolerance_ms:g} ms tolerance: the bench did not see the scenario's timing")
    reasons += problems + shift.paths.problems
    not_judged = f"not judged: the replay stopped at {reached:.1f} s, before the window's end"
    cameras: dict[str, Any] = {}
    for o, serial in p.omap.cameras.items():
        pred = predictions[o]
        starts = started[serial]
        first = starts[0].t_s if starts else math.inf
        acts = []
        for k, x in enumerate(starts):
            acts.append({"observed_s": round(x.t_s, 4), "host_ns": x.host_ns, "cause": x.cause,
                         "broadcast": x.broadcast, "trigger": x.emitter_id,
                         "distance_ft": None if math.isnan(x.distance_ft) else round(x.distance_ft, 2),
                         **(_interval(pred) | _verdict(pred, x.t_s, cut, not_judged) if k == 0 else
                            {"judged": False, "why": "after the camera's first activation in the window the model's "
                                                     "interval is not computed"})})
        if not starts:
            acts.append({"observed_s": None, "missing": True, **_interval(pred),
                         **_verdict(pred, math.inf, cut, not_judged)})
        cameras[serial] = {
            "officer": o, "consistent_with_model": None if cut else bool(pred.holds(first)),
            "state_at_window_start": shift.state_at_start.get(o, ""),
            "model_said": [{"broadcast": b, "t_s": round(t, 4)} for b, t in shift.predicted.get(o, [])],
            "activations": acts,
            "clips": [f.as_json(clock.sim_time) for f in footage.get(serial, [])]}
    n = p.scenario.fleet.officers
    relevant = {*p.omap.cameras, *(f.broadcast.emitter_body for f in shift.fired)}
    names = {o: f"officer {o}" for o in range(n)} | {n + o: f"cruiser {o}" for o in range(n)}
    valid = not reasons
    hil = {
        "valid": valid, "reason": "; ".join(reasons),
        "scenario": p.scenario.name, "bench": p.bench.name, "seed": p.seed, "speed": p.speed,
        "window": {"start_s": w.start_s, "end_s": w.end_s, "incidents": list(w.incidents), "why": w.why},
        "reached_s": reached,
        "tolerance_ms": p.tolerance_ms,
        "wall": played.wall,
        "lateness_ms": _quantiles(lateness),
        "feedback_lag_ms": _quantiles(shift.feedback_lag_ms),
        "cameras": cameras,
        "broadcasts": [{"broadcast": f.broadcast.number, "kind": f.broadcast.kind, "emitter": f.emitter,
                        "trigger": f.broadcast.emitter_id,
                        "holder": names.get(f.broadcast.emitter_body, f"body {f.broadcast.emitter_body}"),
                        "start_s": f.broadcast.start, "end_s": f.broadcast.end, "fired_host_ns": f.host_ns,
                        "merged": f.host_ns is None} for f in shift.fired],
        "not_on_bench": shift.skipped,
        "fidelity": played.fidelity,
        "paths": ("matrix: one attenuator channel per emitter-camera path" if p.bench.matrix else
                  "one attenuator channel per camera: a camera hears one emitter at a time, the strongest on the air"),
        "profile": str(p.profile) if p.profile else None,
        "prediction": _prediction_source(p),
        "events": [s.as_json() for s in shift.stamps if s.what != "attenuation"],
        "attenuation": [s.as_json() for s in shift.stamps if s.what == "attenuation"],
        "tracks": shift.tracks.as_json({i: names[i] for i in relevant if i in names}),
        "clock": {"real_start_s": clock.real_start, "env_start_s": clock.env_start, "factor": clock.factor},
    }
    write_json(p.out / "hil.json", hil)
    from bwclab.hil.plot import hil_plot

    hil_plot(hil, judged, p.out / "hil.png")
    consistent = all(c["consistent_with_model"] is True for c in cameras.values())
    code = 130 if interrupted else (0 if valid and consistent else 1)
    return ReplayOutcome(hil, summary, code, problems)


def _verdict(pred: Prediction, observed_s: float, cut: bool, not_judged: str) -> dict[str, Any]:
    if cut:
        return {"inside": None, "judged": False, "why": not_judged}
    return {"inside": pred.holds(observed_s), "judged": True}


def _interval(pred: Prediction) -> dict[str, Any]:
    def t(x: float) -> float | None:
        return None if math.isinf(x) else round(x, 4)

    return {"predicted_s": t(pred.median_s), "interval_s": [t(pred.low_s), t(pred.high_s)],
            "none_plausible": pred.none_plausible, "p_none": round(pred.p_none, 4)}


def _predict(p: ReplayPlan, shift: ReplayShift) -> dict[int, Prediction]:
    curves = {k: v.curve for k, v in shift.airwaves.kinds.items()}
    fired = [f.broadcast for f in shift.fired]
    out = {}
    for o in p.omap.cameras:
        out[o] = first_activation(p.scenario, curves, shift.tracks, o, fired,
                                  [t for t in shift.presses.get(o, []) if t >= p.window.start_s],
                                  shift.state_at_start.get(o) == "RECORDING", p.speed, p.seed, p.window.start_s)
    return out
