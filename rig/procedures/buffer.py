"""4. Pre-event buffer: trigger a camera whose buffer is full, record a while, end the recording,
take the clip from the dock and read every frame's filmed timecode and the audio per frame.

Per clip: how far back the video reaches before activation, the frame counter and timecode
steps (drops, duplicates, jumps, unreadable frames), audio before and after activation, the
file's hash against its sidecar, and the sidecar's times against what the rig saw (the device
clock's offset estimated on the console just before the trial).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from rig.clip import ClipReading, read_clip
from rig.interfaces import NotApplicable
from rig.procedures.base import Context, run_steps

SOUND_RMS = 0.01  # full scale 1.0: above this a frame's audio is sound, below it silence


def camera_config(ctx: Context, serial_no: str) -> dict[str, str] | None:
    if ctx.station.console_port(serial_no) is None:
        return None
    fields: dict[str, str] = ctx.console_call(serial_no, lambda c: c.fields("CONFIG?"))
    return fields


def analyse(reading: ClipReading, activated_ns: int, buffer_s: float, audio_in_buffer: bool,
            offset: tuple[int, int] | None) -> dict[str, Any]:
    """Figures of one clip; times relative to the activation the rig saw (host ns)."""
    fps = float(reading.sidecar.get("fps") or 0) or 10.0
    frame_s = 1 / fps
    out: dict[str, Any] = {"playable": reading.playable, "error": reading.error, "hash_ok": reading.hash_ok,
                           "fps": fps, "buffer_set_s": buffer_s, "audio_in_buffer": audio_in_buffer}
    if not reading.playable:
        return out
    counters = np.array(reading.counters)
    times = np.array(reading.times_ns, dtype=float)
    readable = counters >= 0
    c, t = counters[readable], times[readable]
    steps = np.diff(c)
    dt = np.diff(t) / 1e9
    ok_steps = steps == 1
    out["unreadable"] = int((~readable).sum())
    out["dropped"] = int(np.clip(steps - 1, 0, None).sum())
    out["duplicated"] = int((steps <= 0).sum())
    out["timecode_jumps"] = int((np.abs(dt[ok_steps] - frame_s) > 0.25 * frame_s).sum())
    out["frame_errors"] = out["unreadable"] + out["dropped"] + out["duplicated"] + out["timecode_jumps"]
    rel = (t - activated_ns) / 1e9
    out["buffered_s"] = float(-rel[0]) if len(rel) else 0.0
    out["buffer_error_frames"] = abs(out["buffered_s"] - buffer_s) / frame_s
    rms = np.array(reading.audio_rms)[readable] if len(reading.audio_rms) == len(counters) else np.zeros(len(c))
    # AAC's priming and the activation's own frame: judge audio a frame clear of the activation
    pre = rms[rel < -frame_s]
    post = rms[rel > 2 * frame_s]
    pre_sound = int((pre > SOUND_RMS).sum())
    post_silent = int((post <= SOUND_RMS).sum())
    out["audio_pre_sound_frames"] = pre_sound
    out["audio_post_silent_frames"] = post_silent
    out["audio_errors"] = (pre_sound if not audio_in_buffer else int((pre <= SOUND_RMS).sum())) + post_silent
    out["timeline_s"] = [round(float(x), 4) for x in rel]
    out["counters"] = [int(x) for x in c]
    out["audio_rms"] = [round(float(x), 5) for x in rms]
    if offset is not None and "activated_device_ns" in reading.sidecar:
        dev_act = int(reading.sidecar["activated_device_ns"]) - offset[0]
        dev_from = int(reading.sidecar["video_from_device_ns"]) - offset[0]
        out["meta_activation_error_s"] = (dev_act - activated_ns) / 1e9
        # frames sit on the camera's frame grid: the first one may follow the buffer's start by a frame
        out["meta_buffer_start_error_s"] = (dev_from - t[0]) / 1e9
        out["meta_buffer_start_excess_s"] = max(abs(dev_from - t[0]) / 1e9 - frame_s, 0.0)
        out["clock_rtt_s"] = offset[1] / 1e9
    return out


def run(ctx: Context, key: str, trials: int, retries: int, trigger: str | None = None, record_s: float = 1.0,
        buffer_s: float | None = None) -> None:
    emitter = ctx.emitter_for(trigger)
    cams = list(ctx.cameras)
    st = ctx.station
    for s in cams:
        if st.dock(s) is None:
            raise NotApplicable(f"camera {s} has no dock folder")

    def step(seq: int, cams: list[str]) -> dict[str, Any]:
        cams = ctx.ensure_idle(cams)
        ctx.all_near(cams)
        configs = ctx.each(cams, lambda s: camera_config(ctx, s))
        longest = max((float(cfg["buffer_s"]) for cfg in configs.values() if cfg), default=buffer_s or 30.0)
        ctx.wait_buffer_full(cams, longest)
        offsets = ctx.each(ctx.live(cams), lambda s: ctx.console_call(s, lambda c: c.clock_offset_ns())
                           if configs[s] is not None else None)
        cams = ctx.live(cams)
        t0 = st.fire(emitter)
        edges = {s: st.wait_indicator(s, t0, ctx.window_s(emitter)) for s in cams}
        time.sleep(record_s)
        st.release(emitter)

        def clip(s: str) -> dict[str, Any]:
            edge = edges[s]
            if edge is None:
                return {"activated": False}
            clip_id = ctx.end_recording(s)
            mp4 = ctx.collect_clip(s, clip_id, edge)
            reading = read_clip(mp4)
            cfg = configs[s]
            set_s = float(cfg["buffer_s"]) if cfg else float(buffer_s or reading.sidecar.get("buffer_s", 0))
            audio = (cfg.get("audio_in_buffer") == "1") if cfg else bool(reading.sidecar.get("audio_in_buffer"))
            activated = edge - int(ctx.gpio.lag_median_ns / 2)  # the notification's own half of the lag
            return {"activated": True, "clip": str(mp4.relative_to(ctx.out)),
                    **analyse(reading, activated, set_s, audio, offsets[s])}

        return {"fired_ns": t0} | ctx.each(cams, clip)

    run_steps(ctx, key, trials, retries, cams, step)
