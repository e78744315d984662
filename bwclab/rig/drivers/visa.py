"""An instrument session through pyvisa's pure-Python backend.

Every failure (a timeout, a reset socket, a reply that is not text) is a DriverError naming the
instrument. After a failure the session is dropped and the next exchange opens a new one: a reply that
arrives late on the old connection can never be read as the answer to a later query.
"""

from __future__ import annotations

import contextlib
from typing import Any

import pyvisa

from bwclab.rig.interfaces import InstrumentError

FAILURES = (pyvisa.Error, OSError, ValueError)


class VisaLink:
    """`resource` is a VISA resource string, or (in unit tests) an object with query/write/close."""

    def __init__(self, resource: str | Any, termination: str, name: str, timeout_ms: int = 3000) -> None:
        self.name, self.termination, self.timeout_ms = name, termination, timeout_ms
        self.resource = resource if isinstance(resource, str) else getattr(resource, "resource_name", name)
        self._reopenable = isinstance(resource, str)
        self._inst: Any = None if self._reopenable else resource
        self._rm: Any = None
        self.reopened = 0
        self._session()

    def _session(self) -> Any:
        if self._inst is not None:
            return self._inst
        if not self._reopenable:
            raise InstrumentError(f"{self.name} ({self.resource}): the session is closed")
        try:
            self._rm = self._rm or pyvisa.ResourceManager("@py")
            self._inst = self._rm.open_resource(self.resource, read_termination=self.termination,
                                                write_termination=self.termination, timeout=self.timeout_ms)
        except FAILURES as exc:
            raise InstrumentError(f"{self.name} ({self.resource}): cannot open ({exc})") from None
        return self._inst

    def _fail(self, text: str, exc: BaseException) -> InstrumentError:
        if self._reopenable:
            with contextlib.suppress(*FAILURES):
                self._inst.close()
            self._inst = None
            self.reopened += 1
        return InstrumentError(f"{self.name} ({self.resource}): {text!r} failed ({type(exc).__name__}: {exc})")

    def query(self, text: str) -> str:
        inst = self._session()
        try:
            return str(inst.query(text)).strip()
        except FAILURES as exc:
            raise self._fail(text, exc) from None

    def write(self, text: str) -> None:
        inst = self._session()
        try:
            inst.write(text)
        except FAILURES as exc:
            raise self._fail(text, exc) from None

    def close(self) -> None:
        if self._inst is not None:
            with contextlib.suppress(*FAILURES):
                self._inst.close()
            self._inst = None
