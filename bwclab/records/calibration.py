"""Fit the simulator's inputs from a department's records: calls per hour by hour of day, the call-type mix,
units per call type, time on scene per type (lognormal), dispatch and travel delays, manual compliance per type
and how much officers differ in it, the press delay from arrival and the share of presses en route, and the
triggers the department fields. Every figure with its 95% interval and the number it rests on
(calibration.json)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from bwclab.core.triggers import TRIGGER_KINDS
from bwclab.records import fit
from bwclab.records.audit import Audit, read_audit
from bwclab.records.cad import Cad, read_cad
from bwclab.records.calltypes import TypeMap
from bwclab.records.columns import ColumnMap
from bwclab.records.join import Joined, join
from bwclab.records.times import iso

SCENARIO_LACKS = {  # fitted, but written only here and as comments in calibrated.yaml until the scenario has them
    "press_delay_s.en_route_routine": "presses en route on routine responses: the scenario presses en route only on "
                                      "priority ones (manual.when: en_route)",
    "travel_s": "travel: the model's comes from distance and speed",
    "triggers.not_in_scenario": "recording reasons that are no trigger kind of the scenario's vocabulary "
                                "(bwclab/core/triggers.py)",
}


@dataclass
class Samples:
    """The values each fit rests on, for the plots that show a fit against its data."""

    calls_by_day_hour: NDArray[np.float64]  # (days, 24): calls received in each hour of the period
    time_on_scene_min: dict[str, NDArray[np.float64]]
    units: dict[str, NDArray[np.int64]]
    dispatch_delay_s: NDArray[np.float64]
    travel_s: NDArray[np.float64]
    press_delay_s: NDArray[np.float64]


@dataclass
class Records:
    cad: Cad
    audit: Audit | None
    joined: Joined | None
    columns: ColumnMap
    columns_path: Path | None
    types: TypeMap


def read_records(cad_path: Path, audit_path: Path | None, columns: ColumnMap, columns_path: Path | None,
                 types: TypeMap) -> Records:
    cad = read_cad(cad_path, columns, types)
    if audit_path is None:
        return Records(cad, None, None, columns, columns_path, types)
    audit = read_audit(audit_path, columns, cad.units, cad.call_ids, cad.aware, cad_path)
    return Records(cad, audit, join(cad, audit), columns, columns_path, types)


def clusters(cad: Cad) -> NDArray[np.int64]:
    """Each response's officer, for the design effect; a response with no unit is a cluster of its own."""
    unit = cad.unit.astype(np.int64)
    return np.where(unit >= 0, unit, -1 - np.arange(len(unit)))


def response_emergency(cad: Cad) -> NDArray[np.bool_]:
    return cad.emergency_priorities[cad.priority[cad.call]] if len(cad.priorities) else np.zeros(cad.responses, bool)


def _per_call_time_on_scene(cad: Cad) -> NDArray[np.float64]:
    """Minutes from a call's first arrival to its last clearing (nan for a call no unit both reached and left)."""
    scene = ~np.isnan(cad.arrived) & ~np.isnan(cad.cleared)
    first = np.full(cad.calls, np.inf)
    last = np.full(cad.calls, -np.inf)
    np.minimum.at(first, cad.call[scene], cad.arrived[scene])
    np.maximum.at(last, cad.call[scene], cad.cleared[scene])
    out: NDArray[np.float64] = (last - first) / 60.0
    out[~np.isfinite(out)] = np.nan
    return out


def _calls_per_hour(cad: Cad) -> dict[str, Any]:
    exposure = cad.exposure_by_hour()
    counts = np.bincount(cad.hour.astype(np.int64), minlength=24)
    overall = fit.rate(cad.calls, float(exposure.sum()))
    overall["by_hour"] = [{"hour": h, **fit.rate(int(counts[h]), float(exposure[h]))} for h in range(24)]
    return overall


NOT_EXPORTED = {"mean": None, "ci_low": None, "ci_high": None, "n": 0}


def _units(cad: Cad, calls: NDArray[np.bool_], per_call: NDArray[np.int64]) -> dict[str, Any]:
    if "unit" not in cad.mapped:  # a row per call: how many units went is not in the export
        return {**NOT_EXPORTED, "not_exported": "unit"}
    n = per_call[calls]
    out = fit.mean_t(n.astype(float))
    if len(n):
        values, counts = np.unique(n, return_counts=True)
        out["distribution"] = {int(v): round(float(c) / len(n), 4) for v, c in zip(values, counts, strict=True)}
    return out


def _calls_by_day_hour(cad: Cad) -> NDArray[np.float64]:
    start_hour, hours = cad.period_hours()
    start = cad.start - cad.start % 3600
    slot = ((cad.received - start) // 3600).astype(np.int64) + start_hour
    days = (start_hour + hours + 23) // 24
    counts = np.bincount(slot, minlength=days * 24)[: days * 24].astype(float)
    seen = np.arange(days * 24)
    counts[(seen < start_hour) | (seen >= start_hour + hours)] = np.nan  # hours outside the period
    out: NDArray[np.float64] = counts.reshape(days, 24)
    return out


def _call_types(cad: Cad, samples: Samples) -> dict[str, Any]:
    per_call_units = np.bincount(cad.call, minlength=cad.calls).astype(np.int64)
    tos = _per_call_time_on_scene(cad)
    emergency = cad.emergency_priorities[cad.priority] if len(cad.priorities) else np.zeros(cad.calls, bool)
    out: dict[str, Any] = {}
    for k, name in enumerate(cad.types):
        mine = cad.call_type == k
        samples.time_on_scene_min[name] = tos[mine][np.isfinite(tos[mine])]
        samples.units[name] = per_call_units[mine]
        out[name] = {
            "share": fit.share(mine),
            "units": _units(cad, mine, per_call_units),
            "emergency": fit.share(emergency[mine]) if "priority" in cad.mapped else {**NOT_EXPORTED,
                                                                                         "not_exported": "priority"},
            "time_on_scene_min": fit.lognormal(tos[mine]),
            "department_types": sorted(d for d, s in cad.department_types.items() if s == name),
        }
    return out


def _compliance(cad: Cad, j: Joined, samples: Samples) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Per call type: among responses on scene that no trigger had already started, the share with a press
    that started before clearing; the press delay from arrival (negative: en route), and the share of presses
    made en route on priority responses (the scenario's `en_route_share`) and on routine ones."""
    trig_first = (j.first_trigger <= cad.cleared) & (j.first_trigger <= j.first_manual)
    eligible = j.on_scene & ~trig_first
    pressed = j.first_manual <= cad.cleared
    kind = cad.call_type[cad.call]
    cl = clusters(cad)
    by_type = {name: fit.share(pressed[eligible & (kind == k)], cl[eligible & (kind == k)])
               for k, name in enumerate(cad.types)}
    overall = fit.share(pressed[eligible], cl[eligible])
    delay = (j.first_manual - cad.arrived)[eligible & pressed]
    samples.press_delay_s = delay
    emergency = response_emergency(cad)[eligible & pressed]
    ec = cl[eligible & pressed]
    press = {"after_arrival": fit.lognormal(delay[delay > 0]),
             "en_route": fit.share(delay[emergency] < 0, ec[emergency]),
             "en_route_routine": fit.share(delay[~emergency] < 0, ec[~emergency]),
             **fit.quantiles(delay), "n": len(delay)}
    return by_type, overall, press


def _officer_spread(cad: Cad, j: Joined) -> dict[str, Any]:
    """The officers' spread on the logit scale, over the responses compliance is fitted on, when the CAD names
    each response's unit (its officer)."""
    if "unit" not in cad.mapped:
        return {**NOT_EXPORTED, "not_exported": "unit"}
    trig_first = (j.first_trigger <= cad.cleared) & (j.first_trigger <= j.first_manual)
    mine = j.on_scene & ~trig_first & (cad.unit >= 0)
    return fit.officer_spread((j.first_manual <= cad.cleared)[mine], cad.call_type[cad.call][mine].astype(np.int64),
                          cad.unit[mine].astype(np.int64))


def _delays(cad: Cad, samples: Samples) -> tuple[dict[str, Any], dict[str, Any]]:
    first_dispatch = np.full(cad.calls, np.inf)
    ok = ~np.isnan(cad.dispatched)
    np.minimum.at(first_dispatch, cad.call[ok], cad.dispatched[ok])
    d = first_dispatch - cad.received
    d = d[np.isfinite(d)]
    dispatch = {**fit.lognormal(d), "zero": fit.share(d <= 0), **fit.quantiles(d)}
    travel = cad.arrived - cad.dispatched
    travel = travel[np.isfinite(travel) & (travel >= 0)]
    samples.dispatch_delay_s, samples.travel_s = d, travel
    return dispatch, {**fit.lognormal(travel), **fit.quantiles(travel)}


def _triggers(audit: Audit) -> dict[str, Any]:
    """The trigger kinds the department fields, as its recording reasons show: those the scenario's vocabulary has
    go to `signal.triggers`, the rest are named; no triggered recording at all is a manual-only department."""
    counts = audit.cause_counts()
    triggered = [c for c, n in counts.items() if c != "manual" and n > 0]
    return {"recordings_by_reason": counts,
            "fielded": [c for c in triggered if c in TRIGGER_KINDS],
            "not_in_scenario": [c for c in triggered if c not in TRIGGER_KINDS],
            "manual_only": not triggered}


def _period(cad: Cad) -> dict[str, Any]:
    start_hour, hours = cad.period_hours()
    return {"first_call": iso(cad.start, cad.aware), "last_call": iso(cad.end, cad.aware), "start_hour": start_hour,
            "hours": hours, "days": round(hours / 24, 3)}


def calibrate(rec: Records, base: Path) -> tuple[dict[str, Any], Samples]:
    """calibration.json's content, and the samples its fits rest on."""
    cad, audit, j = rec.cad, rec.audit, rec.joined
    samples = Samples(_calls_by_day_hour(cad), {}, {}, np.empty(0), np.empty(0), np.empty(0))
    out: dict[str, Any] = {
        "records": {
            "cad": str(cad.path), "audit": None if audit is None else str(audit.path),
            "columns": None if rec.columns_path is None else str(rec.columns_path),
            "types": None if rec.types.source is None else str(rec.types.source),
            "period": _period(cad), "calls": cad.calls, "responses": cad.responses,
            "fields_exported": sorted(cad.mapped),
            "odd_rows": {"cad": cad.odd.as_dict(), "audit": None if audit is None else audit.odd.as_dict()},
        },
        "base_scenario": str(base),
        "calls_per_hour": _calls_per_hour(cad),
        "call_types": _call_types(cad, samples),
    }
    dispatch, travel = _delays(cad, samples)
    out["dispatch_delay_s"], out["travel_s"] = dispatch, travel
    if audit is not None and j is not None:
        by_type, overall, press = _compliance(cad, j, samples)
        out["records"].update(recordings=audit.recordings, recordings_by_call=j.by_call,
                              recordings_by_time=j.by_time, recordings_during_no_response=j.not_placed,
                              responses_on_scene=int(j.on_scene.sum()))
        out["compliance"] = by_type
        out["compliance_all_types"] = overall
        out["press_delay_s"] = press
        out["officer_spread_logit"] = _officer_spread(cad, j)
        out["triggers"] = _triggers(audit)
        out["with_video"] = fit.share(j.with_video[j.on_scene], clusters(cad)[j.on_scene])
    out["scenario_lacks"] = SCENARIO_LACKS
    return out, samples

