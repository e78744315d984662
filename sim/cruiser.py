"""A cruiser: a light bar wired to a vehicle trigger, and an in-car (dash) camera."""

from __future__ import annotations

from collections.abc import Callable

from camera.bodycam import BodyCamera, CameraSettings

Fire = Callable[[str, int, str, int | None], None]
"""fire(trigger kind, emitter body, emitter id, incident): a broadcast starts."""


class Cruiser:
    def __init__(self, index: int, body: int, buffer_s: float, fire: Fire,
                 start_dash: Callable[[Cruiser, str, str, int | None], None]) -> None:
        self.index = index
        self.body = body
        self.emitter_id = f"VEH-{index:05d}"
        self.light_bar = False
        self.dash = BodyCamera(f"DASH-{index:05d}", CameraSettings(buffer_s=buffer_s))
        self._fire, self._start_dash = fire, start_dash

    def light_bar_on(self, incident: int | None) -> None:
        """Rising edge: the vehicle trigger broadcasts and starts this car's own camera."""
        if self.light_bar:
            return
        self.light_bar = True
        self._fire("light_bar", self.body, self.emitter_id, incident)
        self._start_dash(self, "light_bar", self.emitter_id, incident)

    def light_bar_off(self) -> None:
        self.light_bar = False
