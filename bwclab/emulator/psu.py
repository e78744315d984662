"""A Keysight E36313A triple-output supply, SCPI subset (docs/protocols/e36300-psu.md)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bwclab.emulator.loop import now_ns
from bwclab.emulator.scpi import DATA_OUT_OF_RANGE, ScpiDevice, ScpiError, boolean, channel_list, number, sci
from bwclab.emulator.truth import TruthLog

RATINGS = {1: (6.18, 10.3), 2: (25.75, 1.03), 3: (25.75, 1.03)}  # volts, amps per output


@dataclass
class Output:
    volts: float = 5.0
    amps: float = 1.0
    on: bool = True


class PowerSupply:
    """Output N feeds the camera wired to it; `on_power(channel, powered, t_ns)` tells the bench."""

    IDN = "Keysight Technologies,E36313A,MY60000001,2.1.0-1.0.4-1.12"

    def __init__(self, truth: TruthLog, on_power: Callable[[int, bool, int], None],
                 load_amps: Callable[[int], float]) -> None:
        self.outputs = {ch: Output() for ch in RATINGS}
        self.selected = 1
        self.truth = truth
        self.on_power = on_power
        self.load_amps = load_amps
        d = self.scpi = ScpiDevice()
        d.plain("*IDN?", lambda: self.IDN)
        d.plain("*RST", self.reset)
        d.plain("*OPC?", lambda: "1")
        d.on("INSTrument:NSELect", lambda n, a: self.select(a))
        d.plain("INSTrument:NSELect?", lambda: str(self.selected))
        d.on("INSTrument[:SELect]", lambda n, a: self.select_name(a))
        d.plain("INSTrument[:SELect]?", lambda: f"CH{self.selected}")
        d.on("[SOURce]:VOLTage[:LEVel][:IMMediate][:AMPLitude]", lambda n, a: self.level(a, "volts", 0))
        d.on("[SOURce]:VOLTage[:LEVel][:IMMediate][:AMPLitude]?", lambda n, a: self.query(a, "volts"))
        d.on("[SOURce]:CURRent[:LEVel][:IMMediate][:AMPLitude]", lambda n, a: self.level(a, "amps", 1))
        d.on("[SOURce]:CURRent[:LEVel][:IMMediate][:AMPLitude]?", lambda n, a: self.query(a, "amps"))
        d.on("OUTPut[:STATe]", lambda n, a: self.output(a))
        d.on("OUTPut[:STATe]?", lambda n, a: self.output_query(a))
        d.on("MEASure[:SCALar]:VOLTage[:DC]?", lambda n, a: self.measure(a, volts=True))
        d.on("MEASure[:SCALar]:CURRent[:DC]?", lambda n, a: self.measure(a, volts=False))

    def handle(self, line: str) -> str | None:
        return self.scpi.handle(line)

    def powered(self, ch: int) -> bool:
        o = self.outputs[ch]
        return o.on and o.volts >= 3.5

    def _changed(self, before: dict[int, bool]) -> None:
        t = now_ns()
        for ch, was in before.items():
            now = self.powered(ch)
            if now != was:
                self.truth.log("power", t, channel=ch, on=int(now), volts=self.outputs[ch].volts)
                self.on_power(ch, now, t)

    def _snapshot(self) -> dict[int, bool]:
        return {ch: self.powered(ch) for ch in self.outputs}

    def reset(self) -> None:
        before = self._snapshot()
        for o in self.outputs.values():
            o.volts, o.amps, o.on = 0.0, 1.0, False  # as *RST leaves the instrument: outputs off
        self.selected = 1
        self._changed(before)

    def select(self, arg: str) -> None:
        self.selected = round(number(arg, 1, 3))  # an integer parameter given a decimal is rounded (IEEE 488.2)

    def select_name(self, arg: str) -> None:
        a = arg.strip().upper()
        if a not in ("CH1", "CH2", "CH3", "P6V", "P25V", "N25V"):
            raise ScpiError(DATA_OUT_OF_RANGE)
        self.selected = {"P6V": 1, "P25V": 2, "N25V": 3}.get(a) or int(a[2])

    def _targets(self, arg: str) -> tuple[str, list[int]]:
        value, _, chans = arg.partition(",")
        listed = channel_list(chans, 3)
        return value, listed if listed is not None else [self.selected]

    def level(self, arg: str, what: str, index: int) -> None:
        value, chans = self._targets(arg)
        levels = {ch: number(value, 0.0, RATINGS[ch][index]) for ch in chans}  # all or nothing: checked first
        before = self._snapshot()
        for ch, level in levels.items():
            setattr(self.outputs[ch], what, level)
        self._changed(before)

    def query(self, arg: str, what: str) -> str:
        chans = channel_list(arg, 3) or [self.selected]
        return ",".join(sci(getattr(self.outputs[ch], what)) for ch in chans)

    def output(self, arg: str) -> None:
        value, chans = self._targets(arg)
        state = boolean(value)
        before = self._snapshot()
        for ch in chans:
            self.outputs[ch].on = state
        self._changed(before)

    def output_query(self, arg: str) -> str:
        chans = channel_list(arg, 3) or [self.selected]
        return ",".join("1" if self.outputs[ch].on else "0" for ch in chans)

    def measure(self, arg: str, volts: bool) -> str:
        chans = channel_list(arg, 3) or [self.selected]
        out = []
        for ch in chans:
            o = self.outputs[ch]
            if volts:
                out.append(sci(o.volts if o.on else 0.0))
            else:
                out.append(sci(min(self.load_amps(ch), o.amps) if o.on else 0.0))
        return ",".join(out)
