"""The trigger vocabulary: one spelling across the simulator, the bench, the profile and the reports."""

from __future__ import annotations

from typing import Literal, get_args

TriggerKind = Literal["light_bar", "taser", "holster"]
"""A cruiser's light bar, an armed taser, a holster sensor (a firearm drawn)."""

TRIGGER_KINDS: tuple[TriggerKind, ...] = get_args(TriggerKind)
