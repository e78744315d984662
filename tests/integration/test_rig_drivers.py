"""The rig's drivers, written from docs/protocols/ alone, against the emulator in its own process."""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from bwclab.rig.drivers.console import CameraConsole
from bwclab.rig.drivers.e36300 import E36300Supply
from bwclab.rig.drivers.infiniivision import InfiniiVisionScope
from bwclab.rig.drivers.numato import NumatoGpio
from bwclab.rig.drivers.rcdat import RcdatAttenuator
from bwclab.rig.interfaces import CameraError
from tests.integration.harness import Emulator


def test_gpio_driver_fires_a_trigger_and_times_the_indicator(emu: Emulator) -> None:
    r = emu.resources
    try:
        with NumatoGpio(r["gpio"]["numato0"]["port"]) as gpio, \
                RcdatAttenuator(r["instruments"]["attenuator"]["resource"]) as att:
            assert att.set_attenuation(1, 30.0) == 30.0
            gpio.set_directions(0xFFFFFFF8 & ~(1 << 3))
            rising = threading.Event()
            edges: list[tuple[int, int, bool]] = []

            def seen(t: int, pin: int, level: bool) -> None:
                edges.append((t, pin, level))
                if pin == 8 and level:
                    rising.set()

            gpio.watch(seen)
            fired = gpio.set(0, True)
            gpio.set(0, False)
            assert rising.wait(3.0)
            host_latency = (next(t for t, p, lvl in edges if p == 8 and lvl) - fired) / 1e9
            trig = emu.truth("line", line="numato0:0", level=1)[-1]["t_ns"]
            ind = emu.truth("line", line="numato0:8", level=1)[-1]["t_ns"]
            # the host stamps the command before it leaves and the edge when its notice is read: on a loaded 2-core
            # machine either can wait a few ms for the scheduler (6 ms seen with a full suite on the other core)
            assert abs(host_latency - (ind - trig) / 1e9) < 0.015
            # the loopback line measures the GPIO path itself
            lags = []
            loop_rise: list[int] = []
            looped = threading.Event()

            def loop_seen(t: int, pin: int, level: bool) -> None:
                if pin == 4 and level:
                    loop_rise.append(t)
                    looped.set()

            gpio.watch(loop_seen)
            for _ in range(20):
                looped.clear()
                t0 = gpio.set(3, True)
                assert looped.wait(1.0)
                lags.append((loop_rise[-1] - t0) / 1e6)
                gpio.set(3, False)
                time.sleep(0.01)
            assert float(np.median(lags)) < 5.0
    finally:  # the trigger started a recording: stop it for the tests after, however this one ended
        with CameraConsole(r["cameras"]["CAM001"]["console"]) as con, contextlib.suppress(CameraError):
            con.command("STOP")


def test_scope_and_supply_drivers(emu: Emulator) -> None:
    r = emu.resources
    time.sleep(3.2)  # any broadcast from the test before is over
    with InfiniiVisionScope(r["instruments"]["scope"]["resource"]) as scope, \
            E36300Supply(r["instruments"]["psu"]["resource"]) as psu, \
            NumatoGpio(r["gpio"]["numato0"]["port"]) as gpio, CameraConsole(r["cameras"]["CAM001"]["console"]) as con:
        assert "DSOX" in scope.identity() and "E36313A" in psu.identity()
        gpio.set_directions(0xFFFFFFF8)
        scope.arm(1, window_s=2.0)
        gpio.set(0, True)
        gpio.set(0, False)
        delay = scope.delay(1, 2, timeout_s=5)
        trig = emu.truth("line", line="numato0:0", level=1)[-1]["t_ns"]
        ind = emu.truth("line", line="numato0:8", level=1)[-1]["t_ns"]
        assert delay is not None and abs(delay - (ind - trig) / 1e9) <= scope.resolution_s
        psu.power(1, False)
        assert psu.measure(1) == (0.0, 0.0)
        psu.power(1, True)
        assert con.wait_event("BOOT", timeout_s=5)
        volts, amps = psu.measure(1)
        assert volts == 5.0 and amps > 0.2
        assert con.state() == "BUFFERING"
        offset, rtt = con.clock_offset_ns()
        assert rtt < 50e6 and abs(offset + time.monotonic_ns() - time.time_ns()) < 2e9


TRACE = re.compile(r"^DEBUG (?P<logger>bwclab\.drivers\.\S+): "
                   r"(?P<sent>'.*') -> (?P<got>.*) \(sent at (?P<t_ns>\d+) ns, (?P<ms>\d+\.\d{3}) ms\)$")


@contextlib.contextmanager
def logged(path: Path, level: int) -> Iterator[None]:
    """The drivers' log into `path` at `level`, configured directly with the standard logging module."""
    drivers = logging.getLogger("bwclab.drivers")
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    before = drivers.level
    drivers.addHandler(handler)
    drivers.setLevel(level)
    try:
        yield
    finally:
        drivers.removeHandler(handler)
        drivers.setLevel(before)
        handler.close()


def test_at_debug_every_instrument_exchange_is_logged_with_its_time_and_duration(emu: Emulator,
                                                                                  tmp_path: Path) -> None:
    r = emu.resources
    with logged(tmp_path / "run.log", logging.DEBUG):
        t_start = time.monotonic_ns()
        with RcdatAttenuator(r["instruments"]["attenuator"]["resource"]) as att, \
                NumatoGpio(r["gpio"]["numato0"]["port"]) as gpio, \
                CameraConsole(r["cameras"]["CAM002"]["console"]) as con:
            att.set_attenuation(2, 41.5)
            gpio.read(4)
            con.identity()
        t_end = time.monotonic_ns()
    lines = (tmp_path / "run.log").read_text().splitlines()
    traced = [m for m in map(TRACE.match, lines) if m]
    port_of = {"rcdat": r["instruments"]["attenuator"]["resource"].replace(".", "_"),
               "numato": r["gpio"]["numato0"]["port"].replace(".", "_"),
               "console": r["cameras"]["CAM002"]["console"].replace(".", "_")}
    assert [(m["logger"], m["sent"], m["got"]) for m in traced] == [
        (f"bwclab.drivers.rcdat.{port_of['rcdat']}", "'CHAN:2:SETATT:41.50'", "'1'"),
        (f"bwclab.drivers.rcdat.{port_of['rcdat']}", "'CHAN:2:ATT?'", "'41.5'"),
        (f"bwclab.drivers.numato.{port_of['numato']}", "'gpio read 4'", "'gpio read 4\\r\\n0\\n\\r'"),
        (f"bwclab.drivers.console.{port_of['console']}", "'@1 IDN?'",
         "'@1 OK model=BWC-EMU-1 serial=CAM002 firmware=1.0.0'")]
    sent = [int(m["t_ns"]) for m in traced]
    assert sent == sorted(sent) and t_start < sent[0] and sent[-1] < t_end
    assert all(0 < float(m["ms"]) < 3000 for m in traced)
    truth = emu.truth("attenuation", channel=2)[-1]
    assert truth["db"] == 41.5 and sent[0] < truth["t_ns"] < sent[1]  # the same clock as the truth log
    info = [line.removeprefix("INFO ") for line in lines if line.startswith("INFO ")]
    assert f"bwclab.drivers.rcdat.{port_of['rcdat']}: session opened on {r['instruments']['attenuator']['resource']}" \
        in info and f"bwclab.drivers.console.{port_of['console']}: closed" in info


def test_at_info_state_changes_are_logged_and_exchanges_left_out(emu: Emulator, tmp_path: Path) -> None:
    r = emu.resources
    with logged(tmp_path / "run.log", logging.INFO), \
            RcdatAttenuator(r["instruments"]["attenuator"]["resource"]) as att:
        att.set_attenuation(3, 20.0)
    text = (tmp_path / "run.log").read_text()
    assert "session opened on" in text and "session closed" in text
    assert "DEBUG " not in text and "SETATT" not in text
