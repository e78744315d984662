"""A record's times: ISO 8601 (with or without a UTC offset) or the export's own strptime formats, as seconds
on one line and the hour of the clock they were written in.

A time with an offset is placed on the line by its offset; one without is taken as written (the department's
wall clock). A file that mixes the two would put some rows hours off the others, so it is refused.

A column of times is read by numpy at once when its times are plain ISO 8601 without an offset (a million
rows in a fraction of a second), else one by one; either way a time that is not one is named by its row."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np
from numpy.typing import NDArray

NAIVE_EPOCH = datetime(1970, 1, 1)
ISO = "iso"  # in a list of formats: ISO 8601
SHORTEST = len("2026-03-02")  # numpy takes "2026-03" as a time; ISO 8601 and we do not


class BadTime(ValueError):
    """A cell of a time column that is not a time: its place in the column, and why."""

    def __init__(self, index: int, why: str) -> None:
        super().__init__(why)
        self.index, self.why = index, why


class TimeReader:
    """Parses one export's times; remembers whether they carry an offset, and refuses a change of mind."""

    def __init__(self, formats: list[str] | None = None) -> None:
        self.formats = formats
        self.aware: bool | None = None
        self.first_row = 0

    def _datetime(self, text: str) -> datetime:
        if self.formats is None:
            return datetime.fromisoformat(text)
        for fmt in self.formats:
            try:
                return datetime.fromisoformat(text) if fmt == ISO else datetime.strptime(text, fmt)
            except ValueError:
                continue
        raise ValueError(text)

    def parse(self, text: str, row: int) -> tuple[float, int]:
        """(seconds, clock hour); ValueError with the reason when the text is not a time of this export."""
        try:
            dt = self._datetime(text.strip())
        except ValueError:
            wanted = "an ISO 8601 time such as 2026-03-02T14:05:00 or 2026-03-02 14:05:00-05:00" \
                if self.formats is None else "a time in the format " + " or ".join(
                    "ISO 8601" if f == ISO else f for f in self.formats)
            raise ValueError(f"expected {wanted}") from None
        aware = dt.tzinfo is not None
        if self.aware is None:
            self.aware, self.first_row = aware, row
        elif aware != self.aware:
            raise ValueError(f"a time {'with' if aware else 'without'} a UTC offset, where row {self.first_row} "
                             f"had {'one' if self.aware else 'none'}: a file must not mix the two")
        if aware:
            return dt.timestamp(), dt.hour
        return (dt - NAIVE_EPOCH).total_seconds(), dt.hour

    def _at_once(self, texts: Sequence[str], rows: Sequence[int]) -> tuple[NDArray[np.float64], NDArray[np.int64]] \
            | None:
        """The column by numpy, or None when it is not all plain ISO 8601 without an offset (or blanks)."""
        if (self.formats is not None and ISO not in self.formats) or self.aware:
            return None
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # numpy warns where it would drop an offset
            try:
                ms = np.array(texts, dtype="datetime64[ms]")
            except (ValueError, OverflowError, Warning):
                return None
        nat = np.isnat(ms)
        if any(texts[int(i)].strip() for i in np.flatnonzero(nat)):  # "NaT" is no time
            return None
        values = ms.astype(np.int64)
        midnight = np.flatnonzero((values % 86_400_000 == 0) & ~nat)  # where "2026-03" would land
        if any(len(texts[int(i)].strip()) < SHORTEST for i in midnight):
            return None
        seconds = values / 1000.0
        seconds[nat] = np.nan
        hours = (values // 3_600_000) % 24
        hours[nat] = -1
        if self.aware is None and not nat.all():
            self.aware, self.first_row = False, rows[int(np.argmin(nat))]
        return seconds, hours

    def column(self, texts: Sequence[str], rows: Sequence[int]) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
        """A column of times: seconds (nan where blank) and clock hours (-1 where blank); BadTime at the first
        cell that is not a time."""
        fast = self._at_once(texts, rows)
        if fast is not None:
            return fast
        seconds = np.full(len(texts), np.nan)
        hours = np.full(len(texts), -1, dtype=np.int64)
        for i, (text, row) in enumerate(zip(texts, rows, strict=True)):
            if not text.strip():
                continue
            try:
                seconds[i], hours[i] = self.parse(text, row)
            except ValueError as exc:
                raise BadTime(i, str(exc)) from None
        return seconds, hours


def iso(seconds: float, aware: bool | None = False) -> str:
    """A time on the line, written back (UTC when the export's times carried offsets)."""
    dt = datetime.fromtimestamp(seconds, UTC)
    return dt.isoformat(timespec="seconds") if aware else dt.replace(tzinfo=None).isoformat(timespec="seconds")
