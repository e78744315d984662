"""Fuzzing the emulated bench over its real transports: line generators per protocol (Hypothesis), a sender
per transport, and the checks that the bench survived. Used by the CI tests (a few hundred lines per
protocol) and by benchmarks/emulator_fuzz.py (ten thousand and more)."""

from __future__ import annotations

import contextlib
import os
import select
import socket
import time
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.harness import Emulator

HEADS = {
    "attenuator": ["MN?", "SN?", "ATT?", "SETATT=", "CHAN:1:SETATT:", "CHAN:2:ATT?", "CHAN:", ":CHAN:3:SETATT:"],
    "scope": ["*IDN?", "*RST", "*CLS", ":TRIG:EDGE:SOUR ", ":TIM:RANG ", ":TIM:REF ", ":SINGLE", ":RUN", ":STOP",
              ":TER?", ":OPER:COND?", ":MEAS:DEF DEL,", ":MEAS:DEL? ", ":SYST:ERR?", "*OPC?"],
    "psu": ["*IDN?", "*RST", "INST:NSEL ", "INST ", "VOLT ", "VOLT? ", "CURR ", "OUTP ", "OUTP? ", "MEAS:VOLT? ",
            "MEAS:CURR? ", "SYST:ERR?"],
    "numato": ["ver", "id get", "id set ", "gpio set ", "gpio clear ", "gpio read ", "gpio readall", "gpio iomask ",
               "gpio iodir ", "gpio writeall ", "gpio notify "],
    "console": ["IDN?", "STATE?", "CLOCK?", "CONFIG?", "CONFIG ", "START", "STOP", "SLEEP", "WAKE", "CLIPS?",
                "CLIP? ", "EVENTS ", "@1 ", "@"],
}
NUMBERS = st.one_of(st.integers(-10**6, 10**6).map(str), st.floats(allow_nan=True, allow_infinity=True).map(repr),
                    st.integers(1, 5000).map(lambda n: "9" * n), st.sampled_from(
                        ["MIN", "MAX", "ON", "OFF", "(@1:1000000000)", "(@1,2,3)", "(@0:3)", "(@" + "1," * 500 + "1)",
                         "CHAN1,CHAN2", "1e400", "-0", "0x10", "*", "buffer_s=nan", "allow=*", "audio_in_buffer=2"]),
                    st.sampled_from([1, 4, 4301, 5000]).map(lambda n: "CHAN" + "9" * n))
ASCII = st.characters(min_codepoint=32, max_codepoint=126)


def lines(protocol: str) -> st.SearchStrategy[bytes]:
    grammar = st.builds(lambda h, args: (h + " ".join(args)).encode("latin-1", errors="replace"),
                        st.sampled_from(HEADS[protocol]), st.lists(NUMBERS, max_size=3))
    text = st.text(ASCII, max_size=300).map(lambda s: s.encode())
    raw = st.binary(max_size=400).map(lambda b: b.replace(b"\n", b" ").replace(b"\r", b" "))
    return st.one_of(grammar, grammar, text, raw)


class Sender:
    """One client of one protocol: sends a line, reads whatever came back (so a live client never blocks)."""

    def __init__(self, emu: Emulator, protocol: str) -> None:
        self.protocol = protocol
        if protocol in ("attenuator", "scope", "psu"):
            port = emu.resources["instruments"][protocol]["port"]
            self.sock: socket.socket | None = socket.create_connection(("127.0.0.1", port), timeout=5)
            self.fd = self.sock.fileno()
            self.end = b"\r\n" if protocol == "attenuator" else b"\n"
            self.port = port
        else:
            self.sock = None
            path = (emu.resources["gpio"]["numato0"]["port"] if protocol == "numato"
                    else emu.resources["cameras"]["CAM003"]["console"])
            self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
            self.end = b"\r" if protocol == "numato" else b"\n"
        self.sent = 0

    def send(self, line: bytes) -> None:
        data = line + self.end
        while data:
            _, ready, _ = select.select([], [self.fd], [], 5)
            assert ready, f"{self.protocol}: the bench stopped reading"
            n = self.sock.send(data) if self.sock is not None else os.write(self.fd, data)
            data = data[n:]
            self.drain()
        self.sent += 1

    def drain(self) -> None:
        while select.select([self.fd], [], [], 0)[0]:
            try:
                got = self.sock.recv(65536) if self.sock is not None else os.read(self.fd, 65536)
            except BlockingIOError:
                return
            if not got:
                raise ConnectionError(f"{self.protocol}: the bench closed the connection")

    def close(self) -> None:
        with contextlib.suppress(OSError):
            if self.sock is not None:
                self.sock.close()
            else:
                os.close(self.fd)


def fuzz(emu: Emulator, protocol: str, n: int) -> int:
    """Send `n` generated lines to one protocol; returns how many went out."""
    sender = Sender(emu, protocol)
    try:
        @settings(max_examples=n, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(lines(protocol))
        def one(line: bytes) -> None:
            sender.send(line)

        one()
        return sender.sent
    finally:
        sender.close()


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def answers(emu: Emulator) -> dict[str, str]:
    """Each device's identity, each over a fresh connection: the bench is alive and well."""
    out: dict[str, Any] = {}
    for name in ("scope", "psu"):
        inst = emu.instrument(name)
        out[name] = inst.query("*IDN?")
        if name == "psu":  # fuzzing may have cut the cameras' power: a camera without power says nothing
            inst.write("VOLT 5,(@1:3)")
            inst.write("OUTP ON,(@1:3)")
        inst.close()
    att = emu.instrument("attenuator")
    out["attenuator"] = att.query("MN?")
    att.close()
    g = emu.gpio()
    out["numato"] = g.cmd("ver")
    g.close()
    c = emu.console("CAM003")
    deadline = time.monotonic() + 5
    while True:  # booting for up to boot_s after power returns
        try:
            out["console"] = c.cmd("IDN?")
            break
        except TimeoutError:
            if time.monotonic() > deadline:
                raise
    c.close()
    return out
