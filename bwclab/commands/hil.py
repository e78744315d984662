"""`bwclab hil run`: every input checked (faults included, as `rig certify` does), then the replay.

Exit 0 when the run is valid and every mapped camera did what the model predicts (within its 95%
interval), 1 when the run is invalid (too late, interrupted, footage missing) or a camera was outside
the model's interval, 2 on a usage or configuration error, 3 when the bench was lost, 130 on Ctrl-C.
"""

from __future__ import annotations

from pathlib import Path

from bwclab.bench.description import load_bench
from bwclab.core.builtin import resolve
from bwclab.core.config import ConfigError
from bwclab.emulator.faults import load_faults
from bwclab.hil.mapping import parse_map
from bwclab.hil.run import TOLERANCE_MS, Outcome, Plan, plan, replay
from bwclab.rig.interfaces import BenchLost

BENCH_LOST = 3


def hil_plan(scenario: str, bench: str, out: Path, mapping: str | None, speed: float, seed: int | None,
             profile: str | None, faults: Path | None, window: int | None, until: float | None,
             tolerance_ms: float = TOLERANCE_MS, overwrite: bool = False, overrides: list[str] | None = None,
             variant: str | None = None) -> Plan:
    bench_path = resolve("bench", bench)
    scenario_path = resolve("scenario", scenario)
    given = parse_map(mapping) if mapping else None
    if faults is not None:
        b = load_bench(bench_path)
        if b.emulate is None:
            raise ConfigError(faults, ["--faults: only an emulated bench (a bench file with emulate:) takes faults"])
        load_faults(faults, list(b.cameras))
    profile_path = resolve("profile", profile) if profile else None
    return plan(scenario_path, bench_path, out, given, speed, seed, profile_path, faults, window, until, tolerance_ms,
                overrides, overwrite, variant)


def hil_run(p: Plan) -> tuple[int, Outcome | None, str]:
    try:
        outcome = replay(p)
    except BenchLost as exc:
        return BENCH_LOST, None, str(exc)
    return outcome.exit_code, outcome, ""
