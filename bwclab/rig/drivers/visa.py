"""An instrument session through pyvisa's pure-Python backend.

Every failure (a timeout, a reset socket, a reply that is not text) is a DriverError naming the
instrument. After a failure the session is dropped and the next exchange opens a new one: a reply that
arrives late on the old connection can never be read as the answer to a later query. Every exchange is
traced in the log of the driver that owns the session.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any, ClassVar

import pyvisa

from bwclab.rig.drivers.base import Driver
from bwclab.rig.interfaces import InstrumentError

FAILURES = (pyvisa.Error, OSError, ValueError)


def resource_name(resource: str | Any, default: str = "instrument") -> str:
    """A VISA resource string as given; an object standing in for one (unit tests): its `resource_name`."""
    return resource if isinstance(resource, str) else str(getattr(resource, "resource_name", default))


class VisaLink:
    """`resource` is a VISA resource string, or (in unit tests) an object with query/write/close."""

    def __init__(self, resource: str | Any, termination: str, name: str, owner: Driver,
                 timeout_ms: int = 3000) -> None:
        self.name, self.termination, self.timeout_ms = name, termination, timeout_ms
        self.owner = owner
        self.resource = resource_name(resource, name)
        self._reopenable = isinstance(resource, str)
        self._inst: Any = None if self._reopenable else resource
        self._rm: Any = None
        self.reopened = 0
        self._session()

    def _session(self) -> Any:
        if self._inst is not None:
            return self._inst
        if not self._reopenable:
            raise InstrumentError(f"{self.name} ({self.resource}): the session is closed", device=self.name)
        try:
            self._rm = self._rm or pyvisa.ResourceManager("@py")
            self._inst = self._rm.open_resource(self.resource, read_termination=self.termination,
                                                write_termination=self.termination, timeout=self.timeout_ms)
        except FAILURES as exc:
            raise InstrumentError(f"{self.name} ({self.resource}): cannot open ({exc})", device=self.name) from None
        self.owner.log.info("session opened on %s", self.resource)
        return self._inst

    def _fail(self, text: str, exc: BaseException, t0_ns: int) -> InstrumentError:
        self.owner.trace(text, None, t0_ns, failed=f"{type(exc).__name__}: {exc}")
        if self._reopenable:
            with contextlib.suppress(*FAILURES):
                self._inst.close()
            self._inst = None
            self.reopened += 1
            self.owner.log.info("session dropped after %r failed; the next exchange opens a new one", text)
        return InstrumentError(f"{self.name} ({self.resource}): {text!r} failed ({type(exc).__name__}: {exc})",
                               device=self.name)

    def query(self, text: str) -> str:
        inst = self._session()
        t0 = time.monotonic_ns()
        try:
            reply = str(inst.query(text)).strip()
        except FAILURES as exc:
            raise self._fail(text, exc, t0) from None
        self.owner.trace(text, reply, t0)
        return reply

    def write(self, text: str) -> None:
        inst = self._session()
        t0 = time.monotonic_ns()
        try:
            inst.write(text)
        except FAILURES as exc:
            raise self._fail(text, exc, t0) from None
        self.owner.trace(text, None, t0)

    def close(self) -> None:
        """End the session for good: an exchange after this raises, never opens a new one."""
        self._reopenable = False
        if self._inst is not None:
            with contextlib.suppress(*FAILURES):
                self._inst.close()
            self._inst = None
            self.owner.log.info("session closed")
        if self._rm is not None:
            with contextlib.suppress(*FAILURES):
                self._rm.close()
            self._rm = None


class VisaDriver(Driver):
    """A driver whose instrument answers through a VisaLink: logged under its resource, its session ended with it.
    `role` names the instrument in errors (psu, scope, attenuator); `termination` ends its lines both ways."""

    role: ClassVar[str] = "instrument"
    termination: ClassVar[str] = "\n"

    def __init__(self, resource: str | Any) -> None:
        self.name_log(resource_name(resource, self.role))
        self.link = VisaLink(resource, self.termination, self.role, self)

    def identity(self) -> str:
        """The instrument's `*IDN?` (SCPI); an instrument that names itself otherwise overrides this."""
        return self.link.query("*IDN?")

    def close(self) -> None:
        self.link.close()
