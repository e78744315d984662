"""A camera's dock: where its clips appear, each an MP4 and a JSON sidecar written last. Waiting for new clips
and copying one into a run folder, with the clip's name checked before it becomes a path.

A camera writes a clip after its recording ended, in its own time (docs/protocols/camera-console.md, 'Clips
in the dock'): a clip the camera named (STOP's `clip=<id>`) may land after the next trigger fired. The ledger
keeps those names, so that such a clip is never taken for the one a later trigger made."""

from __future__ import annotations

import contextlib
import re
import shutil
import time
from pathlib import Path

from bwclab.rig.interfaces import CameraError

CLIP_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class ClipLedger:
    """The clips each camera named that have not been taken from its dock yet."""

    def __init__(self) -> None:
        self._named: dict[str, set[str]] = {}

    def named(self, serial_no: str, clip_id: str) -> None:
        self._named.setdefault(serial_no, set()).add(clip_id)

    def taken(self, serial_no: str, clip_id: str) -> None:
        self._named.get(serial_no, set()).discard(clip_id)

    def sidecars(self, serial_no: str) -> set[str]:
        """The sidecar names those clips have or will have in the dock."""
        return {f"{c}.json" for c in self._named.get(serial_no, set())}


def new_sidecars(dock: Path, before: set[str]) -> list[Path]:
    """The sidecars that appeared since `before` (names), in name order."""
    return sorted(dock / n for n in {p.name for p in dock.glob("*.json")} - before)


def wait_for_sidecars(dock: Path, before: set[str], expect: int, timeout_s: float) -> list[Path]:
    """Wait until at least `expect` new sidecars are in the dock, or `timeout_s`; returns what came."""
    deadline = time.monotonic() + timeout_s
    found = new_sidecars(dock, before)
    while len(found) < expect and time.monotonic() < deadline:
        time.sleep(0.1)
        found = new_sidecars(dock, before)
    return found


def take_clip(serial_no: str, sidecar: Path, target: Path, name: str, missing_ok: bool = False) -> Path:
    """Copy a clip (its MP4, then its sidecar) into `target` as `name`; returns the copy's MP4 path. A clip
    name that is not a plain name is refused. `missing_ok`: an MP4 the camera never wrote is no error here
    (whoever reads the copy finds it missing)."""
    if not CLIP_ID.match(sidecar.stem):
        raise CameraError(f"camera {serial_no}: clip name {sidecar.stem[:80]!r} is not a plain name; refused",
                          device=serial_no)
    target.mkdir(parents=True, exist_ok=True)
    mp4 = target / f"{name}.mp4"
    try:
        if missing_ok:
            with contextlib.suppress(FileNotFoundError):
                shutil.copy2(sidecar.with_suffix(".mp4"), mp4)
        else:
            shutil.copy2(sidecar.with_suffix(".mp4"), mp4)
        shutil.copy2(sidecar, target / f"{name}.json")
    except FileNotFoundError as exc:  # the camera's dock lost a file it had said was complete
        raise CameraError(f"camera {serial_no}: clip {sidecar.stem}: {exc.filename} is gone from its dock",
                          device=serial_no) from None
    return mp4
