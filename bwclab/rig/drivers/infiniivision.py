"""Keysight InfiniiVision edge-to-edge delay through pyvisa (docs/protocols/infiniivision-scope.md)."""

from __future__ import annotations

import time
from typing import Any

from bwclab.rig.drivers.visa import VisaDriver
from bwclab.rig.interfaces import DelayMeter, Identified, InstrumentError

INVALID = 9.9e37
RECORD_POINTS = 4_000_000


class InfiniiVisionScope(VisaDriver):
    provides = (DelayMeter, Identified)
    driver_name = "infiniivision"
    role = "scope"

    def __init__(self, resource: str | Any) -> None:
        super().__init__(resource)
        self.window_s = 10.0

    def check_errors(self) -> None:
        errors = []
        for _ in range(32):
            reply = self.link.query(":SYSTem:ERRor?")
            if reply.startswith(("+0,", "0,")):
                break
            errors.append(reply)
        if errors:
            raise InstrumentError(f"scope: {'; '.join(errors)}", device="scope")

    def arm(self, source: int, rising: bool = True, window_s: float = 10.0) -> None:
        """Single acquisition triggered by `source`, trigger at the left, `window_s` on screen."""
        self.window_s = window_s
        self.link.write(f":TIMebase:RANGe {window_s:g};:TIMebase:REFerence LEFT")
        self.link.write(f":TRIGger:EDGE:SOURce CHANnel{source};:TRIGger:EDGE:SLOPe {'POS' if rising else 'NEG'}")
        self.link.write(":MEASure:DEFine DELay,+1,+1")
        self.link.query(":TER?")  # clear a stale trigger
        self.link.write(":SINGle")
        self.check_errors()

    @property
    def resolution_s(self) -> float:
        return self.window_s / RECORD_POINTS

    def delay(self, from_channel: int, to_channel: int, timeout_s: float) -> float | None:
        """Wait for the acquisition to complete; the delay in seconds, or None when an edge is missing."""
        deadline = time.monotonic() + timeout_s
        triggered = False
        while time.monotonic() < deadline:
            triggered = triggered or self.link.query(":TER?") == "+1"
            if triggered and self.link.query(":OPERegister:CONDition?") in ("+0", "0"):
                break
            time.sleep(0.05)
        else:
            return None
        reply = self.link.query(f":MEASure:DELay? CHANnel{from_channel},CHANnel{to_channel}")
        try:
            value = float(reply)
        except ValueError:
            raise InstrumentError(f"scope: delay reads {reply!r}", device="scope") from None
        return None if value >= INVALID / 10 else value
