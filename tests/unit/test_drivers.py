"""Driver unit tests in the pymeasure style: scripted command and reply pairs, no hardware."""

from __future__ import annotations

import time

import pytest

from bwclab.rig.drivers.console import CameraConsole
from bwclab.rig.drivers.e36300 import E36300Supply
from bwclab.rig.drivers.infiniivision import InfiniiVisionScope
from bwclab.rig.drivers.numato import NumatoGpio
from bwclab.rig.drivers.rcdat import RcdatAttenuator
from bwclab.rig.interfaces import DriverError
from tests.unit.scripted import ScriptedInstrument, ScriptedSerial


def numato(script: list[tuple[bytes, bytes]]) -> tuple[NumatoGpio, ScriptedSerial]:
    port = ScriptedSerial(script)
    return NumatoGpio(port, ports=32, timeout_s=0.5), port


def test_numato_commands_strip_echo_and_prompt() -> None:
    dev, port = numato([
        (b"ver\r", b"ver\r\n00000009\n\r>"),
        (b"gpio set 3\r", b"gpio set 3\r\n>"),
        (b"gpio read A\r", b"gpio read A\r\n1\n\r>"),
        (b"gpio readall\r", b"gpio readall\r\n00000418\n\r>"),
        (b"gpio iomask FFFFFFFF\r", b"gpio iomask FFFFFFFF\r\n>"),
        (b"gpio iodir FFFFFFF0\r", b"gpio iodir FFFFFFF0\r\n>"),
    ])
    try:
        assert dev.version() == "00000009"
        assert dev.set(3, True) > 0
        assert dev.read(10) is True
        assert dev.readall() == 0x418
        dev.set_directions(0xFFFFFFF0)
        assert port.done()
    finally:
        dev.close()


def test_numato_notifications_inside_a_reply_become_timestamped_edges() -> None:
    dev, port = numato([
        (b"gpio notify on\r", b"gpio notify on\r\ngpio notify enabled\n\r>"),
        (b"gpio readall\r", b"gpio rea\n\r# 00000100 00000000 FFFFFFF8\n\rdall\r\n00000100\n\r>"),
    ])
    edges: list[tuple[int, int, bool]] = []
    try:
        dev.watch(lambda t, pin, level: edges.append((t, pin, level)))
        before = time.monotonic_ns()
        assert dev.readall() == 0x100
        port.inject(b"\n\r# 00000000 00000100 FFFFFFF8\n\r")
        time.sleep(0.1)
        assert [(p, lvl) for _, p, lvl in edges] == [(8, True), (8, False)]
        assert all(t >= before for t, _, _ in edges)
    finally:
        dev.close()


def test_numato_errors_name_the_device_and_the_problem() -> None:
    dev, _ = numato([(b"gpio read 1\r", b"gpio read 1\r\nx\n\r>"), (b"ver\r", b"")])
    try:
        with pytest.raises(DriverError, match="expected 0 or 1"):
            dev.read(1)
        with pytest.raises(DriverError, match="no prompt after 'ver'"):
            dev.version()
        with pytest.raises(DriverError, match="no pin 40"):
            dev.pin_name(40)
    finally:
        dev.close()


def test_attenuator_sets_and_reads_back_and_refuses_out_of_range() -> None:
    inst = ScriptedInstrument([
        ("MN?", "MN=RC4DAT-6G-95"), ("CHAN:2:SETATT:31.30", "1"), ("CHAN:2:ATT?", "31.25"),
        ("CHAN:1:SETATT:120.00", "2"), ("CHAN:9:SETATT:3.00", "0"),
    ])
    att = RcdatAttenuator(inst)
    assert att.model() == "RC4DAT-6G-95"
    assert att.set_attenuation(2, 31.3) == 31.25
    with pytest.raises(DriverError, match="above channel 1's range"):
        att.set_attenuation(1, 120)
    with pytest.raises(DriverError, match="refused"):
        att.set_attenuation(9, 3)
    assert inst.done()


def test_scope_arms_waits_and_measures() -> None:
    inst = ScriptedInstrument([
        (":TIMebase:RANGe 4;:TIMebase:REFerence LEFT", None),
        (":TRIGger:EDGE:SOURce CHANnel3;:TRIGger:EDGE:SLOPe POS", None),
        (":MEASure:DEFine DELay,+1,+1", None), (":TER?", "+0"), (":SINGle", None),
        (":SYSTem:ERRor?", '+0,"No error"'),
        (":TER?", "+0"), (":TER?", "+1"), (":OPERegister:CONDition?", "+8"), (":OPERegister:CONDition?", "+0"),
        (":MEASure:DELay? CHANnel3,CHANnel2", "+2.500000000E-01"),
    ])
    scope = InfiniiVisionScope(inst)
    scope.arm(3, window_s=4)
    assert scope.delay(3, 2, timeout_s=2) == 0.25
    assert scope.resolution_s == pytest.approx(1e-6)
    assert inst.done()


def test_scope_missing_edge_is_none_and_errors_raise() -> None:
    inst = ScriptedInstrument([
        (":TER?", "+1"), (":OPERegister:CONDition?", "+0"), (":MEASure:DELay? CHANnel1,CHANnel2", "9.9E+37"),
        (":SYSTem:ERRor?", '-113,"Undefined header"'), (":SYSTem:ERRor?", '+0,"No error"'),
    ])
    scope = InfiniiVisionScope(inst)
    assert scope.delay(1, 2, timeout_s=1) is None
    with pytest.raises(DriverError, match="Undefined header"):
        scope.check_errors()


def test_supply_switches_and_verifies() -> None:
    inst = ScriptedInstrument([
        ("OUTPut OFF,(@2)", None), ("OUTPut? (@2)", "0"),
        ("OUTPut ON,(@2)", None), ("OUTPut? (@2)", "0"),
        ("MEASure:VOLTage? (@1)", "+5.000000000E+00"), ("MEASure:CURRent? (@1)", "+3.500000000E-01"),
    ])
    psu = E36300Supply(inst)
    psu.power(2, False)
    with pytest.raises(DriverError, match="output 2 reads '0'"):
        psu.power(2, True)
    assert psu.measure(1) == (5.0, 0.35)


def test_console_keeps_events_drops_noise_and_retries_garbled_commands() -> None:
    port = ScriptedSerial([
        (b"@1 STATE?\n", b"! STATE RECORDING cause=signal source=LB-0001 t=5\n@1 \x93OK REC\xffORDING\n"),
        (b"@2 IDN?\n", b"@2 ERR 400 unknown command\n"),
        (b"@3 IDN?\n", b"@3 OK model=M serial=S firmware=1\n"),
        (b"@4 STOP\n", b"@4 ERR 409 not recording\n"),
    ], timeout=0.2)
    con = CameraConsole(port)
    assert con.state() == "RECORDING"
    assert con.events[0][1].startswith("STATE RECORDING cause=signal")
    assert con.identity() == {"model": "M", "serial": "S", "firmware": "1"}
    assert con.retried == 1 and con.noise_bytes == 2
    with pytest.raises(DriverError, match="409 not recording"):
        con.command("STOP")


def test_a_stale_reply_after_a_stall_is_discarded_never_taken_as_the_answer() -> None:
    """The camera stalled: the reply to an earlier command arrives just before the one asked for."""
    port = ScriptedSerial([
        (b"@1 STATE?\n", b""),  # no answer within the timeout: the stall
        (b"@2 STATE?\n", b"@1 OK RECORDING\n@2 OK BUFFERING\n"),
        (b"@3 CLOCK?\n", b"@2 OK BUFFERING\n@3 OK 1700000000000000000\n"),
    ], timeout=0.1)
    con = CameraConsole(port)
    assert con.state() == "BUFFERING"
    assert con._number("CLOCK?") == 1_700_000_000_000_000_000
    assert con.stale == 2


def test_an_unreadable_console_reply_is_a_driver_error() -> None:
    port = ScriptedSerial([(b"@1 CLOCK?\n", b"@1 OK RECORDING\n")], timeout=0.1)
    with pytest.raises(DriverError, match="expected a number"):
        CameraConsole(port).clock_offset_ns(samples=1)


def test_console_without_reply_is_an_error() -> None:
    port = ScriptedSerial([(b"@1 STATE?\n", b""), (b"@2 STATE?\n", b""), (b"@3 STATE?\n", b"")], timeout=0.05)
    with pytest.raises(DriverError, match="no reply"):
        CameraConsole(port).state()
