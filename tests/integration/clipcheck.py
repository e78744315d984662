"""Decode a clip from the dock: QR timecodes per frame, the audio envelope, the hash."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np
import zxingcpp

QR_ONLY = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
QR = re.compile(r"^BWC t=(\d+) n=(\d+)$")


@dataclass
class Clip:
    frames: list[tuple[int, int]]  # (counter, host ns) per decoded frame; (-1, -1) if unreadable
    audio: np.ndarray
    sample_rate: int
    sidecar: dict[str, Any]
    sha256: str


def decode(mp4: Path) -> Clip:
    frames = []
    with av.open(str(mp4)) as c:
        for f in c.decode(video=0):
            found = zxingcpp.read_barcodes(f.to_ndarray(format="gray"), formats=QR_ONLY)
            m = QR.match(found[0].text) if found else None
            frames.append((int(m[2]), int(m[1])) if m else (-1, -1))
    with av.open(str(mp4)) as c:
        stream = c.streams.audio[0]
        rate = stream.rate
        chunks = [f.to_ndarray().reshape(-1) for f in c.decode(audio=0)]
    audio = np.concatenate(chunks) if chunks else np.zeros(0)
    sidecar = json.loads(mp4.with_suffix(".json").read_text())
    return Clip(frames, audio, rate, sidecar, hashlib.sha256(mp4.read_bytes()).hexdigest())


def rms_per_frame(clip: Clip, fps: float) -> np.ndarray:
    per = clip.sample_rate / fps
    n = len(clip.frames)
    return np.array([np.sqrt(np.mean(clip.audio[int(i * per):int((i + 1) * per)] ** 2) if int(i * per) < len(clip.audio)
                             else 0.0) for i in range(n)])
