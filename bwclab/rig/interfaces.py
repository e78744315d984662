"""The small interfaces procedures talk to; drivers fill them (labgrid's 'protocols')."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable


class DriverError(Exception):
    """A device did not answer as its protocol says: the message names the device and what happened.

    Raise one of the two subclasses: whose fault it was is decided by the type, never by the message's wording.
    `device` names the device that failed (an instrument's role, a camera's serial) when the raiser knows it."""

    def __init__(self, message: str, device: str = "") -> None:
        super().__init__(message)
        self.device = device


class InstrumentError(DriverError):
    """A bench instrument failed (GPIO adapter, attenuator, scope, supply): the bench's fault, never the camera's."""


class CameraError(DriverError):
    """The camera under test failed (its console, its dock, its clips): the camera's fault."""


class ConsoleRefused(CameraError):
    """The camera answered a console command with a refusal its state explains (`ERR 409`: STOP while not
    recording, START while recording), as its protocol says it should: the command changed nothing."""


class BenchLost(Exception):
    """The bench itself is gone (an emulated bench's process died): no further trial can be made this session."""


@runtime_checkable
class Identified(Protocol):
    def identity(self) -> str:
        """How the device names itself: maker, model, serial, firmware (an instrument's `*IDN?`)."""
        ...


class DigitalOutput(Protocol):
    def set(self, pin: int, level: bool) -> int:
        """Drive `pin`; return the host CLOCK_MONOTONIC ns just before the command left."""
        ...


EdgeListener = Callable[[int, int, bool], None]  # (host ns, pin, level)


class EdgeReporter(Protocol):
    def watch(self, listener: EdgeListener) -> None: ...


class PathLossSetter(Protocol):
    def set_attenuation(self, channel: int, db: float, verify: bool = True) -> float:
        """Set a channel; return the attenuation the device actually applied (read back unless `verify` is false:
        then the setting the device acknowledged, to its step, and the caller reads it back later)."""
        ...

    def attenuation(self, channel: int) -> float:
        """What a channel is set to now."""
        ...


class PowerSwitch(Protocol):
    def power(self, channel: int, on: bool) -> None: ...


class ConsoleLink(Protocol):
    """A camera's console (docs/protocols/camera-console.md)."""

    noise_bytes: int
    retried: int
    stale: int

    def command(self, text: str) -> str: ...

    def fields(self, text: str) -> dict[str, str]: ...

    def identity(self) -> dict[str, str]: ...

    def state(self) -> str: ...

    def clock_offset_ns(self, samples: int = 5) -> tuple[int, int]: ...

    def wait_event(self, prefix: str, timeout_s: float) -> tuple[int, str] | None: ...

    def close(self) -> None: ...


class DelayMeter(Protocol):
    def arm(self, source: int, rising: bool = True, window_s: float = 10.0) -> None: ...

    def delay(self, from_channel: int, to_channel: int, timeout_s: float) -> float | None: ...

    @property
    def resolution_s(self) -> float: ...
