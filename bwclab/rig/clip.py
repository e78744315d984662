"""Read a clip from a camera's dock: the timecode each frame films, the audio level per frame,
the file's hash against its sidecar (format: docs/protocols/camera-console.md, 'Clips in the dock')."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import numpy as np
import zxingcpp

TIMECODE = re.compile(r"^BWC t=(?P<t>\d+) n=(?P<n>\d+)$")


@dataclass
class ClipReading:
    playable: bool
    error: str = ""
    counters: list[int] = field(default_factory=list)  # -1 where the QR could not be read
    times_ns: list[int] = field(default_factory=list)  # host CLOCK_MONOTONIC filmed in each frame
    audio_rms: list[float] = field(default_factory=list)  # per video frame, full scale 1.0
    sha256: str = ""
    sidecar: dict[str, Any] = field(default_factory=dict)

    @property
    def hash_ok(self) -> bool:
        return bool(self.sha256) and self.sha256 == self.sidecar.get("sha256")


def read_clip(mp4: Path) -> ClipReading:
    sidecar_path = mp4.with_suffix(".json")
    sidecar: dict[str, Any] = {}
    if sidecar_path.exists():
        sidecar = json.loads(sidecar_path.read_text(encoding="utf-8"))
    data = mp4.read_bytes()
    reading = ClipReading(playable=False, sha256=hashlib.sha256(data).hexdigest(), sidecar=sidecar)
    try:
        with av.open(str(mp4)) as container:
            fps = float(container.streams.video[0].average_rate or sidecar.get("fps") or 10)
            # no zxing object outlives the call: one kept in a module global is reported by nanobind as leaked
            # ("nanobind: leaked 1 instances!") on the terminal when the interpreter exits
            qr = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
            for frame in container.decode(video=0):
                found = zxingcpp.read_barcodes(frame.to_ndarray(format="gray"), formats=qr)
                m = TIMECODE.match(found[0].text) if found else None
                reading.counters.append(int(m["n"]) if m else -1)
                reading.times_ns.append(int(m["t"]) if m else -1)
        with av.open(str(mp4)) as container:
            rate = container.streams.audio[0].rate
            pcm = [f.to_ndarray().reshape(-1) for f in container.decode(audio=0)]
    except (av.error.FFmpegError, IndexError, ValueError) as exc:
        reading.error = f"{mp4.name}: not playable ({exc})"
        return reading
    samples = np.concatenate(pcm).astype(float) if pcm else np.zeros(0)
    per_frame = rate / fps
    for i in range(len(reading.counters)):
        chunk = samples[int(i * per_frame): int((i + 1) * per_frame)]
        reading.audio_rms.append(float(np.sqrt(np.mean(chunk**2))) if len(chunk) else 0.0)
    reading.playable = len(reading.counters) > 0
    if not reading.playable:
        reading.error = f"{mp4.name}: no video frames"
    return reading
