"""Open an instrument with pyvisa's pure-Python backend."""

from __future__ import annotations

import contextlib
from typing import Any

import pyvisa

from rig.interfaces import DriverError


def open_instrument(resource: str, read_termination: str, timeout_ms: int = 3000) -> Any:
    try:
        rm = pyvisa.ResourceManager("@py")
        return rm.open_resource(resource, read_termination=read_termination, write_termination=read_termination,
                                timeout=timeout_ms)
    except (pyvisa.Error, OSError, ValueError) as exc:
        raise DriverError(f"{resource}: cannot open ({exc})") from None


def query(inst: Any, text: str) -> str:
    try:
        return str(inst.query(text)).strip()
    except (pyvisa.Error, OSError) as exc:
        raise DriverError(f"{getattr(inst, 'resource_name', 'instrument')}: {text!r} failed ({exc})") from None


def write(inst: Any, text: str) -> None:
    try:
        inst.write(text)
    except (pyvisa.Error, OSError) as exc:
        raise DriverError(f"{getattr(inst, 'resource_name', 'instrument')}: {text!r} failed ({exc})") from None


def close_instrument(inst: Any) -> None:
    with contextlib.suppress(pyvisa.Error, OSError):  # already gone: nothing left to release
        inst.close()
