"""After a replay: each mapped camera's recording is ended and its clips are read as the buffer check reads
them (every frame's filmed host timecode, the audio per frame). The footage the camera actually kept,
pre-event buffer included, becomes the officer's recordings in the simulation: it, not the model,
decides whether each critical moment was captured."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bwclab.camera.bodycam import Recording
from bwclab.rig.clip import ClipReading, read_clip
from bwclab.rig.dock import take_clip, wait_for_sidecars
from bwclab.rig.interfaces import ConsoleLink, ConsoleRefused
from bwclab.rig.procedures.buffer import SOUND_RMS


@dataclass
class Footage:
    serial: str
    clip_id: str
    path: Path
    reading: ClipReading
    first_ns: int | None  # host ns filmed in the first and last readable frames
    last_ns: int | None
    sound_from_ns: int | None  # the first frame with sound

    def as_json(self, sim_time: Callable[[int], float]) -> dict[str, Any]:
        def t(ns: int | None) -> float | None:
            return None if ns is None else round(sim_time(ns), 4)

        return {"clip": self.clip_id, "file": str(self.path), "playable": self.reading.playable,
                "error": self.reading.error, "hash_ok": self.reading.hash_ok, "frames": len(self.reading.counters),
                "video_from_s": t(self.first_ns), "video_to_s": t(self.last_ns), "audio_from_s": t(self.sound_from_ns)}


def end_recording(con: ConsoleLink | None) -> None:
    """Console STOP; a camera that refuses it was not recording."""
    if con is None:
        return
    with contextlib.suppress(ConsoleRefused):
        con.command("STOP")


def collect(serial: str, dock: Path, before: set[str], out: Path, expect: int,
            timeout_s: float = 30.0) -> list[Footage]:
    """Wait for `expect` new clips (sidecars, written last) in the dock, copy them into `out/clips/SERIAL/` and
    read them."""
    found = []
    for sidecar in wait_for_sidecars(dock, before, expect, timeout_s):
        mp4 = take_clip(serial, sidecar, out / "clips" / serial, sidecar.stem, missing_ok=True)
        reading = read_clip(mp4) if mp4.exists() else ClipReading(playable=False, error=f"{mp4.name}: missing")
        times = np.array([t for c, t in zip(reading.counters, reading.times_ns, strict=True) if c >= 0 and t > 0])
        rms = [r for c, r in zip(reading.counters, reading.audio_rms, strict=False) if c >= 0]
        sound = [int(t) for t, r in zip(times.tolist(), rms, strict=False) if r > SOUND_RMS]
        found.append(Footage(serial, sidecar.stem, mp4, reading, int(times[0]) if len(times) else None,
                             int(times[-1]) if len(times) else None, sound[0] if sound else None))
    return found


def as_recording(f: Footage, activated_s: float, cause: str, source: str,
                 sim_time: Callable[[int], float]) -> Recording:
    """The recording a clip shows, on the simulation's clock."""
    assert f.first_ns is not None and f.last_ns is not None
    video_from = sim_time(f.first_ns)
    audio_from = sim_time(f.sound_from_ns) if f.sound_from_ns is not None else activated_s
    return Recording(activated_at=activated_s, video_from=video_from, audio_from=audio_from,
                     cause=cause, source=source, ended_at=sim_time(f.last_ns))
