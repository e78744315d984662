"""What would have fixed each miss: for every officer present at a critical moment whose video does not reach it
(`covered` false: every cause but `out_of_frame`), the smallest change of one setting, all else equal (the same
seed, so the same calls, scenes and draws), that would have captured it.

- buffer: worked out from the camera's recordings, not re-run. The buffer moves nothing in a shift but how far
  back a recording's video reaches: a recording that runs through the moment and started at `a` covers the
  moment's context from `m - context_s` with a buffer of `a - (m - context_s)`, if the camera was buffering
  since then (not asleep, not recording something else that ended after it). The smallest over its recordings,
  rounded up to 0.1 s; none when more than `BUFFER_MAX_S` (what a camera can hold).
- r50: the shift re-run with the detection curve's r50 at each step of `R50_STEP_FT` above the scenario's, up to
  `R50_MAX_FT`; the smallest at which it was captured. Only a curve with an r50 (logistic, shadowed); a measured
  profile's probit curve has none.
- triggers: the shift re-run with each trigger kind not fielded fielded as well (one at a time); every kind that
  would have captured it, in the vocabulary's order (`bwclab/core/triggers.py`), `;`-joined. Prices are not the
  model's to weigh, so all are listed.
- press: the shift re-run with every officer complying (compliance 1 for every call type); the same press delay
  draws (an officer draws its delay whether it complies or not), pressing en route or on arrival as the scenario
  says.

A re-run's officer-incident is matched by incident number and officer, and counts as captured only if that
incident came in at the same time and the officer was present at its moment with its video covering it.

`fixes(res, rows)` gives the rows (fixes.csv) and the counts a replication's summary carries (`fixes`: how many
misses a buffer of 60 / 120 s, an r50 of 40 / 60 ft, each trigger kind not fielded and full compliance would fix).
About 20 more runs of the shift per replication (0.57 s on the Hartford shift: docs/model.md).

With a measured profile applied, the buffer is the one the camera holds: the department's setting less the
shortfall the rig measured (bwclab/sim/profile.py); a setting of `buffer_s_needed` plus that shortfall gives it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from bwclab.camera.bodycam import Recording
from bwclab.core.triggers import TRIGGER_KINDS
from bwclab.sim.dists import Dist
from bwclab.sim.metrics import OfficerOnScene, officers_on_scene
from bwclab.sim.model import ShiftResult, run_shift
from bwclab.sim.scenario import LogisticSpec, Scenario, ShadowedSpec

BUFFER_MAX_S = 120.0  # the longest pre-event buffer a camera holds (CameraSpec.buffer_s)
BUFFER_STEP_S = 0.1  # buffer_s_needed is rounded up to this
R50_STEP_FT = 5.0
R50_MAX_FT = 100.0  # two and a half times the 40 ft claimed for today's triggers: beyond it, not a radio a
# department can buy
BUFFERS_S = (60.0, 120.0)  # the summary's buffer_<s>_s counts
R50S_FT = (40.0, 60.0)  # the summary's r50_<ft>_ft counts


@dataclass(frozen=True)
class FixRow:
    """One missed officer-incident of one replication (fixes.csv; `rep` set by the run folder)."""

    incident: int
    officer: int
    cause: str
    buffer_s_needed: float  # nan: no buffer up to BUFFER_MAX_S would
    r50_ft_needed: float  # nan: no r50 up to R50_MAX_FT would (or the curve has no r50)
    trigger_needed: str  # ';'-joined kinds, '' for none
    press_needed: bool


def buffering_since(recs: list[Recording], asleep: list[tuple[float, float]], rec: Recording) -> float:
    """When the camera last began buffering before `rec` started: the shift's start, the end of its previous
    recording, or its last waking."""
    since = 0.0
    for r in recs:
        if r is rec:
            break
        if r.ended_at is not None and r.ended_at <= rec.activated_at:
            since = max(since, r.ended_at)
    for _slept, woke in asleep:
        if woke <= rec.activated_at:
            since = max(since, woke)
    return since


def buffer_needed(recs: list[Recording], asleep: list[tuple[float, float]], moment: float, context_s: float,
                  max_s: float = BUFFER_MAX_S) -> float | None:
    """The smallest buffer (rounded up to BUFFER_STEP_S) with which one of the camera's recordings would have
    covered [moment - context_s, moment]; None if no buffer up to `max_s` would."""
    start = moment - context_s
    best: float | None = None
    for r in recs:
        if r.ended_at is not None and r.ended_at < moment:
            continue  # over before the moment
        if r.activated_at > moment + max_s:
            continue
        if buffering_since(recs, asleep, r) > start:
            continue  # asleep or recording something else after the context began: no buffer reaches back
        steps = math.ceil(max(0.0, r.activated_at - start) / BUFFER_STEP_S - 1e-9)
        need = round(steps * BUFFER_STEP_S, 6)
        if r.activated_at - need > start:  # the camera's own arithmetic (`buffered_from`) must reach back
            need = round(need + BUFFER_STEP_S, 6)
        if need <= max_s and (best is None or need < best):
            best = need
    return best


def with_r50(sc: Scenario, r50_ft: float) -> Scenario | None:
    det = sc.signal.detection
    if not isinstance(det, LogisticSpec | ShadowedSpec):
        return None
    signal = sc.signal.model_copy(update={"detection": det.model_copy(update={"r50_ft": r50_ft})})
    return sc.model_copy(update={"signal": signal})


def with_trigger(sc: Scenario, kind: str) -> Scenario:
    signal = sc.signal.model_copy(update={"triggers": [*sc.signal.triggers, kind]})
    return sc.model_copy(update={"signal": signal})


def with_full_compliance(sc: Scenario) -> Scenario:
    manual = sc.camera.manual.model_copy(update={"compliance": Dist(dist="constant", value=1.0), "by_call_type": {}})
    camera = sc.camera.model_copy(update={"manual": manual})
    return sc.model_copy(update={"camera": camera})


def missed(rows: list[OfficerOnScene]) -> list[OfficerOnScene]:
    """The officer-incidents whose video does not reach the moment (out of frame ones do: not counted)."""
    return [r for r in rows if r.present_at_critical and not r.covered]


def captured(base: ShiftResult, sc: Scenario) -> set[tuple[int, int]]:
    """The (incident, officer) pairs captured when the same replication is run with `sc`."""
    res = run_shift(sc, base.seed)
    called = {inc.number: inc.called_at for inc in base.incidents}
    return {(r.incident, r.officer) for r in officers_on_scene(res)
            if r.present_at_critical and r.covered and res.incidents[r.incident].called_at == called.get(r.incident)}


def r50_grid(base_ft: float) -> list[float]:
    first = (math.floor(base_ft / R50_STEP_FT + 1e-9) + 1) * R50_STEP_FT
    return [first + k * R50_STEP_FT for k in range(int((R50_MAX_FT - first) / R50_STEP_FT + 1e-9) + 1)]


def fixes(res: ShiftResult, rows: list[OfficerOnScene]) -> tuple[list[FixRow], dict[str, int | None]]:
    """Each miss's fixes, and how many misses each of the summary's changes fixes (None where the scenario has no
    such setting: an r50 for a curve without one)."""
    sc = res.scenario
    ctx = sc.metrics.context_s
    misses = missed(rows)
    keys = [(r.incident, r.officer) for r in misses]
    buffers: dict[tuple[int, int], float | None] = {}
    for r in misses:
        moment = res.incidents[r.incident].critical_at
        buffers[(r.incident, r.officer)] = buffer_needed(res.body_cams[r.officer].recordings,
                                                         res.asleep_spans.get(r.officer, []), moment, ctx)
    counts: dict[str, int | None] = {}
    for s in BUFFERS_S:
        counts[f"buffer_{s:g}_s"] = sum(1 for b in buffers.values() if b is not None and b <= s)

    r50_needed: dict[tuple[int, int], float] = {}
    det = sc.signal.detection
    base_r50 = det.r50_ft if isinstance(det, LogisticSpec | ShadowedSpec) else None
    if base_r50 is not None and keys:
        by_r50: dict[float, set[tuple[int, int]]] = {}
        for r50 in sorted({*r50_grid(base_r50), *(x for x in R50S_FT if x != base_r50)}):
            changed = with_r50(sc, r50)
            if changed is not None:
                by_r50[r50] = captured(res, changed)
        for r50 in r50_grid(base_r50):
            for k in keys:
                if k not in r50_needed and k in by_r50[r50]:
                    r50_needed[k] = r50
        for x in R50S_FT:
            counts[f"r50_{x:g}_ft"] = 0 if x == base_r50 else sum(k in by_r50[x] for k in keys)
    else:
        for x in R50S_FT:
            counts[f"r50_{x:g}_ft"] = None if base_r50 is None else 0

    trig: dict[tuple[int, int], list[str]] = {k: [] for k in keys}
    for kind in TRIGGER_KINDS:
        if kind in sc.signal.triggers:
            continue
        got = captured(res, with_trigger(sc, kind)) if keys else set()
        counts[f"trigger_{kind}"] = sum(k in got for k in keys)
        for k in keys:
            if k in got:
                trig[k].append(kind)

    pressed = captured(res, with_full_compliance(sc)) if keys else set()
    counts["full_compliance"] = sum(k in pressed for k in keys)

    out = []
    for r, k in zip(misses, keys, strict=True):
        b = buffers[k]
        out.append(FixRow(r.incident, r.officer, r.cause, math.nan if b is None else b,
                          r50_needed.get(k, math.nan), ";".join(trig[k]), k in pressed))
    return out, counts


def add_fixes(summary: dict[str, Any], res: ShiftResult, rows: list[OfficerOnScene]) -> dict[str, Any]:
    """A replication's summary with its `fixes` counts and `fix_rows` (for fixes.csv)."""
    got, counts = fixes(res, rows)
    summary["fixes"] = counts
    summary["fix_rows"] = [{**asdict(r), "press_needed": "true" if r.press_needed else "false"} for r in got]
    return summary
