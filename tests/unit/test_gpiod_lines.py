"""The gpiod driver against a fake of libgpiod's v2 API (no GPIO chip exists on CI machines)."""

from __future__ import annotations

from enum import Enum
from types import SimpleNamespace
from typing import Any

import pytest

from bwclab.rig.drivers.gpiod_lines import GpiodLines
from bwclab.rig.interfaces import DriverError


class Value(Enum):
    INACTIVE = 0
    ACTIVE = 1


class EventType(Enum):
    RISING_EDGE = 1
    FALLING_EDGE = 2


class FakeRequest:
    def __init__(self, chip: str, consumer: str, config: dict[tuple[int, ...], Any]) -> None:
        self.chip, self.consumer, self.config = chip, consumer, config
        self.values: dict[int, Value] = {}
        self.pending: list[Any] = []
        self.released = False

    def set_value(self, offset: int, value: Value) -> None:
        self.values[offset] = value

    def get_value(self, offset: int) -> Value:
        return self.values.get(offset, Value.INACTIVE)

    def wait_edge_events(self, timeout: Any) -> bool:
        return bool(self.pending)

    def read_edge_events(self) -> list[Any]:
        out, self.pending = self.pending, []
        return out

    def release(self) -> None:
        self.released = True


def fake_gpiod() -> Any:
    requests: list[FakeRequest] = []

    def request_lines(chip: str, consumer: str, config: dict[tuple[int, ...], Any]) -> FakeRequest:
        requests.append(FakeRequest(chip, consumer, config))
        return requests[-1]

    line = SimpleNamespace(Direction=SimpleNamespace(OUTPUT="out", INPUT="in"), Value=Value,
                           Edge=SimpleNamespace(BOTH="both"), Clock=SimpleNamespace(MONOTONIC="mono"))
    return SimpleNamespace(LineSettings=lambda **kw: kw, line=line, request_lines=request_lines,
                           EdgeEvent=SimpleNamespace(Type=EventType), requests=requests)


def test_requests_outputs_and_inputs_with_kernel_timestamps() -> None:
    g = fake_gpiod()
    lines = GpiodLines("/dev/gpiochip0", outputs=[17, 27], inputs=[22], gpiod=g)
    req = g.requests[0]
    assert req.chip == "/dev/gpiochip0"
    assert req.config[(17, 27)]["direction"] == "out"
    assert req.config[(22,)] == {"direction": "in", "edge_detection": "both", "event_clock": "mono"}
    lines.set(17, True)
    assert req.values[17] is Value.ACTIVE and lines.read(17) is True
    with pytest.raises(DriverError, match="line 22 is not requested as an output"):
        lines.set(22, True)
    lines.close()
    assert req.released


def test_edge_events_reach_listeners_with_their_kernel_timestamp() -> None:
    g = fake_gpiod()
    lines = GpiodLines("/dev/gpiochip0", outputs=[], inputs=[22], gpiod=g)
    got: list[tuple[int, int, bool]] = []
    lines._listeners.append(lambda t, pin, level: got.append((t, pin, level)))
    g.requests[0].pending = [SimpleNamespace(timestamp_ns=1_000, line_offset=22, event_type=EventType.RISING_EDGE),
                             SimpleNamespace(timestamp_ns=2_500, line_offset=22, event_type=EventType.FALLING_EDGE)]
    assert lines.poll_once() == 2
    assert got == [(1_000, 22, True), (2_500, 22, False)]
    assert lines.poll_once() == 0
