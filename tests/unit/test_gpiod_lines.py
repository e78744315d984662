"""The gpiod driver against a scripted stand-in for libgpiod's v2 API (no GPIO chip exists on CI machines): every
call on the line request is scripted, and the script must be used up."""

from __future__ import annotations

import logging
from enum import Enum
from types import SimpleNamespace
from typing import Any

import pytest

from bwclab.rig.drivers.gpiod_lines import GpiodLines
from bwclab.rig.interfaces import InstrumentError
from tests.unit.scripted import Script


class Value(Enum):
    INACTIVE = 0
    ACTIVE = 1


class EventType(Enum):
    RISING_EDGE = 1
    FALLING_EDGE = 2


class ScriptedRequest(Script):
    """A line request: each call, as (method, arguments...), must be the next one scripted; its result is returned,
    raised when it is an exception."""

    def __init__(self, script: list[tuple[object, object]]) -> None:
        super().__init__(script)
        self.chip = ""
        self.config: dict[tuple[int, ...], Any] = {}

    def _call(self, *call: object) -> Any:
        result = self.expect(call)
        if isinstance(result, BaseException):
            raise result
        return result

    def set_value(self, offset: int, value: Value) -> None:
        self._call("set_value", offset, value)

    def get_value(self, offset: int) -> Value:
        return self._call("get_value", offset)  # type: ignore[no-any-return]

    def wait_edge_events(self, timeout: Any) -> bool:
        return bool(self._call("wait_edge_events"))

    def read_edge_events(self) -> list[Any]:
        return self._call("read_edge_events")  # type: ignore[no-any-return]

    def release(self) -> None:
        self._call("release")


def scripted_gpiod(request: ScriptedRequest) -> Any:
    def request_lines(chip: str, consumer: str, config: dict[tuple[int, ...], Any]) -> ScriptedRequest:
        assert consumer == "bwclab-rig"
        request.chip, request.config = chip, config
        return request

    line = SimpleNamespace(Direction=SimpleNamespace(OUTPUT="out", INPUT="in"), Value=Value,
                           Edge=SimpleNamespace(BOTH="both"), Clock=SimpleNamespace(MONOTONIC="mono"))
    return SimpleNamespace(LineSettings=lambda **kw: kw, line=line, request_lines=request_lines,
                           EdgeEvent=SimpleNamespace(Type=EventType))


def edge(t_ns: int, line: int, kind: EventType) -> SimpleNamespace:
    return SimpleNamespace(timestamp_ns=t_ns, line_offset=line, event_type=kind)


def test_requests_outputs_low_and_inputs_with_kernel_timestamps_and_releases_them() -> None:
    with ScriptedRequest([(("set_value", 17, Value.ACTIVE), None), (("get_value", 17), Value.ACTIVE),
                          (("release",), None)]) as req:
        with GpiodLines("/dev/gpiochip0", outputs=[17, 27], inputs=[22], ports=64, gpiod=scripted_gpiod(req)) as lines:
            assert req.chip == "/dev/gpiochip0"
            assert req.config[(17, 27)] == {"direction": "out", "output_value": Value.INACTIVE}
            assert req.config[(22,)] == {"direction": "in", "edge_detection": "both", "event_clock": "mono"}
            lines.set(17, True)
            assert lines.read(17) is True
            with pytest.raises(InstrumentError, match="line 22 is not requested as an output"):
                lines.set(22, True)
        lines.close()  # a second close releases nothing more


def test_edge_events_reach_listeners_with_their_kernel_timestamp() -> None:
    with ScriptedRequest([(("wait_edge_events",), True),
                          (("read_edge_events",), [edge(1_000, 22, EventType.RISING_EDGE),
                                                   edge(2_500, 22, EventType.FALLING_EDGE)]),
                          (("wait_edge_events",), False), (("release",), None)]) as req, \
            GpiodLines("/dev/gpiochip0", outputs=[], inputs=[22], gpiod=scripted_gpiod(req)) as lines:
        got: list[tuple[int, int, bool]] = []
        lines._listeners.append(lambda t, pin, level: got.append((t, pin, level)))
        assert lines.poll_once() == 2
        assert got == [(1_000, 22, True), (2_500, 22, False)]
        assert lines.poll_once() == 0


def test_a_line_the_kernel_refuses_is_an_instrument_error_naming_the_chip(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="bwclab.drivers")
    with ScriptedRequest([(("set_value", 5, Value.INACTIVE), OSError(16, "Device or resource busy")),
                          (("release",), None)]) as req, \
            GpiodLines("/dev/gpiochip1", outputs=[5], inputs=[], gpiod=scripted_gpiod(req)) as lines, \
            pytest.raises(InstrumentError, match=r"gpiod /dev/gpiochip1: cannot set line 5 low \(.*busy\)"):
        lines.set(5, False)
    assert any(r.name == "bwclab.drivers.gpiod./dev/gpiochip1" and "'set line 5 low' -> failed" in r.getMessage()
               for r in caplog.records)
