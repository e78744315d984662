"""The evidence (audit) export, one row per recording, read as a stream into compact arrays: who recorded,
from when to when, why (a press of the button, or a trigger's recording reason), and for which call when the
export says.

Refused, naming the file, the row and the column: a missing column, an empty file, a time that is not one, a
recording that ends before it starts or lasts more than a day, a recording id given twice, a recording reason
that is neither `manual` nor a trigger kind (nor mapped to one). Counted: a recording with no officer, one
whose call is not in the CAD export."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from bwclab.core.config import quote
from bwclab.records.columns import CAUSES, ColumnMap
from bwclab.records.csvfile import CsvFile, codes, refuse_row
from bwclab.records.problems import OddRows, RecordsError
from bwclab.records.times import BadTime, TimeReader

DAY_S = 86_400.0
NO_CALL, UNKNOWN_CALL = -1, -2


@dataclass
class Audit:
    path: Path
    officer: NDArray[np.int32]  # code in the CAD's units (a new code for an officer the CAD never names); -1 none
    call: NDArray[np.int32]  # the CAD call, NO_CALL when the row names none, UNKNOWN_CALL when the CAD lacks it
    started: NDArray[np.float64]
    ended: NDArray[np.float64]
    cause: NDArray[np.int8]  # index into CAUSES
    row: NDArray[np.int32]  # its row in the export
    has_call_id: bool
    aware: bool | None
    odd: OddRows = field(default_factory=OddRows)

    @property
    def recordings(self) -> int:
        return len(self.started)

    def cause_counts(self) -> dict[str, int]:
        counts = np.bincount(self.cause, minlength=len(CAUSES))
        return {c: int(n) for c, n in zip(CAUSES, counts, strict=True)}


def _cause_reader(columns: ColumnMap) -> dict[str, int]:
    """Recording reason (as the export writes it, lower case and stripped) -> index into CAUSES."""
    table = {c: i for i, c in enumerate(CAUSES)}
    table.update({k: CAUSES.index(v) for k, v in columns.triggers.items()})
    return table


def _times(path: Path, reader: TimeReader, texts: tuple[str, ...], numbers: list[int], column: str,
           what: str) -> NDArray[np.float64]:
    try:
        seconds, _ = reader.column(texts, numbers)
    except BadTime as bad:
        raise refuse_row(path, numbers[bad.index], column, f"{quote(texts[bad.index].strip())}: {bad.why}") from None
    blank = np.isnan(seconds)
    if blank.any():
        raise refuse_row(path, numbers[int(np.argmax(blank))], column, f"empty: expected the time the recording {what}")
    return seconds


def read_audit(path: Path, columns: ColumnMap, units: dict[str, int], call_ids: dict[str, int],
               cad_aware: bool | None, cad_path: Path) -> Audit:
    """Stream the audit export (in chunks, column by column); officers are matched to the CAD's units by name,
    calls by id."""
    spec = columns.audit
    odd = OddRows()
    reader = TimeReader(columns.time_format)
    officers = dict(units)
    parts: dict[str, list[NDArray[Any]]] = {k: [] for k in ("officer", "call", "started", "ended", "cause", "row",
                                                             "hash")}
    with CsvFile(path) as f:
        i_id, i_off = f.column(spec.recording_id, "recording_id"), f.column(spec.officer, "officer")
        i_start, i_end = f.column(spec.started, "started"), f.column(spec.ended, "ended")
        i_trig = f.column(spec.trigger, "trigger")
        call_col = spec.call_id if spec.call_id is not None else ("call_id" if "call_id" in f.header else None)
        i_call = f.column(call_col, "call_id") if call_col is not None else None
        causes = _cause_reader(columns)
        allowed = ", ".join(CAUSES)
        for numbers, cols in f.chunks():
            nums = np.asarray(numbers, dtype=np.int64)
            ids = list(map(str.strip, cols[i_id]))
            if "" in ids:
                k = ids.index("")
                raise refuse_row(path, numbers[k], spec.recording_id, "empty: expected the recording's id")
            start = _times(path, reader, cols[i_start], numbers, spec.started, "started")
            end = _times(path, reader, cols[i_end], numbers, spec.ended, "ended")
            if (bad := end < start).any():
                raise refuse_row(path, numbers[int(np.argmax(bad))], spec.ended, "the recording ends before it starts")
            if (long := end - start > DAY_S).any():
                k = int(np.argmax(long))
                hours = (end[k] - start[k]) / 3600
                raise refuse_row(path, numbers[k], spec.ended, f"a recording of {hours:.1f} h: longer than a day, "
                                 "which no camera records (a date typed wrong?)")
            cause = list(map(causes.get, cols[i_trig]))
            if None in cause:
                cause = [causes.get(r.strip().lower(), -1) for r in cols[i_trig]]
            if -1 in cause:
                k = cause.index(-1)
                raise refuse_row(path, numbers[k], spec.trigger, f"{quote(cols[i_trig][k].strip())}: expected manual "
                                 f"or a trigger kind ({allowed}), or map the export's reasons under triggers: in "
                                 "--columns")
            officer = np.asarray(codes(list(map(str.strip, cols[i_off])), officers), dtype=np.int64)
            odd.add_many("recording with no officer (not joined by officer)", nums[officer < 0])
            if i_call is not None:
                named = list(map(str.strip, cols[i_call]))
                of_call = list(map(call_ids.get, named))
                call = np.asarray([NO_CALL if not n else UNKNOWN_CALL if c is None else c
                                   for n, c in zip(named, of_call, strict=True)], dtype=np.int64)
                odd.add_many("recording of a call not in the CAD export (not joined)", nums[call == UNKNOWN_CALL])
            else:
                call = np.full(len(numbers), NO_CALL, dtype=np.int64)
            parts["officer"].append(officer)
            parts["call"].append(call)
            parts["started"].append(start)
            parts["ended"].append(end)
            parts["cause"].append(np.asarray(cause, dtype=np.int8))
            parts["row"].append(nums)
            parts["hash"].append(np.fromiter(map(hash, ids), dtype=np.int64, count=len(ids)))
        f.empty_check(sum(len(x) for x in parts["row"]))
    if cad_aware is not None and reader.aware is not None and cad_aware != reader.aware:
        raise RecordsError(path, [f"its times {'carry' if reader.aware else 'lack'} a UTC offset and those of "
                                  f"{cad_path} do not: the two exports would be hours apart"])
    got = {k: np.concatenate(v) for k, v in parts.items()}
    _refuse_duplicates(path, spec.recording_id, i_id, got["hash"])
    return Audit(path=path, officer=got["officer"].astype(np.int32), call=got["call"].astype(np.int32),
                 started=got["started"], ended=got["ended"], cause=got["cause"], row=got["row"].astype(np.int32),
                 has_call_id=i_call is not None, aware=reader.aware, odd=odd)


def _refuse_duplicates(path: Path, column: str, index: int, hashes: NDArray[np.int64]) -> None:
    """A recording id given twice is refused, naming both rows. The ids were kept as hashes (two million ids
    as text would take hundreds of MB); rows whose hashes collide are read again to compare the ids."""
    order = np.argsort(hashes, kind="stable")
    same = np.flatnonzero(np.diff(hashes[order]) == 0)
    if len(same) == 0:
        return
    suspect = {int(h) for h in hashes[order[same]]}
    first: dict[str, int] = {}
    with CsvFile(path) as f:
        for numbers, cols in f.chunks():
            for row, cell in zip(numbers, cols[index], strict=True):
                rid = cell.strip()
                if hash(rid) not in suspect:
                    continue
                if rid in first:
                    raise refuse_row(path, row, column, f"{quote(rid)}: the same recording id as row {first[rid]}")
                first[rid] = row
