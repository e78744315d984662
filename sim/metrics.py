"""From what happened to what it means: capture rate, missed causes, coverage, storage."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

from camera.bodycam import Recording
from sim.incident import Incident
from sim.model import ShiftResult

CAUSES = (
    "no_trigger",
    "arrived_after_broadcast",
    "out_of_range",
    "camera_asleep",
    "activated_too_late",
)


@dataclass(frozen=True)
class OfficerOnScene:
    incident: int
    call_type: str
    officer: int
    arrived_s: float
    present_at_critical: bool
    video_from_s: float  # earliest video covering up to the critical moment, nan if none
    activated_s: float
    activation_cause: str
    covered: bool
    audio_covered: bool
    cause: str


def _covering(recs: list[Recording], t: float) -> Recording | None:
    """The recording whose video runs through t, if any (the earliest reaching back)."""
    best = None
    for r in recs:
        end = r.ended_at if r.ended_at is not None else math.inf
        if r.video_from <= t <= end and (best is None or r.video_from < best.video_from):
            best = r
    return best


def _asleep_between(spans: list[tuple[float, float]], a: float, b: float) -> bool:
    return any(s < b and e > a for s, e in spans)


def officers_on_scene(res: ShiftResult) -> list[OfficerOnScene]:
    ctx = res.scenario.metrics.context_s
    heard: dict[tuple[int, int], set[str]] = {}
    for r in res.receptions:
        if r.incident is not None:
            heard.setdefault((r.incident, r.officer), set()).add(r.outcome)
    rows = []
    for inc in res.incidents:
        if math.isnan(inc.critical_at):
            continue
        for o in inc.assigned:
            if o in inc.arrivals:
                rows.append(_judge(res, inc, o, ctx, heard.get((inc.number, o), set())))
    return rows


def _judge(res: ShiftResult, inc: Incident, o: int, ctx: float, heard: set[str]) -> OfficerOnScene:
    crit = inc.critical_at
    arrived = inc.arrivals[o]
    recs = res.body_cams[o].recordings
    rec = _covering(recs, crit)
    covered = rec is not None and rec.video_covers(crit - ctx, crit)
    audio = rec is not None and rec.audio_covers(crit - ctx, crit)
    if rec is None:  # nothing running through the critical moment: first start after it
        later = [r for r in recs if inc.called_at <= r.activated_at <= inc.end_time]
        rec = min(later, key=lambda r: r.activated_at) if later else None
    cause = ""
    if not covered and arrived <= crit:
        cause = _cause(res, inc, o, rec, heard, arrived)
    return OfficerOnScene(
        inc.number, inc.call_type, o, arrived, arrived <= crit,
        rec.video_from if rec else math.nan, rec.activated_at if rec else math.nan,
        rec.cause if rec else "", covered, audio, cause,
    )


def _cause(
    res: ShiftResult, inc: Incident, o: int, rec: Recording | None, heard: set[str], arrived: float
) -> str:
    """The first broken link in trigger -> reach -> awake camera -> timely activation."""
    asleep = res.asleep_spans.get(o, [])
    if rec is not None:
        slept = _asleep_between(asleep, inc.called_at, rec.activated_at)
        return "camera_asleep" if slept else "activated_too_late"
    if "asleep" in heard:
        return "camera_asleep"
    if not inc.broadcasts:
        return "no_trigger"
    if all(res.broadcasts[b].end < arrived for b in inc.broadcasts):
        # heard nothing and every broadcast was over before this officer got there
        return "arrived_after_broadcast"
    return "out_of_range"


def _percentile(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


def _recorded_seconds(recs: list[Recording], end: float) -> float:
    return sum((r.ended_at if r.ended_at is not None else end) - r.video_from for r in recs)


def _overlap(recs: list[Recording], a: float, b: float, end: float) -> float:
    spans = sorted((r.video_from, r.ended_at if r.ended_at is not None else end) for r in recs)
    total, cur_s, cur_e = 0.0, None, None
    for s, e in spans:
        s, e = max(s, a), min(e, b)
        if e <= s:
            continue
        if cur_e is None or s > cur_e:
            if cur_e is not None and cur_s is not None:
                total += cur_e - cur_s
            cur_s, cur_e = s, e
        else:
            cur_e = max(cur_e, e)
    if cur_e is not None and cur_s is not None:
        total += cur_e - cur_s
    return total


def summarize(res: ShiftResult, rows: list[OfficerOnScene]) -> dict[str, Any]:
    sc = res.scenario
    end = sc.duration_s
    by_inc: dict[int, list[OfficerOnScene]] = {}
    for r in rows:
        if r.present_at_critical:
            by_inc.setdefault(r.incident, []).append(r)
    judged = [v for v in by_inc.values() if v]
    captured = sum(all(r.covered for r in v) for v in judged)
    audio = sum(all(r.audio_covered for r in v) for v in judged)
    missed = Counter({c: 0 for c in CAUSES})
    missed.update(r.cause for r in rows if r.cause)
    on_scene = covered = 0.0
    for inc in res.incidents:
        for o, t in inc.arrivals.items():
            stop = min(inc.end_time, end)
            if stop > t:
                on_scene += stop - t
                covered += _overlap(res.body_cams[o].recordings, t, stop, end)
    lat = [a.latency_s for a in res.activations if a.cause == "signal"]
    body_s = sum(_recorded_seconds(c.recordings, end) for c in res.body_cams)
    dash_s = sum(_recorded_seconds(c.recordings, end) for c in res.dash_cams)
    rate = sc.camera.storage_gb_per_hour / 3600.0
    waits = res.waits_s
    return {
        "scenario": sc.name,
        "seed": res.seed,
        "events": res.events,
        "wall_s": round(res.wall_s, 4),
        "simulated_h": sc.shift.duration_h,
        "officers": sc.fleet.officers,
        "calls": len(res.incidents),
        "incidents": len(judged),
        "officers_on_scene": len(rows),
        "captured": captured,
        "capture_rate": _ratio(captured, len(judged)),
        "audio_capture_rate": _ratio(audio, len(judged)),
        "officer_time_coverage": _ratio(covered, on_scene),
        "missed": dict(sorted(missed.items())),
        "broadcasts": len(res.broadcasts),
        "activations": len(res.activations),
        "bystander_activations": sum(a.bystander for a in res.activations),
        "latency_s": {
            "p50": _round(_percentile(lat, 50)),
            "p95": _round(_percentile(lat, 95)),
            "max": _round(max(lat) if lat else None),
        },
        "dispatch_wait_s": {"mean": _round(float(np.mean(waits)) if waits else None),
                            "waited_share": _ratio(sum(w > 1e-9 for w in waits), len(waits))},
        "storage_gb": round((body_s + dash_s) * rate, 4),
        "storage_gb_body": round(body_s * rate, 4),
        "settings": {
            "buffer_s": sc.camera.buffer_s,
            "audio_in_buffer": sc.camera.audio_in_buffer,
            "broadcast_s": sc.signal.broadcast_s,
            "detection": sc.signal.detection.model_dump(),
            "context_s": sc.metrics.context_s,
        },
    }


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 6) if b else None


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 6)
