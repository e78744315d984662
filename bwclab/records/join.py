"""Recordings joined to unit responses, the way an audit does it (Tempe's: CAD unit history against the
evidence system's metadata, by officer, call number and time).

- A response *has video* when a recording of its officer runs during its time on scene (arrival to clearing),
  or, in a CAD export without units, when a recording of its call does.
- A recording *belongs to* a response: the one of its call and officer when the export names the call, else
  the one of the same officer whose time on scene it overlaps. What starts a response's video (a press, a
  trigger, and when) is read from the recordings that belong to it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from bwclab.records.audit import Audit
from bwclab.records.cad import Cad
from bwclab.records.columns import CAUSES

MANUAL = CAUSES.index("manual")


@dataclass
class Joined:
    on_scene: NDArray[np.bool_]  # an arrival and a clearing: a response whose video can be judged
    with_video: NDArray[np.bool_]
    first_manual: NDArray[np.float64]  # the first press among its recordings (inf: none)
    first_trigger: NDArray[np.float64]  # the first triggered start among them (inf: none)
    by_call: int  # recordings placed by the call they name
    by_time: int  # ... by their officer's time on scene
    not_placed: int  # during no response: between calls, or of a call or officer the CAD does not hold


def _first_per(resp: NDArray[np.int64], values: NDArray[np.float64], n: int) -> NDArray[np.float64]:
    out = np.full(n, np.inf)
    np.minimum.at(out, resp, values)
    return out


def _by_call(cad: Cad, audit: Audit, width: int) -> NDArray[np.int64]:
    """For each recording that names a call: the response of its call and officer (of its call alone when the
    CAD has no units), -1 when there is none."""
    units_known = "unit" in cad.mapped
    r_key = cad.call.astype(np.int64) * width + (cad.unit + 1 if units_known else 0)
    order = np.argsort(r_key, kind="stable")  # the first response listed wins a tie
    keys = r_key[order]
    named = audit.call >= 0
    rec_key = audit.call.astype(np.int64) * width + (audit.officer + 1 if units_known else 0)
    pos = np.searchsorted(keys, rec_key)
    pos_ok = np.minimum(pos, len(keys) - 1)
    hit = named & (pos < len(keys)) & (keys[pos_ok] == rec_key)
    return np.where(hit, order[pos_ok], -1)


def _by_time(cad: Cad, audit: Audit, scene: NDArray[np.bool_], t0: float, span: float) -> NDArray[np.int64]:
    """For each recording of an officer: the response of that officer, the last to arrive before the recording
    ended, when the recording started before it cleared; -1 otherwise."""
    cand = np.flatnonzero(scene & (cad.unit >= 0))
    out = np.full(audit.recordings, -1, dtype=np.int64)
    if len(cand) == 0:
        return out
    key = cad.unit[cand] * span + (cad.arrived[cand] - t0)
    order = np.argsort(key, kind="stable")
    keys, cand = key[order], cand[order]
    who = audit.officer >= 0
    rec_key = audit.officer * span + (audit.ended - t0)
    pos = np.searchsorted(keys, rec_key, side="right") - 1
    r = cand[np.maximum(pos, 0)]
    hit = who & (pos >= 0) & (cad.unit[r] == audit.officer) & (cad.cleared[r] >= audit.started)
    out[hit] = r[hit]
    return out


def _officer_overlap(cad: Cad, audit: Audit, scene: NDArray[np.bool_], t0: float, span: float) -> NDArray[np.bool_]:
    """Per response: a recording of its officer overlaps its time on scene (a prefix maximum of the ends over
    each officer's recordings in order of start: the latest end among those started before the clearing)."""
    out = np.zeros(cad.responses, dtype=bool)
    who = np.flatnonzero(audit.officer >= 0)
    todo = np.flatnonzero(scene & (cad.unit >= 0))
    if len(who) == 0 or len(todo) == 0:
        return out
    off = audit.officer[who].astype(np.float64)
    start_key = off * span + (audit.started[who] - t0)
    order = np.argsort(start_key, kind="stable")
    start_key = start_key[order]
    latest_end = np.maximum.accumulate(off[order] * span + (audit.ended[who][order] - t0))
    unit = cad.unit[todo].astype(np.float64)
    pos = np.searchsorted(start_key, unit * span + (cad.cleared[todo] - t0), side="right") - 1
    p = np.maximum(pos, 0)
    same = (pos >= 0) & (audit.officer[who][order][p] == cad.unit[todo])
    out[todo] = same & (latest_end[p] - unit * span >= cad.arrived[todo] - t0)
    return out


def join(cad: Cad, audit: Audit) -> Joined:
    n = cad.responses
    scene = ~np.isnan(cad.arrived) & ~np.isnan(cad.cleared)
    width = int(max(len(cad.units), int(audit.officer.max(initial=-1)) + 1)) + 2
    t0 = float(min(np.nanmin(cad.arrived, initial=np.inf), audit.started.min(initial=np.inf), cad.start))
    t1 = float(max(np.nanmax(cad.cleared, initial=-np.inf), audit.ended.max(initial=-np.inf), cad.end))
    span = t1 - t0 + 86_400.0
    by_call = _by_call(cad, audit, width)
    by_time = _by_time(cad, audit, scene, t0, span)
    resp = np.where(audit.call >= 0, by_call, np.where(audit.call == -1, by_time, -1))
    placed = resp >= 0
    r = resp[placed]
    manual = audit.cause[placed] == MANUAL
    first_manual = _first_per(r[manual], audit.started[placed][manual], n)
    first_trigger = _first_per(r[~manual], audit.started[placed][~manual], n)
    during = scene[r] & (audit.started[placed] <= cad.cleared[r]) & (audit.ended[placed] >= cad.arrived[r])
    with_video = _officer_overlap(cad, audit, scene, t0, span)
    with_video[r[during]] = True
    return Joined(on_scene=scene, with_video=with_video & scene, first_manual=first_manual,
                  first_trigger=first_trigger, by_call=int(np.sum(placed & (audit.call >= 0))),
                  by_time=int(np.sum(placed & (audit.call == -1))), not_placed=int(np.sum(~placed)))
