"""One emulated body camera: the shared behaviour model on the host clock, plus its hardware.

Power, boot, the recording indicator, the button, the device clock, and the clip it writes
when a recording ends, with whatever faults the camera was given.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from bwclab.bench.description import EmulatedCamera
from bwclab.camera.ble import DiscoveryModel
from bwclab.camera.bodycam import BodyCamera, CameraSettings, CameraState, Recording, SignalOutcome
from bwclab.emulator.clips import ClipJob
from bwclab.emulator.dock import Renderer
from bwclab.emulator.emitter import Broadcast
from bwclab.emulator.faults import CameraFaults
from bwclab.emulator.loop import Loop, Timer, now_ns
from bwclab.emulator.truth import TruthLog
from bwclab.emulator.wire import Wire

LOAD_AMPS = {"off": 0.0, "boot": 0.25, CameraState.SLEEP: 0.05, CameraState.BUFFERING: 0.35,
             CameraState.RECORDING: 0.55}


class DeviceClock:
    """The camera's real-time clock: Unix-epoch ns that runs `drift_ppm` fast against the host."""

    def __init__(self, epoch_ns: int, host0_ns: int, drift_ppm: float) -> None:
        self.epoch_ns, self.host0_ns, self.rate = epoch_ns, host0_ns, 1.0 + drift_ppm * 1e-6

    def device_ns(self, host_ns: int) -> int:
        return self.epoch_ns + int((host_ns - self.host0_ns) * self.rate)


class CameraUnit:
    def __init__(self, loop: Loop, serial: str, index: int, cfg: EmulatedCamera, adv_interval_s: float,
                 faults: CameraFaults, truth: TruthLog, dock: Path, indicator: Wire, renderer: Renderer,
                 seed: int, clock: DeviceClock) -> None:
        self.loop, self.serial, self.cfg, self.faults = loop, serial, cfg, faults
        self.truth, self.dock, self.indicator, self.renderer = truth, dock, indicator, renderer
        self.clock = clock
        allow = frozenset(cfg.allow_list) if cfg.allow_list is not None else None
        start = now_ns()
        self.model = BodyCamera(serial, CameraSettings(cfg.buffer_s, cfg.audio_in_buffer, allow),
                                buffering_since=start / 1e9)
        self.ble = DiscoveryModel(adv_interval_s=adv_interval_s, scan_window_s=cfg.scan_window_ms / 1e3,
                                  scan_interval_s=cfg.scan_interval_ms / 1e3, processing_s=cfg.processing_ms / 1e3,
                                  processing_jitter_s=cfg.processing_jitter_ms / 1e3)
        self.rng = np.random.default_rng(np.random.SeedSequence([seed, 0xCA, index]))
        self.powered, self.booting = True, False
        self.frame_anchor_ns = start
        self.frame_period_ns = 1e9 / cfg.fps / clock.rate
        self.clips: dict[str, dict[str, Any]] = {}
        self.clip_count = 0
        self.pending_clips: set[str] = set()
        self.events: list[Callable[[str], None]] = []  # the console subscribes here
        self.on_hearing_changed: Callable[[], None] = lambda: None
        self._blink: Timer | None = None
        self._boot: Timer | None = None
        self.fault_log()

    def fault_log(self) -> None:
        active = self.faults.active()
        if active:
            self.truth.log("faults", camera=self.serial, **active)

    # --- what the world sees ------------------------------------------------------------
    @property
    def state(self) -> str:
        return "OFF" if not self.powered else str(self.model.state)

    def load_amps(self) -> float:
        if self.booting:
            return LOAD_AMPS["boot"]
        return LOAD_AMPS["off"] if not self.powered else LOAD_AMPS[self.model.state]

    def can_hear(self) -> bool:
        return self.powered and not self.booting

    def emit(self, text: str, t_ns: int) -> None:
        for fn in self.events:
            fn(f"{text} t={self.clock.device_ns(t_ns)}")

    # --- signals ------------------------------------------------------------------------
    def discovered(self, b: Broadcast, t_ns: int) -> None:
        if not self.can_hear():
            self.truth.log("signal_ignored", t_ns, camera=self.serial, broadcast=b.seq, reason="off")
            return
        if self.faults.ignore_signals:
            self.truth.log("signal_ignored", t_ns, camera=self.serial, broadcast=b.seq, reason="fault ignore_signals")
            return
        latency_s = self.ble.sample_processing(self.rng) + self.faults.extra_latency_ms / 1e3
        if self.faults.latency_jitter_ms > 0:
            latency_s += float(self.rng.uniform(0.0, self.faults.latency_jitter_ms / 1e3))
        at = t_ns + int(latency_s * 1e9)
        self.loop.call_at(at, self._process, b, at)

    def _process(self, b: Broadcast, sched_ns: int) -> None:
        t = now_ns()
        if not self.can_hear():
            self.truth.log("signal_ignored", t, camera=self.serial, broadcast=b.seq, reason="off")
            return
        outcome = self.model.hear(t / 1e9, b.emitter_id, accept_any=self.faults.accept_any_emitter)
        self.truth.log("signal", t, camera=self.serial, broadcast=b.seq, id=b.emitter_id, outcome=str(outcome),
                       sched_ns=sched_ns)
        if outcome is SignalOutcome.ACTIVATED:
            self._started(t, sched_ns)

    def press(self, level: bool, t_ns: int) -> None:
        if not level or not self.can_hear():
            return
        if self.model.press(t_ns / 1e9, source="button"):
            self._started(t_ns, t_ns)

    def start_manual(self) -> bool:
        t = now_ns()
        if self.model.press(t / 1e9, source="console"):
            self._started(t, t)
            return True
        return False

    def _started(self, t_ns: int, sched_ns: int) -> None:
        rec = self.model.recordings[-1]
        video_from = min(rec.activated_at, rec.video_from + self.faults.buffer_shortfall_s)
        audio_from = video_from if self.faults.audio_in_buffer else rec.audio_from
        self.model.recordings[-1] = replace(rec, video_from=video_from, audio_from=audio_from)
        self.truth.log("activation", t_ns, camera=self.serial, cause=rec.cause, source=rec.source, sched_ns=sched_ns,
                       buffer_start_ns=int(video_from * 1e9), audio_from_ns=int(audio_from * 1e9))
        self._indicator(True, t_ns, sched_ns)
        if self.cfg.indicator == "blink":
            self._schedule_toggle(t_ns)
        self.emit(f"STATE RECORDING cause={rec.cause} source={rec.source}", t_ns)

    def _indicator(self, on: bool, t_ns: int, sched_ns: int | None = None) -> None:
        self.indicator.drive(on, t_ns, camera=self.serial, role="indicator",
                             **({"sched_ns": sched_ns} if sched_ns is not None else {}))

    def _schedule_toggle(self, after_ns: int) -> None:
        # A LED driver's oscillator does not drift with our wake-up lateness: each toggle is
        # scheduled from the previous deadline, not from when the previous toggle ran.
        deadline = after_ns + int(5e8 / self.cfg.blink_hz)
        self._blink = self.loop.call_at(deadline, self._toggle, deadline)

    def _toggle(self, deadline_ns: int) -> None:
        if self.model.state is not CameraState.RECORDING:
            return
        self._indicator(not self.indicator.level, now_ns(), deadline_ns)
        self._schedule_toggle(deadline_ns)

    # --- ending a recording: a clip -----------------------------------------------------
    def stop(self, power_cut: bool = False, t_ns: int | None = None) -> str | None:
        t = now_ns() if t_ns is None else t_ns
        rec = self.model.stop(t / 1e9)
        if rec is None:
            return None
        if self._blink is not None:
            self._blink.cancel()
        self._indicator(False, t)
        clip_id = self._write_clip(rec, t, power_cut)
        self.emit(f"STATE {self.model.state if not power_cut else 'OFF'}", t)
        return clip_id

    def _frames(self, start_ns: int, end_ns: int) -> list[tuple[int, int]]:
        p, a = self.frame_period_ns, self.frame_anchor_ns
        first, last = math.ceil((start_ns - a) / p), math.floor((end_ns - a) / p)
        return [(k, a + round(k * p)) for k in range(max(first, 0), last + 1)]

    def _faulty(self, frames: list[tuple[int, int]], activated_ns: int) -> list[tuple[int, int]]:
        f = self.faults
        after = [i for i, (_, t) in enumerate(frames) if t >= activated_ns]
        if not after:
            return frames
        if f.timecode_jump_ms > 0:
            mid = after[len(after) // 2]
            jump = int(f.timecode_jump_ms * 1e6)
            frames = frames[:mid] + [(k, t + jump) for k, t in frames[mid:]]
        picks = np.linspace(after[0], after[-1], num=f.drop_frames + f.duplicate_frames + 2)[1:-1].astype(int)
        drops = set(picks[: f.drop_frames].tolist())
        dups = set(picks[f.drop_frames:].tolist())
        out: list[tuple[int, int]] = []
        for i, fr in enumerate(frames):
            if i in drops:
                continue
            out.append(fr)
            if i in dups:
                out.append(fr)
        return out

    def _write_clip(self, rec: Recording, end_ns: int, power_cut: bool) -> str:
        self.clip_count += 1
        clip_id = f"{self.serial}-{self.clip_count:04d}"
        act = int(rec.activated_at * 1e9)
        start, audio_from = int(rec.video_from * 1e9), int(rec.audio_from * 1e9)
        frames = self._faulty(self._frames(start, end_ns), act)
        dev = self.clock.device_ns
        settings = self.model.settings
        sidecar = {
            "clip_id": clip_id, "camera": self.serial, "model": self.cfg.model, "firmware": self.cfg.firmware,
            "fps": self.cfg.fps, "frame_px": self.cfg.frame_px, "cause": rec.cause, "source": rec.source,
            "buffer_s": settings.buffer_s, "audio_in_buffer": settings.audio_in_buffer,
            "video_from_device_ns": dev(start), "activated_device_ns": dev(act), "ended_device_ns": dev(end_ns),
            "power_cut": power_cut,
        }
        self.truth.log("clip", end_ns, camera=self.serial, clip=clip_id, buffer_start_ns=start, activated_ns=act,
                       start_ns=frames[0][1] if frames else None, end_ns=end_ns, frames=len(frames),
                       first_counter=frames[0][0] if frames else None, power_cut=int(power_cut))
        job = ClipJob(str(self.dock / f"{clip_id}.mp4"), clip_id, self.cfg.fps, self.cfg.frame_px, frames, act,
                      audio_from, power_cut and self.faults.corrupt_on_power_loss, sidecar)
        self.pending_clips.add(clip_id)
        self.renderer.submit(job, functools.partial(self._clip_done, clip_id))
        return clip_id

    def _clip_done(self, clip_id: str, meta: dict[str, Any] | None, err: str | None) -> None:
        self.pending_clips.discard(clip_id)
        t = now_ns()
        if meta is None:
            self.truth.log("clip_failed", t, camera=self.serial, clip=clip_id, error=err)
            return
        self.clips[clip_id] = meta
        self.truth.log("clip_written", t, camera=self.serial, clip=clip_id, file=meta["file"], sha256=meta["sha256"])
        if self.powered:
            self.emit(f"CLIP {clip_id}", t)

    # --- console commands, sleep and power ----------------------------------------------
    def sleep(self) -> str | None:
        clip = self.stop() if self.model.state is CameraState.RECORDING else None
        self.model.sleep(now_ns() / 1e9)
        self.truth.log("sleep", camera=self.serial)
        self.emit("STATE SLEEP", now_ns())
        return clip

    def wake(self) -> None:
        if self.model.state is CameraState.SLEEP:
            t = now_ns()
            self.model.wake(t / 1e9)
            self.truth.log("wake", t, camera=self.serial)
            self.emit("STATE BUFFERING", t)
            self.on_hearing_changed()

    def configure(self, **changes: Any) -> None:
        self.model.settings = replace(self.model.settings, **changes)
        self.truth.log("configure", camera=self.serial, **{k: sorted(v) if isinstance(v, frozenset) else v
                                                            for k, v in changes.items()})

    def set_power(self, on: bool, t_ns: int) -> None:
        if not on and (self.powered or self.booting):
            if self.model.state is CameraState.RECORDING:
                self.stop(power_cut=True, t_ns=t_ns)
            if self._boot is not None:
                self._boot.cancel()
            self.model.sleep(t_ns / 1e9)
            self.powered = self.booting = False
            self.on_hearing_changed()
        elif on and not self.powered and not self.booting:
            self.booting = True
            self._boot = self.loop.call_at(t_ns + int(self.cfg.boot_s * 1e9), self._booted)

    def _booted(self) -> None:
        t = now_ns()
        self.booting, self.powered = False, True
        self.model.wake(t / 1e9)
        self.frame_anchor_ns = t
        self.truth.log("boot", t, camera=self.serial)
        self.emit("BOOT", t)
        self.on_hearing_changed()
