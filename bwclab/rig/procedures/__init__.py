"""The certification procedures, each declared once (`declare.Procedure`), by the name a spec uses."""

from __future__ import annotations

from typing import Any

from bwclab.rig.procedures.allowlist import ALLOWLIST
from bwclab.rig.procedures.buffer import BUFFER
from bwclab.rig.procedures.console import CLOCK, CONSOLE
from bwclab.rig.procedures.coverage import COVERAGE
from bwclab.rig.procedures.declare import Procedure
from bwclab.rig.procedures.group import GROUP
from bwclab.rig.procedures.latency import LATENCY
from bwclab.rig.procedures.powercut import POWERCUT
from bwclab.rig.procedures.sleep import SLEEP
from bwclab.rig.procedures.window import WINDOW

PROCEDURES: dict[str, Procedure[Any, Any, Any]] = {
    p.name: p for p in (LATENCY, COVERAGE, WINDOW, BUFFER, GROUP, ALLOWLIST, POWERCUT, SLEEP, CONSOLE, CLOCK)}
