"""Start the emulator in its own process and reach it as a rig would: pyserial on ptys, pyvisa-py on TCP."""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pyvisa
import serial

ROOT = Path(__file__).resolve().parents[2]
QUICK = ROOT / "fixtures" / "emulated.yaml"
T = TypeVar("T")


def wait_for(predicate: Callable[[], T], timeout_s: float, what: str, poll_s: float = 0.05) -> T:
    """Poll `predicate` until it gives something true and return that; fail, naming `what`, after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout_s:g} s for {what}: it never came")
        time.sleep(poll_s)


def sleep_until_ns(t_ns: int) -> None:
    """Sleep until host CLOCK_MONOTONIC, the clock the emulator stamps its truth log in, reaches `t_ns`."""
    left = t_ns - time.monotonic_ns()
    if left > 0:
        time.sleep(left / 1e9)


class Emulator:
    def __init__(self, state: Path, bench: Path = QUICK, faults: Path | None = None) -> None:
        self.state = state
        cmd = [sys.executable, "-m", "bwclab", "bench", "emulate", "--bench", str(bench), "--state-dir", str(state)]
        if faults is not None:
            cmd += ["--faults", str(faults)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
        deadline = time.monotonic() + 30
        res = state / "resources.json"
        while not res.exists():
            if self.proc.poll() is not None:
                raise RuntimeError(f"emulator exited: {self.proc.stderr.read().decode() if self.proc.stderr else ''}")
            if time.monotonic() > deadline:
                raise TimeoutError("emulator did not publish resources.json")
            time.sleep(0.05)
        self.resources: dict[str, Any] = json.loads(res.read_text())
        self.rm = pyvisa.ResourceManager("@py")
        self.opened: list[Any] = []

    def truth(self, event: str | None = None, **match: Any) -> list[dict[str, Any]]:
        rows = [json.loads(line) for line in Path(self.resources["truth_log"]).read_text().splitlines() if line]
        return [r for r in rows if (event is None or r["event"] == event)
                and all(r.get(k) == v for k, v in match.items())]

    def wait_truth(self, event: str, timeout: float = 10.0, count: int = 1, **match: Any) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while True:
            rows = self.truth(event, **match)
            if len(rows) >= count or time.monotonic() > deadline:
                return rows
            time.sleep(0.05)

    def wait_past(self, t_ns: int, ask: Callable[[], object]) -> None:
        """Return once the emulator has run everything it had due by host time `t_ns` (the clock its truth log is
        stamped in): the truth log, and every reply from then on, show it. `ask` is one round trip that gives a
        reply, e.g. the GPIO adapter's `ver`. The emulator's one loop serves the commands that have come in, then
        runs the timers due by then: the turn that serves an `ask` sent at `t_ns` or later runs every timer due by
        `t_ns` after replying, and a second `ask` is served in a later turn, after them."""
        sleep_until_ns(t_ns)
        for _ in range(2):
            assert ask(), "the emulator did not answer"

    def instrument(self, name: str) -> Any:
        term = "\r\n" if name == "attenuator" else "\n"
        inst = self.rm.open_resource(self.resources["instruments"][name]["resource"], read_termination=term,
                                     write_termination=term, timeout=3000)
        self.opened.append(inst)
        return inst

    def gpio(self) -> Numato:
        return Numato(self.resources["gpio"]["numato0"]["port"])

    def console(self, serial_no: str) -> Console:
        return Console(self.resources["cameras"][serial_no]["console"])

    def stop(self) -> tuple[int, float]:
        for inst in self.opened:
            with contextlib.suppress(Exception):
                inst.close()
        self.rm.close()
        t = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        return rc, time.monotonic() - t


class Numato:
    def __init__(self, port: str) -> None:
        self.ser = serial.Serial(port, 19200, timeout=0.05)
        self.ser.reset_input_buffer()
        self.notes: list[tuple[float, str]] = []

    def raw(self, data: bytes, wait: float = 1.0, prompts: int = 1) -> bytes:
        """Send `data`; what comes back up to the `prompts`-th prompt (one a command line), or after `wait`."""
        self.ser.write(data)
        out = b""
        deadline = time.monotonic() + wait
        while not (out.endswith(b">") and out.count(b">") >= prompts) and time.monotonic() < deadline:
            out += self.ser.read_until(b">")
        return out

    def cmd(self, text: str) -> str:
        out = self.raw(text.encode() + b"\r").decode()
        stamp = time.monotonic_ns()
        body = out[len(text):]
        self.notes += [(stamp, x) for x in body.replace("\r", "\n").split("\n") if x.startswith("# ")]
        lines = [x for x in body.replace("\r", "\n").split("\n") if x and x != ">" and not x.startswith("#")]
        return lines[0] if lines else ""

    def notifications(self, wait: float) -> list[tuple[float, str]]:
        """Read change notifications for `wait` seconds, each stamped when its first byte arrived."""
        end = time.monotonic() + wait
        buf = b""
        stamp = 0
        while time.monotonic() < end:
            first = self.ser.read(1)  # returns as soon as a byte is there
            if not first:
                continue
            if not buf:
                stamp = time.monotonic_ns()
            buf += first + self.ser.read(self.ser.in_waiting)
            while b"#" in buf and buf.rstrip(b"\r\n").count(b" ") >= 3 and buf.endswith((b"\r", b"\n")):
                for line in buf.replace(b"\r", b"\n").split(b"\n"):
                    if line.startswith(b"# "):
                        self.notes.append((stamp, line.decode()))
                buf = b""
            if buf and b"#" not in buf:
                buf = b""
        return self.notes

    def close(self) -> None:
        self.ser.close()


class Console:
    def __init__(self, port: str) -> None:
        self.ser = serial.Serial(port, 115200, timeout=2)
        self.ser.reset_input_buffer()
        self.events: list[str] = []

    def cmd(self, text: str) -> str:
        self.ser.write(text.encode("latin-1") + b"\n")
        while True:
            line: str = self.ser.readline().decode("ascii", errors="replace").strip()
            if not line:
                raise TimeoutError(f"no reply to {text!r}")
            if line.startswith("! "):
                self.events.append(line[2:])
                continue
            return line

    def wait_event(self, prefix: str, timeout: float = 8.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for e in self.events:
                if e.startswith(prefix):
                    self.events.remove(e)
                    return e
            line = self.ser.readline().decode("ascii", errors="replace").strip()
            if line.startswith("! "):
                self.events.append(line[2:])
        raise TimeoutError(f"no event {prefix!r}; saw {self.events}")

    def close(self) -> None:
        self.ser.close()


def dialogue(send: Callable[[str], str], pairs: list[tuple[str, str]]) -> None:
    """Each command in turn, and the reply it must get."""
    for command, reply in pairs:
        assert send(command) == reply, (command[:40], reply)


def scpi(inst: Any) -> Callable[[str], str]:
    """Send one SCPI line: a query returns its reply, a setting returns ''."""
    def send(line: str) -> str:
        if "?" in line:
            return str(inst.query(line))
        inst.write(line)
        return ""

    return send


def write_yaml(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path

