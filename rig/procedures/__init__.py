"""The certification procedures, by the name a requirements file uses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rig.procedures import allowlist, buffer, console, coverage, group, latency, powercut, sleep, window

Runner = Callable[..., None]

PROCEDURES: dict[str, Runner] = {
    "latency": latency.run,
    "coverage": coverage.run,
    "window": window.run,
    "buffer": buffer.run,
    "group": group.run,
    "allowlist": allowlist.run,
    "powercut": powercut.run,
    "sleep": sleep.run,
    "console": console.run_console,
    "clock": console.run_clock,
}


def procedure_key(name: str, params: dict[str, Any]) -> str:
    return " ".join([name, *(f"{k}={params[k]}" for k in sorted(params))])
