"""Keysight E36313A supply through pyvisa (docs/protocols/e36300-psu.md)."""

from __future__ import annotations

from bwclab.rig.drivers.visa import VisaDriver
from bwclab.rig.interfaces import Identified, InstrumentError, PowerSwitch


class E36300Supply(VisaDriver):
    provides = (PowerSwitch, Identified)
    driver_name = "e36300"
    role = "psu"

    def power(self, channel: int, on: bool) -> None:
        self.link.write(f"OUTPut {'ON' if on else 'OFF'},(@{channel})")
        state = self.link.query(f"OUTPut? (@{channel})")
        if state != ("1" if on else "0"):
            raise InstrumentError(f"psu: output {channel} reads {state!r} after switching it {'on' if on else 'off'}",
                                  device="psu")
        self.log.info("output %d switched %s", channel, "on" if on else "off")

    def measure(self, channel: int) -> tuple[float, float]:
        try:
            volts = float(self.link.query(f"MEASure:VOLTage? (@{channel})"))
            amps = float(self.link.query(f"MEASure:CURRent? (@{channel})"))
        except ValueError as exc:
            raise InstrumentError(f"psu: output {channel} measurement unreadable ({exc})", device="psu") from None
        return volts, amps
