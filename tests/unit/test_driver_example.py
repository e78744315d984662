"""docs/drivers.md's example driver and its scripted test, run as written: the page cannot drift from the code."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from bwclab.bench.drivers import ROLES, misfit
from tests.unit.scripted import ScriptedSerial

PAGE = Path(__file__).resolve().parents[2] / "docs" / "drivers.md"


def blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", PAGE.read_text(encoding="utf-8"), flags=re.DOTALL)


def example() -> dict[str, Any]:
    driver, test = blocks()
    scope: dict[str, Any] = {"__name__": "relay_example"}
    exec(compile(driver, f"{PAGE}:driver", "exec"), scope)  # noqa: S102 (the project's own page)
    exec(compile(test, f"{PAGE}:test", "exec"), scope)  # noqa: S102
    return scope


def test_the_pages_example_driver_passes_its_scripted_test() -> None:
    scope = example()
    tests = [v for k, v in scope.items() if k.startswith("test_")]
    assert len(tests) == 1
    tests[0]()


def test_the_pages_example_fills_the_supply_role_it_is_shown_in() -> None:
    assert misfit(ROLES["psu"], example()["RelayBoard"]) is None


def test_the_pages_example_fails_its_test_when_it_sends_less_than_scripted() -> None:
    board_class = example()["RelayBoard"]
    with pytest.raises(AssertionError, match="never happened"), \
            ScriptedSerial([(b"R2 OFF\r", b"OK\r\n"), (b"R2 ON\r", b"OK\r\n")], timeout=0.2) as port:
        board_class(port).power(2, False)
