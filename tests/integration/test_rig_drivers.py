"""The rig's drivers, written from docs/protocols/ alone, against the emulator in its own process."""

from __future__ import annotations

import threading
import time

import numpy as np

from bwclab.rig.drivers.console import CameraConsole
from bwclab.rig.drivers.e36300 import E36300Supply
from bwclab.rig.drivers.infiniivision import InfiniiVisionScope
from bwclab.rig.drivers.numato import NumatoGpio
from bwclab.rig.drivers.rcdat import RcdatAttenuator
from tests.integration.harness import Emulator


def test_gpio_driver_fires_a_trigger_and_times_the_indicator(emu: Emulator) -> None:
    r = emu.resources
    gpio = NumatoGpio(r["gpio"]["numato0"]["port"])
    att = RcdatAttenuator(r["instruments"]["attenuator"]["resource"])
    try:
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
        assert abs(host_latency - (ind - trig) / 1e9) < 0.005
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
    finally:
        gpio.close()
        CameraConsole(r["cameras"]["CAM001"]["console"]).command("STOP")


def test_scope_and_supply_drivers(emu: Emulator) -> None:
    r = emu.resources
    time.sleep(3.2)  # any broadcast from the test before is over
    scope = InfiniiVisionScope(r["instruments"]["scope"]["resource"])
    psu = E36300Supply(r["instruments"]["psu"]["resource"])
    gpio = NumatoGpio(r["gpio"]["numato0"]["port"])
    con = CameraConsole(r["cameras"]["CAM001"]["console"])
    try:
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
    finally:
        gpio.close()
        con.close()
