"""`bwclab hil run`: a shift's situations replayed onto a bench, the bench's cameras closing the loop.

1. Every input is read and checked before the bench is touched (scenario, profile, bench, map, faults).
2. A dry run of the same seed finds the replay window and what it fires (the bench does not change
   where anyone goes or which triggers fire).
3. The bench starts (an emulated one in its own process), the shift runs again on the replay clock,
   fast up to the window and in real time through it.
4. The mapped cameras' recordings are ended and their clips read: their footage is their recordings.
5. The run folder: what `sim shift` writes, plus hil.json and hil.png.
"""

from __future__ import annotations

import contextlib
import dataclasses
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
from bwclab.hil.mapping import OfficerMap, build_map
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
FIDELITY = 0.10  # a bench duration this far from the scenario's (at the replay's speed) is flagged


@dataclass
class Plan:
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


def plan(scenario_path: Path, bench_path: Path, out: Path, given_map: dict[int, str] | None, speed: float,
         seed: int | None, profile: Path | None, faults: Path | None, incident: int | None, until: float | None,
         tolerance_ms: float = TOLERANCE_MS, overrides: list[str] | None = None, overwrite: bool = False,
         variant: str | None = None) -> Plan:
    """Read and check everything; raises ConfigError naming the file and the field."""
    if not 0.05 <= speed <= 100:
        raise ConfigError("--speed", [f"{speed:g}: expected a factor from 0.05 to 100 (1 = real time)"])
    if not 0 < tolerance_ms <= 10_000:
        raise ConfigError("--tolerance-ms", [f"{tolerance_ms:g}: expected milliseconds above 0, at most 10000"])
    if faults is not None and not faults.is_file():
        raise ConfigError(faults, ["--faults: no such file"])
    prepare_run_folder(out, overwrite)
    sc = load_scenario(scenario_path, overrides or [], variant)
    if profile is not None:
        sc = apply_profile(sc, load_profile(profile))
    bench = load_bench(bench_path)
    run_seed = sc.seed if seed is None else seed
    dry_shift = Shift(sc, run_seed)
    dry = dry_shift.run()
    window = replay_window(dry, dry_shift.scripted_incidents, incident, until, str(scenario_path))
    default = list(dry.incidents[incident].assigned) if incident is not None else list(sc.script.calls[0].units)
    kinds = sorted({dry.broadcasts[b].kind for n in window.incidents for b in dry.incidents[n].broadcasts
                    if window.start_s <= dry.broadcasts[b].start <= window.end_s})
    omap = build_map(bench, sc.fleet.officers, given_map, default, kinds, str(bench_path))
    return Plan(sc, scenario_path, bench, bench_path, omap, window, run_seed, speed, out, faults, profile,
                tolerance_ms, dry)


def _quantiles(xs: list[float]) -> dict[str, float | None]:
    if not xs:
        return {"p50": None, "p99": None, "max": None, "n": 0}
    a = np.array(xs)
    return {"p50": round(float(np.percentile(a, 50)), 3), "p99": round(float(np.percentile(a, 99)), 3),
            "max": round(float(a.max()), 3), "n": len(xs)}


@dataclass
class Outcome:
    hil: dict[str, Any]
    summary: dict[str, Any] | None
    exit_code: int
    problems: list[str] = field(default_factory=list)


def _fidelity(p: Plan) -> list[str]:
    """Bench durations against the scenario's, at the replay's speed (one bench second = `speed` simulated)."""
    out: list[str] = []
    sc, b = p.scenario, p.bench
    for kind, names in p.omap.emitters.items():
        for name in names:
            on_bench, model = b.broadcast_s(name) * p.speed, sc.signal.broadcast_for(kind)
            if abs(on_bench - model) > FIDELITY * model:
                out.append(f"emitter {name} broadcasts {b.broadcast_s(name):g} s = {on_bench:g} simulated s at speed "
                           f"{p.speed:g}, the scenario's {kind} {model:g} s")
    if b.emulate is not None:
        on_bench, model = b.emulate.camera.buffer_s * p.speed, sc.camera.buffer_s
        if abs(on_bench - model) > FIDELITY * max(model, 1.0):
            out.append(f"the emulated cameras buffer {b.emulate.camera.buffer_s:g} s = {on_bench:g} simulated s at "
                       f"speed {p.speed:g}, the scenario {model:g} s")
    return out


def _restrict(res: ShiftResult, w: Window) -> ShiftResult:
    """Only the critical moments inside the window are judged: the rest of the shift was not replayed."""
    incidents = [i if w.start_s <= i.critical_at <= w.end_s or math.isnan(i.critical_at)
                 else dataclasses.replace(i, critical_at=math.nan) for i in res.incidents]
    return dataclasses.replace(res, incidents=incidents)


def replay(p: Plan, on_clock: Callable[[ReplayShift], None] | None = None) -> Outcome:
    """Run the replay on the bench. `on_clock` may add processes to the replay before it runs (tests)."""
    p.out.mkdir(parents=True, exist_ok=True)
    emu: EmulatorProcess | None = None
    station: Station | None = None
    problems: list[str] = []
    interrupted = ""
    reached = p.window.end_s
    started = time.monotonic()
    try:
        if p.bench.emulate is not None:
            emu = EmulatorProcess(p.bench_path, p.out / "bench", p.faults)
        station = Station(p.bench, emu.resources if emu is not None else None)
        warmup_s = _warm_up(p, station, started)
        clock = ReplayClock(p.speed, p.window.start_s)
        station.edges.subscribers.append(lambda ref, t, level: clock.inbox.put(HostEvent(t, ref, level)))
        docks = {s: station.dock(s) for s in p.omap.cameras.values()}
        before = {s: {x.name for x in d.glob("*.json")} if d is not None else set() for s, d in docks.items()}
        shift = ReplayShift(p.scenario, p.seed, clock, p.bench, station, p.omap, p.window)
        if on_clock is not None:
            on_clock(shift)
        try:
            res = shift.run(until=p.window.end_s)
            replay_s = time.monotonic() - clock.real_start  # host seconds from the window's start to its end
        except KeyboardInterrupt:
            replay_s = time.monotonic() - clock.real_start
            interrupted = f"interrupted (Ctrl-C) at {clock.now:.1f} s of the window {p.window.start_s:.1f}-" \
                          f"{p.window.end_s:.1f} s"
            reached = float(clock.now)
            res = shift.result(reached, 0.0)
        shift.finish()
        clock.close()
        footage = _footage(shift, station, docks, before, p.out, problems)
    except DriverError as exc:
        if emu is not None and emu.proc.poll() is not None:
            raise BenchLost(f"the emulated bench died: {exc}") from None
        raise
    finally:
        if station is not None:
            station.close()
        if emu is not None:
            emu.stop()
    wall = {"window_s": round(p.window.length_s / p.speed, 4), "replay_s": round(replay_s, 4),
            "overrun_s": round(replay_s - p.window.length_s / p.speed, 4), "warmup_s": warmup_s,
            "until_footage_read_s": round(time.monotonic() - started, 3)}
    return _judge(p, shift, res, footage, problems, interrupted, wall, reached)


def _warm_up(p: Plan, station: Station, started: float) -> float:
    """Wait until the mapped cameras' pre-event buffers are full (the console's CONFIG?, else the emulated
    cameras' setting): a camera that has just booted keeps less than it is set to. Returns the buffer waited for."""
    longest = p.bench.emulate.camera.buffer_s if p.bench.emulate is not None else 0.0
    for serial in p.omap.cameras.values():
        con = station.consoles.get(serial)
        if con is not None:
            with contextlib.suppress(DriverError, KeyError, ValueError):
                longest = max(longest, float(con.fields("CONFIG?")["buffer_s"]))
    wait = started + longest + 0.5 - time.monotonic()
    if wait > 0:
        time.sleep(wait)
    return longest


def _footage(shift: ReplayShift, station: Station, docks: dict[str, Path | None], before: dict[str, set[str]],
             out: Path, problems: list[str]) -> dict[str, list[Footage]]:
    """End the mapped cameras' recordings and read their clips; each in-window activation gets its clip."""
    found: dict[str, list[Footage]] = {}
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
    return found


def _judge(p: Plan, shift: ReplayShift, res: ShiftResult, footage: dict[str, list[Footage]], problems: list[str],
           interrupted: str, wall: dict[str, float], reached: float) -> Outcome:
    clock, w = shift.clock, p.window
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
    if late > p.tolerance_ms:
        worst = max(shift.stamps, key=lambda s: s.lateness_ms)
        reasons.append(f"a bench event ran {late:.1f} ms late ({worst.what} at {worst.t_s:.2f} s), past the "
                       f"{p.tolerance_ms:g} ms tolerance: the bench did not see the scenario's timing")
    reasons += problems + shift.paths.problems
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
                         **(_interval(pred) | {"inside": pred.holds(x.t_s), "judged": True} if k == 0 else
                            {"judged": False, "why": "after the camera's first activation in the window the model's "
                                                     "interval is not computed"})})
        if not starts:
            acts.append({"observed_s": None, "missing": True, **_interval(pred), "inside": pred.holds(math.inf),
                         "judged": True})
        cameras[serial] = {
            "officer": o, "consistent_with_model": bool(pred.holds(first)),
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
        "tolerance_ms": p.tolerance_ms,
        "wall": wall,
        "lateness_ms": _quantiles(lateness),
        "feedback_lag_ms": _quantiles(shift.feedback_lag_ms),
        "cameras": cameras,
        "broadcasts": [{"broadcast": f.broadcast.number, "kind": f.broadcast.kind, "emitter": f.emitter,
                        "trigger": f.broadcast.emitter_id,
                        "holder": names.get(f.broadcast.emitter_body, f"body {f.broadcast.emitter_body}"),
                        "start_s": f.broadcast.start, "end_s": f.broadcast.end, "fired_host_ns": f.host_ns,
                        "merged": f.host_ns is None} for f in shift.fired],
        "not_on_bench": shift.skipped,
        "fidelity": _fidelity(p),
        "paths": ("matrix: one attenuator channel per emitter-camera path" if p.bench.matrix else
                  "one attenuator channel per camera: a camera hears one emitter at a time, the strongest on the air"),
        "profile": str(p.profile) if p.profile else None,
        "events": [s.as_json() for s in shift.stamps if s.what != "attenuation"],
        "attenuation": [s.as_json() for s in shift.stamps if s.what == "attenuation"],
        "tracks": shift.tracks.as_json({i: names[i] for i in relevant if i in names}),
        "clock": {"real_start_s": clock.real_start, "env_start_s": clock.env_start, "factor": clock.factor},
    }
    write_json(p.out / "hil.json", hil)
    from bwclab.hil.plot import hil_plot

    hil_plot(hil, judged, p.out / "hil.png")
    consistent = all(c["consistent_with_model"] for c in cameras.values())
    code = 130 if interrupted else (0 if valid and consistent else 1)
    return Outcome(hil, summary, code, problems)


def _interval(pred: Prediction) -> dict[str, Any]:
    def t(x: float) -> float | None:
        return None if math.isinf(x) else round(x, 4)

    return {"predicted_s": t(pred.median_s), "interval_s": [t(pred.low_s), t(pred.high_s)],
            "none_plausible": pred.none_plausible, "p_none": round(pred.p_none, 4)}


def _predict(p: Plan, shift: ReplayShift) -> dict[int, Prediction]:
    curves = {k: v.curve for k, v in shift.airwaves.kinds.items()}
    fired = [f.broadcast for f in shift.fired]
    out = {}
    for o in p.omap.cameras:
        out[o] = first_activation(p.scenario, curves, shift.tracks, o, fired,
                                  [t for t in shift.presses.get(o, []) if t >= p.window.start_s],
                                  shift.state_at_start.get(o) == "RECORDING", p.speed, p.seed, p.window.start_s)
    return out
