"""Who on the bench stands for whom: each bench camera for one officer's body camera, each bench
emitter for a trigger kind, and each of the bench's own durations (a broadcast, a buffer) for the
scenario's at the replay's speed. Checked against the bench and the replay before anything is started."""

from __future__ import annotations

import math
import re
import statistics
from dataclasses import dataclass
from pathlib import Path

from bwclab.bench.description import Bench
from bwclab.core.config import ConfigError
from bwclab.sim.scenario import Scenario

FIDELITY = 0.10
"""A bench duration more than this fraction of the scenario's away from it (at the replay's speed) cannot stand
for it; under 1 s, 0.1 simulated s."""

PAIR = re.compile(r"^\s*(?P<officer>\d{1,6})\s*=\s*(?P<serial>[A-Za-z0-9][\w-]{0,31})\s*$")


@dataclass(frozen=True)
class OfficerMap:
    cameras: dict[int, str]  # officer index -> bench camera serial
    emitters: dict[str, list[str]]  # trigger kind -> the bench emitters of that kind (concurrent broadcasts share them)

    def officer_of(self, serial: str) -> int:
        return next(o for o, s in self.cameras.items() if s == serial)


def parse_map(text: str, source: str = "--map") -> dict[int, str]:
    """`OFFICER=SERIAL,...` (for example `0=CAM001,1=CAM002`)."""
    out: dict[int, str] = {}
    for part in text.split(","):
        m = PAIR.match(part)
        if m is None:
            raise ConfigError(source, [f"{part.strip()[:80]!r}: expected OFFICER=SERIAL, for example 0=CAM001"])
        o = int(m["officer"])
        if o in out:
            raise ConfigError(source, [f"officer {o} is mapped twice"])
        if m["serial"] in out.values():
            raise ConfigError(source, [f"camera {m['serial']} stands for two officers"])
        out[o] = m["serial"]
    return out


def build_map(bench: Bench, officers: int, given: dict[int, str] | None, default_officers: list[int],
              kinds_needed: list[str], bench_name: str) -> OfficerMap:
    """Check the map against the bench and the scenario: every mapped officer exists, every camera is on
    the bench, and the bench has an emitter of every trigger kind the replay fires."""
    serials = list(bench.cameras)
    problems: list[str] = []
    if given is None:
        if len(default_officers) > len(serials):
            problems.append(f"the replayed incident has {len(default_officers)} officers "
                            f"({', '.join(map(str, default_officers))}) but the bench has {len(serials)} cameras "
                            f"({', '.join(serials)}): {len(default_officers) - len(serials)} camera(s) missing; "
                            "map fewer with --map OFFICER=SERIAL,...")
        cameras = dict(zip(default_officers, serials, strict=False))
    else:
        cameras = given
        for o, s in cameras.items():
            if o >= officers:
                problems.append(f"--map: officer {o} is not in the scenario (officers 0 to {officers - 1})")
            if s not in bench.cameras:
                problems.append(f"--map: camera {s} is not on the bench (have {', '.join(serials)})")
    for s in cameras.values():
        if s in bench.cameras and bench.cameras[s].indicator is None:
            problems.append(f"cameras.{s}.indicator: not wired; a replay sees a bench camera's activation by its "
                            "indicator")
    emitters = {k: [n for n, e in bench.emitters.items() if e.kind == k] for k in bench.kinds()}
    for kind in kinds_needed:
        if kind not in emitters:
            problems.append(f"the replay fires a {kind} trigger but the bench has no {kind} emitter "
                            f"(it has {', '.join(bench.kinds())})")
    if problems:
        raise ConfigError(bench_name, problems)
    return OfficerMap(cameras, emitters)


@dataclass(frozen=True)
class Duration:
    """One of the bench's own durations beside the scenario's that it stands for: the bench does not scale its
    durations, so one bench second stands for `speed` simulated seconds."""

    bench_s: float
    scenario_s: float
    bench_what: str  # "emitter light_bar broadcasts (emulate.emitters.broadcast_s of BENCH)"
    scenario_what: str  # "the scenario's light_bar broadcasts (signal.broadcast_s)"

    @property
    def slack_s(self) -> float:
        return FIDELITY * max(self.scenario_s, 1.0)

    def fits(self, speed: float) -> bool:
        return abs(self.bench_s * speed - self.scenario_s) <= self.slack_s

    def speeds(self) -> tuple[float, float]:
        """The speeds at which it fits, low to high (low > high: none)."""
        if self.bench_s == 0:
            return (0.0, math.inf) if self.scenario_s <= self.slack_s else (math.inf, 0.0)
        return max(self.scenario_s - self.slack_s, 0.0) / self.bench_s, (self.scenario_s + self.slack_s) / self.bench_s

    def describe(self, speed: float) -> str:
        return (f"{self.bench_what} {self.bench_s:g} s = {self.bench_s * speed:g} simulated s at speed {speed:g}, "
                f"where {self.scenario_what} {self.scenario_s:g} s")


def durations(bench: Bench, bench_path: Path | str, sc: Scenario, kinds: list[str]) -> list[Duration]:
    """The bench durations a replay of broadcasts of `kinds` depends on: each emitter of those kinds, and the
    emulated cameras' buffer (a real camera's buffer is its own setting, read when the bench is up)."""
    out: list[Duration] = []
    for name, e in bench.emitters.items():
        if e.kind not in kinds:
            continue
        if e.broadcast_s is not None:
            field = f"emitters.{name}.broadcast_s of {bench_path}"
        elif bench.emulate is not None:
            field = f"emulate.emitters.broadcast_s of {bench_path}"
        else:
            field = f"emitters.{name}.broadcast_s of {bench_path}, unset: assumed"
        own = sc.signal.emitter(e.kind).broadcast_s
        where = f"signal.emitters.{e.kind}.broadcast_s" if own is not None else "signal.broadcast_s"
        out.append(Duration(bench.broadcast_s(name), sc.signal.broadcast_for(e.kind),
                            f"emitter {name} broadcasts ({field})",
                            f"the scenario's {e.kind} broadcasts ({where})"))
    if bench.emulate is not None:
        out.append(camera_buffer(bench.emulate.camera.buffer_s, sc.camera.buffer_s,
                                 f"the emulated cameras buffer (emulate.camera.buffer_s of {bench_path})"))
    return out


def camera_buffer(bench_s: float, scenario_s: float, what: str) -> Duration:
    return Duration(bench_s, scenario_s, what, "the scenario's cameras buffer (camera.buffer_s)")


def fitting_speed(ds: list[Duration], low: float, high: float) -> float | None:
    """A speed from `low` to `high` at which every duration fits (the middle one of their exact ratios that do, to
    3 figures), or None."""
    lo = max([low, *(d.speeds()[0] for d in ds)])
    hi = min([high, *(d.speeds()[1] for d in ds)])
    if lo > hi:
        return None
    exact = [d.scenario_s / d.bench_s for d in ds if d.bench_s > 0 and lo <= d.scenario_s / d.bench_s <= hi]
    best = statistics.median(exact) if exact else (lo + hi) / 2
    rounded = float(f"{best:.3g}")
    return rounded if lo <= rounded <= hi else best


def misfits(ds: list[Duration], speed: float, low: float, high: float) -> list[str]:
    """What does not fit at `speed`, each with the scenario's figure, and the speed that fits them all (or that
    none does); empty when every duration fits."""
    bad = [d for d in ds if not d.fits(speed)]
    if not bad:
        return []
    out = [f"{d.describe(speed)}: more than {FIDELITY:.0%} apart" for d in bad]
    fit = fitting_speed(ds, low, high)
    if fit is not None:
        out.append(f"--speed {fit:g} fits (bench seconds x speed = the scenario's seconds, within {FIDELITY:.0%})")
    else:
        ratios = ", ".join(f"{d.scenario_s / d.bench_s:.3g}" if d.bench_s > 0 else "none" for d in ds)
        out.append(f"no speed from {low:g} to {high:g} fits every duration (each alone: {ratios}): change the "
                   "bench file or the scenario")
    return out
