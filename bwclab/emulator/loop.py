"""One thread, one selector, one timer heap: every emulated device runs on this loop.

Timers fire on time to well under a millisecond: the selector sleeps until shortly before
the next deadline and the loop spins the rest, because `select` rounds its timeout to whole
milliseconds. Host time is CLOCK_MONOTONIC in ns, the clock the truth log is written in.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import selectors
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

SPIN_NS = 1_500_000


def now_ns() -> int:
    return time.monotonic_ns()


@dataclass(order=True)
class Timer:
    at_ns: int
    seq: int
    fn: Callable[..., None] = field(compare=False)
    args: tuple[Any, ...] = field(compare=False, default=())
    cancelled: bool = field(compare=False, default=False)

    def cancel(self) -> None:
        self.cancelled = True


class Loop:
    def __init__(self) -> None:
        self.selector = selectors.DefaultSelector()
        self._timers: list[Timer] = []
        self._seq = itertools.count()
        self._calls: deque[tuple[Callable[..., None], tuple[Any, ...]]] = deque()
        self._calls_lock = threading.Lock()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self.selector.register(self._wake_r, selectors.EVENT_READ, self._drain_wake)
        self.stopping = False

    def call_at(self, at_ns: int, fn: Callable[..., None], *args: Any) -> Timer:
        t = Timer(at_ns, next(self._seq), fn, args)
        heapq.heappush(self._timers, t)
        return t

    def call_later(self, delay_s: float, fn: Callable[..., None], *args: Any) -> Timer:
        return self.call_at(now_ns() + int(delay_s * 1e9), fn, *args)

    def call_soon_threadsafe(self, fn: Callable[..., None], *args: Any) -> None:
        with self._calls_lock:
            self._calls.append((fn, args))
        self.wake()

    def wake(self) -> None:
        with contextlib.suppress(BlockingIOError, OSError):
            self._wake_w.send(b"\0")

    def stop(self) -> None:
        self.stopping = True
        self.wake()

    def add_reader(self, fileobj: Any, cb: Callable[[], None]) -> None:
        self.selector.register(fileobj, selectors.EVENT_READ, cb)

    def set_writer(self, fileobj: Any, read_cb: Callable[[], None], write_cb: Callable[[], None] | None) -> None:
        """Watch `fileobj` for writability too while `write_cb` is given."""
        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if write_cb else 0)
        self.selector.modify(fileobj, events, (read_cb, write_cb))

    def remove(self, fileobj: Any) -> None:
        with contextlib.suppress(KeyError, ValueError):
            self.selector.unregister(fileobj)

    def _drain_wake(self) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except (BlockingIOError, OSError):
            pass

    def run(self) -> None:
        while not self.stopping:
            self._poll_io(self._io_timeout())
            self._run_calls()
            self._run_due_timers()

    def _io_timeout(self) -> float | None:
        while self._timers and self._timers[0].cancelled:
            heapq.heappop(self._timers)
        if not self._timers:
            return None
        wait = self._timers[0].at_ns - now_ns() - SPIN_NS
        return max(wait / 1e9, 0.0)

    def _poll_io(self, timeout: float | None) -> None:
        for key, mask in self.selector.select(timeout):
            data = key.data
            if isinstance(data, tuple):
                read_cb, write_cb = data
                if mask & selectors.EVENT_WRITE and write_cb is not None:
                    write_cb()
                if mask & selectors.EVENT_READ:
                    read_cb()
            else:
                data()

    def _run_calls(self) -> None:
        while True:
            with self._calls_lock:
                if not self._calls:
                    return
                fn, args = self._calls.popleft()
            fn(*args)

    def _run_due_timers(self) -> None:
        while self._timers:
            head = self._timers[0]
            if head.cancelled:
                heapq.heappop(self._timers)
                continue
            remaining = head.at_ns - now_ns()
            if remaining > SPIN_NS:
                return
            if remaining > 0:
                if self.selector.select(0):
                    return  # serve I/O first; the spin resumes on the next turn
                continue
            heapq.heappop(self._timers)
            head.fn(*head.args)
