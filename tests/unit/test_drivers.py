"""Driver unit tests in the pymeasure style: scripted command and reply pairs, no hardware. Every script must be
used up: a driver that sends less than it should fails its test."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from bwclab.rig.drivers.console import CameraConsole
from bwclab.rig.drivers.e36300 import E36300Supply
from bwclab.rig.drivers.infiniivision import InfiniiVisionScope
from bwclab.rig.drivers.numato import NumatoGpio
from bwclab.rig.drivers.rcdat import RcdatAttenuator
from bwclab.rig.interfaces import CameraError, InstrumentError
from tests.unit.scripted import ScriptedInstrument, ScriptedSerial


@contextmanager
def numato(script: list[tuple[bytes, bytes]], outputs: list[int] | None = None
           ) -> Iterator[tuple[NumatoGpio, ScriptedSerial]]:
    with ScriptedSerial(script) as port, NumatoGpio(port, ports=32, timeout_s=0.5, outputs=outputs) as dev:
        yield dev, port


def readers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "numato-reader"]


def test_numato_commands_strip_echo_and_prompt() -> None:
    with numato([
        (b"ver\r", b"ver\r\n00000009\n\r>"),
        (b"gpio set 3\r", b"gpio set 3\r\n>"),
        (b"gpio read A\r", b"gpio read A\r\n1\n\r>"),
        (b"gpio readall\r", b"gpio readall\r\n00000418\n\r>"),
        (b"gpio iomask FFFFFFFF\r", b"gpio iomask FFFFFFFF\r\n>"),
        (b"gpio iodir FFFFFFF0\r", b"gpio iodir FFFFFFF0\r\n>"),
    ]) as (dev, _):
        assert dev.version() == "00000009"
        assert dev.set(3, True) > 0
        assert dev.read(10) is True
        assert dev.readall() == 0x418
        dev.set_directions(0xFFFFFFF0)


def test_numato_opened_with_outputs_makes_them_outputs_driven_low_and_every_other_pin_an_input() -> None:
    with numato([
        (b"gpio iomask FFFFFFFF\r", b"gpio iomask FFFFFFFF\r\n>"),
        (b"gpio iodir FFFEFFFA\r", b"gpio iodir FFFEFFFA\r\n>"),
        (b"gpio clear 0\r", b"gpio clear 0\r\n>"),
        (b"gpio clear 2\r", b"gpio clear 2\r\n>"),
        (b"gpio clear G\r", b"gpio clear G\r\n>"),
    ], outputs=[0, 2, 16]):
        pass


def test_numato_that_fails_while_opening_stops_its_reader_before_it_raises() -> None:
    before = len(readers())
    with ScriptedSerial([(b"gpio iomask FFFFFFFF\r", b"gpio iomask FFFFFFFF\r\n>"),
                         (b"gpio iodir FFFFFFFE\r", b"")]) as port:
        with pytest.raises(InstrumentError, match="no prompt after 'gpio iodir FFFFFFFE'"):
            NumatoGpio(port, ports=32, timeout_s=0.2, outputs=[0])
        assert port.closed and len(readers()) == before


def test_numato_notifications_inside_a_reply_become_timestamped_edges() -> None:
    edges: list[tuple[int, int, bool]] = []
    both = threading.Event()

    def seen(t: int, pin: int, level: bool) -> None:
        edges.append((t, pin, level))
        if len(edges) == 2:
            both.set()

    with numato([
        (b"gpio notify on\r", b"gpio notify on\r\ngpio notify enabled\n\r>"),
        (b"gpio readall\r", b"gpio rea\n\r# 00000100 00000000 FFFFFFF8\n\rdall\r\n00000100\n\r>"),
    ]) as (dev, port):
        dev.watch(seen)
        before = time.monotonic_ns()
        assert dev.readall() == 0x100
        port.inject(b"\n\r# 00000000 00000100 FFFFFFF8\n\r")
        assert both.wait(2.0)
        assert [(p, lvl) for _, p, lvl in edges] == [(8, True), (8, False)]
        assert all(t >= before for t, _, _ in edges)


def test_numato_errors_name_the_device_and_the_problem() -> None:
    with numato([(b"gpio read 1\r", b"gpio read 1\r\nx\n\r>"), (b"ver\r", b"")]) as (dev, _):
        with pytest.raises(InstrumentError, match="expected 0 or 1"):
            dev.read(1)
        with pytest.raises(InstrumentError, match="no prompt after 'ver'"):
            dev.version()
        with pytest.raises(InstrumentError, match="no pin 40"):
            dev.pin_name(40)


def test_attenuator_sets_and_reads_back_and_refuses_out_of_range() -> None:
    with ScriptedInstrument([
        ("MN?", "MN=RC4DAT-6G-95"), ("CHAN:2:SETATT:31.30", "1"), ("CHAN:2:ATT?", "31.25"),
        ("CHAN:1:SETATT:120.00", "2"), ("CHAN:9:SETATT:3.00", "0"),
    ]) as inst, RcdatAttenuator(inst) as att:
        assert att.model() == "RC4DAT-6G-95"
        assert att.set_attenuation(2, 31.3) == 31.25
        with pytest.raises(InstrumentError, match="above channel 1's range"):
            att.set_attenuation(1, 120)
        with pytest.raises(InstrumentError, match="refused"):
            att.set_attenuation(9, 3)


def test_an_instrument_error_names_its_device_by_role() -> None:
    with ScriptedInstrument([("OUTPut ON,(@1)", None), ("OUTPut? (@1)", "0")]) as inst, E36300Supply(inst) as psu, \
            pytest.raises(InstrumentError) as err:
        psu.power(1, True)
    assert err.value.device == "psu"
    with ScriptedInstrument([]) as inst, RcdatAttenuator(inst) as att:
        att.close()
        with pytest.raises(InstrumentError, match="the session is closed") as err:
            att.attenuation(1)  # a closed driver never opens a session again
    assert err.value.device == "attenuator"


def test_attenuator_unverified_returns_the_setting_to_its_step_without_reading_back() -> None:
    with ScriptedInstrument([("CHAN:3:SETATT:40.10", "1")]) as inst, RcdatAttenuator(inst) as att:
        assert att.set_attenuation(3, 40.1, verify=False) == 40.0


def test_attenuator_that_does_not_take_a_setting_is_an_error() -> None:
    with ScriptedInstrument([("CHAN:1:SETATT:30.00", "1"), ("CHAN:1:ATT?", "0")]) as inst, \
            RcdatAttenuator(inst) as att, pytest.raises(InstrumentError, match=r"reads 0\.0 dB after setting 30\.00"):
        att.set_attenuation(1, 30.0)


def test_scope_arms_waits_and_measures() -> None:
    with ScriptedInstrument([
        (":TIMebase:RANGe 4;:TIMebase:REFerence LEFT", None),
        (":TRIGger:EDGE:SOURce CHANnel3;:TRIGger:EDGE:SLOPe POS", None),
        (":MEASure:DEFine DELay,+1,+1", None), (":TER?", "+0"), (":SINGle", None),
        (":SYSTem:ERRor?", '+0,"No error"'),
        (":TER?", "+0"), (":TER?", "+1"), (":OPERegister:CONDition?", "+8"), (":OPERegister:CONDition?", "+0"),
        (":MEASure:DELay? CHANnel3,CHANnel2", "+2.500000000E-01"),
    ]) as inst, InfiniiVisionScope(inst) as scope:
        scope.arm(3, window_s=4)
        assert scope.delay(3, 2, timeout_s=2) == 0.25
        assert scope.resolution_s == pytest.approx(1e-6)


def test_scope_missing_edge_is_none_and_errors_raise() -> None:
    with ScriptedInstrument([
        (":TER?", "+1"), (":OPERegister:CONDition?", "+0"), (":MEASure:DELay? CHANnel1,CHANnel2", "9.9E+37"),
        (":SYSTem:ERRor?", '-113,"Undefined header"'), (":SYSTem:ERRor?", '+0,"No error"'),
    ]) as inst, InfiniiVisionScope(inst) as scope:
        assert scope.delay(1, 2, timeout_s=1) is None
        with pytest.raises(InstrumentError, match="Undefined header"):
            scope.check_errors()


def test_supply_switches_and_verifies() -> None:
    with ScriptedInstrument([
        ("OUTPut OFF,(@2)", None), ("OUTPut? (@2)", "0"),
        ("OUTPut ON,(@2)", None), ("OUTPut? (@2)", "0"),
        ("MEASure:VOLTage? (@1)", "+5.000000000E+00"), ("MEASure:CURRent? (@1)", "+3.500000000E-01"),
    ]) as inst, E36300Supply(inst) as psu:
        psu.power(2, False)
        with pytest.raises(InstrumentError, match="output 2 reads '0'"):
            psu.power(2, True)
        assert psu.measure(1) == (5.0, 0.35)


def test_console_keeps_events_drops_noise_and_retries_garbled_commands() -> None:
    with ScriptedSerial([
        (b"@1 STATE?\n", b"! STATE RECORDING cause=signal source=LB-0001 t=5\n@1 \x93OK REC\xffORDING\n"),
        (b"@2 IDN?\n", b"@2 ERR 400 unknown command\n"),
        (b"@3 IDN?\n", b"@3 OK model=M serial=S firmware=1\n"),
        (b"@4 STOP\n", b"@4 ERR 409 not recording\n"),
    ], timeout=0.2) as port, CameraConsole(port) as con:
        assert con.state() == "RECORDING"
        assert con.events[0][1].startswith("STATE RECORDING cause=signal")
        assert con.identity() == {"model": "M", "serial": "S", "firmware": "1"}
        assert con.retried == 1 and con.noise_bytes == 2
        with pytest.raises(CameraError, match="409 not recording"):
            con.command("STOP")


def test_a_stale_reply_after_a_stall_is_discarded_never_taken_as_the_answer() -> None:
    """The camera stalled: the reply to an earlier command arrives just before the one asked for."""
    with ScriptedSerial([
        (b"@1 STATE?\n", b""),  # no answer within the timeout: the stall
        (b"@2 STATE?\n", b"@1 OK RECORDING\n@2 OK BUFFERING\n"),
        (b"@3 CLOCK?\n", b"@2 OK BUFFERING\n@3 OK 1700000000000000000\n"),
    ], timeout=0.1) as port, CameraConsole(port) as con:
        assert con.state() == "BUFFERING"
        assert con._number("CLOCK?") == 1_700_000_000_000_000_000
        assert con.stale == 2


def test_an_unreadable_console_reply_is_a_camera_error() -> None:
    with ScriptedSerial([(b"@1 CLOCK?\n", b"@1 OK RECORDING\n")], timeout=0.1) as port, \
            CameraConsole(port) as con, pytest.raises(CameraError, match="expected a number"):
        con.clock_offset_ns(samples=1)


def test_console_without_reply_is_an_error_after_every_retry() -> None:
    with ScriptedSerial([(b"@1 STATE?\n", b""), (b"@2 STATE?\n", b""), (b"@3 STATE?\n", b"")],
                        timeout=0.05) as port, CameraConsole(port) as con:
        with pytest.raises(CameraError, match="no reply"):
            con.state()
        assert con.retried == 2


def test_console_waits_for_an_event_and_keeps_the_others() -> None:
    with ScriptedSerial([], timeout=0.05) as port, CameraConsole(port) as con:
        port.inject(b"! BOOT\n! CLIP CAM001-0001\n")
        got = con.wait_event("CLIP", timeout_s=1.0)
        assert got is not None and got[1] == "CLIP CAM001-0001"
        assert [e for _, e in con.events] == ["BOOT"]
        assert con.wait_event("STATE", timeout_s=0.1) is None


# --- the scripts themselves: a test that sends less, or other, than its script fails ---------------------------

def test_a_script_left_unused_fails_the_block() -> None:
    never = r"1 scripted exchange\(s\) never happened, first \('SN\?', 'SN=1'\)"
    with pytest.raises(AssertionError, match=never), \
            ScriptedInstrument([("MN?", "MN=X"), ("SN?", "SN=1")]) as inst, RcdatAttenuator(inst) as att:
        att.model()


def test_a_command_the_driver_swallowed_still_fails_the_block() -> None:
    with pytest.raises(AssertionError, match="commands the script did not expect: b'ver\\\\r' where"), \
            ScriptedSerial([(b"id get\r", b"id get\r\n00000001\n\r>")]) as port:
        with contextlib.suppress(AssertionError):  # a driver that caught everything
            port.write(b"ver\r")
        port.write(b"id get\r")


def test_a_query_scripted_as_a_write_fails() -> None:
    with pytest.raises(AssertionError, match="scripted as a write"), ScriptedInstrument([("*RST", None)]) as inst:
        inst.query("*RST")


# --- traces --------------------------------------------------------------------------------------------------

def test_every_exchange_is_traced_at_debug_under_the_driver_and_device(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="bwclab.drivers")
    with ScriptedInstrument([("CHAN:1:SETATT:30.00", "1"), ("CHAN:1:ATT?", "30.0")]) as inst, \
            RcdatAttenuator(inst) as att:
        att.set_attenuation(1, 30.0)
    traced = [r for r in caplog.records if r.levelno == logging.DEBUG]
    assert {r.name for r in traced} == {"bwclab.drivers.rcdat.scripted"}
    assert [r.getMessage().split(" (sent at ")[0] for r in traced] == [
        "'CHAN:1:SETATT:30.00' -> '1'", "'CHAN:1:ATT?' -> '30.0'"]
    assert all(" ns, " in r.getMessage() and r.getMessage().endswith(" ms)") for r in traced)


def test_a_supply_switching_an_output_is_a_state_change_at_info(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bwclab.drivers")
    with ScriptedInstrument([("OUTPut ON,(@3)", None), ("OUTPut? (@3)", "1")]) as inst, E36300Supply(inst) as psu:
        psu.power(3, True)
    assert [r.getMessage() for r in caplog.records] == ["output 3 switched on", "session closed"]


def test_a_console_retry_and_a_failed_exchange_are_traced(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="bwclab.drivers")
    with ScriptedSerial([(b"@1 STATE?\n", b""), (b"@2 STATE?\n", b"@1 OK IDLE\n@2 OK BUFFERING\n")],
                        timeout=0.05) as port, CameraConsole(port, retries=1) as con:
        assert con.state() == "BUFFERING"
    text = [(r.levelname, r.getMessage().split(" (sent at ")[0]) for r in caplog.records]
    assert text == [("INFO", "opened"), ("DEBUG", "'@1 STATE?' -> failed: no reply"),
                    ("INFO", "sending 'STATE?' again (attempt 2 of 2)"),
                    ("DEBUG", "stale reply '@1 OK IDLE' discarded (waiting for @2)"),
                    ("DEBUG", "'@2 STATE?' -> '@2 OK BUFFERING'"), ("INFO", "closed")]
