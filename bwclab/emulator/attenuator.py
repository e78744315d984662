"""A Mini-Circuits RCDAT-family programmable attenuator, Telnet ASCII (docs/protocols/rcdat-attenuator.md)."""

from __future__ import annotations

import re
from collections.abc import Callable

from bwclab.emulator.loop import now_ns
from bwclab.emulator.truth import TruthLog

OK, FAILED, CLIPPED = "1", "0", "2"
NUMBER = r"(-?\d{1,6}(?:\.\d{0,6})?|-?\.\d{1,6})"  # bounded: no line can make a huge number


class Attenuator:
    def __init__(self, model: str, serial: str, channels: int, max_db: float, step_db: float, start_db: float,
                 truth: TruthLog, on_change: Callable[[int, float, int], None]) -> None:
        self.model, self.serial = model, serial
        self.max_db, self.step_db = max_db, step_db
        self.values = {ch: self._quantize(min(start_db, max_db)) for ch in range(1, channels + 1)}
        self.truth = truth
        self.on_change = on_change

    def _quantize(self, db: float) -> float:
        return round(db / self.step_db) * self.step_db

    def set(self, channel: int, db: float) -> str:
        if db < 0:
            return FAILED
        clipped = db > self.max_db
        value = self._quantize(min(db, self.max_db))
        t = now_ns()
        if value != self.values[channel]:
            self.values[channel] = value
            self.truth.log("attenuation", t, channel=channel, db=value)
            self.on_change(channel, value, t)
        return CLIPPED if clipped else OK

    def handle(self, line: str) -> str:
        cmd = line.strip().lstrip(":").upper()
        if cmd == "MN?":
            return f"MN={self.model}"
        if cmd == "SN?":
            return f"SN={self.serial}"
        if cmd == "ATT?":
            return " ".join(f"{v:g}" for v in self.values.values())
        if m := re.fullmatch(r"SETATT=" + NUMBER, cmd):
            replies = [self.set(ch, float(m.group(1))) for ch in self.values]
            return CLIPPED if CLIPPED in replies else replies[0]
        if m := re.fullmatch(r"CHAN:(\d{1,3}):SETATT:" + NUMBER, cmd):
            ch = int(m.group(1))
            return self.set(ch, float(m.group(2))) if ch in self.values else FAILED
        if m := re.fullmatch(r"CHAN:(\d{1,3}):ATT\?", cmd):
            ch = int(m.group(1))
            return f"{self.values[ch]:g}" if ch in self.values else FAILED
        return FAILED

