"""A cruiser: a light bar wired to a vehicle trigger, and an in-car (dash) camera wired to it as well."""

from __future__ import annotations

from collections.abc import Callable

from bwclab.camera.bodycam import BodyCamera

LightBar = Callable[["Cruiser", int | None], None]
"""light_bar(cruiser, incident): the light bar went on (the department decides what that sets off)."""


class Cruiser:
    def __init__(self, index: int, body: int, dash: BodyCamera | None, on_light_bar: LightBar) -> None:
        self.index = index
        self.body = body
        self.emitter_id = f"VEH-{index:05d}"
        self.light_bar = False
        self.dash = dash
        self._on = on_light_bar

    def light_bar_on(self, incident: int | None) -> None:
        """Rising edge: a broadcast where light bars are fielded as triggers, and the car's own camera."""
        if self.light_bar:
            return
        self.light_bar = True
        self._on(self, incident)

    def light_bar_off(self) -> None:
        self.light_bar = False
