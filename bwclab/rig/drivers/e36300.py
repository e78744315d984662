"""Keysight E36313A supply through pyvisa (docs/protocols/e36300-psu.md)."""

from __future__ import annotations

from typing import Any

from bwclab.rig.drivers.visa import VisaLink
from bwclab.rig.interfaces import InstrumentError


class E36300Supply:
    def __init__(self, resource: str | Any) -> None:
        self.link = VisaLink(resource, "\n", "psu")

    def identity(self) -> str:
        return self.link.query("*IDN?")

    def power(self, channel: int, on: bool) -> None:
        self.link.write(f"OUTPut {'ON' if on else 'OFF'},(@{channel})")
        state = self.link.query(f"OUTPut? (@{channel})")
        if state != ("1" if on else "0"):
            raise InstrumentError(f"psu: output {channel} reads {state!r} after switching it {'on' if on else 'off'}")

    def measure(self, channel: int) -> tuple[float, float]:
        try:
            volts = float(self.link.query(f"MEASure:VOLTage? (@{channel})"))
            amps = float(self.link.query(f"MEASure:CURRent? (@{channel})"))
        except ValueError as exc:
            raise InstrumentError(f"psu: output {channel} measurement unreadable ({exc})") from None
        return volts, amps

    def close(self) -> None:
        self.link.close()
