"""Department records made from a stated truth (seeded): a CAD export and an audit export whose every figure
`bwclab sim calibrate` should find again. The truth is a YAML file (`fixtures/records/sample-truth.yaml`); the
shipped sample was made from it by

    python -m bwclab.records.sample fixtures/records/sample-truth.yaml fixtures/records/sample

and benchmarks/records_scale.py makes a large city's year the same way.

How the records come about, call by call: calls arrive as a Poisson process by clock hour; each has a type (its
share), a department's name for it, an emergency priority (or a routine one), a number of units, a dispatch
delay, and a time on scene (lognormal) from the first arrival. The units sent are free ones at random (the
earliest free when too few are); each travels (lognormal), and one that would arrive after the scene cleared,
or is called off (`cancelled`), never arrives. On scene, as the simulator has it: an emergency unit's light bar
starts its officer's camera as it sets off, unless the camera was left asleep (`sleep_probability`); otherwise
the officer presses with probability `compliance` (of the call type), after arrival by `press_delay_s` or en
route (`en_route`), and the camera records until the scene clears. Between calls, officers make recordings that
belong to no call (`off_call_per_gap`)."""

from __future__ import annotations

import argparse
import csv
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydantic import Field

from bwclab.core.config import ConfigError, load
from bwclab.core.strict import Probability, Strict


class Lognormal(Strict):
    mean: float = Field(gt=0)
    cv: float = Field(gt=0)

    def draw(self, rng: np.random.Generator, n: int) -> NDArray[np.float64]:
        s2 = np.log1p(self.cv**2)
        return rng.lognormal(np.log(self.mean) - s2 / 2, np.sqrt(s2), n)


class TypeTruth(Strict):
    share: float = Field(gt=0)
    department_types: list[str] = Field(min_length=1, description="the department's names for it, equally often")
    units: dict[int, float]
    emergency: Probability
    time_on_scene_min: Lognormal
    compliance: Probability


class Truth(Strict):
    seed: int = Field(ge=0)
    start: str = Field(description="the first hour of the period, ISO 8601 without an offset")
    days: int = Field(ge=1, le=400)
    calls_per_hour: list[float] = Field(min_length=24, max_length=24)
    units: int = Field(ge=1, le=100_000)
    call_types: dict[str, TypeTruth]
    dispatch_delay_s: Lognormal
    travel_s: Lognormal
    press_delay_s: Lognormal
    en_route: Probability = 0.0
    sleep_probability: Probability = 0.05
    light_bar: bool = True
    cancelled: Probability = 0.0
    call_id_share: Probability = Field(default=1.0, description="recordings whose row names their call")
    off_call_per_gap: float = Field(default=0.0, ge=0, description="recordings between two calls of an officer")


@dataclass
class Made:
    cad_rows: int
    recordings: int


def _calls(t: Truth, rng: np.random.Generator) -> NDArray[np.float64]:
    hours = np.arange(t.days * 24)
    counts = rng.poisson(np.asarray(t.calls_per_hour)[hours % 24])
    starts = np.repeat(hours * 3600.0, counts)
    return np.sort(starts + rng.uniform(0, 3600.0, len(starts)))


def _pick(free_at: NDArray[np.float64], at: float, k: int, rng: np.random.Generator) -> NDArray[np.int64]:
    free = np.flatnonzero(free_at <= at)
    if len(free) >= k:
        return rng.choice(free, k, replace=False)
    busy = np.argsort(free_at, kind="stable")[len(free):]
    return np.concatenate([free, busy[: k - len(free)]])


class _Columns:
    """The records as columns, grown response by response."""

    def __init__(self) -> None:
        self.call: list[int] = []
        self.unit: list[int] = []
        self.disp: list[float] = []
        self.arr: list[float] = []
        self.clr: list[float] = []


def _responses(t: Truth, rng: np.random.Generator, received: NDArray[np.float64],
               kind: NDArray[np.int64]) -> _Columns:
    types = list(t.call_types.values())
    n = len(received)
    delay = t.dispatch_delay_s.draw(rng, n)
    tos = np.empty(n)
    k_units = np.empty(n, dtype=np.int64)
    for i, tt in enumerate(types):
        mine = kind == i
        tos[mine] = tt.time_on_scene_min.draw(rng, int(mine.sum())) * 60.0
        ks, ws = zip(*tt.units.items(), strict=True)
        k_units[mine] = rng.choice(ks, int(mine.sum()), p=np.asarray(ws) / sum(ws))
    free_at = np.zeros(t.units)
    cols = _Columns()
    for c in range(n):
        at = received[c] + delay[c]
        chosen = _pick(free_at, at, int(k_units[c]), rng)
        dispatched = np.maximum(at, free_at[chosen])
        arrive = dispatched + t.travel_s.draw(rng, len(chosen))
        off = rng.uniform(size=len(chosen)) < t.cancelled
        arrive[off] = np.nan
        first = np.nanmin(arrive) if not off.all() else np.nan
        clear = first + tos[c]
        late = ~np.isnan(arrive) & (arrive >= clear)
        arrive[late] = np.nan
        cleared = np.where(np.isnan(arrive), np.minimum(dispatched + rng.uniform(60, 300, len(chosen)),
                                                        np.nan_to_num(clear, nan=np.inf)), clear)
        cleared = np.maximum(cleared, dispatched)
        free_at[chosen] = cleared
        for u, d, a, cl in zip(chosen, dispatched, arrive, cleared, strict=True):
            cols.call.append(c)
            cols.unit.append(int(u))
            cols.disp.append(float(d))
            cols.arr.append(float(a))
            cols.clr.append(float(cl))
    return cols


def _recordings(t: Truth, rng: np.random.Generator, cols: _Columns, emergency: NDArray[np.bool_],
                kind: NDArray[np.int64]) -> dict[str, NDArray[Any]]:
    call = np.asarray(cols.call)
    unit = np.asarray(cols.unit)
    disp, arr, clr = np.asarray(cols.disp), np.asarray(cols.arr), np.asarray(cols.clr)
    n = len(call)
    on = ~np.isnan(arr)
    compliance = np.asarray([tt.compliance for tt in t.call_types.values()])[kind[call]]
    asleep = rng.uniform(size=n) < t.sleep_probability
    lit = on & emergency[call] & t.light_bar & ~asleep
    press_after = t.press_delay_s.draw(rng, n)
    en_route = rng.uniform(size=n) < t.en_route
    press = np.where(en_route, disp + rng.uniform(size=n) * (arr - disp), arr + press_after)
    pressed = on & ~lit & (rng.uniform(size=n) < compliance) & (press < clr)
    end_jitter = rng.uniform(0, 10, n)
    start = np.concatenate([disp[lit] + 2.0, press[pressed]])
    end = np.concatenate([clr[lit], clr[pressed]]) + np.concatenate([end_jitter[lit], end_jitter[pressed]])
    cause = np.concatenate([np.full(int(lit.sum()), 1), np.zeros(int(pressed.sum()), dtype=np.int64)])
    who = np.concatenate([unit[lit], unit[pressed]])
    of_call = np.concatenate([call[lit], call[pressed]])
    extra = _off_call(t, rng, unit, disp, clr)
    return {"start": np.concatenate([start, extra[0]]), "end": np.concatenate([end, extra[1]]),
            "cause": np.concatenate([cause, np.zeros(len(extra[0]), dtype=np.int64)]),
            "unit": np.concatenate([who, extra[2]]), "call": np.concatenate([of_call, np.full(len(extra[0]), -1)])}


def _off_call(t: Truth, rng: np.random.Generator, unit: NDArray[np.int64], disp: NDArray[np.float64],
              clr: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    """Recordings between an officer's calls: in the gap from one clearing (and its recording's end) to the next
    dispatch, each 30-120 s, in slots of their own."""
    if t.off_call_per_gap <= 0:
        return np.empty(0), np.empty(0), np.empty(0, dtype=np.int64)
    order = np.lexsort((disp, unit))
    u, d, c = unit[order], disp[order], clr[order]
    same = u[1:] == u[:-1]
    gap_start, gap_end, who = c[:-1][same] + 60.0, d[1:][same] - 60.0, u[:-1][same]
    ok = gap_end - gap_start > 600.0
    gap_start, gap_end, who = gap_start[ok], gap_end[ok], who[ok]
    k = rng.poisson(t.off_call_per_gap, len(gap_start))
    k = np.minimum(k, ((gap_end - gap_start) // 300).astype(np.int64))
    g = np.repeat(np.arange(len(gap_start)), k)
    slot = np.concatenate([np.arange(m) for m in k]) if len(k) else np.empty(0, dtype=np.int64)
    width = (gap_end - gap_start)[g] / k[g]
    start = gap_start[g] + slot * width + rng.uniform(0, 1, len(g)) * (width - 150.0)
    return start, start + rng.uniform(30, 120, len(g)), who[g]


def _times(base: np.datetime64, seconds: NDArray[np.float64]) -> NDArray[np.str_]:
    ok = np.isfinite(seconds)
    out = np.full(len(seconds), "", dtype=object)
    stamps = base + np.round(seconds[ok]).astype(np.int64).astype("timedelta64[s]")
    out[ok] = np.datetime_as_string(stamps, unit="s")
    return out


def make(t: Truth, cad_path: Path, audit_path: Path) -> Made:
    """Write the CAD and audit exports of the truth `t` (the same seed, the same bytes)."""
    rng = np.random.default_rng(t.seed)
    base = np.datetime64(t.start, "s")
    received = _calls(t, rng)
    types = list(t.call_types.values())
    shares = np.asarray([tt.share for tt in types])
    kind = rng.choice(len(types), len(received), p=shares / shares.sum())
    emergency = rng.uniform(size=len(received)) < np.asarray([tt.emergency for tt in types])[kind]
    routine = rng.choice(["2", "3"], len(received))
    dept = [str(rng.choice(types[k].department_types)) for k in kind]
    cols = _responses(t, rng, received, kind)
    rec = _recordings(t, rng, cols, emergency, kind)
    call_ids = [f"C{c + 1:07d}" for c in range(len(received))]
    recv_text = _times(base, received)
    with cad_path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["call_id", "call_type", "priority", "received", "dispatched", "arrived", "cleared", "unit"])
        disp_t, arr_t, clr_t = (_times(base, np.asarray(x)) for x in (cols.disp, cols.arr, cols.clr))
        for i, c in enumerate(cols.call):
            w.writerow([call_ids[c], dept[c], "1" if emergency[c] else routine[c], recv_text[c], disp_t[i], arr_t[i],
                        clr_t[i], f"U{cols.unit[i] + 101}"])
    order = np.argsort(rec["start"], kind="stable")
    tagged = rng.uniform(size=len(order)) < t.call_id_share
    start_t, end_t = _times(base, rec["start"][order]), _times(base, rec["end"][order])
    with audit_path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["recording_id", "officer", "started", "ended", "trigger", "call_id"])
        for k, i in enumerate(order):
            c = int(rec["call"][i])
            w.writerow([f"R{k + 1:08d}", f"U{int(rec['unit'][i]) + 101}", start_t[k], end_t[k],
                        "light_bar" if rec["cause"][i] == 1 else "manual",
                        call_ids[c] if c >= 0 and tagged[k] else ""])
    return Made(len(cols.call), len(order))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bwclab.records.sample", description=__doc__.split("\n\n")[0])
    p.add_argument("truth", type=Path, help="the truth, YAML (fixtures/records/sample-truth.yaml)")
    p.add_argument("prefix", type=Path, help="writes PREFIX-cad.csv and PREFIX-audit.csv")
    a = p.parse_args(argv)
    try:
        truth = load(Truth, a.truth)
    except ConfigError as err:
        print(err.render(), file=sys.stderr)
        return 2
    made = make(truth, Path(f"{a.prefix}-cad.csv"), Path(f"{a.prefix}-audit.csv"))
    print(f"{made.cad_rows:,} CAD rows, {made.recordings:,} recordings: {a.prefix}-cad.csv, {a.prefix}-audit.csv")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
