"""One CSV export read as a stream of chunks of rows: a regular UTF-8 file (a byte-order mark allowed), every
row as wide as its header. Anything else is refused naming the file and the row (and the line it ends on).

Rows are numbered from 1 after the header, as a spreadsheet shows them less one; the line is found again
only when a row is refused (a quoted cell may hold line breaks, so the two can differ)."""

from __future__ import annotations

import csv
import io
import os
import stat
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from types import TracebackType
from typing import Any

from bwclab.core.config import quote
from bwclab.records.problems import RecordsError, refuse

Column = tuple[str, ...]


def open_regular(path: Path) -> io.BufferedReader:
    """A regular file opened for reading; a folder, a named pipe or a device is refused unopened (a FIFO would
    block, /dev/zero never ends)."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise RecordsError(path, ["is not a regular file, expected a CSV export"])
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise RecordsError(path, ["file not found"]) from None
    except OSError as exc:
        raise RecordsError(path, [f"cannot be read: {exc.strerror or exc}"]) from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise RecordsError(path, ["is not a regular file, expected a CSV export"])
    return io.BufferedReader(io.FileIO(fd, "rb", closefd=True), buffer_size=1 << 20)


def _not_utf8(path: Path) -> RecordsError:
    """The refusal of a file that is not UTF-8, naming the first line that is not."""
    with open_regular(path) as fh:
        for number, raw in enumerate(fh, 1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                return RecordsError(path, [f"line {number}: not UTF-8 text ({exc.reason} at byte {exc.start + 1} of "
                                           "the line); save the export as UTF-8"])
    return RecordsError(path, ["not UTF-8 text; save the export as UTF-8"])


def line_of(path: Path, row: int) -> int | None:
    """The line that row `row` ends on (read again: only when a row is refused)."""
    try:
        with open_regular(path) as fh:
            reader = csv.reader(io.TextIOWrapper(fh, encoding="utf-8-sig", newline=""), strict=True)
            for n, _ in enumerate(reader):
                if n == row:
                    return int(reader.line_num)
    except (csv.Error, UnicodeDecodeError, RecordsError):
        return None
    return None


def refuse_row(path: Path, row: int, column: str | None, why: str) -> RecordsError:
    return refuse(path, row, line_of(path, row), column, why)


def codes(names: list[str], table: dict[str, int]) -> list[int]:
    """Each name's code in `table`, new names given the next codes ("" is -1: none)."""
    found = list(map(table.get, names))
    if None in found:
        for k, (name, code) in enumerate(zip(names, found, strict=True)):
            if code is None:
                found[k] = table.setdefault(name, len(table)) if name else -1
    return found  # type: ignore[return-value]


class CsvFile:
    """`with CsvFile(path) as f:` the header in `f.header`, the rows from `f.chunks()`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.header: list[str] = []
        self.rows = 0
        self._fh: io.BufferedReader | None = None
        self._csv: Any = None  # csv.reader

    def __enter__(self) -> CsvFile:
        self._fh = open_regular(self.path)
        text = io.TextIOWrapper(self._fh, encoding="utf-8-sig", newline="")
        self._csv = csv.reader(text, strict=True)
        header = self._take(1)
        if not header or not any(h.strip() for h in header[0]):
            raise RecordsError(self.path, ["the file is empty: expected a header row, then a row per record"])
        self.header = [h.strip() for h in header[0]]
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._fh is not None:
            self._fh.close()

    def _take(self, n: int) -> list[list[str]]:
        try:
            return list(islice(self._csv, n))
        except csv.Error as exc:
            raise RecordsError(self.path, [f"line {self._csv.line_num}: not a well-formed CSV row ({exc})"]) from None
        except UnicodeDecodeError:
            raise _not_utf8(self.path) from None

    def column(self, name: str, field: str) -> int:
        """Where column `name` is (holding our `field`); refused when the header lacks it, or has it twice."""
        found = [i for i, h in enumerate(self.header) if h == name]
        if len(found) > 1:
            raise RecordsError(self.path, [f"column {quote(name)} ({field}) appears {len(found)} times in the header"])
        if not found:
            shown = ", ".join(quote(h) for h in self.header[:30]) + (", ..." if len(self.header) > 30 else "")
            raise RecordsError(self.path, [f"missing column {quote(name)} ({field}); the header has {shown}. "
                                           "Name the department's columns with --columns MAP.yaml"])
        return found[0]

    def chunks(self, size: int = 50_000) -> Iterator[tuple[list[int], list[Column]]]:
        """The rows in chunks: (row numbers, the chunk's columns), so that a chunk is checked and converted column
        by column (numpy) rather than cell by cell. Blank rows are skipped; a row of another width is refused."""
        width = len(self.header)
        while rows := self._take(size):
            first = self.rows + 1
            self.rows += len(rows)
            numbers = list(range(first, first + len(rows)))
            if set(map(len, rows)) != {width}:
                keep = [k for k, r in enumerate(rows) if len(r) == width or any(c.strip() for c in r)]
                for k in keep:
                    if len(rows[k]) != width:
                        raise refuse_row(self.path, numbers[k], None,
                                         f"the row has {len(rows[k])} fields, the header {width}")
                rows = [rows[k] for k in keep]
                numbers = [numbers[k] for k in keep]
                if not rows:
                    continue
            yield numbers, list(zip(*rows, strict=True))

    def empty_check(self, rows: int) -> None:
        if rows == 0:
            raise RecordsError(self.path, ["the file holds a header and no rows: expected a row per record"])
