"""4. Pre-event buffer: trigger a camera whose buffer is full, record a while, end the recording,
take the clip from the dock and read every frame's filmed timecode and the audio per frame.

Per clip: how far back the video reaches before activation, the frame counter and timecode
steps (drops, duplicates, jumps, unreadable frames), audio before and after activation, the
file's hash against its sidecar, and the sidecar's times against what the rig saw (the device
clock's offset estimated on the console just before the trial). The clip is tied to its trial by
the camera's own clip id and the hash of the file as copied into the run folder.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field

from bwclab.core.profile import AudioMeasured, BufferMeasured
from bwclab.core.strict import Seconds
from bwclab.core.triggers import TriggerKind
from bwclab.rig import plots
from bwclab.rig.clip import ClipReading, read_clip
from bwclab.rig.measurements import COUNT, FRAMES, SECONDS, Measurement, NoData, count
from bwclab.rig.procedures.base import ClipRow, Context, Plan, recorded, run_steps
from bwclab.rig.procedures.declare import Options, Procedure, ProfilePart, Quantity, TriggerParams
from bwclab.rig.trials import StepResult

SOUND_RMS = 0.01  # full scale 1.0: above this a frame's audio is sound, below it silence


class BufferParams(TriggerParams):
    record_s: float = Field(default=1.0, gt=0, le=600)
    buffer_s: Seconds | None = Field(default=None, le=120, description="the configured buffer, for a camera "
                                                                       "without a console (else read from CONFIG?)")


class BufferRow(ClipRow):
    playable: bool = False
    error: str = ""
    hash_ok: bool = False
    fps: float = 0.0
    buffer_set_s: float = 0.0
    audio_in_buffer: bool = False
    unreadable: int = 0
    dropped: int = 0
    duplicated: int = 0
    timecode_jumps: int = 0
    frame_errors: int = 0
    buffered_s: float | None = None
    buffer_error_frames: float | None = None
    audio_pre_sound_frames: int = 0
    audio_post_silent_frames: int = 0
    audio_errors: int = 0
    timeline_s: list[float] = Field(default_factory=list)
    counters: list[int] = Field(default_factory=list)
    audio_rms: list[float] = Field(default_factory=list)
    meta_activation_error_s: float | None = None
    meta_buffer_start_error_s: float | None = None
    meta_buffer_start_excess_s: float | None = None
    clock_rtt_s: float | None = None


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


def run(ctx: Context, plan: Plan, p: BufferParams) -> None:
    emitter = ctx.emitter_for(p.trigger)

    def step(seq: int, cams: list[str]) -> StepResult:
        cams = ctx.ready_near(cams)
        configs = ctx.each(cams, lambda s: camera_config(ctx, s))
        longest = max((float(cfg["buffer_s"]) for cfg in configs.values() if cfg), default=p.buffer_s or 30.0)
        ctx.wait_buffer_full(cams, longest)
        offsets = ctx.each(ctx.live(cams), lambda s: ctx.console_call(s, lambda c: c.clock_offset_ns())
                           if configs[s] is not None else None)
        fired = ctx.record_a_while(emitter, ctx.live(cams), p.record_s)

        def clip(s: str) -> BufferRow:
            edge = fired.edges[s]
            if edge is None:
                return BufferRow(activated=False)
            clip_id = ctx.end_recording(s)
            got = ctx.collect_clip(s, clip_id, fired.dock_before[s])
            reading = read_clip(got.path)
            cfg = configs[s]
            set_s = float(cfg["buffer_s"]) if cfg else float(p.buffer_s or reading.sidecar.get("buffer_s", 0))
            audio = (cfg.get("audio_in_buffer") == "1") if cfg else bool(reading.sidecar.get("audio_in_buffer"))
            activated = edge - int(ctx.gpio.lag_median_ns / 2)  # the notification's own half of the lag
            return BufferRow.model_validate(ClipRow.taken(got, ctx.out) | analyse(reading, activated, set_s, audio,
                                                                                    offsets[s]))

        return StepResult.of(ctx.each(list(fired.edges), clip), fired_ns=fired.fired_ns, emitter=emitter)

    run_steps(ctx, plan, list(ctx.cameras), step)


def measure(quantity: str, rows: list[BufferRow], _o: Options) -> Measurement:
    clips = recorded(rows, "the camera never activated, so no clip was recorded")
    plot = {"clips": [{"timeline_s": r.timeline_s, "counters": r.counters, "audio_rms": r.audio_rms,
                       "buffer_set_s": r.buffer_set_s, "fps": r.fps} for r in clips if r.playable]}
    unplayable = [r.error for r in clips if not r.playable]
    note = f"{len(unplayable)} clip(s) unplayable: {unplayable[0]}" if unplayable else ""
    if quantity == "buffer_error_frames":
        if unplayable:
            raise NoData(note)
        worst = max(float(r.buffer_error_frames or 0.0) for r in clips)
        reach = ", ".join(f"{r.buffered_s:.3f}" for r in clips)
        m = Measurement(quantity, worst, "frames", len(clips),
                        uncertainty=f"frame-exact; buffered {reach} s against {clips[0].buffer_set_s:g} s set",
                        plot=plot, exact=True)
    elif quantity == "frame_errors":
        parts = [sum(getattr(r, k) for r in clips) for k in ("dropped", "duplicated", "timecode_jumps", "unreadable")]
        m = count(quantity, [r.frame_errors for r in clips] + [len(unplayable) * 1000], "clips",
                  "dropped {}, duplicated {}, timecode jumps {}, unreadable {}".format(*parts))
        m.plot = plot
    elif quantity == "audio_errors":
        m = count(quantity, [r.audio_errors for r in clips if r.playable], "clips",
                  "audio in buffer configured {}; sound in pre-event frames {}, silent post-event frames {}".format(
                      "on" if clips[0].audio_in_buffer else "off", sum(r.audio_pre_sound_frames for r in clips),
                      sum(r.audio_post_silent_frames for r in clips)))
        if unplayable:
            m.unsure = note
        m.plot = plot
    elif quantity == "hash_mismatches":
        m = count(quantity, [0 if r.hash_ok else 1 for r in clips], "clips")
    else:  # metadata_error_s
        errs = [abs(x) for r in clips for x in (r.meta_activation_error_s, r.meta_buffer_start_excess_s)
                if x is not None]
        if not errs:
            raise NoData("no clip carried device times to compare (no console clock offset)")
        rtt = max(float(r.clock_rtt_s or 0) for r in clips)
        m = Measurement(quantity, max(errs), "s", len(clips),
                        uncertainty=f"clock offset +/-{rtt / 2 * 1e3:.2f} ms (half the console round trip); "
                                    "buffer start compared to the frame grid (beyond one frame)", exact=True)
    if note and not m.note:
        m.note = note
    return m


def buffered(rows: list[BufferRow]) -> tuple[float, list[float], bool] | None:
    """(configured buffer, each clip's buffered video, audio found before activation), for the profile."""
    clips = [r for r in rows if r.activated and r.playable and r.buffered_s is not None]
    if not clips:
        return None
    return clips[0].buffer_set_s, [float(r.buffered_s or 0.0) for r in clips], any(
        r.audio_pre_sound_frames > 0 for r in clips)


def profile(rows: list[BufferRow], _kind: TriggerKind) -> ProfilePart:
    got = buffered(rows)
    if got is None:
        return ProfilePart()
    configured, reach, found = got
    cfg = next((r for r in rows if r.activated), None)
    audio = AudioMeasured(configured_in_buffer=bool(cfg and cfg.audio_in_buffer), found_in_buffer=found)
    return ProfilePart(buffer=BufferMeasured(configured_s=configured, measured_s=[round(x, 4) for x in reach]),
                       audio=audio)


BUFFER = Procedure(
    name="buffer", summary="pre-event buffer: length, frames, audio, hash, metadata of the clip",
    params=BufferParams, options=Options, row=BufferRow,
    quantities={"buffer_error_frames": Quantity(FRAMES, "buffered video against the configured length"),
                "frame_errors": Quantity(COUNT, "dropped, duplicated, jumped or unreadable frames"),
                "audio_errors": Quantity(COUNT, "frames whose audio contradicts the configuration"),
                "hash_mismatches": Quantity(COUNT, "clips whose SHA-256 differs from their sidecar"),
                "metadata_error_s": Quantity(SECONDS, "sidecar times against what the rig saw", needs=("console",))},
    needs=("indicator", "dock"), run=run, measure=measure, plot=plots.buffer_timeline, profile=profile)
