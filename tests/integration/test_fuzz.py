"""The emulated bench under hostile input: targeted lines that could crash, bloat or fool it, and a few
hundred generated lines per protocol. Every command a device cannot execute is reported the way that
device reports errors (the SCPI error queue, the attenuator's `0`), no handler ever fails on a line,
every device still answers and the emulator's memory stays within twice its start."""

from __future__ import annotations

import socket
import time

import pytest

from tests.integration.fuzzing import answers, fuzz, rss_kb
from tests.integration.harness import Emulator

IDENTITY = {"scope": "KEYSIGHT TECHNOLOGIES,DSOX3024T,MY00000001,07.50.2021102830",
            "psu": "Keysight Technologies,E36313A,MY60000001,2.1.0-1.0.4-1.12", "attenuator": "MN=RC4DAT-6G-95",
            "numato": "00000009", "console": "OK model=BWC-EMU-1 serial=CAM003 firmware=1.0.0"}


@pytest.fixture(scope="module")
def baseline(emu: Emulator) -> int:
    assert answers(emu) == IDENTITY
    return rss_kb(emu.proc.pid)


def raw(emu: Emulator, instrument: str, data: bytes, read: bool = True) -> bytes:
    with socket.create_connection(("127.0.0.1", emu.resources["instruments"][instrument]["port"]), timeout=3) as s:
        s.sendall(data)
        if not read:
            return b""
        s.settimeout(1.0)
        try:
            return s.recv(65536)
        except TimeoutError:
            return b""


DIGITS = "9" * 5000
ILLEGAL, OUT_OF_RANGE = '-224,"Illegal parameter value"', '-222,"Data out of range"'
NUMERIC, NOT_ALLOWED = '-120,"Numeric data error"', '-108,"Parameter not allowed"'
UNEXECUTABLE = [  # (instrument, command, the error it queues)
    ("scope", f":TRIG:EDGE:SOUR CHAN{DIGITS}", ILLEGAL),
    ("scope", f":MEAS:DEL? CHAN1,CHANNEL{DIGITS}", ILLEGAL),
    ("scope", ":TRIGger:EDGE:SOURce CHANnel0", ILLEGAL),
    ("scope", f":MEAS:DEF DEL,{DIGITS},1", OUT_OF_RANGE),
    ("scope", f":TIM:RANG {DIGITS}", NUMERIC),
    ("scope", ":TIM:RANG NAN", ILLEGAL),
    ("scope", ":TIM:RANG 1_0", ILLEGAL),
    ("scope", f":CHAN{DIGITS}:DISP ON", '-113,"Undefined header"'),
    ("scope", "*IDN? 1", NOT_ALLOWED),
    ("scope", ":SINGle now", NOT_ALLOWED),
    ("psu", f"VOLT {DIGITS},(@1)", NUMERIC),
    ("psu", f"OUTP ON,(@{'1' * 5000})", OUT_OF_RANGE),
    ("psu", "VOLT 10,(@2,1)", OUT_OF_RANGE),  # 10 V suits output 2, not output 1: neither is set
    ("psu", "INST:NSEL 4", OUT_OF_RANGE),
    ("psu", "CURR INF", ILLEGAL),
    ("psu", "*RST please", NOT_ALLOWED),  # *RST would power every camera down
]


@pytest.mark.parametrize(("instrument", "command", "error"), UNEXECUTABLE,
                         ids=[f"{i}:{c[:32]}" for i, c, _ in UNEXECUTABLE])
def test_a_command_that_cannot_be_executed_queues_its_error_and_changes_nothing(
        emu: Emulator, baseline: int, instrument: str, command: str, error: str) -> None:
    inst = emu.instrument(instrument)
    try:
        before = inst.query("VOLT? (@1:3)") if instrument == "psu" else inst.query(":TRIG:EDGE:SOUR?")
        inst.write(command)
        assert inst.query(":SYST:ERR?") == error
        assert inst.query(":SYST:ERR?") == '+0,"No error"'
        assert before == (inst.query("VOLT? (@1:3)") if instrument == "psu" else inst.query(":TRIG:EDGE:SOUR?"))
    finally:
        inst.close()
    assert answers(emu) == IDENTITY


@pytest.mark.parametrize("command", [f"CHAN:{DIGITS}:SETATT:{DIGITS}", f"CHAN:1:SETATT:{DIGITS}", "CHAN:1:SETATT:nan",
                                     "SETATT=-1", "CHAN:9:SETATT:10", f"CHAN:{DIGITS}:ATT?", "SETATT=inf"])
def test_the_attenuator_refuses_what_it_cannot_execute_with_0_and_keeps_its_setting(
        emu: Emulator, baseline: int, command: str) -> None:
    att = emu.instrument("attenuator")
    try:
        before = att.query("ATT?")
        assert att.query(command) == "0"
        assert att.query("ATT?") == before
    finally:
        att.close()


def test_a_huge_channel_range_is_checked_before_it_is_built(emu: Emulator, baseline: int) -> None:
    assert raw(emu, "psu", b"VOLT? (@1:1000000000)\nSYST:ERR?\n") == b'-222,"Data out of range"\n'
    assert answers(emu) == IDENTITY and rss_kb(emu.proc.pid) < 2 * baseline


def test_a_long_line_in_one_read_is_refused_however_it_arrives(emu: Emulator, baseline: int) -> None:
    assert raw(emu, "attenuator", b"MN?" + b" " * 100_000 + b"\r\nMN?\r\n").startswith(b"0\r\n")  # refused, then MN=
    assert answers(emu) == IDENTITY


def test_a_client_that_never_reads_is_dropped_and_memory_stays_bounded(emu: Emulator, baseline: int) -> None:
    port = emu.resources["instruments"]["scope"]["port"]
    s = socket.create_connection(("127.0.0.1", port), timeout=3)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sent, dropped = 0, False
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and sent < 50_000_000:
        try:
            s.sendall(b"*IDN?\n" * 10_000)
            sent += 60_000
        except OSError:
            dropped = True
            break
    s.close()
    assert dropped, f"sent {sent:,} bytes of queries without reading and was never dropped"
    assert answers(emu) == IDENTITY and rss_kb(emu.proc.pid) < 2 * baseline


@pytest.mark.parametrize("protocol", ["attenuator", "scope", "psu", "numato", "console"])
def test_generated_lines_never_stop_the_bench_nor_fail_a_handler(emu: Emulator, baseline: int, protocol: str) -> None:
    failed_before = emu.truth("protocol_error")
    assert fuzz(emu, protocol, 300) == 300
    assert answers(emu) == IDENTITY
    assert emu.truth("protocol_error") == failed_before  # a handler that raised is logged there
    assert rss_kb(emu.proc.pid) < 2 * baseline
    assert emu.proc.poll() is None
