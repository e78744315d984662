"""Scripted devices for driver unit tests: each expects exact commands and gives scripted replies."""

from __future__ import annotations

import threading
import time
from collections import deque


class ScriptedSerial:
    """A serial port that checks each write against a script and queues the scripted reply."""

    def __init__(self, script: list[tuple[bytes, bytes]], timeout: float = 0.02) -> None:
        self.script = deque(script)
        self.buf = bytearray()
        self.cond = threading.Condition()
        self.timeout = timeout
        self.closed = False
        self.unexpected: list[bytes] = []

    def write(self, data: bytes) -> int:
        if not self.script:
            self.unexpected.append(data)
            raise AssertionError(f"unexpected write {data!r}")
        expected, reply = self.script.popleft()
        if data != expected:
            self.unexpected.append(data)
            raise AssertionError(f"expected {expected!r}, got {data!r}")
        self.inject(reply)
        return len(data)

    def inject(self, data: bytes) -> None:
        with self.cond:
            self.buf += data
            self.cond.notify_all()

    def read(self, n: int = 1) -> bytes:
        with self.cond:
            if not self.buf:
                self.cond.wait(self.timeout)
            out = bytes(self.buf[:n])
            del self.buf[:n]
            return out

    def readline(self) -> bytes:
        deadline = time.monotonic() + self.timeout
        with self.cond:
            while b"\n" not in self.buf and time.monotonic() < deadline:
                self.cond.wait(deadline - time.monotonic())
            i = self.buf.find(b"\n")
            n = i + 1 if i >= 0 else len(self.buf)
            out = bytes(self.buf[:n])
            del self.buf[:n]
            return out

    @property
    def in_waiting(self) -> int:
        return len(self.buf)

    def reset_input_buffer(self) -> None:
        with self.cond:
            self.buf.clear()

    def close(self) -> None:
        self.closed = True

    def done(self) -> bool:
        return not self.script


class ScriptedInstrument:
    """A pyvisa resource: ('command', 'reply') pairs for queries, ('command', None) for writes."""

    resource_name = "scripted"

    def __init__(self, script: list[tuple[str, str | None]]) -> None:
        self.script = deque(script)

    def _next(self, text: str, query: bool) -> str | None:
        assert self.script, f"unexpected {text!r}"
        expected, reply = self.script.popleft()
        assert text == expected, f"expected {expected!r}, got {text!r}"
        assert (reply is not None) == query, f"{text!r}: query/write mismatch"
        return reply

    def query(self, text: str) -> str:
        return self._next(text, True) or ""

    def write(self, text: str) -> None:
        self._next(text, False)

    def done(self) -> bool:
        return not self.script
