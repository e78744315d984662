"""The ground-truth log: one JSON line per real event, stamped with host CLOCK_MONOTONIC ns."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bwclab.emulator.loop import now_ns


class TruthLog:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._f = path.open("a", encoding="utf-8", buffering=1)

    def log(self, event: str, t_ns: int | None = None, /, **fields: Any) -> int:
        t = now_ns() if t_ns is None else t_ns
        self._f.write(json.dumps({"t_ns": t, "event": event, **fields}, separators=(",", ":")) + "\n")
        return t

    def close(self) -> None:
        self._f.flush()
        self._f.close()
