"""The bwclab reference camera console over pyserial (docs/protocols/camera-console.md).

Replies and asynchronous events share the line; events (`! ...`) are kept for the caller.
Bytes outside printable ASCII are line noise and are dropped before a line is parsed. Every command
carries a new tag (`@n`), and only the reply with that tag answers it: a late reply to an earlier
command (after a stall) is counted as stale and discarded. Every transport failure, timeout and
unreadable reply is a DriverError naming the console.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

import serial

from bwclab.rig.drivers.base import Driver
from bwclab.rig.interfaces import CameraError, ConsoleLink, ConsoleRefused


class CameraConsole(Driver):
    provides = (ConsoleLink,)
    driver_name = "console"

    def __init__(self, port: str | Any, timeout_s: float = 2.0, retries: int = 2) -> None:
        self.name = port if isinstance(port, str) else "console"
        self.name_log(self.name)
        try:
            self.ser = serial.Serial(port, 115200, timeout=timeout_s) if isinstance(port, str) else port
        except (serial.SerialException, OSError) as exc:
            raise CameraError(f"console {self.name}: cannot open ({exc})") from None
        self.retries = retries
        self.events: list[tuple[int, str]] = []  # (host ns when read, event text)
        self.noise_bytes = 0  # bytes outside printable ASCII, dropped as line noise
        self.retried = 0  # commands sent again after a garbled or lost reply
        self.stale = 0  # replies that answered an earlier command, discarded
        self._tag = 0
        self._closed = False
        self.log.info("opened")

    def _line(self) -> str | None:
        try:
            raw = self.ser.readline()
        except (serial.SerialException, OSError) as exc:
            raise CameraError(f"console {self.name}: port gone ({exc})") from None
        if not raw:
            return None
        clean = bytes(b for b in raw if 32 <= b < 127)
        noise = len(raw.rstrip(b"\r\n")) - len(clean)
        if noise:
            self.log.debug("dropped %d byte(s) of line noise from %r", noise, raw)
        self.noise_bytes += noise
        line = clean.decode("ascii").strip()
        if line.startswith("!"):
            self.log.debug("event %r", line)
        return line

    def command(self, text: str) -> str:
        """One command, its reply line without `OK`; ERR replies raise. Retries a garbled or lost reply."""
        for attempt in range(self.retries + 1):
            if attempt > 0:
                self.retried += 1
                self.log.info("sending %r again (attempt %d of %d)", text, attempt + 1, self.retries + 1)
            self._tag = self._tag % 999_999_999 + 1
            tag = f"@{self._tag}"
            sent = f"{tag} {text}"
            t0 = time.monotonic_ns()
            try:
                self.ser.write(sent.encode("ascii") + b"\n")
            except (serial.SerialException, OSError, UnicodeEncodeError) as exc:
                self.trace(sent, None, t0, failed=str(exc))
                raise CameraError(f"console {self.name}: cannot send {text[:40]!r} ({exc})") from None
            while True:
                line = self._line()
                if line is None:
                    self.trace(sent, None, t0, failed="no reply")
                    break
                if line.startswith("!"):
                    self.events.append((time.monotonic_ns(), line[1:].strip()))
                    continue
                got, _, body = line.partition(" ") if line.startswith("@") else ("", "", line)
                if got != tag:
                    self.stale += 1  # the answer to an earlier command (or an untagged line): not ours
                    self.log.debug("stale reply %r discarded (waiting for %s)", line, tag)
                    continue
                self.trace(sent, line, t0)
                if body == "OK" or body.startswith("OK "):
                    return body[3:]
                if body.startswith("ERR "):
                    if body.startswith("ERR 400 unknown command") and attempt < self.retries:
                        break  # noise may have garbled the command on its way
                    if body.split(maxsplit=2)[1:2] == ["409"]:
                        raise ConsoleRefused(f"console {self.name}: {text!r} -> {body}")
                    raise CameraError(f"console {self.name}: {text!r} -> {body}")
                raise CameraError(f"console {self.name}: {text!r} -> unreadable reply {body[:80]!r}")
        raise CameraError(f"console {self.name}: no reply to {text!r}")

    def fields(self, text: str) -> dict[str, str]:
        return dict(kv.split("=", 1) for kv in self.command(text).split() if "=" in kv)

    def _number(self, text: str) -> int:
        reply = self.command(text)
        try:
            return int(reply)
        except ValueError:
            raise CameraError(f"console {self.name}: {text!r} -> {reply[:80]!r}, expected a number") from None

    def identity(self) -> dict[str, str]:
        return self.fields("IDN?")

    def state(self) -> str:
        return self.command("STATE?")

    def clock_offset_ns(self, samples: int = 5) -> tuple[int, int]:
        """Device clock minus host CLOCK_MONOTONIC (ns), from the sample with the shortest round trip,
        and that round trip, which bounds the estimate's error to +/- half of it."""
        best: tuple[int, int] | None = None
        for _ in range(samples):
            t0 = time.monotonic_ns()
            device = self._number("CLOCK?")
            t1 = time.monotonic_ns()
            rtt = t1 - t0
            offset = device - (t0 + t1) // 2
            if best is None or rtt < best[1]:
                best = (offset, rtt)
        assert best is not None
        return best

    def wait_event(self, prefix: str, timeout_s: float) -> tuple[int, str] | None:
        deadline = time.monotonic() + timeout_s
        while True:
            for ev in self.events:
                if ev[1].startswith(prefix):
                    self.events.remove(ev)
                    return ev
            if time.monotonic() > deadline:
                return None
            line = self._line()
            if line and line.startswith("!"):
                self.events.append((time.monotonic_ns(), line[1:].strip()))

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(serial.SerialException, OSError):
            self.ser.close()
        self.log.info("closed")
