"""What every driver shares: the interfaces it declares (checked when a bench file names it), its trace, and
closing as a context manager.

Each driver logs under `bwclab.drivers.<driver_name>.<device>` (labgrid's step tracing): every exchange with its
device at DEBUG (what was sent, what came back, when it left on the host's CLOCK_MONOTONIC, how long it took), and
its link's state changes at INFO (opened, closed, a session dropped or reopened, a port gone, a command sent
again, a supply output switched). docs/drivers.md explains how to write one.
"""

from __future__ import annotations

import logging
import time
from types import TracebackType
from typing import ClassVar, Self

LOGGER = "bwclab.drivers"


def device_logger(driver: str, device: str) -> logging.Logger:
    """The logger of one driver on one device; dots in a device's name (an IP address) would split the name."""
    return logging.getLogger(f"{LOGGER}.{driver}.{device.replace('.', '_')}")


class Driver:
    """Subclass it, set `driver_name` (the name the driver is registered under) and `provides` (the interfaces of
    bwclab/rig/interfaces.py it fills), call `name_log` when the device is known, `trace` after every exchange."""

    provides: ClassVar[tuple[type, ...]] = ()
    driver_name: ClassVar[str] = "driver"
    log: logging.Logger = logging.getLogger(LOGGER)

    def name_log(self, device: str) -> None:
        """Log as this driver on `device` (its port or resource) from now on."""
        self.log = device_logger(self.driver_name, device)

    def trace(self, sent: object, reply: object, t0_ns: int, failed: str = "") -> None:
        """One exchange at DEBUG: `sent` left at host `t0_ns`; `reply` is what came back (None: nothing was
        expected), `failed` why no reply was taken."""
        if not self.log.isEnabledFor(logging.DEBUG):
            return
        took_ms = (time.monotonic_ns() - t0_ns) / 1e6
        got = f"failed: {failed}" if failed else "(no reply expected)" if reply is None else repr(reply)
        self.log.debug("%r -> %s (sent at %d ns, %.3f ms)", sent, got, t0_ns, took_ms)

    def close(self) -> None:
        """Release the device; closing a closed driver does nothing."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
