"""A trigger emitter: fires on its input's rising edge and broadcasts its ID for a while.

The light-bar unit filters its 12 V input: a dip shorter than the filter is not a new edge. A rising
edge during a broadcast restarts it, or, on an emitter set to ignore it, changes nothing.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

from bwclab.emulator.loop import Loop, Timer, now_ns
from bwclab.emulator.truth import TruthLog

_seq = itertools.count(1)


@dataclass
class Broadcast:
    seq: int
    emitter: str
    emitter_id: str
    start_ns: int
    end_ns: int
    active: bool = True


class Emitter:
    def __init__(self, loop: Loop, name: str, kind: str, emitter_id: str, duration_s: float, filter_s: float,
                 truth: TruthLog, on_start: Callable[[Broadcast], None], on_end: Callable[[Broadcast], None],
                 restart: bool = True) -> None:
        self.loop, self.name, self.kind, self.emitter_id = loop, name, kind, emitter_id
        self.duration_ns = int(duration_s * 1e9)
        self.filter_ns = int(filter_s * 1e9) if kind == "light_bar" else 0
        self.restart = restart
        self.truth = truth
        self.on_start, self.on_end = on_start, on_end
        self.armed = True  # the input has been low long enough for a rise to count
        self._low_timer: Timer | None = None
        self.current: Broadcast | None = None
        self._end_timer: Timer | None = None

    def input_changed(self, level: bool, t_ns: int) -> None:
        if level:
            if self._low_timer is not None:
                self._low_timer.cancel()
                self._low_timer = None
                if not self.armed:
                    self.truth.log("dip_filtered", t_ns, emitter=self.name)
                    return
            if self.armed:
                self.armed = False
                self.fire(t_ns)
            return
        if self.filter_ns == 0:
            self.armed = True
        else:
            self._low_timer = self.loop.call_at(t_ns + self.filter_ns, self._low_confirmed)

    def _low_confirmed(self) -> None:
        self._low_timer = None
        self.armed = True

    def fire(self, t_ns: int) -> None:
        if self.current is not None:
            if not self.restart:
                self.truth.log("edge_ignored", t_ns, emitter=self.name, broadcast=self.current.seq)
                return
            self._end()
        b = Broadcast(next(_seq), self.name, self.emitter_id, t_ns, t_ns + self.duration_ns)
        self.current = b
        self.truth.log("broadcast_start", t_ns, emitter=self.name, id=self.emitter_id, broadcast=b.seq,
                       end_ns=b.end_ns)
        self._end_timer = self.loop.call_at(b.end_ns, self._end)
        self.on_start(b)

    def _end(self) -> None:
        b = self.current
        if b is None:
            return
        if self._end_timer is not None:
            self._end_timer.cancel()
        self.current = None
        b.active = False
        self.truth.log("broadcast_end", min(b.end_ns, now_ns()), emitter=self.name, broadcast=b.seq)
        self.on_end(b)
