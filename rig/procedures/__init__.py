"""The certification procedures, each declared once (`declare.Procedure`), by the name a spec uses."""

from __future__ import annotations

from typing import Any

from rig.procedures.allowlist import ALLOWLIST
from rig.procedures.buffer import BUFFER
from rig.procedures.console import CLOCK, CONSOLE
from rig.procedures.coverage import COVERAGE
from rig.procedures.declare import Procedure
from rig.procedures.group import GROUP
from rig.procedures.latency import LATENCY
from rig.procedures.powercut import POWERCUT
from rig.procedures.sleep import SLEEP
from rig.procedures.window import WINDOW

PROCEDURES: dict[str, Procedure[Any, Any, Any]] = {
    p.name: p for p in (LATENCY, COVERAGE, WINDOW, BUFFER, GROUP, ALLOWLIST, POWERCUT, SLEEP, CONSOLE, CLOCK)}
