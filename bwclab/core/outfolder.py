"""An output folder: refuse a file where a folder is expected, and a folder a previous run wrote; write each file
whole or not at all."""

from __future__ import annotations

import os
import secrets
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


def atomic_write(path: Path, text: str) -> None:
    """Write through a temporary file beside `path`, fsynced, then renamed over it. The file is created with the
    user's umask, as open() would (mkstemp's is 0600: others on the lab machine could not read the results)."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
