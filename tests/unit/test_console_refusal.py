"""A camera refusing a console command (STOP while not recording) is told apart from a console that failed by the
error's type, never by its wording: reworded, a refusal still means "nothing to stop", and a failure whose message
happens to hold the refusal's code still fails."""

from __future__ import annotations

import pytest

from bwclab.hil.footage import end_recording
from bwclab.rig.drivers.console import CameraConsole
from bwclab.rig.interfaces import CameraError, ConsoleRefused, DriverError
from bwclab.rig.procedures.base import _stop
from tests.integration.reworded import reword
from tests.unit.scripted import ScriptedSerial

REFUSED = [(b"@1 STOP\n", b"@1 ERR 409 not recording\n")]
LOST = [(b"@1 STOP\n", b"")]  # no reply: the console failed


@pytest.fixture
def reworded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every driver error's text turned around, as tests/integration/reworded.py does for the whole CLI."""
    monkeypatch.setattr(DriverError, "__str__", lambda self: reword(Exception.__str__(self)))


def test_the_console_driver_raises_a_refusal_for_err_409_and_a_plain_camera_error_otherwise() -> None:
    with ScriptedSerial([*REFUSED, (b"@2 CLIP? x\n", b"@2 ERR 404 no such clip\n")], timeout=0.1) as port, \
            CameraConsole(port, retries=0) as con:
        with pytest.raises(ConsoleRefused, match="409 not recording"):
            con.command("STOP")
        with pytest.raises(CameraError) as err:
            con.command("CLIP? x")
        assert not isinstance(err.value, ConsoleRefused)


@pytest.mark.usefixtures("reworded")
def test_a_reworded_refusal_to_stop_still_means_the_camera_was_not_recording() -> None:
    with ScriptedSerial(REFUSED, timeout=0.1) as port, CameraConsole(port, retries=0) as con:
        with pytest.raises(ConsoleRefused) as refused:
            con.command("STOP")
        assert "409" not in str(refused.value)
    with ScriptedSerial(REFUSED, timeout=0.1) as port, CameraConsole(port, retries=0) as con:
        assert _stop(con) is None
    with ScriptedSerial(REFUSED, timeout=0.1) as port, CameraConsole(port, retries=0) as con:
        end_recording(con)  # does not raise


def test_a_console_failure_naming_409_is_still_a_failure_when_stopping() -> None:
    """The console's port is /dev/pts/409: its 'no reply' holds the refusal's code, and must not pass as one."""
    with ScriptedSerial(LOST, timeout=0.05) as port, CameraConsole(port, retries=0) as con:
        con.name = "/dev/pts/409"
        with pytest.raises(CameraError, match="pts/409: no reply"):
            _stop(con)
    with ScriptedSerial(LOST, timeout=0.05) as port, CameraConsole(port, retries=0) as con:
        con.name = "/dev/pts/409"
        with pytest.raises(CameraError, match="pts/409: no reply"):
            end_recording(con)
