"""The hardware a department fields, as the rest of a shift reaches it: a trigger going off, a broadcast reaching a
camera, a hand on a camera's button. The model's is `ModelHardware`; a hardware-in-the-loop replay swaps in its
bench's (bwclab/hil/replay.py). Both are `Hardware`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from bwclab.sim.broadcast import Airwaves, ShiftBroadcast
from bwclab.sim.cameras import Cameras
from bwclab.sim.component import Component, Connection
from bwclab.sim.incident import Incident

EMITTER_PREFIX = {"taser": "TSR", "holster": "HOL", "light_bar": "VEH", "door": "VEH", "siren": "VEH", "speed": "VEH",
                  "crash": "VEH"}  # an emitter's ID: prefix, then its holder (a cruiser's inputs share its in-car unit)


@runtime_checkable
class Hardware(Protocol):
    def fire(self, kind: str, body: int, emitter_id: str, incident: int | None) -> None:
        """A trigger of this kind, carried by this body, went off (for this incident, if any)."""

    def deliver(self, b: ShiftBroadcast, camera: int, t_entry: float, dist: float) -> None:
        """A camera discovered a broadcast (it came within range at `t_entry`, `dist` from the emitter then)."""

    def press(self, officer: int, incident: int) -> None:
        """An officer starts its body camera by hand, on a call."""


class ModelHardware(Component):
    """The model's triggers and cameras: a trigger of a kind the department fields broadcasts on the airwaves; a
    reception and a press go to the model's cameras."""

    airwaves = Connection[Airwaves]()
    cameras = Connection[Cameras]()
    incidents = Connection[Sequence[Incident]]()  # a broadcast is listed on its incident

    def __init__(self, fielded: Sequence[str]) -> None:
        self.fielded = frozenset(fielded)  # the trigger kinds the department fields (`signal.triggers`)

    def fire(self, kind: str, body: int, emitter_id: str, incident: int | None) -> None:
        if kind not in self.fielded:
            return
        b = self.airwaves.start(body, emitter_id, kind, incident)
        if incident is not None:
            self.incidents[incident].broadcasts.append(b.number)

    def deliver(self, b: ShiftBroadcast, camera: int, t_entry: float, dist: float) -> None:
        self.cameras.hear(b, camera, t_entry, dist)

    def press(self, officer: int, incident: int) -> None:
        self.cameras.press(officer, incident)
