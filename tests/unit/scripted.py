"""Scripted devices for driver unit tests (pymeasure's `expected_protocol`): each expects exact commands in order,
gives the scripted replies, and, used as a context manager, fails the test when the block ends with an exchange
still unused or after a command the script did not expect, even one the driver swallowed."""

from __future__ import annotations

import threading
import time
from collections import deque
from types import TracebackType
from typing import Self


class Script:
    """What both scripted devices share: the exchanges left, and the commands that did not match."""

    def __init__(self, script: list[tuple[object, object]]) -> None:
        self.script = deque(script)
        self.unexpected: list[str] = []

    def expect(self, sent: object) -> object:
        """The scripted reply to `sent`; AssertionError (recorded) when the script expects something else."""
        if not self.script:
            self.unexpected.append(f"{sent!r} after the script's end")
            raise AssertionError(f"unexpected {sent!r}: the script is used up")
        expected, reply = self.script[0]
        if sent != expected:
            self.unexpected.append(f"{sent!r} where the script expects {expected!r}")
            raise AssertionError(f"expected {expected!r}, got {sent!r}")
        self.script.popleft()
        return reply

    def check_used_up(self) -> None:
        assert not self.unexpected, f"commands the script did not expect: {'; '.join(self.unexpected)}"
        assert not self.script, f"{len(self.script)} scripted exchange(s) never happened, first {self.script[0]!r}"

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is None:  # the block's own failure says more than what it left unused
            self.check_used_up()


class ScriptedSerial(Script):
    """A serial port: each write must be the next scripted bytes, whose reply is then queued for reading;
    `inject` queues bytes the device sends unasked (notifications, events)."""

    def __init__(self, script: list[tuple[bytes, bytes]], timeout: float = 0.02) -> None:
        super().__init__(list(script))
        self.buf = bytearray()
        self.cond = threading.Condition()
        self.timeout = timeout
        self.closed = False

    def write(self, data: bytes) -> int:
        reply = self.expect(data)
        assert isinstance(reply, bytes)
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


class ScriptedInstrument(Script):
    """A pyvisa resource: ('command', 'reply') pairs for queries, ('command', None) for writes."""

    resource_name = "scripted"

    def __init__(self, script: list[tuple[str, str | None]]) -> None:
        super().__init__(list(script))
        self.closed = False

    def query(self, text: str) -> str:
        reply = self.expect(text)
        if reply is None:
            self.unexpected.append(f"{text!r} sent as a query, scripted as a write")
            raise AssertionError(f"{text!r} is scripted as a write, sent as a query")
        return str(reply)

    def write(self, text: str) -> None:
        if self.expect(text) is not None:
            self.unexpected.append(f"{text!r} sent as a write, scripted as a query")
            raise AssertionError(f"{text!r} is scripted as a query, sent as a write")

    def close(self) -> None:
        self.closed = True
