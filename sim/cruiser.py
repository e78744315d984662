"""A cruiser: a light bar wired to a vehicle trigger, and an in-car (dash) camera."""

from __future__ import annotations

from typing import TYPE_CHECKING

from camera.bodycam import BodyCamera, CameraSettings

if TYPE_CHECKING:
    from sim.model import Shift


class Cruiser:
    def __init__(self, shift: Shift, index: int) -> None:
        self.shift = shift
        self.index = index
        self.body = shift.n_officers + index
        self.emitter_id = f"VEH-{index:05d}"
        self.light_bar = False
        self.dash = BodyCamera(f"DASH-{index:05d}", CameraSettings(buffer_s=shift.scenario.camera.buffer_s))

    def light_bar_on(self, incident: int) -> None:
        """Rising edge: the vehicle trigger broadcasts and starts this car's own camera."""
        if self.light_bar:
            return
        self.light_bar = True
        self.shift.fire("light_bar", self.body, self.emitter_id, incident)
        self.shift.start_dash(self, "light_bar", self.emitter_id, incident)

    def light_bar_off(self) -> None:
        self.light_bar = False
