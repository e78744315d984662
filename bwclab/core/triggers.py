"""The trigger vocabulary: one spelling across the simulator, the bench, the profile and the reports."""

from __future__ import annotations

from typing import Literal, get_args

TriggerKind = Literal["light_bar", "taser", "holster", "door", "siren", "speed", "crash"]
"""A cruiser's light bar, an armed taser, a holster sensor (a firearm drawn); the cruiser's other vehicle inputs:
its driver's door opening, its siren, its speed above a threshold, a crash (its accelerometer)."""

TRIGGER_KINDS: tuple[TriggerKind, ...] = get_args(TriggerKind)

VEHICLE_TRIGGERS: tuple[TriggerKind, ...] = ("light_bar", "door", "siren", "speed", "crash")
"""The kinds a cruiser's in-car system broadcasts (its own dash camera is wired to them)."""

DEFAULT_FIELDED: tuple[TriggerKind, ...] = ("light_bar", "taser", "holster")
"""What a scenario fields when it does not say (`signal.triggers`): the light bar and the triggers officers wear."""
