"""A camera's console goes away mid-run and its pty's number is freed; another process takes that number before the
rig reopens the path. The rig must not talk to it: what answers there is checked first (its serial, and on an
emulated bench whether the terminal is still the emulator's), so the camera's latency is an `error`, never a `fail`
read off another device (a real camera left recording, its next triggers seemingly ignored)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import sqlite3
import threading
import time
import tty
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from tests.integration.benches import real_bench
from tests.integration.certify_helpers import certify, fast_bench, spec, verdicts
from tests.integration.harness import Emulator

FAULTY = "CAM002"
TAGGED = re.compile(r"^(@\d+) (.*)$")


class Impostor:
    """Holds a pty of the number `port` names, once freed, and answers on it as a console would, with `serial`."""

    def __init__(self, port: str, serial: str, timeout_s: float = 60.0) -> None:
        self.serial = serial
        self.heard: list[str] = []
        deadline = time.monotonic() + timeout_s
        while Path(port).exists():  # the camera's terminal is still there
            assert time.monotonic() < deadline, f"{port} was never freed"
            time.sleep(0.05)
        number = int(port.rsplit("/", 1)[1])
        spare: list[int] = []
        try:
            while True:  # a new pty gets the lowest free number: hold lower ones until it is this one
                master, slave = os.openpty()
                name = os.ttyname(slave)
                if name == port:
                    break
                if int(name.rsplit("/", 1)[1]) < number:
                    spare += [master, slave]
                    continue
                os.close(master)  # the number is not free yet: the rig still holds the hung-up terminal
                os.close(slave)
                assert time.monotonic() < deadline, f"{port}'s number was never given out again (last {name})"
                time.sleep(0.02)
        finally:
            for fd in spare:
                os.close(fd)
        tty.setraw(slave)
        self.master, self.slave = master, slave
        self.thread = threading.Thread(target=self._answer, daemon=True)
        self.thread.start()

    def _answer(self) -> None:
        buf = b""
        with contextlib.suppress(OSError):
            while chunk := os.read(self.master, 4096):
                buf += chunk
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    m = TAGGED.match(line.decode("ascii", "replace").strip())
                    if m is None:
                        continue
                    tag, command = m.groups()
                    self.heard.append(command)
                    reply = {"IDN?": f"OK model=BWC-OTHER serial={self.serial} firmware=9.9.9",
                             "STATE?": "OK BUFFERING", "STOP": "ERR 409 not recording"}.get(command, "OK")
                    os.write(self.master, f"{tag} {reply}\n".encode())

    def close(self) -> None:
        for fd in (self.master, self.slave):
            with contextlib.suppress(OSError):
                os.close(fd)
        self.thread.join(timeout=5)


def console_errors(out: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(out / "trials.sqlite") as con:
        return con.execute("SELECT fault, cause FROM errors WHERE camera = ?", (FAULTY,)).fetchall()


def check_error_not_fail(out: Path, rc: int, output: str) -> None:
    assert rc == 1 and (out / "measurements.json").exists(), output
    got = verdicts(out)
    assert got[("LAT-LIGHTBAR", FAULTY)] == "error", (got, output)
    assert got[("LAT-LIGHTBAR", "CAM001")] == got[("LAT-LIGHTBAR", "CAM003")] == "pass", got
    errors = console_errors(out)
    assert errors and {fault for fault, _ in errors} == {"camera"}, errors


def certify_while_taken(out: Path, port: Callable[[], str], serial: str, bench: Path, requirements: Path,
                        *extra: str) -> Impostor:
    """Certify into OUT while another process's pty waits for the faulty camera's console (at `port()`) to be freed,
    takes its number and answers there as `serial`; the camera's latency must come out an error, never a fail.
    Returns the impostor, to see what the rig sent it."""
    taken: list[Impostor] = []
    taker = threading.Thread(target=lambda: taken.append(Impostor(port(), serial)), daemon=True)
    taker.start()
    try:
        rc, output = certify(out, bench, requirements, *extra)
    finally:
        taker.join(timeout=60)
        for impostor in taken:
            impostor.close()
    assert taken, "the freed console was never taken"
    check_error_not_fail(out, rc, output)
    return taken[0]


@pytest.fixture
def emulator_with_a_console_that_goes(tmp_path: Path) -> Iterator[tuple[Emulator, Path]]:
    demo = fast_bench(tmp_path)
    faults = tmp_path / "faults.yaml"
    faults.write_text(yaml.safe_dump({FAULTY: {"console_disconnect_after_s": 5}}))
    emu = Emulator(tmp_path / "emu", bench=demo, faults=faults)
    try:
        yield emu, demo
    finally:
        emu.stop()


def test_a_freed_console_taken_by_another_device_is_an_error_for_the_camera(
        tmp_path: Path, emulator_with_a_console_that_goes: tuple[Emulator, Path]) -> None:
    """A lab's bench file (no emulator known to the rig): the device now on the path answers as another serial. The
    rig asks who it is, and sends it nothing else."""
    emu, demo = emulator_with_a_console_that_goes
    bench = real_bench(emu, demo, tmp_path / "real.yaml")
    port = emu.resources["cameras"][FAULTY]["console"]
    requirements = spec(tmp_path, ["LAT-LIGHTBAR"], **{"LAT-LIGHTBAR": {"trials": 6}})
    impostor = certify_while_taken(tmp_path / "run", lambda: port, "CAM999", bench, requirements)
    assert impostor.heard and set(impostor.heard) == {"IDN?"}, impostor.heard  # asked who it is, used for nothing


def test_a_freed_console_taken_by_a_namesake_on_an_emulated_bench_is_an_error_for_the_camera(tmp_path: Path) -> None:
    """An emulated bench: the process now on the path answers with the very serial (another bench's emulator runs
    the same cameras), but the terminal is no longer the emulator's, and the rig sends it nothing."""
    faults = tmp_path / "faults.yaml"
    faults.write_text(yaml.safe_dump({FAULTY: {"console_disconnect_after_s": 3}}))
    out = tmp_path / "run"

    def port() -> str:
        resources = out / "bench" / "session-1" / "resources.json"
        deadline = time.monotonic() + 60
        while not resources.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        return str(json.loads(resources.read_text())["cameras"][FAULTY]["console"])

    requirements = spec(tmp_path, ["LAT-LIGHTBAR"], **{"LAT-LIGHTBAR": {"trials": 6}})
    impostor = certify_while_taken(out, port, FAULTY, fast_bench(tmp_path), requirements, "--faults", str(faults))
    assert impostor.heard == [], impostor.heard
