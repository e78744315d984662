"""The buffer check's reading of a clip, on synthetic frame lists with known defects."""

from __future__ import annotations

from bwclab.rig.clip import ClipReading
from bwclab.rig.procedures.buffer import analyse

FPS = 10.0
ACT = 10_000_000_000  # activation, host ns


def clip(buffer_s: float = 3.0, drop: int = 0, dup: int = 0, jump_ms: float = 0, pre_sound: bool = False,
         post_sound: bool = True, unreadable: int = 0) -> ClipReading:
    first = ACT - int(buffer_s * 1e9)
    counters, times, rms = [], [], []
    n, t = 100, first
    while t < ACT + 1_000_000_000:
        counters.append(n)
        times.append(t)
        rms.append((0.2 if post_sound else 0.0) if t > ACT else (0.2 if pre_sound else 0.0))
        n += 1
        t += int(1e9 / FPS)
    mid = len(counters) // 2 + 5
    for _ in range(drop):
        del counters[mid], times[mid], rms[mid]
    for _ in range(dup):
        counters.insert(mid, counters[mid])
        times.insert(mid, times[mid])
        rms.insert(mid, rms[mid])
    if jump_ms:
        times[mid:] = [x + int(jump_ms * 1e6) for x in times[mid:]]
    for i in range(unreadable):
        counters[mid + 3 + i] = -1
        times[mid + 3 + i] = -1
    return ClipReading(True, counters=counters, times_ns=times, audio_rms=rms, sha256="ab",
                       sidecar={"fps": FPS, "sha256": "ab"})


def test_a_clean_clip_has_no_errors_and_reaches_back_its_buffer() -> None:
    out = analyse(clip(), ACT, 3.0, False, None)
    assert out["frame_errors"] == 0 and out["audio_errors"] == 0 and out["hash_ok"]
    assert abs(out["buffered_s"] - 3.0) < 1e-9 and out["buffer_error_frames"] < 1e-6


def test_each_defect_is_counted_for_what_it_is() -> None:
    assert analyse(clip(drop=2), ACT, 3.0, False, None)["dropped"] == 2
    assert analyse(clip(dup=3), ACT, 3.0, False, None)["duplicated"] == 3
    jumped = analyse(clip(jump_ms=400), ACT, 3.0, False, None)
    assert jumped["timecode_jumps"] == 1 and jumped["dropped"] == 0
    assert analyse(clip(unreadable=2), ACT, 3.0, False, None)["unreadable"] == 2
    short = analyse(clip(buffer_s=2.0), ACT, 3.0, False, None)
    assert abs(short["buffer_error_frames"] - 10.0) < 1e-6


def test_audio_gating_follows_the_configuration() -> None:
    assert analyse(clip(pre_sound=True), ACT, 3.0, False, None)["audio_errors"] > 0
    assert analyse(clip(pre_sound=True), ACT, 3.0, True, None)["audio_errors"] == 0
    assert analyse(clip(pre_sound=False), ACT, 3.0, True, None)["audio_errors"] > 0
    assert analyse(clip(post_sound=False), ACT, 3.0, False, None)["audio_post_silent_frames"] > 0


def test_metadata_is_compared_through_the_clock_offset() -> None:
    r = clip()
    offset = 5_000_000_000_000
    r.sidecar |= {"activated_device_ns": ACT + offset + 20_000_000, "video_from_device_ns": r.times_ns[0] + offset}
    out = analyse(r, ACT, 3.0, False, (offset, 200_000))
    assert abs(out["meta_activation_error_s"] - 0.020) < 1e-9 and out["meta_buffer_start_excess_s"] == 0.0
