"""Every injectable fault shows up where a rig would look for it.

The tests wait for what they check (an entry in the emulator's truth log, a console event); a time a fault needs to
show, a buffer to fill or a recording to run is counted on the emulator's clock, from its truth log's stamps.
"""

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
from tests.integration.harness import Emulator, sleep_until_ns, wait_for, write_yaml

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
WAIT_S = 10.0  # what a test waits for comes within a broadcast (3 s), or a clip's writing


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
    # clock_drift_ppm: the device clock runs 2000 ppm fast, read now and again once CAM002's clip is in
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
    con3 = serial.Serial(e.resources["cameras"]["CAM003"]["console"], 115200, timeout=1.0)
    # console_noise: about 100 garbage bytes a second, none of them a line end
    con3.reset_input_buffer()
    noise = con3.read(400)
    assert len([b for b in noise if b >= 0x80]) >= 50 and b"\n" not in noise
    assert noisy_cmd(con3, "CONFIG allow=LB-0001") == "OK"
    # fire the holster with every camera near
    g = e.gpio()
    att = e.instrument("attenuator")
    for ch in (1, 2, 3):
        att.query(f"CHAN:{ch}:SETATT:30")
    g.cmd("gpio iodir FFFFFFF8")
    sleep_until_ns(e.truth("ready")[0]["t_ns"] + 3_200_000_000)  # a full 3 s buffer everywhere
    g.cmd("gpio set 1")
    g.cmd("gpio clear 1")
    acts = {r["camera"]: r for r in e.wait_truth("activation", count=3, timeout=WAIT_S)}
    assert set(acts) == {"CAM001", "CAM002", "CAM003"}
    # extra_latency_ms + latency_jitter_ms: processing 0.2 +/- 0.05 s, plus 0.4 s, plus 0..0.1 s
    disc = {r["camera"]: r["t_ns"] for r in e.truth("discovery")}
    lat1 = (acts["CAM001"]["t_ns"] - disc["CAM001"]) / 1e9
    assert 0.55 <= lat1 <= 0.75
    # accept_any_emitter: CAM003 only trusts LB-0001, yet HS-0002 started it
    assert acts["CAM003"]["source"] == "HS-0002"
    sleep_until_ns(acts["CAM002"]["t_ns"] + 1_500_000_000)  # 1.5 s of recording
    con2 = e.console("CAM002")
    clip2 = con2.cmd("STOP").split("=")[1]
    con2.wait_event(f"CLIP {clip2}")
    t1, d1 = clock_reading()  # seconds after the first reading: 2000 ppm is milliseconds by now
    drift_ppm = ((d1 - d0) / (t1 - t0) - 1) * 1e6
    assert 1500 < drift_ppm < 2500
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
        # ignore_signals: heard, then ignored
        ignored = wait_for(lambda: e.truth("signal_ignored", camera="CAM001"), WAIT_S, "CAM001 to hear the taser")
        assert ignored[0]["reason"] == "fault ignore_signals"
        # sensitivity_offset_db: 40 dB deafer, so never in range at 30 dB. The radio judges every camera's
        # reception as the broadcast starts, before the adapter's prompt came back; the attenuation stays: a camera
        # out of range then never hears this broadcast, nor starts from it.
        assert not e.truth("reception", camera="CAM002", in_range=1)
        assert not e.truth("activation", camera="CAM002")
        # console_disconnect_after_s: the console is gone after 2 s
        assert wait_for(lambda: e.truth("console_disconnect", camera="CAM003"), WAIT_S, "CAM003's console to go")
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
        started = e.truth("activation", camera="CAM001")[-1]["t_ns"]
        sleep_until_ns(started + 460_000_000)  # ten edges due by then: at the start, then one every 50 ms
        wait_for(lambda: len(e.truth("line", line="numato0:8")) >= 10, WAIT_S, "ten edges of the blinking indicator")
        con.cmd("STOP")
        edges = e.truth("line", line="numato0:8")
        assert [r["level"] for r in edges[:4]] == [1, 0, 1, 0]
        blinks = [r for r in edges if "sched_ns" in r]  # not the stop's edge: that one has no deadline
        t_ns = np.array([r["t_ns"] for r in blinks])
        due_ns = np.array([r["sched_ns"] for r in blinks])
        assert len(t_ns) >= 10 and abs(np.median(np.diff(t_ns)) / 1e9 - 0.05) < 0.001
        # The period is set by the deadlines: each edge is due one period after the one before was due, however late
        # that one came (no drift), and none comes early. A loaded host may wake an edge late; the next is on time.
        assert (np.diff(due_ns) == 50_000_000).all() and (t_ns >= due_ns).all()
        con.close()
    finally:
        assert e.stop()[0] == 0
