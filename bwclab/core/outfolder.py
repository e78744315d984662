"""An output folder: refuse a file where a folder is expected, and a folder a previous run wrote."""

from __future__ import annotations

from pathlib import Path

from bwclab.core.config import ConfigError


def refuse_previous(out: Path, overwrite: bool, files: tuple[str, ...], what: str) -> None:
    """Refuse `out` when it is a file, or when it holds any of `files` (a previous `what`) and not `overwrite`.
    Nothing is removed here: a previous run's files go only when the new ones are ready to be written."""
    if out.exists() and not out.is_dir():
        raise ConfigError(out, ["--out names a file; a folder is expected"])
    previous = [f for f in files if (out / f).exists()]
    if previous and not overwrite:
        shown = ", ".join(previous[:3]) + (", ..." if len(previous) > 3 else "")
        raise ConfigError(out, [f"already holds {shown} (a previous {what}): choose a new --out, or pass --overwrite"])
