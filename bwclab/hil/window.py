"""Which stretch of a shift a replay puts on the bench, found by running the same seed without a bench first.

The bench never changes where anyone goes or what triggers fire (only which cameras record), so the
dry run's broadcasts and critical moments are the replay's. A scripted scenario replays from `lead_s`
before its first broadcast to `tail_s` after its last scripted critical moment; `--window INCIDENT`
cuts the same stretch around one incident of any shift; `--until` sets the end.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from bwclab.core.config import ConfigError
from bwclab.sim.model import ShiftResult

LEAD_S = 10.0
TAIL_S = 30.0


@dataclass(frozen=True)
class Window:
    start_s: float
    end_s: float
    incidents: tuple[int, ...]  # the incidents the window is cut around
    why: str

    @property
    def length_s(self) -> float:
        return self.end_s - self.start_s


def _around(res: ShiftResult, numbers: list[int], source: str) -> Window:
    incs = [res.incidents[n] for n in numbers]
    crit = [i.critical_at for i in incs if not math.isnan(i.critical_at)]
    if not crit:
        raise ConfigError(source, [f"incident {', '.join(map(str, numbers))}: no critical moment within the shift "
                                   "(nobody arrived in time): nothing to replay"])
    starts = [res.broadcasts[b].start for i in incs for b in i.broadcasts]
    first = min(starts) if starts else min(min(i.arrivals.values(), default=i.called_at) for i in incs)
    start = max(0.0, first - LEAD_S)
    end = min(res.scenario.duration_s, max(crit) + TAIL_S)
    what = "its first broadcast" if starts else "its first arrival (no broadcast)"
    return Window(start, end, tuple(numbers), f"{LEAD_S:g} s before {what} to {TAIL_S:g} s after the last "
                                               "critical moment")


def replay_window(res: ShiftResult, scripted: list[int], incident: int | None, until: float | None,
                  source: str) -> Window:
    """`scripted`: the numbers of the scenario's scripted incidents in the dry run."""
    sc = res.scenario
    if incident is not None:
        if not 0 <= incident < len(res.incidents):
            raise ConfigError(source, [f"--window {incident}: the shift (seed {res.seed}) has incidents 0 to "
                                       f"{len(res.incidents) - 1}"])
        w = _around(res, [incident], source)
    elif scripted:
        w = _around(res, sorted(scripted), source)
    else:
        raise ConfigError(source, ["script.calls: the scenario scripts no incident: name one to replay with "
                                   "--window INCIDENT_ID (a row of a sim shift's incidents.csv)"])
    if until is not None:
        if until <= w.start_s:
            raise ConfigError("--until", [f"{until:g}: the replay starts at {w.start_s:g} s ({source}); expected a "
                                          "later end"])
        w = Window(w.start_s, min(until, sc.duration_s), w.incidents, f"{w.why}; --until {until:g} s")
    return w
