"""A Keysight InfiniiVision oscilloscope, SCPI subset for an edge-to-edge delay (docs/protocols/infiniivision-scope.md).

Edges come from the emulator's own event times; a measurement is quantised to the sample
interval, the time base range over the record length.
"""

from __future__ import annotations

import functools
import re
from collections import deque

from bwclab.emulator.loop import Loop, Timer, now_ns
from bwclab.emulator.scpi import (
    DATA_OUT_OF_RANGE,
    ILLEGAL_VALUE,
    MAX_SUFFIX_DIGITS,
    ScpiDevice,
    ScpiError,
    number,
    sci,
)
from bwclab.emulator.truth import TruthLog
from bwclab.emulator.wire import Wire

RECORD_POINTS = 4_000_000
INVALID = "9.9E+37"  # what InfiniiVision returns for a measurement it cannot make
REFERENCE = {"LEFT": 0.1, "CENT": 0.5, "CENTER": 0.5, "RIGH": 0.9, "RIGHT": 0.9}
HISTORY_NS = 600 * 10**9
CHANNEL = re.compile(r"CHAN(?:NEL)?(\d+)")


class Oscilloscope:
    IDN = "KEYSIGHT TECHNOLOGIES,DSOX3024T,MY00000001,07.50.2021102830"

    def __init__(self, loop: Loop, probes: dict[int, Wire], truth: TruthLog) -> None:
        self.loop = loop
        self.truth = truth
        self.probes = probes
        self.edges: dict[int, deque[tuple[int, bool]]] = {ch: deque() for ch in range(1, 5)}
        for ch, wire in probes.items():
            wire.listeners.append(functools.partial(self._edge, ch))
        self.reset()
        d = self.scpi = ScpiDevice()
        d.plain("*IDN?", lambda: self.IDN)
        d.plain("*RST", self.reset)
        d.plain("*OPC?", lambda: "1")
        d.on("TRIGger:EDGE:SOURce", lambda n, a: self.set_source(a))
        d.plain("TRIGger:EDGE:SOURce?", lambda: f"CHAN{self.source}")
        d.on("TRIGger:EDGE:SLOPe", lambda n, a: self.set_slope(a))
        d.plain("TRIGger:EDGE:SLOPe?", lambda: "POS" if self.rising else "NEG")
        d.on("TIMebase:RANGe", lambda n, a: self.set_range(a))
        d.plain("TIMebase:RANGe?", lambda: sci(self.range_s))
        d.on("TIMebase:REFerence", lambda n, a: self.set_reference(a))
        d.plain("SINGle", lambda: self.arm(single=True))
        d.plain("RUN", lambda: self.arm(single=False))
        d.plain("STOP", self.halt)
        d.plain("TER?", self.read_ter)
        d.plain("OPERegister:CONDition?", lambda: "+8" if self.armed or self.capturing else "+0")
        d.on("MEASure:DEFine", lambda n, a: self.define(a))
        d.on("MEASure:DEFine?", lambda n, a: self.define_query(a))
        d.on("MEASure:DELay?", lambda n, a: self.delay(a))

    def handle(self, line: str) -> str | None:
        return self.scpi.handle(line)

    def reset(self) -> None:
        self.source, self.rising = 1, True
        self.range_s, self.reference = 10.0, 0.5
        self.edge_spec = (1, 1)  # DELay,+1,+1: first rising edge on each source
        self.armed = self.capturing = self.single = False
        self.ter = False
        self.window: tuple[int, int] | None = None
        self._done: Timer | None = None

    # --- acquisition --------------------------------------------------------------------
    def _edge(self, ch: int, level: bool, t_ns: int) -> None:
        q = self.edges[ch]
        q.append((t_ns, level))
        while q and q[0][0] < t_ns - HISTORY_NS:
            q.popleft()
        if self.armed and ch == self.source and level == self.rising:
            self.armed = False
            self.capturing = True
            self.ter = True
            before = int(self.range_s * self.reference * 1e9)
            after = int(self.range_s * 1e9) - before
            self.window = (t_ns - before, t_ns + after)
            self.truth.log("scope_trigger", t_ns, channel=ch)
            self._done = self.loop.call_at(t_ns + after, self._complete)

    def _complete(self) -> None:
        self.capturing = False
        if not self.single:
            self.armed = True

    def arm(self, single: bool) -> None:
        if self._done is not None:
            self._done.cancel()
        self.single = single
        self.armed, self.capturing = True, False

    def halt(self) -> None:
        self.armed = self.capturing = False
        if self._done is not None:
            self._done.cancel()

    def read_ter(self) -> str:
        was, self.ter = self.ter, False
        return "+1" if was else "+0"

    # --- settings -----------------------------------------------------------------------
    @staticmethod
    def _channel(arg: str) -> int:
        """`CHANnel<n>`, n = 1..4 (a choice of four, so any other is an illegal value); the digits are read as a
        number only once they are known to be few."""
        m = CHANNEL.fullmatch(arg.strip().upper())
        if m is None or len(m.group(1)) > MAX_SUFFIX_DIGITS or not 1 <= int(m.group(1)) <= 4:
            raise ScpiError(ILLEGAL_VALUE)
        return int(m.group(1))

    def set_source(self, arg: str) -> None:
        self.source = self._channel(arg)

    def set_slope(self, arg: str) -> None:
        a = arg.strip().upper()
        if a not in ("POS", "POSITIVE", "NEG", "NEGATIVE"):
            raise ScpiError(ILLEGAL_VALUE)
        self.rising = a.startswith("POS")

    def set_range(self, arg: str) -> None:
        self.range_s = number(arg, 20e-9, 500.0)

    def set_reference(self, arg: str) -> None:
        a = arg.strip().upper()
        if a not in REFERENCE:
            raise ScpiError(ILLEGAL_VALUE)
        self.reference = REFERENCE[a]

    def define(self, arg: str) -> None:
        parts = [p.strip() for p in arg.split(",")]
        if len(parts) != 3 or parts[0].upper() not in ("DEL", "DELAY"):
            raise ScpiError(ILLEGAL_VALUE)
        if len(parts[1]) > 6 or len(parts[2]) > 6:
            raise ScpiError(DATA_OUT_OF_RANGE)
        try:
            a, b = int(parts[1]), int(parts[2])
        except ValueError:
            raise ScpiError(ILLEGAL_VALUE) from None
        if a == 0 or b == 0 or abs(a) > 1000 or abs(b) > 1000:
            raise ScpiError(DATA_OUT_OF_RANGE)
        self.edge_spec = (a, b)

    def define_query(self, arg: str) -> str:
        if arg.strip().upper() not in ("DEL", "DELAY"):
            raise ScpiError(ILLEGAL_VALUE)
        return f"{self.edge_spec[0]:+d},{self.edge_spec[1]:+d}"

    # --- measurement --------------------------------------------------------------------
    def _nth_edge(self, ch: int, spec: int) -> int | None:
        if self.window is None:
            return None
        lo, hi = self.window
        want_rising = spec > 0
        count = 0
        for t, level in self.edges[ch]:
            if lo <= t <= hi and level == want_rising:
                count += 1
                if count == abs(spec):
                    return t
        return None

    def delay(self, arg: str) -> str:
        parts = [p for p in arg.split(",") if p.strip()]
        if len(parts) != 2:
            raise ScpiError(ILLEGAL_VALUE)
        a, b = self._channel(parts[0]), self._channel(parts[1])
        if self.capturing:
            return INVALID  # the acquisition is still running
        ta, tb = self._nth_edge(a, self.edge_spec[0]), self._nth_edge(b, self.edge_spec[1])
        if ta is None or tb is None:
            return INVALID
        dt_ns = self.range_s * 1e9 / RECORD_POINTS
        value = round((tb - ta) / dt_ns) * dt_ns / 1e9
        self.truth.log("scope_measure", now_ns(), delay_s=value, true_s=(tb - ta) / 1e9)
        return sci(value)
