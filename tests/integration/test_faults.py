"""Every injectable fault shows up where a rig would look for it."""

from __future__ import annotations

import contextlib
import termios
import time
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
import pytest
import serial

from tests.integration.clipcheck import decode, rms_per_frame
from tests.integration.harness import Emulator, write_yaml

FAULTS_A = """
CAM001: {extra_latency_ms: 400, latency_jitter_ms: 100, clock_drift_ppm: 2000}
CAM002: {buffer_shortfall_s: 1.0, drop_frames: 2, duplicate_frames: 2, timecode_jump_ms: 500, audio_in_buffer: true}
CAM003: {accept_any_emitter: true, corrupt_on_power_loss: true, console_noise: 6000}
"""
FAULTS_B = """
CAM001: {ignore_signals: true}
CAM002: {sensitivity_offset_db: 40}
CAM003: {console_disconnect_after_s: 2.0}
"""


def start(tmp: Path, text: str) -> Emulator:
    return Emulator(tmp / "state", faults=write_yaml(tmp / "faults.yaml", text))


@pytest.fixture(scope="module")
def emu_a(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    e = start(tmp_path_factory.mktemp("faults-a"), FAULTS_A)
    yield e
    assert e.stop()[0] == 0


def noisy_cmd(con: serial.Serial, text: str) -> str:
    """The reply line with the console's noise bytes (never a line end) taken out."""
    con.reset_input_buffer()
    con.write(text.encode() + b"\n")
    while True:
        line = con.readline()
        clean = bytes(b for b in line if b < 0x80).decode().strip()
        if not clean.startswith("!"):
            return clean


def test_faults_a(emu_a: Emulator) -> None:
    e = emu_a
    logged = {r["camera"]: r for r in e.truth("faults")}
    assert logged["CAM002"]["drop_frames"] == 2 and logged["CAM003"]["console_noise"] == 6000
    con3 = serial.Serial(e.resources["cameras"]["CAM003"]["console"], 115200, timeout=1.0)
    # console_noise: about 100 garbage bytes a second, none of them a line end
    con3.reset_input_buffer()
    noise = con3.read(400)
    assert len([b for b in noise if b >= 0x80]) >= 50 and b"\n" not in noise
    assert noisy_cmd(con3, "CONFIG allow=LB-0001") == "OK"
    # clock_drift_ppm: the device clock runs 2000 ppm fast
    con1 = e.console("CAM001")

    def clock_reading() -> tuple[float, int]:
        """(host ns at the middle of the exchange, device ns) from the quickest of 5 exchanges, as NTP
        does: a busy host's scheduling delay would otherwise pass for drift over a short span."""
        best: tuple[int, float, int] | None = None
        for _ in range(5):
            sent = time.monotonic_ns()
            device = int(con1.cmd("CLOCK?").split()[1])
            back = time.monotonic_ns()
            if best is None or back - sent < best[0]:
                best = (back - sent, (sent + back) / 2, device)
        assert best is not None
        return best[1], best[2]

    t0, d0 = clock_reading()
    time.sleep(2.5)
    t1, d1 = clock_reading()
    drift_ppm = ((d1 - d0) / (t1 - t0) - 1) * 1e6
    assert 1500 < drift_ppm < 2500
    # fire the holster with every camera near
    g = e.gpio()
    att = e.instrument("attenuator")
    for ch in (1, 2, 3):
        att.query(f"CHAN:{ch}:SETATT:30")
    g.cmd("gpio iodir FFFFFFF8")
    time.sleep(3.2)  # a full 3 s buffer everywhere
    g.cmd("gpio set 1")
    g.cmd("gpio clear 1")
    acts = {r["camera"]: r for r in e.wait_truth("activation", count=3, timeout=5)}
    assert set(acts) == {"CAM001", "CAM002", "CAM003"}
    # extra_latency_ms + latency_jitter_ms: processing 0.2 +/- 0.05 s, plus 0.4 s, plus 0..0.1 s
    disc = {r["camera"]: r["t_ns"] for r in e.truth("discovery")}
    lat1 = (acts["CAM001"]["t_ns"] - disc["CAM001"]) / 1e9
    assert 0.55 <= lat1 <= 0.75
    # accept_any_emitter: CAM003 only trusts LB-0001, yet HS-0002 started it
    assert acts["CAM003"]["source"] == "HS-0002"
    time.sleep(1.5)
    con2 = e.console("CAM002")
    clip2 = con2.cmd("STOP").split("=")[1]
    con2.wait_event(f"CLIP {clip2}")
    c = decode(Path(e.resources["cameras"]["CAM002"]["dock"]) / f"{clip2}.mp4")
    act2 = acts["CAM002"]["t_ns"]
    # buffer_shortfall_s: 2 s of buffer instead of 3
    assert abs((act2 - c.frames[0][1]) / 1e9 - 2.0) <= 0.1
    counters = [n for n, _ in c.frames]
    steps = np.diff(counters)
    assert (steps == 0).sum() == 2  # duplicate_frames
    assert (steps == 2).sum() == 2  # drop_frames
    dt = np.diff([t for _, t in c.frames]) / 1e9
    assert ((dt > 0.55) & (dt < 0.65)).sum() == 1  # timecode_jump_ms: one step of 0.1 + 0.5 s
    # audio_in_buffer: sound before activation although configured off
    rms = rms_per_frame(c, 10)
    pre = [r for (_, t), r in zip(c.frames, rms, strict=True) if t < act2 - 2e8]
    assert min(pre) > 0.1
    # corrupt_on_power_loss: CAM003 is recording; cut its power
    p = e.instrument("psu")
    p.write("OUTP OFF,(@3)")
    clip = e.wait_truth("clip", camera="CAM003", power_cut=1)[-1]["clip"]
    written = e.wait_truth("clip_written", camera="CAM003", clip=clip, timeout=10)
    mp4 = Path(e.resources["cameras"]["CAM003"]["dock"]) / written[-1]["file"]
    with pytest.raises(av.error.FFmpegError):
        decode(mp4)
    p.write("OUTP ON,(@3)")
    g.close()
    con1.close()
    con2.close()
    con3.close()


def test_faults_b(tmp_path: Path) -> None:
    e = start(tmp_path, FAULTS_B)
    try:
        # held open from the start: after the disconnect this connection is to the hung-up terminal itself (a
        # reopened path could be another bench's new terminal: a freed pty's number is given out again)
        held = serial.Serial(e.resources["cameras"]["CAM003"]["console"], 115200, timeout=0.5)
        g = e.gpio()
        att = e.instrument("attenuator")
        for ch in (1, 2, 3):
            att.query(f"CHAN:{ch}:SETATT:30")
        g.cmd("gpio iodir FFFFFFF8")
        g.cmd("gpio set 2")
        g.cmd("gpio clear 2")
        assert e.wait_truth("activation", camera="CAM003")
        time.sleep(1.0)
        # ignore_signals: heard, then ignored
        assert e.truth("signal_ignored", camera="CAM001")[0]["reason"] == "fault ignore_signals"
        # sensitivity_offset_db: 40 dB deafer, so never in range at 30 dB
        assert not e.truth("reception", camera="CAM002", in_range=1)
        assert not e.truth("activation", camera="CAM002")
        # console_disconnect_after_s: the console is gone after 2 s
        time.sleep(1.5)
        assert e.truth("console_disconnect", camera="CAM003")
        with pytest.raises((serial.SerialException, OSError, termios.error)):  # a hung-up terminal: EIO
            held.reset_input_buffer()
            held.write(b"IDN?\n")
            assert held.readline() == b""
            raise OSError("console silent")
        with contextlib.suppress(OSError, termios.error):
            held.close()
        g.close()
    finally:
        assert e.stop()[0] == 0


def test_blinking_indicator_toggles_while_recording(tmp_path: Path) -> None:
    from tests.integration.harness import QUICK

    bench = write_yaml(tmp_path / "blink.yaml", QUICK.read_text().replace(
        "    boot_s: 0.5", "    boot_s: 0.5\n    indicator: blink\n    blink_hz: 10"))
    e = Emulator(tmp_path / "state", bench=bench)
    try:
        con = e.console("CAM001")
        assert con.cmd("START") == "OK"
        time.sleep(0.6)
        con.cmd("STOP")
        edges = e.truth("line", line="numato0:8")
        assert [r["level"] for r in edges[:4]] == [1, 0, 1, 0]
        t = np.array([r["t_ns"] for r in edges[:-1]]) / 1e9  # the last edge is the stop
        # The period is set by the deadlines (no drift); a loaded host may wake one edge late.
        assert len(t) >= 8 and abs(np.median(np.diff(t)) - 0.05) < 0.001
        assert np.abs(t - t[0] - 0.05 * np.arange(len(t))).max() < 0.010
        con.close()
    finally:
        assert e.stop()[0] == 0
