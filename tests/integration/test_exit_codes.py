"""Exit codes and "the bench failed, not the camera" come from outcome types, never from wording: with every message
bwclab could read an outcome from reworded (tests/integration/reworded.py), `rig certify` still exits 0 on a pass,
1 on a failure, 2 on a refused file, 3 when an instrument fails every attempt, and 130 on Ctrl-C."""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.integration.benches import real_bench
from tests.integration.certify_helpers import fast_bench, spec, verdicts
from tests.integration.harness import ROOT, Emulator


def certify(out: Path, bench: Path, requirements: Path, *extra: str) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "tests.integration.reworded", "rig", "certify", "--bench", str(bench),
           "--requirements", str(requirements), "--out", str(out), *extra]
    return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def finished(proc: subprocess.Popen[str], timeout: float = 300) -> tuple[int, str]:
    output, _ = proc.communicate(timeout=timeout)
    return proc.returncode, output


def test_reworded_a_pass_exits_0_and_a_failure_1(tmp_path: Path) -> None:
    requirements = spec(tmp_path, ["GROUP"], GROUP={"trials": 1})
    rc, output = finished(certify(tmp_path / "pass", fast_bench(tmp_path), requirements))
    assert rc == 0 and set(verdicts(tmp_path / "pass").values()) == {"pass"}, output
    faults = tmp_path / "faults.yaml"
    faults.write_text(yaml.safe_dump({"CAM002": {"ignore_signals": True}}))
    rc, output = finished(certify(tmp_path / "fail", fast_bench(tmp_path), requirements, "--faults", str(faults)))
    assert rc == 1 and verdicts(tmp_path / "fail")[("GROUP", "CAM002")] == "fail", output


def test_reworded_a_refused_file_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "spec.yaml"
    bad.write_text("requirements: [{id: A, text: t, procedure: latency, quantity: p95, limit: {maxx: 1}}]\n")
    rc, output = finished(certify(tmp_path / "run", fast_bench(tmp_path), bad))
    assert rc == 2 and "(reworded)" in output and "Traceback" not in output, output


def test_reworded_ctrl_c_exits_130(tmp_path: Path) -> None:
    out = tmp_path / "run"
    proc = certify(out, fast_bench(tmp_path), spec(tmp_path, ["LAT-HOLSTER"], **{"LAT-HOLSTER": {"trials": 20}}))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if (out / "trials.sqlite").exists():  # connecting first would make it, and the run would refuse the folder
            with contextlib.suppress(sqlite3.OperationalError), sqlite3.connect(out / "trials.sqlite") as con:
                if con.execute("SELECT COUNT(*) FROM trials WHERE status = 'ok'").fetchone()[0] >= 2:
                    break
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    rc, output = finished(proc, timeout=60)
    assert rc == 130, output
    assert json.loads((out / "measurements.json").read_text())["verdict"] == "incomplete"


class RefusingAttenuator:
    """An attenuator on a TCP port that names itself (`MN?`, `SN?`) and refuses every setting (status `0`): a bench
    instrument that fails every attempt (docs/protocols/rcdat-attenuator.md)."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.refused = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = self.server.accept()
                threading.Thread(target=self._talk, args=(conn,), daemon=True).start()

    def _talk(self, conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            for line in conn.makefile("rb"):
                cmd = line.strip().decode().upper()
                reply = {"MN?": "MN=RC4DAT-6G-95", "SN?": "SN=11912230001"}.get(cmd, "95" if "ATT?" in cmd else "0")
                self.refused += reply == "0"
                conn.sendall(reply.encode() + b"\r\n")

    def close(self) -> None:
        self.server.close()


@pytest.fixture
def bench_refusing_every_setting(tmp_path: Path) -> Iterator[Path]:
    """A real bench file (no emulate:): GPIO, consoles, docks, scope and supply an emulator's, the attenuator one
    that refuses every setting."""
    demo = fast_bench(tmp_path)
    emu = Emulator(tmp_path / "emu", bench=demo)
    att = RefusingAttenuator()
    try:
        yield real_bench(emu, demo, tmp_path / "real.yaml", f"TCPIP0::127.0.0.1::{att.port}::SOCKET")
    finally:
        att.close()
        emu.stop()


def test_reworded_an_instrument_failing_every_attempt_is_the_bench_lost_exit_3(
        tmp_path: Path, bench_refusing_every_setting: Path) -> None:
    out = tmp_path / "run"
    rc, output = finished(certify(out, bench_refusing_every_setting,
                                  spec(tmp_path, ["GROUP"], GROUP={"trials": 1, "retries": 1})))
    assert rc == 3, output
    cert = json.loads((out / "measurements.json").read_text())
    assert cert["verdict"] == "incomplete" and not [r for r in cert["results"] if r["verdict"] == "fail"], cert
    assert cert["health"]["lost"].startswith("(reworded)"), cert["health"]  # the loss is on record, in its words
    with sqlite3.connect(out / "trials.sqlite") as con:
        faults = con.execute("SELECT fault FROM errors").fetchall()
    assert faults and {f for (f,) in faults} == {"instrument"}
    assert cert["health"]["errored_attempts"] == len(faults) == 2  # the step and its one retry
