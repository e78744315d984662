"""A wire on the bench: one level, one driver, any number of listeners (emitters, scope, adapter)."""

from __future__ import annotations

from collections.abc import Callable

from bwclab.emulator.truth import TruthLog

LevelListener = Callable[[bool, int], None]


class Wire:
    def __init__(self, name: str, truth: TruthLog) -> None:
        self.name = name
        self.level = False
        self.truth = truth
        self.listeners: list[LevelListener] = []

    def drive(self, level: bool, t_ns: int, **why: object) -> None:
        if level == self.level:
            return
        self.level = level
        self.truth.log("line", t_ns, line=self.name, level=int(level), **why)
        for fn in self.listeners:
            fn(level, t_ns)
