"""A lazy course for unit tests of the motion's users: a body parked at a point, found there only when asked."""

from __future__ import annotations

import math

from bwclab.sim.motion import Motion


class Parked:
    """When something asks where the body is (`catch_up`), it turns out to be parked at (x, y)."""

    def __init__(self, motion: Motion, body: int, x: float, y: float) -> None:
        self.motion, self.body, self.at = motion, body, (x, y)
        self.worked_out = False

    def catch_up(self, t: float) -> None:
        self.worked_out = True
        self.motion.set_due(self.body, math.inf)  # (before it is placed: placing it asks where it is)
        self.motion.place(self.body, t, *self.at)

    def watch(self, until: float) -> None:
        pass
