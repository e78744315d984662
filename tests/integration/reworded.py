"""`bwclab` with every message it could decide an outcome on reworded: `python -m tests.integration.reworded ARGS`
takes `bwclab`'s own arguments. The text of every exception the rig raises or catches (a driver's, the bench lost,
a requirement without data, a bad file) and every reason a run gives for stopping is turned around, so an exit code
or a "the bench failed, not the camera" read from wording instead of from a type comes out differently."""

from __future__ import annotations

from typing import Any


def reword(text: str) -> str:
    return "(reworded) " + text[::-1]


def patch() -> None:
    from bwclab.core.config import ConfigError
    from bwclab.rig.campaign import Campaign, Stop
    from bwclab.rig.interfaces import BenchLost, DriverError
    from bwclab.rig.measurements import NoData

    def reworded_str(self: BaseException) -> str:
        return reword(Exception.__str__(self))

    for cls in (DriverError, BenchLost, NoData, ConfigError):
        cls.__str__ = reworded_str  # type: ignore[method-assign]
    render = ConfigError.render
    ConfigError.render = lambda self: reword(render(self))  # type: ignore[method-assign]
    stop = Campaign.stop

    def reworded_stop(self: Campaign, kind: Stop, reason: str, override: bool = False) -> None:
        stop(self, kind, reword(reason), override)

    Campaign.stop = reworded_stop  # type: ignore[method-assign]


def main(*_: Any) -> None:
    patch()
    from bwclab.cli import main as bwclab

    bwclab()


if __name__ == "__main__":
    main()
