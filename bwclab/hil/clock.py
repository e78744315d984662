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
"""

from __future__ import annotations

import gc
import queue
import time
from dataclasses import dataclass

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
    def __init__(self, speed: float, window_start_s: float) -> None:
        super().__init__(initial_time=0.0, factor=1.0 / speed, strict=False)
        self.speed = speed
        self.window_start_s = window_start_s
        self.live = False
        self.inbox: queue.Queue[HostEvent] = queue.Queue()
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
        self.real_start = time.monotonic() + LEAD_S
        while not self.inbox.empty():  # anything the bench said before the window belongs to no replay
            self.inbox.get_nowait()

    # --- stepping -----------------------------------------------------------------------------
    def step(self) -> None:
        self.processed += 1
        evt_time = self.peek()
        if evt_time is Infinity:
            raise EmptySchedule
        if not self.live:
            if evt_time < self.window_start_s:
                Environment.step(self)
                return
            self._go_live()
        while True:
            wait = self.real_start + (self.peek() - self.env_start) * self.factor - LOOKAHEAD_S - time.monotonic()
            try:
                item = self.inbox.get(timeout=wait) if wait > 0 else self.inbox.get_nowait()
            except queue.Empty:
                break
            self._arrive(item)
        Environment.step(self)

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
