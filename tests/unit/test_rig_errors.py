"""Errored attempts as rows (whose fault, typed), the bench's health counted from them, clips the cameras are
still writing, and exit codes read from types."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from bwclab.commands.certify import BENCH_LOST, INTERRUPTED, exit_code
from bwclab.rig.campaign import Stop, Stopped, bench_health
from bwclab.rig.interfaces import CameraError, InstrumentError
from bwclab.rig.procedures.base import Context, Plan, run_steps
from bwclab.rig.station import Station, pty_holder_differs
from bwclab.rig.trials import Failure, Fault, Row, StepResult, TrialStore


class SeqRow(Row):
    seq: int = 0


class NoBench(Context):
    """The real context's trial loop and per-camera bookkeeping, with no bench behind it."""

    def __init__(self, store: TrialStore, cameras: list[str], out: Path) -> None:
        super().__init__(cast(Any, None), store, cameras, out)

    def recover(self, serials: list[str] | None = None) -> None:
        pass


def session(path: Path) -> TrialStore:
    store = TrialStore(path)
    store.begin_session()
    return store


def test_every_errored_attempt_is_a_row_with_whose_fault_it_was(tmp_path: Path) -> None:
    """A whole step lost at an instrument, one camera's part lost at its console, another's at a file that vanished
    (an error that names no one counts against the camera): each is a row of its own, its fault from its type."""
    store = session(tmp_path / "trials.sqlite")
    ctx = NoBench(store, ["A", "B", "C"], tmp_path)
    tries: list[int] = []

    def part(s: str) -> SeqRow:
        if len(tries) == 2 and s == "B":
            raise CameraError("console /dev/pts/9: no reply to 'STOP'")
        if len(tries) == 2 and s == "C":
            raise FileNotFoundError("clip gone")
        return SeqRow()

    def step(seq: int, cams: list[str]) -> StepResult:
        tries.append(seq)
        if len(tries) == 1:
            raise InstrumentError("attenuator (TCPIP0::127.0.0.1::1::SOCKET): timed out", device="attenuator")
        return StepResult.of(ctx.each(cams, part))

    run_steps(ctx, Plan("k", 1, 3), ["A", "B", "C"], step)
    got = [(e.attempt, e.failure.camera, e.failure.fault, e.failure.device) for e in store.errors("k")]
    assert got == [(0, "", Fault.INSTRUMENT, "attenuator"), (1, "B", Fault.CAMERA, "B"), (1, "C", Fault.CAMERA, "C")]
    assert store.errors("k")[1].failure.cause == "CameraError: console /dev/pts/9: no reply to 'STOP'"
    assert [t.status for t in store.trials("k")] == ["error", "ok", "ok"]  # B and C retried, and answered
    store.close()


def test_bench_health_counts_every_errored_attempt_and_every_step_tried_again(tmp_path: Path) -> None:
    """Attempts count from 0, and a step tried again in a later session was tried again too; errors are counted by
    the device that failed, not by the exception's class."""
    db = tmp_path / "trials.sqlite"
    store = session(db)
    ok, lost = StepResult.of({"CAM001": SeqRow(), "CAM002": SeqRow()}), StepResult()
    att = Failure.of(InstrumentError("attenuator: channel 1 reads '?'", device="attenuator"))
    store.record("lat", 0, 0, "error", 0, lost, [att])
    store.record("lat", 0, 1, "ok", 0, ok)
    store.record("lat", 1, 0, "ok", 0, ok, [Failure.of(CameraError("console /dev/pts/3: no reply"), "CAM003")])
    store.record("lat", 1, 1, "ok", 0, StepResult.of({"CAM003": SeqRow()}))
    store.record("lat", 2, 0, "ok", 0, ok)
    store.record("cov", 0, 0, "error", 0, lost, [Failure.of(InstrumentError("psu: output 2 reads 'x'"))])
    store.close()
    store = session(db)  # a resumed run: the step that errored last session is tried again at attempt 0
    store.record("cov", 0, 0, "ok", 0, ok)
    health = bench_health(store.trials(), store.errors(), lost="")
    assert health.errored_attempts == 3
    assert health.retried_steps == 3  # lat #0, lat #1, cov #0; not lat #2
    assert health.errors_by_device == {"CAM003": 1, "attenuator": 1, "instrument": 1}
    store.close()


class Dockside:
    """A station with one camera whose console ends a recording with `clip=<id>` and whose clip lands in its dock
    later (a camera writes a clip in its own time), or a camera with no console that a power cycle stops."""

    def __init__(self, dock: Path, console: bool) -> None:
        self.docks = dock
        self.clip = 0
        self.consoles = {"CAM001": self} if console else {}
        self.psu = self
        self.bench = SimpleNamespace(cameras={"CAM001": SimpleNamespace(psu_channel=1)})
        self.landed = threading.Event()

    def console_port(self, serial: str) -> str | None:
        return "/dev/pts/99" if self.consoles else None

    def dock(self, serial: str) -> Path:
        return self.docks

    def command(self, text: str) -> str:
        assert text == "STOP"
        self.clip += 1
        return f"clip=CAM001-{self.clip:04d}"

    def write(self, clip: str) -> None:
        (self.docks / f"{clip}.mp4").write_bytes(b"mp4")
        (self.docks / f"{clip}.json").write_text("{}")

    def land(self, clip: str) -> None:
        self.write(clip)
        self.landed.set()

    def power(self, serial: str, on: bool) -> int:
        if not on:  # the clip the cut ended lands a little later
            threading.Timer(0.5, self.land, args=("CAM001-0007",)).start()
        return 0


def test_a_clip_still_being_written_is_never_taken_for_a_later_triggers(tmp_path: Path) -> None:
    """STOP names a clip that lands only after the next trigger's dock was looked at: the next clip taken is the one
    that trigger made, not 'two new clips' (a healthy camera's error, retried, on a loaded bench)."""
    (tmp_path / "dock").mkdir()
    station = Dockside(tmp_path / "dock", console=True)
    ctx = Context(cast(Any, station), cast(Any, None), ["CAM001"], tmp_path)
    ctx.store = cast(Any, SimpleNamespace(session=1))
    assert ctx.end_recording("CAM001") == "CAM001-0001"  # still being written
    before = ctx.dock_contents("CAM001")
    station.write("CAM001-0001")  # the last trial's clip lands after the trigger fired
    station.write("CAM001-0002")  # and the clip this trigger made
    got = ctx.collect_clip("CAM001", None, before, timeout_s=5)
    assert got.clip_id == "CAM001-0002"


def test_a_power_cycle_that_ends_a_recording_waits_for_its_clip_to_land(tmp_path: Path) -> None:
    """A camera without a console is stopped by a power cycle: its clip is in the dock before the next trigger."""
    (tmp_path / "dock").mkdir()
    station = Dockside(tmp_path / "dock", console=False)
    ctx = Context(cast(Any, station), cast(Any, None), ["CAM001"], tmp_path, boot_wait_s=0.0)
    ctx.end_recording("CAM001")
    assert station.landed.is_set() and "CAM001-0007.json" in ctx.dock_contents("CAM001")


def test_the_exit_code_comes_from_why_the_run_stopped_never_from_its_wording() -> None:
    for words in ("the bench was lost: the emulated bench exited", "(reworded) tsol saw hcneb eht", ""):
        assert exit_code(pytest.ExitCode.INTERRUPTED, Stopped(Stop.BENCH_LOST, words)) == BENCH_LOST
        assert exit_code(pytest.ExitCode.INTERRUPTED, Stopped(Stop.INTERRUPTED, words)) == INTERRUPTED
        assert exit_code(pytest.ExitCode.TESTS_FAILED, Stopped(Stop.HALTED, words)) == 1
    assert exit_code(pytest.ExitCode.OK, None) == 0
    assert exit_code(pytest.ExitCode.TESTS_FAILED, None) == 1
    assert exit_code(pytest.ExitCode.USAGE_ERROR, None) == 2
    assert exit_code(pytest.ExitCode.INTERRUPTED, None) == INTERRUPTED  # Ctrl-C before the campaign was up


def test_a_pty_is_known_to_be_another_processs_only_by_who_holds_its_terminal() -> None:
    master, slave = os.openpty()
    port = os.ttyname(slave)
    try:
        assert not pty_holder_differs(os.getpid(), port)
        other = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
        try:
            assert pty_holder_differs(other.pid, port)
        finally:
            other.communicate(b"")
    finally:
        os.close(master)
        os.close(slave)
    assert not pty_holder_differs(os.getpid(), "/dev/ttyUSB0")  # not a pty: the device's identity decides


class Answering:
    """A console whose device answers `IDN?` as `serial` (None: says nothing)."""

    def __init__(self, serial: str | None) -> None:
        self.serial, self.asked, self.closed = serial, 0, False

    def identity(self) -> dict[str, str]:
        self.asked += 1
        if self.serial is None:
            raise CameraError("console /dev/pts/77: no reply to 'IDN?'")
        return {"model": "BWC-EMU-1", "serial": self.serial, "firmware": "1.0.0"}

    def close(self) -> None:
        self.closed = True


def station_with(console: Answering, port: str = "/dev/pts/77", pid: int | None = None) -> Station:
    """A station's console bookkeeping alone (no device opened): camera CAM002 on `port`, an emulated bench's pid."""
    station = Station.__new__(Station)
    station.bench = cast(Any, SimpleNamespace(cameras={"CAM002": SimpleNamespace(has_console=True, console=port)}))
    station.res = cast(Any, None if pid is None else SimpleNamespace(pid=pid, cameras={}))
    station.consoles = {"CAM002": cast(Any, console)}
    return station


@pytest.mark.parametrize("answers", ["CAM999", None])
def test_a_console_that_answers_as_another_device_or_not_at_all_is_not_used(answers: str | None) -> None:
    console = Answering(answers)
    station = station_with(console)
    with pytest.raises(CameraError) as err:
        station.verify_console("CAM002")
    assert err.value.device == "CAM002" and console.closed and station.consoles["CAM002"] is None


def test_a_console_that_answers_as_its_camera_is_kept() -> None:
    console = Answering("CAM002")
    station = station_with(console)
    assert station.verify_console("CAM002")["serial"] == "CAM002"
    assert station.consoles["CAM002"] is cast(Any, console) and not console.closed


def test_on_an_emulated_bench_a_terminal_the_emulator_no_longer_holds_is_not_asked_who_it_is() -> None:
    """A namesake (another bench's emulated CAM002) would answer with the right serial: the terminal's holder
    decides before the console is asked anything."""
    master, slave = os.openpty()
    other = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        console = Answering("CAM002")
        station = station_with(console, os.ttyname(slave), pid=other.pid)  # the "emulator" is another process
        with pytest.raises(CameraError):
            station.verify_console("CAM002")
        assert console.asked == 0 and console.closed
        console = Answering("CAM002")
        station = station_with(console, os.ttyname(slave), pid=os.getpid())  # the holder is the "emulator"
        assert station.verify_console("CAM002")["serial"] == "CAM002"
    finally:
        other.communicate(b"")
        os.close(master)
        os.close(slave)
