"""Keysight E36313A supply through pyvisa (docs/protocols/e36300-psu.md)."""

from __future__ import annotations

from typing import Any

from rig.drivers.visa import close_instrument, open_instrument, query, write
from rig.interfaces import DriverError


class E36300Supply:
    def __init__(self, resource: str | Any) -> None:
        self.inst = open_instrument(resource, "\n") if isinstance(resource, str) else resource

    def identity(self) -> str:
        return query(self.inst, "*IDN?")

    def power(self, channel: int, on: bool) -> None:
        write(self.inst, f"OUTPut {'ON' if on else 'OFF'},(@{channel})")
        state = query(self.inst, f"OUTPut? (@{channel})")
        if state != ("1" if on else "0"):
            raise DriverError(f"psu: output {channel} reads {state!r} after switching it {'on' if on else 'off'}")

    def measure(self, channel: int) -> tuple[float, float]:
        try:
            volts = float(query(self.inst, f"MEASure:VOLTage? (@{channel})"))
            amps = float(query(self.inst, f"MEASure:CURRent? (@{channel})"))
        except ValueError as exc:
            raise DriverError(f"psu: output {channel} measurement unreadable ({exc})") from None
        return volts, amps

    def close(self) -> None:
        close_instrument(self.inst)
