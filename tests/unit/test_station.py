"""A station opens each driver by role and name, the one way its role says, and closes everything it opened on
every path: drivers here are stand-ins that record what happened to them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bwclab.bench.description import Bench
from bwclab.bench.drivers import driver_class
from bwclab.rig.interfaces import CameraError, InstrumentError
from bwclab.rig.station import Station

ROOT = Path(__file__).resolve().parents[2]


def real_bench(**instruments: Any) -> Bench:
    """The demo wiring as a real bench would give it: ports and resources in the file, no emulator."""
    data = yaml.safe_load((ROOT / "fixtures" / "demo.yaml").read_text())
    del data["emulate"]
    data["gpio"]["numato0"]["port"] = "/dev/ttyACM0"
    data["instruments"]["attenuator"] = {"resource": "TCPIP::10.0.0.2::23::SOCKET"}
    data["instruments"]["scope"]["resource"] = "TCPIP::10.0.0.3::5025::SOCKET"
    data["instruments"]["psu"]["resource"] = "TCPIP::10.0.0.4::5025::SOCKET"
    for i, cam in enumerate(data["cameras"].values()):
        cam["console"] = f"/dev/ttyUSB{i}"
    for name, extra in instruments.items():
        data["instruments"][name].update(extra)
    return Bench.model_validate(data)


class Log:
    def __init__(self) -> None:
        self.events: list[str] = []


def stand_ins(log: Log, fail: dict[str, BaseException] | None = None) -> Any:
    """A driver lookup whose classes record opening and closing; `fail[role]` is raised when that role opens."""
    failing = fail or {}

    def lookup(role: str, name: str) -> type[Any]:
        class StandIn:
            def __init__(self, where: str, **options: Any) -> None:
                if role in failing:
                    log.events.append(f"fail {role}")
                    raise failing[role]
                self.where, self.options = where, options
                log.events.append(f"open {role} {name} {where}")

            def watch(self, listener: Any) -> None:
                pass

            def close(self) -> None:
                log.events.append(f"close {role} {self.where}")

        return StandIn

    return lookup


def test_each_role_opens_its_named_driver_the_way_the_role_says_and_closes_last_first() -> None:
    log = Log()
    with Station(real_bench(), drivers=stand_ins(log)) as st:
        gpio: Any = st.outputs["numato0"]
        attenuator: Any = st.attenuator
        assert gpio.options == {"outputs": [0, 1, 2, 16, 17, 18, 3], "inputs": [8, 9, 10, 4], "ports": 32}
        assert attenuator.options == {"step_db": 0.25}
        assert len(log.events) == 7
    assert log.events == [
        "open gpio numato /dev/ttyACM0", "open attenuator rcdat TCPIP::10.0.0.2::23::SOCKET",
        "open scope infiniivision TCPIP::10.0.0.3::5025::SOCKET", "open psu e36300 TCPIP::10.0.0.4::5025::SOCKET",
        "open console console /dev/ttyUSB0", "open console console /dev/ttyUSB1", "open console console /dev/ttyUSB2",
        "close console /dev/ttyUSB2", "close console /dev/ttyUSB1", "close console /dev/ttyUSB0",
        "close psu TCPIP::10.0.0.4::5025::SOCKET", "close scope TCPIP::10.0.0.3::5025::SOCKET",
        "close attenuator TCPIP::10.0.0.2::23::SOCKET", "close gpio /dev/ttyACM0"]


def test_a_station_whose_third_driver_fails_to_open_closes_the_two_it_had_opened() -> None:
    log = Log()
    with pytest.raises(InstrumentError, match="no answer"):
        Station(real_bench(), drivers=stand_ins(log, {"scope": InstrumentError("scope: no answer")}))
    assert log.events == ["open gpio numato /dev/ttyACM0", "open attenuator rcdat TCPIP::10.0.0.2::23::SOCKET",
                          "fail scope", "close attenuator TCPIP::10.0.0.2::23::SOCKET", "close gpio /dev/ttyACM0"]


def test_a_driver_failing_in_its_own_way_is_a_driver_error_of_its_role_and_the_rest_is_closed() -> None:
    log = Log()
    with pytest.raises(CameraError, match=r"camera CAM001 console: driver 'console' could not open /dev/ttyUSB0 "
                                          r"\(RuntimeError: firmware says no\)") as err:
        Station(real_bench(), drivers=stand_ins(log, {"console": RuntimeError("firmware says no")}))
    assert err.value.device == "CAM001" and isinstance(err.value.__cause__, RuntimeError)
    assert [e for e in log.events if e.startswith("close")] == [
        "close psu TCPIP::10.0.0.4::5025::SOCKET", "close scope TCPIP::10.0.0.3::5025::SOCKET",
        "close attenuator TCPIP::10.0.0.2::23::SOCKET", "close gpio /dev/ttyACM0"]


def test_an_interrupt_while_opening_still_closes_what_was_opened() -> None:
    log = Log()
    with pytest.raises(KeyboardInterrupt):
        Station(real_bench(), drivers=stand_ins(log, {"psu": KeyboardInterrupt()}))
    assert log.events[-3:] == ["close scope TCPIP::10.0.0.3::5025::SOCKET",
                               "close attenuator TCPIP::10.0.0.2::23::SOCKET", "close gpio /dev/ttyACM0"]


def test_a_device_that_fails_to_close_does_not_keep_the_others_open(caplog: pytest.LogCaptureFixture) -> None:
    log = Log()
    st = Station(real_bench(), drivers=stand_ins(log))

    def stuck() -> None:
        raise OSError("port wedged")

    attenuator: Any = st.attenuator
    attenuator.close = stuck
    st.close()
    st.close()  # a second close does nothing
    assert sum(e.startswith("close") for e in log.events) == 6 and "close gpio /dev/ttyACM0" in log.events
    assert any("attenuator: closing failed (OSError: port wedged)" in r.getMessage() for r in caplog.records)


def test_the_station_opens_the_classes_the_registry_finds_by_name() -> None:
    assert driver_class("attenuator", "rcdat").__name__ == "RcdatAttenuator"
    assert driver_class("gpio", "gpiod").__name__ == "GpiodLines"
