"""The replay's clock: SimPy's RealtimeEnvironment (non-strict), fast-forwarded to the replay window.

Before the window the shift runs as fast as it goes (nothing touches the bench). At the window's start
the clock ties simulated time to host CLOCK_MONOTONIC: simulated t happens at
`real_start + (t - env_start) * factor` on the host, `factor` = 1 / speed.

Each instant is computed `LOOKAHEAD_S` of host time early; a command to the bench waits for the instant's
due time (`due`) and leaves on it, so the simulation's own work at an instant does not make it late.
While it waits for the next event's time, the clock waits on its inbox instead of sleeping:
hardware events (indicator edges) that the drivers' threads put there, stamped with host monotonic
ns, are turned into SimPy events at the simulated time of their stamp and handed to the simulation
through a Store that a SimPy process reads. No SimPy call is made from another thread.

Ctrl-C while the clock runs is taken between two simulated instants (`ctrl_c_between_instants`): never in
the middle of a command to the bench, nor between an instant's path settings and its trigger lines, so
the bench is left in a state the replay can end cleanly. A second Ctrl-C before that interrupts at once.
"""

from __future__ import annotations

import contextlib
import gc
import queue
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import FrameType

import simpy
from simpy.core import EmptySchedule, Environment, Infinity
from simpy.rt import RealtimeEnvironment

LEAD_S = 0.2  # host seconds between the fast-forward's end and the window's first simulated second
LOOKAHEAD_S = 0.010
"""Host seconds ahead of its due time that an instant is computed: a command to the bench then waits for its
due time (`due`) and leaves on it, however long the simulation took to get there (up to this)."""


@dataclass(frozen=True)
class HostEvent:
    """Something the bench reported: host CLOCK_MONOTONIC ns, what (an input line) and its level."""

    t_ns: int
    line: str
    level: bool


class ReplayClock(RealtimeEnvironment):
    def __init__(self, speed: float, window_start_s: float,
                 host_clock: Callable[[], float] = time.monotonic) -> None:
        """`host_clock`: host CLOCK_MONOTONIC seconds, which the window is tied to and the stepping waits on (a test
        may give a clock of its own, with an inbox whose waits move it; `due` always waits on the real one)."""
        super().__init__(initial_time=0.0, factor=1.0 / speed, strict=False)
        self.host_clock = host_clock
        self.speed = speed
        self.window_start_s = window_start_s
        self.live = False
        # SimpleQueue: its put is safe in a signal handler, which may run while this thread is inside a get
        self.inbox: queue.SimpleQueue[HostEvent | None] = queue.SimpleQueue()  # None: wake up, see `interrupted`
        self.interrupted = False
        self.arrivals: simpy.Store = simpy.Store(self)
        self.processed = 0

    # --- the mapping between simulated time and host time ------------------------------------
    def host_ns(self, t_s: float) -> int:
        """The host monotonic ns at which simulated time `t_s` is due."""
        return int((self.real_start + (t_s - self.env_start) * self.factor) * 1e9)

    def sim_time(self, host_ns: int) -> float:
        return self.env_start + (host_ns / 1e9 - self.real_start) / self.factor

    def lateness_ms(self, host_ns: int, t_s: float | None = None) -> float:
        """How late host time `host_ns` is against simulated time `t_s` (default: now)."""
        return (host_ns - self.host_ns(self.now if t_s is None else t_s)) / 1e6

    def _go_live(self) -> None:
        # Everything the fast-forward built is collected once and frozen: in the window a collection scans only
        # what is new, instead of pausing the replay for milliseconds over the whole shift's objects.
        gc.collect()
        gc.freeze()
        self.live = True
        self.env_start = self.window_start_s
        self.real_start = self.host_clock() + LEAD_S
        while not self.inbox.empty():  # anything the bench said before the window belongs to no replay
            self.inbox.get_nowait()

    # --- stepping -----------------------------------------------------------------------------
    def step(self) -> None:
        self.processed += 1
        evt_time = self.peek()
        if evt_time is Infinity:
            raise EmptySchedule
        self._take_interrupt()
        if not self.live:
            if evt_time < self.window_start_s:
                Environment.step(self)
                return
            self._go_live()
        while True:
            wait = self.real_start + (self.peek() - self.env_start) * self.factor - LOOKAHEAD_S - self.host_clock()
            try:
                item = self.inbox.get(timeout=wait) if wait > 0 else self.inbox.get_nowait()
            except queue.Empty:
                break
            if item is None:
                self._take_interrupt()
                continue
            self._arrive(item)
        Environment.step(self)

    # --- Ctrl-C ---------------------------------------------------------------------------------
    def interrupt(self) -> None:
        """End the run at the next boundary between two simulated instants (safe in a signal handler)."""
        self.interrupted = True
        self.inbox.put(None)

    def _take_interrupt(self) -> None:
        if self.interrupted and self.peek() > self.now:  # every event of this instant has run
            raise KeyboardInterrupt

    @contextlib.contextmanager
    def ctrl_c_between_instants(self) -> Iterator[None]:
        """While in this block, Ctrl-C (SIGINT) interrupts the run between two instants; a second one at once.
        Only where Python's own Ctrl-C handler is in place, in the main thread (a process that ignores SIGINT
        keeps ignoring it)."""
        if (threading.current_thread() is not threading.main_thread()
                or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
            yield
            return

        def on_ctrl_c(signum: int, frame: FrameType | None) -> None:
            if self.interrupted:
                raise KeyboardInterrupt
            self.interrupt()

        previous = signal.signal(signal.SIGINT, on_ctrl_c)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)

    def due(self) -> None:
        """Wait until now's due host time (a command to the bench leaves on it): sleep, then spin the last 0.2 ms."""
        if not self.live:
            return
        deadline = self.host_ns(self.now)
        while (left := deadline - time.monotonic_ns()) > 0:
            if left > 200_000:
                time.sleep((left - 150_000) / 1e9)

    def close(self) -> None:
        """The window is over: the shift's objects are the collector's again."""
        gc.unfreeze()

    def _arrive(self, item: HostEvent) -> None:
        """Schedule a host event at the simulated time of its stamp (never in the past)."""
        delay = max(0.0, self.sim_time(item.t_ns) - self.now)

        def hand_on(e: simpy.Event) -> None:
            self.arrivals.put(e.value)

        self.timeout(delay, value=item).callbacks.append(hand_on)
