"""Mini-Circuits RCDAT/RCnDAT attenuator, Telnet ASCII through pyvisa (docs/protocols/rcdat-attenuator.md)."""

from __future__ import annotations

from typing import Any

from bwclab.rig.drivers.visa import VisaDriver
from bwclab.rig.interfaces import Identified, InstrumentError, PathLossSetter


class RcdatAttenuator(VisaDriver):
    provides = (PathLossSetter, Identified)
    driver_name = "rcdat"
    role = "attenuator"
    termination = "\r\n"

    def __init__(self, resource: str | Any, step_db: float = 0.25) -> None:
        super().__init__(resource)
        self.step_db = step_db

    def model(self) -> str:
        reply = self.link.query("MN?")
        if not reply.startswith("MN="):
            raise InstrumentError(f"attenuator: MN? gave {reply!r}", device="attenuator")
        return reply[3:]

    def identity(self) -> str:
        return f"Mini-Circuits,{self.model()},{self.serial_number()},"

    def serial_number(self) -> str:
        reply = self.link.query("SN?")
        if not reply.startswith("SN="):
            raise InstrumentError(f"attenuator: SN? gave {reply!r}", device="attenuator")
        return reply[3:]

    def attenuation(self, channel: int) -> float:
        reply = self.link.query(f"CHAN:{channel}:ATT?")
        try:
            return float(reply)
        except ValueError:
            raise InstrumentError(f"attenuator: channel {channel} reads {reply!r}", device="attenuator") from None

    def set_attenuation(self, channel: int, db: float, verify: bool = True) -> float:
        """Set a channel and read it back: a reply out of step (or a setting that did not take) is an error.
        Unverified: the status reply alone, and the setting to the device's step (the caller reads it back)."""
        reply = self.link.query(f"CHAN:{channel}:SETATT:{db:.2f}")
        if reply == "2":
            raise InstrumentError(f"attenuator: {db} dB is above channel {channel}'s range (it was set to its maximum)",
                                  device="attenuator")
        if reply != "1":
            raise InstrumentError(f"attenuator: channel {channel} refused {db} dB (reply {reply!r})",
                                  device="attenuator")
        if not verify:
            return round(round(db, 2) / self.step_db) * self.step_db
        applied = self.attenuation(channel)
        if abs(applied - db) > self.step_db / 2 + 1e-9:
            raise InstrumentError(f"attenuator: channel {channel} reads {applied} dB after setting {db:.2f} dB",
                                  device="attenuator")
        return applied
