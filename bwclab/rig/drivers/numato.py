"""Numato Lab USB GPIO module over pyserial (docs/protocols/numato-gpio.md).

A reader thread owns the port's input: it separates change notifications (`# CUR PREV DIR`),
stamped with the host clock when their first byte arrived, from command replies, which end
at the prompt `>`.
"""

from __future__ import annotations

import contextlib
import queue
import re
import threading
import time
from typing import Any

import serial

from bwclab.rig.drivers.base import Driver
from bwclab.rig.interfaces import DigitalOutput, EdgeListener, EdgeReporter, Identified, InstrumentError

NOTE = re.compile(rb"\n\r# ([0-9A-Fa-f]+) ([0-9A-Fa-f]+) ([0-9A-Fa-f]+)\n\r")  # framed as documented
DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUV"


class NumatoGpio(Driver):
    """`outputs`, when given, become outputs driven low and every other pin an input (as a station opens it)."""

    provides = (DigitalOutput, EdgeReporter, Identified)
    driver_name = "numato"

    def __init__(self, port: str | Any, ports: int = 32, timeout_s: float = 1.0, outputs: list[int] | None = None,
                 inputs: list[int] | None = None) -> None:
        self.name = port if isinstance(port, str) else "numato"
        self.name_log(self.name)
        try:
            self.ser = serial.Serial(port, 19200, timeout=0.02) if isinstance(port, str) else port
            self.ser.reset_input_buffer()
        except (serial.SerialException, OSError) as exc:
            raise InstrumentError(f"{self.name}: cannot open the GPIO adapter ({exc})") from None
        self.ports, self.timeout_s = ports, timeout_s
        self.width = max(ports // 4, 2)
        self._cmd_lock = threading.Lock()
        self._replies: queue.Queue[bytes] = queue.Queue()
        self._listeners: list[EdgeListener] = []
        self._stop = threading.Event()
        self.gone: str = ""  # why the port stopped working, once it has
        self._thread = threading.Thread(target=self._reader, name="numato-reader", daemon=True)
        self._thread.start()
        self.log.info("opened (%d pins)", ports)
        if outputs is not None:
            try:
                self._directions(outputs)
            except BaseException:
                self.close()
                raise

    def _directions(self, outputs: list[int]) -> None:
        """`outputs` as outputs, each driven low; every other pin an input (`inputs` need no setting)."""
        mask = (1 << self.ports) - 1
        for pin in outputs:
            mask &= ~(1 << pin)
        self.set_directions(mask)
        for pin in outputs:
            self.set(pin, False)

    # --- reading ------------------------------------------------------------------------
    def _reader(self) -> None:
        buf = b""
        stamp = 0
        while not self._stop.is_set():
            try:
                first = self.ser.read(1)
                if not first:
                    continue
                if not buf:
                    stamp = time.monotonic_ns()
                buf += first + self.ser.read(self.ser.in_waiting or 0)
            except (serial.SerialException, OSError) as exc:
                if self._stop.is_set():
                    return
                if not self.gone:
                    self.log.info("port gone (%s)", exc)
                self.gone = str(exc)
                time.sleep(0.05)
                continue
            buf = self._take_notes(buf, stamp)
            while b">" in buf:
                reply, _, buf = buf.partition(b">")
                self._replies.put(reply)
            if buf.strip(b"\r\n") == b"":
                buf = b""

    def _take_notes(self, buf: bytes, stamp: int) -> bytes:
        while m := NOTE.search(buf):
            cur, prev = int(m[1], 16), int(m[2], 16)
            changed = cur ^ prev
            for pin in range(self.ports):
                if changed >> pin & 1:
                    for fn in self._listeners:
                        fn(stamp, pin, bool(cur >> pin & 1))
            self.log.debug("notification %s (arrived at %d ns)", m[0].strip().decode("ascii"), stamp)
            buf = buf[: m.start()] + buf[m.end():]
        return buf

    # --- commands -----------------------------------------------------------------------
    def command(self, text: str) -> str:
        """Send one command; return its reply text ('' when it has none)."""
        with self._cmd_lock:
            while not self._replies.empty():
                self._replies.get_nowait()
            t0 = time.monotonic_ns()
            try:
                self.ser.write(text.encode("ascii") + b"\r")
            except (serial.SerialException, OSError) as exc:
                self.trace(text, None, t0, failed=str(exc))
                raise InstrumentError(f"{self.name}: cannot send {text!r} ({exc})") from None
            try:
                raw = self._replies.get(timeout=self.timeout_s)
            except queue.Empty:
                why = f" (port: {self.gone})" if self.gone else ""
                self.trace(text, None, t0, failed=f"no prompt within {self.timeout_s} s{why}")
                raise InstrumentError(f"{self.name}: no prompt after {text!r} within {self.timeout_s} s{why}") from None
        body = raw.decode("ascii", errors="replace")
        self.trace(text, body, t0)
        if not body.startswith(text):
            raise InstrumentError(f"{self.name}: expected the echo of {text!r}, got {body!r}")
        lines = [x for x in re.split(r"[\r\n]+", body[len(text):]) if x.strip()]
        return lines[0].strip() if lines else ""

    def pin_name(self, pin: int) -> str:
        if not 0 <= pin < self.ports:
            raise InstrumentError(f"{self.name}: no pin {pin} on a {self.ports}-pin module")
        return f"{pin:02d}" if self.ports > 32 else DIGITS[pin]

    def version(self) -> str:
        return self.command("ver")

    def identity(self) -> str:
        """The module's 8-character id (`id get`) and firmware version (`ver`)."""
        return f"Numato,{self.ports}-channel,{self.command('id get')},{self.version()}"

    def set(self, pin: int, level: bool) -> int:
        name = self.pin_name(pin)
        t = time.monotonic_ns()
        self.command(f"gpio {'set' if level else 'clear'} {name}")
        return t

    def read(self, pin: int) -> bool:
        reply = self.command(f"gpio read {self.pin_name(pin)}")
        if reply not in ("0", "1"):
            raise InstrumentError(f"{self.name}: gpio read gave {reply!r}, expected 0 or 1")
        return reply == "1"

    def readall(self) -> int:
        reply = self.command("gpio readall")
        try:
            return int(reply, 16)
        except ValueError:
            raise InstrumentError(f"{self.name}: gpio readall gave {reply!r}") from None

    def set_directions(self, inputs: int) -> None:
        self.command(f"gpio iomask {(1 << self.ports) - 1:0{self.width}X}")
        self.command(f"gpio iodir {inputs:0{self.width}X}")

    def watch(self, listener: EdgeListener) -> None:
        self._listeners.append(listener)
        reply = self.command("gpio notify on")
        if reply != "gpio notify enabled":
            raise InstrumentError(f"{self.name}: cannot enable notifications ({reply!r})")

    def close(self) -> None:
        if self._stop.is_set():
            return
        self._stop.set()
        self._thread.join(timeout=1)
        with contextlib.suppress(serial.SerialException, OSError):
            self.ser.close()
        self.log.info("closed")
