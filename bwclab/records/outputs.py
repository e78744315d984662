"""The folder a calibration or a backtest writes: refused when it is a file, or holds a previous run's files
(unless --overwrite); each file written whole or not at all (a temporary file, synced, then renamed)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bwclab.core.outfolder import atomic_write

CALIBRATION_FILES = ("calibrated.yaml", "calibration.json", "calibration.html")
BACKTEST_FILES = ("backtest.json", "backtest.html", "backtest_reps.csv")


def clear(out: Path, files: tuple[str, ...]) -> None:
    """Empty the folder of a previous run's files, so that none survives beside the new ones."""
    for f in files:
        (out / f).unlink(missing_ok=True)


def write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, text)


def write_json(path: Path, data: Any) -> None:
    write_text(path, json.dumps(data, indent=2, allow_nan=False) + "\n")
