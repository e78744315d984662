"""The camera console on a pseudo-terminal: our reference protocol (docs/protocols/camera-console.md)."""

from __future__ import annotations

import re

import numpy as np

from bwclab.camera.bodycam import CameraState
from bwclab.emulator.faults import CameraFaults
from bwclab.emulator.loop import Loop, now_ns
from bwclab.emulator.transport import PtyPort
from bwclab.emulator.truth import TruthLog
from bwclab.emulator.unit import CameraUnit

MAX_LINE = 4096
TAG = re.compile(r"^@(\d{1,9})$")


class Console:
    def __init__(self, loop: Loop, unit: CameraUnit, faults: CameraFaults, truth: TruthLog, seed: int,
                 index: int) -> None:
        self.loop, self.unit, self.faults, self.truth = loop, unit, faults, truth
        self.pty = PtyPort(loop, self._data)
        self.buf = bytearray()
        self.too_long = False
        self.events_on = True
        self.rng = np.random.default_rng(np.random.SeedSequence([seed, 0xC0, index]))
        unit.events.append(self.event)
        if faults.console_noise > 0:
            self._schedule_noise()
        if faults.console_disconnect_after_s is not None:
            loop.call_later(faults.console_disconnect_after_s, self._disconnect)

    def _schedule_noise(self) -> None:
        self.loop.call_later(float(self.rng.exponential(60.0 / self.faults.console_noise)), self._noise)

    def _noise(self) -> None:
        if self.pty.closed:
            return
        self.pty.write(bytes([int(self.rng.integers(0x80, 0x100))]))  # never a line end: framing holds
        self._schedule_noise()

    def _disconnect(self) -> None:
        self.truth.log("console_disconnect", camera=self.unit.serial)
        self.pty.close()

    def event(self, text: str) -> None:
        if self.events_on and self.unit.powered:
            self.pty.write(f"! {text}\n".encode())

    def _data(self, data: bytes) -> None:
        for b in data:
            if b in (10, 13):
                if self.too_long:
                    self.too_long = False
                    self._reply("ERR 400 line too long")
                elif self.buf:
                    line = self.buf.decode("ascii", errors="replace").strip()
                    self.buf.clear()
                    if line:
                        self._reply(self.tagged(line))
                continue
            if len(self.buf) >= MAX_LINE:
                self.buf.clear()
                self.too_long = True
            elif not self.too_long:
                self.buf.append(b)

    def _reply(self, text: str | None) -> None:
        if text is not None and self.unit.powered:  # a camera without power says nothing
            self.pty.write(f"{text}\n".encode())

    def tagged(self, line: str) -> str | None:
        """A command with an optional `@n` tag: the reply carries the same tag."""
        if not line.startswith("@"):
            return self.execute(line)
        first, _, rest = line.partition(" ")
        m = TAG.match(first)
        if m is None or not rest.strip():
            return "ERR 400 bad tag"
        reply = self.execute(rest.strip())
        return None if reply is None else f"@{m.group(1)} {reply}"

    def execute(self, line: str) -> str | None:
        words = line.split()
        cmd, args = words[0].upper(), words[1:]
        u = self.unit
        if not u.powered:
            return None
        if cmd == "IDN?" and not args:
            return f"OK model={u.cfg.model} serial={u.serial} firmware={u.cfg.firmware}"
        if cmd == "STATE?" and not args:
            return f"OK {u.state}"
        if cmd == "CLOCK?" and not args:
            return f"OK {u.clock.device_ns(now_ns())}"
        if cmd == "CONFIG?" and not args:
            s = u.model.settings
            allow = "*" if s.allow_list is None else ",".join(sorted(s.allow_list))
            return f"OK buffer_s={s.buffer_s:g} audio_in_buffer={int(s.audio_in_buffer)} allow={allow}"
        if cmd == "CONFIG" and args:
            return self.configure(args)
        if cmd == "START" and not args:
            return "OK" if u.start_manual() else "ERR 409 already recording"
        if cmd == "STOP" and not args:
            if u.model.state is not CameraState.RECORDING:
                return "ERR 409 not recording"
            return f"OK clip={u.stop()}"
        if cmd == "SLEEP" and not args:
            clip = u.sleep()
            return "OK" + (f" clip={clip}" if clip else "")
        if cmd == "WAKE" and not args:
            u.wake()
            return "OK"
        if cmd == "CLIPS?" and not args:
            ids = sorted(u.clips)
            return f"OK {len(ids)}" + (" " + ",".join(ids) if ids else "")
        if cmd == "CLIP?" and len(args) == 1:
            meta = u.clips.get(args[0])
            if meta is None:
                pending = args[0] in u.pending_clips
                return "ERR 425 clip still being written" if pending else "ERR 404 no such clip"
            keys = ("clip_id", "file", "frames", "fps", "video_from_device_ns", "activated_device_ns",
                    "ended_device_ns", "cause", "source", "sha256", "power_cut")
            return "OK " + " ".join(f"{k}={int(meta[k]) if isinstance(meta[k], bool) else meta[k]}" for k in keys)
        if cmd == "EVENTS" and len(args) == 1 and args[0].upper() in ("ON", "OFF"):
            self.events_on = args[0].upper() == "ON"
            return "OK"
        return "ERR 400 unknown command"

    def configure(self, args: list[str]) -> str:
        changes: dict[str, object] = {}
        for item in args:
            key, sep, value = item.partition("=")
            if not sep:
                return f"ERR 400 expected key=value, got {item}"
            if key == "buffer_s":
                if len(value) > 32:
                    return "ERR 400 buffer_s: expected seconds"
                try:
                    v = float(value)
                except ValueError:
                    return "ERR 400 buffer_s: expected seconds"
                if not 0 <= v <= 120:
                    return "ERR 400 buffer_s: expected 0..120"
                changes["buffer_s"] = v
            elif key == "audio_in_buffer":
                if value not in ("0", "1"):
                    return "ERR 400 audio_in_buffer: expected 0 or 1"
                changes["audio_in_buffer"] = value == "1"
            elif key == "allow":
                ids = [] if value == "*" else [i for i in value.split(",") if i]
                changes["allow_list"] = None if value == "*" else frozenset(ids)
            else:
                return f"ERR 400 unknown setting {key}"
        self.unit.configure(**changes)
        return "OK"
