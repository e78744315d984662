"""A cruiser: its in-car system's inputs (the light bar, the driver's door, the siren, a speed threshold, a crash
sensor), each a vehicle trigger, and an in-car (dash) camera wired to them."""

from __future__ import annotations

from collections.abc import Callable

from bwclab.camera.bodycam import BodyCamera
from bwclab.core.triggers import TriggerKind

LightBar = Callable[["Cruiser", int | None], None]
"""light_bar(cruiser, incident): the light bar went on (the department decides what that sets off)."""

VehicleTrigger = Callable[["Cruiser", TriggerKind, int | None], None]
"""vehicle(cruiser, kind, incident): another of the car's inputs went off (door, siren, speed, crash)."""


def _no_trigger(_cruiser: Cruiser, _kind: TriggerKind, _incident: int | None) -> None:
    return None


class Cruiser:
    def __init__(self, index: int, body: int, dash: BodyCamera | None, on_light_bar: LightBar,
                 on_vehicle: VehicleTrigger = _no_trigger) -> None:
        self.index = index
        self.body = body
        self.emitter_id = f"VEH-{index:05d}"  # one in-car system: every input broadcasts its ID, with its kind
        self.light_bar = False
        self.dash = dash
        self._on = on_light_bar
        self._vehicle = on_vehicle

    def light_bar_on(self, incident: int | None) -> None:
        """Rising edge: a broadcast where light bars are fielded as triggers, and the car's own camera."""
        if self.light_bar:
            return
        self.light_bar = True
        self._on(self, incident)

    def light_bar_off(self) -> None:
        self.light_bar = False

    def door_opens(self, incident: int | None) -> None:
        """The driver's door opens: the officer gets out at a scene."""
        self._vehicle(self, "door", incident)

    def siren_on(self, incident: int | None) -> None:
        """The siren sounds: the car sets off on an emergency response."""
        self._vehicle(self, "siren", incident)

    def over_speed(self, incident: int | None) -> None:
        """The car passed its speed threshold."""
        self._vehicle(self, "speed", incident)

    def crashed(self, incident: int | None) -> None:
        """The car's accelerometer sensed a crash."""
        self._vehicle(self, "crash", incident)
