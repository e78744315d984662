"""Mini-Circuits RCDAT/RCnDAT attenuator, Telnet ASCII through pyvisa (docs/protocols/rcdat-attenuator.md)."""

from __future__ import annotations

from typing import Any

from rig.drivers.visa import close_instrument, open_instrument, query
from rig.interfaces import DriverError


class RcdatAttenuator:
    def __init__(self, resource: str | Any) -> None:
        self.inst = open_instrument(resource, "\r\n") if isinstance(resource, str) else resource

    def model(self) -> str:
        reply = query(self.inst, "MN?")
        if not reply.startswith("MN="):
            raise DriverError(f"attenuator: MN? gave {reply!r}")
        return reply[3:]

    def serial_number(self) -> str:
        reply = query(self.inst, "SN?")
        if not reply.startswith("SN="):
            raise DriverError(f"attenuator: SN? gave {reply!r}")
        return reply[3:]

    def attenuation(self, channel: int) -> float:
        reply = query(self.inst, f"CHAN:{channel}:ATT?")
        try:
            return float(reply)
        except ValueError:
            raise DriverError(f"attenuator: channel {channel} reads {reply!r}") from None

    def set_attenuation(self, channel: int, db: float) -> float:
        reply = query(self.inst, f"CHAN:{channel}:SETATT:{db:.2f}")
        if reply == "2":
            raise DriverError(f"attenuator: {db} dB is above channel {channel}'s range (it was set to its maximum)")
        if reply != "1":
            raise DriverError(f"attenuator: channel {channel} refused {db} dB (reply {reply!r})")
        return self.attenuation(channel)

    def close(self) -> None:
        close_instrument(self.inst)
