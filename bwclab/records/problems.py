"""What is wrong with a records file: a refusal naming the file, the row and the column, or an odd row counted
and reported (a response with no arrival is a cancelled call, not an error)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from bwclab.core.config import ConfigError, quote

EXAMPLES = 5  # lines kept per kind of odd row, for the report


class RecordsError(ConfigError):
    """A records file (or its column or type map) that cannot be read as what it claims to be: exit 2."""


def refuse(path: Path | str, row: int | None, line: int | None, column: str | None, why: str) -> RecordsError:
    """The refusal of one cell (or one row, or the whole file when `row` is None)."""
    where = [] if row is None else [f"row {row}" + ("" if line is None else f" (line {line})")]
    if column is not None:
        where.append(f"column {quote(column)}")
    return RecordsError(path, [(", ".join(where) + ": " if where else "") + why])


@dataclass
class OddRows:
    """Rows that are merely odd, by kind: how many, and the first few of each (row numbers)."""

    counts: Counter[str] = field(default_factory=Counter)
    lines: dict[str, list[int]] = field(default_factory=dict)

    def add(self, kind: str, line: int) -> None:
        self.counts[kind] += 1
        kept = self.lines.setdefault(kind, [])
        if len(kept) < EXAMPLES:
            kept.append(line)

    def add_many(self, kind: str, rows: Sequence[int] | NDArray[np.integer[Any]]) -> None:
        if len(rows) == 0:
            return
        self.counts[kind] += len(rows)
        kept = self.lines.setdefault(kind, [])
        kept.extend(int(x) for x in rows[: max(0, EXAMPLES - len(kept))])

    def as_dict(self) -> dict[str, dict[str, object]]:
        return {k: {"rows": n, "first_rows": self.lines.get(k, [])} for k, n in sorted(self.counts.items())}
