"""Linux GPIO character device through libgpiod's Python binding (v2 API), for a rig built on a
single-board computer. Edges are timestamped by the kernel (CLOCK_MONOTONIC ns)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

from bwclab.rig.drivers.base import Driver
from bwclab.rig.interfaces import DigitalOutput, EdgeListener, EdgeReporter, Identified, InstrumentError


class GpiodLines(Driver):
    """`outputs` and `inputs` are line offsets on `chip` (a path like /dev/gpiochip0). `ports`, the line count
    the bench file gives, is taken for the station's one way of opening an adapter: the bench file already
    checks every offset against it."""

    provides = (DigitalOutput, EdgeReporter, Identified)
    driver_name = "gpiod"

    def __init__(self, chip: str, outputs: list[int], inputs: list[int], ports: int | None = None,
                 gpiod: Any = None) -> None:
        self.name_log(chip)
        if gpiod is None:
            try:
                import gpiod as gpiod_module
            except ImportError:
                raise InstrumentError("the gpiod Python package is not installed (pip install gpiod)") from None
            gpiod = gpiod_module
        self.gpiod = gpiod
        ls = gpiod.LineSettings
        config = {}
        if outputs:
            config[tuple(outputs)] = ls(direction=gpiod.line.Direction.OUTPUT, output_value=gpiod.line.Value.INACTIVE)
        if inputs:
            config[tuple(inputs)] = ls(direction=gpiod.line.Direction.INPUT, edge_detection=gpiod.line.Edge.BOTH,
                                       event_clock=gpiod.line.Clock.MONOTONIC)
        try:
            self.request = gpiod.request_lines(chip, consumer="bwclab-rig", config=config)
        except OSError as exc:
            raise InstrumentError(f"gpiod {chip}: cannot request lines {sorted(config)} ({exc})") from None
        self.chip = chip
        self.outputs, self.inputs = set(outputs), set(inputs)
        self._listeners: list[EdgeListener] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.log.info("requested outputs %s, inputs %s", sorted(outputs), sorted(inputs))

    def identity(self) -> str:
        return f"gpiod,{self.chip},,"

    def set(self, pin: int, level: bool) -> int:
        if pin not in self.outputs:
            raise InstrumentError(f"gpiod: line {pin} is not requested as an output")
        value = self.gpiod.line.Value.ACTIVE if level else self.gpiod.line.Value.INACTIVE
        what = f"set line {pin} {'high' if level else 'low'}"
        t = time.monotonic_ns()
        try:
            self.request.set_value(pin, value)
        except OSError as exc:
            self.trace(what, None, t, failed=str(exc))
            raise InstrumentError(f"gpiod {self.chip}: cannot {what} ({exc})") from None
        self.trace(what, None, t)
        return t

    def read(self, pin: int) -> bool:
        t = time.monotonic_ns()
        try:
            high = bool(self.request.get_value(pin) == self.gpiod.line.Value.ACTIVE)
        except OSError as exc:
            self.trace(f"read line {pin}", None, t, failed=str(exc))
            raise InstrumentError(f"gpiod {self.chip}: cannot read line {pin} ({exc})") from None
        self.trace(f"read line {pin}", "high" if high else "low", t)
        return high

    def watch(self, listener: EdgeListener) -> None:
        self._listeners.append(listener)
        if self._thread is None:
            self._thread = threading.Thread(target=self._events, name="gpiod-events", daemon=True)
            self._thread.start()

    def poll_once(self, timeout_s: float = 0.1) -> int:
        """Deliver pending edge events to the listeners; return how many."""
        if not self.request.wait_edge_events(timedelta(seconds=timeout_s)):
            return 0
        events = self.request.read_edge_events()
        rising = self.gpiod.EdgeEvent.Type.RISING_EDGE
        for ev in events:
            self.log.debug("edge: line %d %s at %d ns (kernel)", ev.line_offset,
                           "rising" if ev.event_type == rising else "falling", ev.timestamp_ns)
            for fn in self._listeners:
                fn(int(ev.timestamp_ns), int(ev.line_offset), ev.event_type == rising)
        return len(events)

    def _events(self) -> None:
        while not self._stop.is_set():
            self.poll_once()

    def close(self) -> None:
        if self._stop.is_set():
            return
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1)
        self.request.release()
        self.log.info("lines released")
