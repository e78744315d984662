"""`bwclab hil run`: every input checked (faults included, as `rig certify` does), then the replay.

Exit 0 when the run is valid and every mapped camera did what the model predicts (within its 95%
interval), 1 when the run is invalid (too late, a bench that does not stand for the scenario at its
speed, footage missing) or a camera was outside the model's interval, 2 on a usage or configuration
error (a bench whose durations do not fit the scenario's at the speed included, unless allowed), 3
when the bench was lost, 130 on Ctrl-C (hil.json written, invalid, either way).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bwclab.bench.description import load_bench
from bwclab.core.builtin import resolve
from bwclab.core.config import ConfigError
from bwclab.emulator.faults import load_faults
from bwclab.hil.mapping import parse_map
from bwclab.hil.run import TOLERANCE_MS, ReplayOutcome, ReplayPlan, plan, replay
from bwclab.rig.interfaces import BenchLost

BENCH_LOST = 3


def hil_plan(scenario: str, bench: str, out: Path, mapping: str | None, speed: float, seed: int | None,
             profile: str | None, faults: Path | None, window: int | None, until: float | None,
             tolerance_ms: float = TOLERANCE_MS, overwrite: bool = False, overrides: list[str] | None = None,
             variant: str | None = None, allow_mismatch: bool = False) -> ReplayPlan:
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
                overrides, overwrite, variant, allow_mismatch)


def hil_run(p: ReplayPlan) -> tuple[int, ReplayOutcome | None, str]:
    """The replay's exit code, its outcome (None: the bench was lost) and why it was lost. A real camera whose own
    buffer does not fit the scenario at the speed raises ConfigError once the bench is up, before the window."""
    try:
        outcome = replay(p)
    except BenchLost as exc:
        return BENCH_LOST, None, str(exc)
    return outcome.exit_code, outcome, ""


def verdict_lines(h: dict[str, Any]) -> list[str]:
    """What the terminal says of a replay, from its hil.json: valid or why not, where the prediction comes from,
    and each mapped camera's first activation against the model's interval."""
    lat = h["lateness_ms"]
    timing = (f"lateness p50 {lat['p50']} ms, p99 {lat['p99']} ms, max {lat['max']} ms over {lat['n']} bench events"
              if lat["n"] else "no bench event")
    lines = [f"{'valid' if h['valid'] else 'INVALID: ' + h['reason']}; {timing}", h["prediction"]["says"]]
    for serial, c in h["cameras"].items():
        first = c["activations"][0] if c["activations"] else {}
        seen = ("not replayed" if not first else "no activation" if first.get("observed_s") is None
                else f"activated at {first['observed_s']:.2f} s")
        lo, hi = first.get("interval_s", [None, None])
        band = (f"{lo:.2f}-{hi:.2f} s" if lo is not None and hi is not None else "none") + (
            " or none" if first.get("none_plausible") and lo is not None else "")
        judged = {True: "consistent", False: "OUTSIDE", None: "not judged"}[c["consistent_with_model"]]
        lines.append(f"  {serial} (officer {c['officer']}): {seen}; "
                     + (f"model's 95% interval {band}: " if first else "") + judged)
    return lines
