"""From what happened to what it means: capture (recording, in frame, by any camera), missed causes,
coverage, dispatch, storage; per incident, per call type and per severity.

Causes, for an officer present at the critical moment whose video does not show it: the first broken
link in trigger -> reach -> discovery -> awake camera -> timely start -> field of view.
- `not_triggered`: no automatic trigger reached the incident and no manual start was expected;
- `not_pressed`: no automatic trigger; a manual start was expected (policy) and not made;
- `pressed_late`: started by hand after the moment's context had passed;
- `buffer_too_short`: started automatically after the moment, and the pre-event buffer did not reach back;
- `out_of_range`: broadcasts while the officer was there, none within its camera's reach;
- `not_discovered`: in range of a broadcast, but not heard before it ended;
- `arrived_after_broadcast`: every broadcast ended before the officer arrived;
- `camera_asleep`: the camera was asleep when it mattered;
- `out_of_frame`: recording, but the subject was outside its field of view or the view was blocked.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from bwclab.camera.bodycam import Recording
from bwclab.sim.incident import Incident
from bwclab.sim.model import ShiftResult

CAUSES = ("not_triggered", "not_pressed", "pressed_late", "buffer_too_short", "out_of_range", "not_discovered",
          "arrived_after_broadcast", "camera_asleep", "out_of_frame")
SEVERITIES = ("use_of_force", "in_progress", "report")
RATES = ("capture_rate", "in_frame_rate", "any_camera_rate", "audio_capture_rate", "use_of_force_capture_rate")
SPREAD = ("p10", "median", "p90")  # officer_spread: capture share per officer, over officers with a critical moment


@dataclass(frozen=True)
class OfficerOnScene:
    incident: int
    call_type: str
    severity: str
    officer: int
    arrived_s: float
    present_at_critical: bool
    video_from_s: float  # earliest video covering up to the critical moment, nan if none
    activated_s: float
    activation_cause: str
    covered: bool  # recording, with the moment's context
    audio_covered: bool
    in_frame: bool  # covered, and the subject in its field of view
    cause: str


@dataclass(frozen=True)
class OfficerShift:
    """One officer's shift (officers.csv): its time by status, the incidents it attended, the critical moments it
    was present at and those its body camera captured (on video, with the context before)."""

    officer: int
    patrol_s: float
    on_call_s: float  # responding and on scene
    on_duty_s: float
    incidents_attended: int
    moments_present: int
    moments_captured: int


@dataclass(frozen=True)
class IncidentOutcome:
    incident: int
    call_type: str
    severity: str
    officers: int
    recording: bool  # every officer present has it on video
    in_frame: bool  # ... and in frame
    any_camera: bool  # at least one camera, dash included, has it on video and in frame
    audio: bool


def covering(recs: list[Recording], t: float) -> Recording | None:
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
    rec = covering(recs, crit)
    covered = rec is not None and rec.video_covers(crit - ctx, crit)
    audio = rec is not None and rec.audio_covers(crit - ctx, crit)
    view = res.views.get(inc.number)
    seen = covered and view is not None and view.body.get(o, False)
    if rec is None:  # nothing running through the critical moment: first start after the call
        later = [r for r in recs if inc.called_at <= r.activated_at <= inc.end_time]
        rec = min(later, key=lambda r: r.activated_at) if later else None
    cause = ""
    if arrived <= crit:
        if not covered:
            cause = _cause(res, inc, o, rec, heard, arrived)
        elif not seen:
            cause = "out_of_frame"
    return OfficerOnScene(
        inc.number, inc.call_type, inc.severity, o, arrived, arrived <= crit, rec.video_from if rec else math.nan,
        rec.activated_at if rec else math.nan, rec.cause if rec else "", covered, audio, seen, cause)


def _cause(res: ShiftResult, inc: Incident, o: int, rec: Recording | None, heard: set[str], arrived: float) -> str:
    """The first broken link, for an officer present whose video does not reach the moment."""
    asleep = res.asleep_spans.get(o, [])
    if rec is not None:
        if _asleep_between(asleep, inc.called_at, rec.activated_at):
            return "camera_asleep"
        return "pressed_late" if rec.cause == "manual" else "buffer_too_short"
    if "asleep" in heard:
        return "camera_asleep"
    if inc.broadcasts:
        if all(res.broadcasts[b].end < arrived for b in inc.broadcasts):
            return "arrived_after_broadcast"
        if any((b, o) in res.undiscovered for b in inc.broadcasts):
            return "not_discovered"
        return "out_of_range"
    return "not_pressed" if res.scenario.camera.manual.expected else "not_triggered"


def incident_outcomes(res: ShiftResult, rows: list[OfficerOnScene]) -> list[IncidentOutcome]:
    ctx = res.scenario.metrics.context_s
    by_inc: dict[int, list[OfficerOnScene]] = {}
    for r in rows:
        if r.present_at_critical:
            by_inc.setdefault(r.incident, []).append(r)
    out = []
    for number, present in sorted(by_inc.items()):
        inc = res.incidents[number]
        view = res.views.get(number)
        dash_seen = False
        if view is not None:
            for o, sees in view.dash.items():
                cam = res.dash_cams[o]
                rec = covering(cam.recordings, inc.critical_at) if cam is not None else None
                dash_seen = dash_seen or (sees and rec is not None and rec.video_covers(inc.critical_at - ctx,
                                                                                        inc.critical_at))
        out.append(IncidentOutcome(
            number, inc.call_type, inc.severity, len(present), all(r.covered for r in present),
            all(r.in_frame for r in present), dash_seen or any(r.in_frame for r in present),
            all(r.audio_covered for r in present)))
    return out


def officer_shifts(res: ShiftResult, rows: list[OfficerOnScene]) -> list[OfficerShift]:
    n = res.scenario.fleet.officers
    time = {status: [0.0] * n for status in ("patrol", "responding", "on_scene", "duty")}
    for span in res.statuses:
        time[span.status][span.officer] += span.end_s - span.start_s
    attended = Counter(o for inc in res.incidents for o in inc.arrivals)
    present = Counter(r.officer for r in rows if r.present_at_critical)
    captured = Counter(r.officer for r in rows if r.present_at_critical and r.covered)
    return [OfficerShift(o, time["patrol"][o], time["responding"][o] + time["on_scene"][o], time["duty"][o],
                         attended[o], present[o], captured[o]) for o in range(n)]


def _rates(outcomes: list[IncidentOutcome]) -> dict[str, Any]:
    n = len(outcomes)
    force = [o for o in outcomes if o.severity == "use_of_force"]
    return {"incidents": n,
            "capture_rate": _ratio(sum(o.recording for o in outcomes), n),
            "in_frame_rate": _ratio(sum(o.in_frame for o in outcomes), n),
            "any_camera_rate": _ratio(sum(o.any_camera for o in outcomes), n),
            "audio_capture_rate": _ratio(sum(o.audio for o in outcomes), n),
            # None (skipped when averaged over replications) where no incident came to a use of force
            "use_of_force_capture_rate": _ratio(sum(o.recording for o in force), len(force))}


def officer_spread(shifts: list[OfficerShift]) -> dict[str, Any]:
    """How capture varies over officers: p10, median and p90 of each officer's captured share of the critical
    moments it was present at, over the officers present at one at least (None for each when there are none)."""
    shares = [s.moments_captured / s.moments_present for s in shifts if s.moments_present]
    return {**{k: _round(_percentile(shares, q)) for k, q in zip(SPREAD, (10, 50, 90), strict=True)},
            "officers": len(shares)}


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
    """One shift's figures (one replication): what `sim shift` aggregates over replications."""
    sc = res.scenario
    end = sc.duration_s
    outcomes = incident_outcomes(res, rows)
    missed = Counter({c: 0 for c in CAUSES})
    missed.update(r.cause for r in rows if r.cause)
    on_scene = covered = 0.0
    for inc in res.incidents:
        for o, t in inc.arrivals.items():
            stop = min(inc.end_time, end)
            if stop > t:
                on_scene += stop - t
                covered += _overlap(res.body_cams[o].recordings, t, stop, end)
    lat = [a.latency_s for a in res.activations if a.cause == "signal" and not math.isnan(a.latency_s)]
    body_s = sum(_recorded_seconds(c.recordings, end) for c in res.body_cams)
    dash_s = sum(_recorded_seconds(c.recordings, end) for c in res.dash_cams if c is not None)
    body_gb = body_s * sc.camera.storage_gb_per_hour / 3600.0
    dash_gb = dash_s * sc.dash.storage_gb_per_hour / 3600.0
    per_year_tb = (body_gb + dash_gb) * (8760.0 / sc.shift.duration_h) / 1000.0
    responses = [min(inc.arrivals.values()) - inc.called_at for inc in res.incidents if inc.arrivals
                 and not inc.officer_initiated]
    waits = res.waits_s
    shifts = officer_shifts(res, rows)
    return {
        "scenario": sc.name,
        "variant": sc.variant,
        "seed": res.seed,
        "events": res.events,
        "wall_s": round(res.wall_s, 4),
        "simulated_h": sc.shift.duration_h,
        "officers": sc.fleet.officers,
        "calls": len(res.incidents),
        "officers_on_scene": len(rows),
        **_rates(outcomes),
        "officer_time_coverage": _ratio(covered, on_scene),
        "missed": dict(sorted(missed.items())),
        "by_call_type": {t: _rates([o for o in outcomes if o.call_type == t]) for t in sorted(sc.call_types)
                         if any(o.call_type == t for o in outcomes)},
        "by_severity": {s: _rates([o for o in outcomes if o.severity == s]) for s in SEVERITIES},
        "broadcasts": len(res.broadcasts),
        "activations": len(res.activations),
        "bystander_activations": sum(a.bystander for a in res.activations),
        "latency_s": {"p50": _round(_percentile(lat, 50)), "p95": _round(_percentile(lat, 95)),
                      "max": _round(max(lat) if lat else None)},
        "dispatch": {"wait_s_mean": _round(float(np.mean(waits)) if waits else None),
                     "waited_share": _ratio(sum(w > 1e-9 for w in waits), len(waits)),
                     "response_s_mean": _round(float(np.mean(responses)) if responses else None),
                     "response_s_p90": _round(_percentile(responses, 90)),
                     "utilisation": _ratio(res.busy_s, sc.fleet.officers * end)},
        "storage_gb": round(body_gb + dash_gb, 4),
        "storage_gb_body": round(body_gb, 4),
        "storage_tb_per_year": round(per_year_tb, 4),
        "storage_tb_held": round(per_year_tb * sc.camera.retention_days / 365.0, 4),
        "officer_spread": officer_spread(shifts),
        "by_officer": [asdict(x) for x in shifts],
        "settings": {
            "triggers": list(sc.signal.triggers),
            "buffer_s": sc.camera.buffer_s,
            "audio_in_buffer": sc.camera.audio_in_buffer,
            "broadcast_s": sc.signal.broadcast_s,
            "detection": sc.signal.detection.model_dump(),
            "fov_deg": sc.camera.fov_deg,
            "dash": sc.dash.fitted,
            "context_s": sc.metrics.context_s,
        },
    }


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 6) if b else None


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 6)
