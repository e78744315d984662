"""The emulated bench under hostile input: targeted lines from the issues that once crashed or bloated it,
and a few hundred generated lines per protocol. After each, every device still answers and the
emulator's memory stays within twice its start."""

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


@pytest.mark.parametrize("instrument", ["attenuator", "scope", "psu"])
def test_a_number_of_5000_digits_is_refused_not_fatal(emu: Emulator, baseline: int, instrument: str) -> None:
    digits = "9" * 5000
    line = {"attenuator": f"CHAN:{digits}:SETATT:{digits}", "scope": f":MEAS:DEF DEL,{digits},1",
            "psu": f"VOLT {digits},(@1)"}[instrument]
    raw(emu, instrument, line.encode() + b"\n", read=False)
    assert answers(emu) == IDENTITY


def test_a_huge_channel_range_is_checked_before_it_is_built(emu: Emulator, baseline: int) -> None:
    t0 = time.monotonic()
    raw(emu, "psu", b"VOLT? (@1:1000000000)\nSYST:ERR?\n")
    assert time.monotonic() - t0 < 2.0
    psu = emu.instrument("psu")
    assert psu.query("SYST:ERR?") in ('-222,"Data out of range"', '+0,"No error"')
    psu.close()
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
def test_generated_lines_never_stop_the_bench(emu: Emulator, baseline: int, protocol: str) -> None:
    assert fuzz(emu, protocol, 300) == 300
    assert answers(emu) == IDENTITY
    assert rss_kb(emu.proc.pid) < 2 * baseline
    assert emu.proc.poll() is None
