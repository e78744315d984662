"""The CAD (dispatch) export, one row per unit response, read as a stream (in chunks, column by column) into
compact arrays: per call its type (the scenario's), priority and receipt; per response its unit and its
dispatch, arrival and clearing.

Refused, naming the file, the row and the column: a missing column, an empty file, a time that is not one,
an unknown call type with no mapping, a dispatch or an arrival before the call was received, a clearing before
the arrival. Counted and reported, not fatal: a response with no arrival (cancelled), an arrival with no
clearing, an arrival before the dispatch (an officer who was there), a response with no unit, a unit listed
twice on one call."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from bwclab.core.config import quote
from bwclab.records.calltypes import TypeMap
from bwclab.records.columns import TIME_ORDER, ColumnMap, Offset
from bwclab.records.csvfile import CsvFile, codes, refuse_row
from bwclab.records.problems import OddRows, RecordsError
from bwclab.records.times import BadTime, TimeReader

Column = tuple[str, ...]


@dataclass
class Cad:
    path: Path
    types: list[str]  # the scenario's call types: call_type holds indices into it
    priorities: list[str]  # the priorities seen: priority holds indices into it
    emergency_priorities: NDArray[np.bool_]  # by priority index
    call_ids: dict[str, int]
    department_types: dict[str, str]  # each department type seen -> the scenario's
    call_type: NDArray[np.int32]
    priority: NDArray[np.int32]
    received: NDArray[np.float64]
    hour: NDArray[np.int8]
    units: dict[str, int]
    call: NDArray[np.int32]  # per response: its call
    unit: NDArray[np.int32]  # per response: its unit, -1 when unknown
    dispatched: NDArray[np.float64]
    arrived: NDArray[np.float64]
    cleared: NDArray[np.float64]
    row: NDArray[np.int32]  # its row in the export
    mapped: frozenset[str]  # the fields the export has (dispatched, arrived, cleared, unit, priority)
    aware: bool | None
    odd: OddRows = field(default_factory=OddRows)

    @property
    def calls(self) -> int:
        return len(self.received)

    @property
    def responses(self) -> int:
        return len(self.call)

    @property
    def start(self) -> float:
        return float(self.received.min())

    @property
    def end(self) -> float:
        return float(self.received.max())

    def period_hours(self) -> tuple[int, int]:
        """(clock hour the period starts in, whole hours it spans): from the first call's hour to the end of the
        last call's."""
        first = int(np.argmin(self.received))
        start = self.start - self.start % 3600
        return int(self.hour[first]), int((self.end - start) // 3600) + 1

    def exposure_by_hour(self) -> NDArray[np.float64]:
        """Hours observed of each clock hour over the period."""
        start_hour, hours = self.period_hours()
        return np.bincount((start_hour + np.arange(hours)) % 24, minlength=24).astype(float)


def _minutes(texts: Column) -> NDArray[np.float64]:
    """A column of minutes (blank: nan); BadTime at the first cell that is not a finite number."""
    cleaned = [t.strip() or "nan" for t in texts]
    try:
        values = np.array(cleaned, dtype=float)
    except ValueError:
        values = np.full(len(cleaned), np.nan)
        for i, t in enumerate(cleaned):
            try:
                values[i] = float(t)
            except ValueError:
                raise BadTime(i, "expected a number of minutes") from None
    bad = ~np.isfinite(values) & np.array([bool(t.strip()) for t in texts])
    if bad.any():
        raise BadTime(int(np.argmax(bad)), "expected a finite number of minutes")
    return values


class _Times:
    """A chunk's time fields: each read from a column holding a time, or as minutes after an earlier field."""

    def __init__(self, f: CsvFile, columns: ColumnMap, reader: TimeReader) -> None:
        self.path, self.reader = f.path, reader
        self.specs: list[tuple[str, str, int, str | None]] = []  # (field, column, index, minutes after)
        for name in TIME_ORDER:
            spec = getattr(columns.cad, name)
            if spec is None:
                continue
            column = spec.column if isinstance(spec, Offset) else spec
            after = spec.minutes_after if isinstance(spec, Offset) else None
            self.specs.append((name, column, f.column(column, name), after))
        self.columns = {name: column for name, column, _, _ in self.specs}

    def read(self, cols: list[Column], numbers: list[int]) -> tuple[dict[str, NDArray[np.float64]], NDArray[np.int64]]:
        """The chunk's times (nan where blank), and the clock hour each call was received in."""
        got: dict[str, NDArray[np.float64]] = {}
        hour = np.empty(0, dtype=np.int64)
        for name, column, index, after in self.specs:
            texts = cols[index]
            try:
                if after is None:
                    got[name], h = self.reader.column(texts, numbers)
                    if name == "received":
                        hour = h
                else:
                    got[name] = got[after] + _minutes(texts) * 60.0
            except BadTime as bad:
                text = quote(texts[bad.index].strip())
                raise refuse_row(self.path, numbers[bad.index], column, f"{text}: {bad.why}") from None
        n = len(numbers)
        for name in TIME_ORDER:
            got.setdefault(name, np.full(n, np.nan))
        return got, hour


def _first(path: Path, numbers: NDArray[np.int64], bad: NDArray[np.bool_], column: str, why: str) -> None:
    if bad.any():
        raise refuse_row(path, int(numbers[np.argmax(bad)]), column, why)


def _check_order(path: Path, numbers: NDArray[np.int64], columns: ColumnMap, times: _Times,
                 t: dict[str, NDArray[np.float64]], odd: OddRows) -> None:
    received, dispatched, arrived, cleared = (t[n] for n in TIME_ORDER)
    name = times.columns
    _first(path, numbers, np.isnan(received), name["received"], "empty: expected the time the call was received")
    with np.errstate(invalid="ignore"):
        if "dispatched" in name:
            _first(path, numbers, dispatched < received, name["dispatched"], "dispatched before the call was received")
        if "arrived" in name:
            _first(path, numbers, arrived < received, name["arrived"], "arrival before the call was received")
        if "cleared" in name:
            _first(path, numbers, cleared < arrived, name["cleared"], "cleared before the arrival")
            _first(path, numbers, cleared < received, name["cleared"], "cleared before the call was received")
        if "arrived" in name:
            odd.add_many("response with no arrival (cancelled)", numbers[np.isnan(arrived)])
        if "cleared" in name and "arrived" in name:
            odd.add_many("arrival with no clearing time", numbers[~np.isnan(arrived) & np.isnan(cleared)])
        odd.add_many("arrival before the dispatch (travel not fitted)", numbers[arrived < dispatched])
        if "dispatched" in name:
            odd.add_many("response with no dispatch time", numbers[np.isnan(dispatched)])


def _twice(call: NDArray[np.int32], unit: NDArray[np.int32], numbers: NDArray[np.int32], odd: OddRows) -> None:
    """A unit listed twice on one call (sent twice): counted; the join takes its first response."""
    known = unit >= 0
    key = call[known].astype(np.int64) * (int(unit.max(initial=0)) + 1) + unit[known]
    order = np.argsort(key, kind="stable")
    again = np.flatnonzero(np.diff(key[order]) == 0) + 1
    where = np.sort(np.flatnonzero(known)[order[again]])
    odd.add_many("unit listed twice on one call", numbers[where])


class _Calls:
    """The calls met so far, each with what its first row said."""

    def __init__(self, path: Path, columns: ColumnMap, types: TypeMap) -> None:
        self.path, self.columns, self.types = path, columns, types
        self.ids: dict[str, int] = {}
        self.dept_types: dict[str, str] = {}
        self.kind_of: dict[str, int] = {}  # a department's type, as written, -> the scenario type's index
        self.priorities: dict[str, int] = {}
        self.type_index = {t: i for i, t in enumerate(types.scenario_types)}
        self.kind: list[NDArray[np.int64]] = []
        self.prio: list[NDArray[np.int64]] = []
        self.hour: list[NDArray[np.int64]] = []
        self.received = np.empty(0)

    def _kinds(self, raw: list[str], numbers: list[int]) -> list[int]:
        kinds = list(map(self.kind_of.get, raw))
        for k, (text, kind) in enumerate(zip(raw, kinds, strict=True)):
            if kind is None:
                dept = text.strip()
                scen = self.dept_types.get(dept) or self.types.scenario_type(dept)
                if scen is None:
                    raise refuse_row(self.path, numbers[k], self.columns.cad.call_type,
                                     f"{quote(dept)}: {self.types.hint()}")
                self.dept_types[dept] = scen
                kinds[k] = self.kind_of[text] = self.type_index[scen]
        return kinds  # type: ignore[return-value]

    def add(self, ids: list[str], cols: list[Column], i_type: int, i_prio: int | None, numbers: list[int],
            received: NDArray[np.float64], hour: NDArray[np.int64], odd: OddRows) -> NDArray[np.int64]:
        """Each row's call index; a call met for the first time takes its type, priority and receipt from it."""
        found = list(map(self.ids.get, ids))
        known = len(self.received)
        new: list[int] = []
        for k in [k for k, c in enumerate(found) if c is None]:
            ci = self.ids.get(ids[k])
            if ci is None:
                ci = self.ids[ids[k]] = known + len(new)
                new.append(k)
            found[k] = ci
        out = np.asarray(found, dtype=np.int64)
        new_rows = [numbers[k] for k in new]
        self.kind.append(np.asarray(self._kinds([cols[i_type][k] for k in new], new_rows), dtype=np.int64))
        if i_prio is not None:
            prios = [cols[i_prio][k].strip() for k in new]
            odd.add_many("call with no priority (taken as routine)", [r for r, p in zip(new_rows, prios, strict=True)
                                                                       if not p])
        else:
            prios = [""] * len(new)
        self.prio.append(np.asarray(codes(prios, self.priorities), dtype=np.int64))
        self.received = np.concatenate([self.received, received[new]])
        self.hour.append(hour[new])
        odd.add_many("received time differs between a call's rows (the first is used)",
                     np.asarray(numbers)[self.received[out] != received])
        return out


def read_cad(path: Path, columns: ColumnMap, types: TypeMap) -> Cad:
    """Stream the CAD export; see the module's docstring for what is refused and what is counted."""
    odd = OddRows()
    reader = TimeReader(columns.time_format)
    cad = columns.cad
    calls = _Calls(path, columns, types)
    units: dict[str, int] = {}
    parts: dict[str, list[NDArray[np.float64] | NDArray[np.int64]]] = {
        k: [] for k in ("call", "unit", "dispatched", "arrived", "cleared", "row")}
    with CsvFile(path) as f:
        i_id, i_type = f.column(cad.call_id, "call_id"), f.column(cad.call_type, "call_type")
        i_prio = f.column(cad.priority, "priority") if cad.priority is not None else None
        i_unit = f.column(cad.unit, "unit") if cad.unit is not None else None
        times = _Times(f, columns, reader)
        for numbers, cols in f.chunks():
            nums = np.asarray(numbers, dtype=np.int64)
            ids = list(map(str.strip, cols[i_id]))
            if "" in ids:
                raise refuse_row(path, numbers[ids.index("")], cad.call_id, "empty: expected the call's id")
            t, hour = times.read(cols, numbers)
            _check_order(path, nums, columns, times, t, odd)
            parts["call"].append(calls.add(ids, cols, i_type, i_prio, numbers, t["received"], hour, odd))
            unit: NDArray[np.int64]
            if i_unit is not None:
                unit = np.asarray(codes(list(map(str.strip, cols[i_unit])), units), dtype=np.int64)
                odd.add_many("response with no unit (not joined to recordings by officer)", nums[unit < 0])
            else:
                unit = np.full(len(numbers), -1, dtype=np.int64)
            parts["unit"].append(unit)
            for name in ("dispatched", "arrived", "cleared"):
                parts[name].append(t[name])
            parts["row"].append(nums)
        f.empty_check(sum(len(x) for x in parts["row"]))
    joined = {k: np.concatenate(v) for k, v in parts.items()}
    call, unit32, row = (joined[k].astype(np.int32) for k in ("call", "unit", "row"))
    _twice(call, unit32, row, odd)
    prio_names = list(calls.priorities)
    if len(calls.received) > 2**31 - 1:
        raise RecordsError(path, ["more calls than this tool counts (2**31)"])
    return Cad(
        path=path, types=list(types.scenario_types), priorities=prio_names,
        emergency_priorities=np.array([columns.is_emergency(p) for p in prio_names], dtype=bool),
        call_ids=calls.ids, department_types=calls.dept_types,
        call_type=np.concatenate(calls.kind).astype(np.int32), priority=np.concatenate(calls.prio).astype(np.int32),
        received=calls.received, hour=np.concatenate(calls.hour).astype(np.int8),
        units=units, call=call, unit=unit32, dispatched=joined["dispatched"].astype(np.float64),
        arrived=joined["arrived"].astype(np.float64), cleared=joined["cleared"].astype(np.float64), row=row,
        mapped=frozenset(n for n in ("dispatched", "arrived", "cleared", "unit", "priority")
                         if getattr(cad, n) is not None),
        aware=reader.aware, odd=odd)
