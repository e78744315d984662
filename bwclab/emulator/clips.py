"""Clip files: H.264 video whose every frame shows a QR of its capture time, an AAC audio track.

Rendering runs in a worker process so that encoding never delays the bench's timing.
The file is written beside its final name and renamed; the JSON sidecar comes last.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

SAMPLE_RATE = 16_000
TONE_HZ = 1000.0  # after activation
AMBIENT_HZ = 440.0  # pre-event audio, when audio is in the buffer


@dataclass(frozen=True)
class ClipJob:
    path: str
    clip_id: str
    fps: float
    frame_px: int
    frames: list[tuple[int, int]]  # (frame counter, capture time in host ns), in file order
    activated_ns: int
    audio_from_ns: int
    corrupt: bool
    sidecar: dict[str, Any] = field(default_factory=dict)


def qr_image(text: str, size: int) -> np.ndarray[Any, np.dtype[np.uint8]]:
    import zxingcpp

    code = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    q = np.asarray(code.to_image(scale=1, add_quiet_zones=True), dtype=np.uint8)
    scale = max(1, size // q.shape[0])
    q = np.kron(q, np.ones((scale, scale), dtype=np.uint8))
    img = np.full((size, size), 255, dtype=np.uint8)
    off = (size - q.shape[0]) // 2
    img[off:off + q.shape[0], off:off + q.shape[1]] = q
    return img


def timecode(counter: int, t_ns: int) -> str:
    return f"BWC t={t_ns} n={counter}"


def audio_track(job: ClipJob, n_frames: int) -> np.ndarray[Any, np.dtype[np.float32]]:
    per = SAMPLE_RATE / job.fps
    out = np.zeros(round(n_frames * per), dtype=np.float32)
    for i, (_, t_ns) in enumerate(job.frames):
        a, b = round(i * per), round((i + 1) * per)
        idx = np.arange(a, b)
        if t_ns >= job.activated_ns:
            out[a:b] = 0.5 * np.sin(2 * np.pi * TONE_HZ * idx / SAMPLE_RATE)
        elif t_ns >= job.audio_from_ns:
            out[a:b] = 0.3 * np.sin(2 * np.pi * AMBIENT_HZ * idx / SAMPLE_RATE)
    return out


def render(job: ClipJob) -> dict[str, Any]:
    import av

    final = Path(job.path)
    part = final.with_name(f".{final.name}.part")
    fps = Fraction(job.fps).limit_denominator(1000)
    container = av.open(str(part), "w", format="mp4",
                        options={"movflags": "frag_keyframe+empty_moov+default_base_moof"})
    video = container.add_stream("libx264", rate=fps)
    video.width = video.height = job.frame_px
    video.pix_fmt = "yuv420p"
    video.options = {"crf": "18", "preset": "ultrafast", "g": str(max(1, round(job.fps)))}
    audio = container.add_stream("aac", rate=SAMPLE_RATE)
    audio.layout = "mono"
    for i, (counter, t_ns) in enumerate(job.frames):
        frame = av.VideoFrame.from_ndarray(qr_image(timecode(counter, t_ns), job.frame_px), format="gray")
        frame.pts, frame.time_base = i, 1 / fps
        container.mux(video.encode(frame))
    container.mux(video.encode(None))
    pcm = audio_track(job, len(job.frames))
    for k in range(0, len(pcm), 1024):
        chunk = pcm[k:k + 1024].reshape(1, -1)
        af = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
        af.sample_rate, af.pts, af.time_base = SAMPLE_RATE, k, Fraction(1, SAMPLE_RATE)
        container.mux(audio.encode(af))
    container.mux(audio.encode(None))
    container.close()
    data = part.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if job.corrupt:  # the power went while the file was open: its header never reached the card
        data = b"\0" * 64 + data[64: len(data) // 2]
    with part.open("r+b") as f:
        f.truncate(0)
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(part, final)
    meta = {**job.sidecar, "file": final.name, "sha256": digest, "bytes": len(data), "frames": len(job.frames)}
    side = final.with_suffix(".json")
    tmp = side.with_name(f".{side.name}.part")
    tmp.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    with tmp.open("rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, side)
    return meta

