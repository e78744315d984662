"""Who on the bench stands for whom: each bench camera for one officer's body camera, each bench
emitter for a trigger kind. Checked against the bench and the replay before anything is started."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bwclab.bench.description import Bench
from bwclab.core.config import ConfigError

PAIR = re.compile(r"^\s*(?P<officer>\d+)\s*=\s*(?P<serial>[A-Za-z0-9][\w-]{0,31})\s*$")


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
