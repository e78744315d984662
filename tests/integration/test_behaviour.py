"""The emulated bench behaves like the real one: triggers, range, timing, buffer and clips."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from tests.integration.clipcheck import decode, rms_per_frame
from tests.integration.harness import Emulator

NEAR_DB, FAR_DB = 30.0, 90.0  # well inside and far beyond the cameras' reach on the quick bench
FPS = 10


def fire(g, pin: int) -> None:
    g.cmd(f"gpio set {pin}")
    g.cmd(f"gpio clear {pin}")


def set_all(att, db: float) -> None:
    for ch in (1, 2, 3):
        att.query(f"CHAN:{ch}:SETATT:{db}")


def idle(emu: Emulator, cons) -> None:
    """Wait out any broadcast still on the air, then bring every camera back to buffering."""
    deadline = time.monotonic() + 5
    while len(emu.truth("broadcast_start")) > len(emu.truth("broadcast_end")) and time.monotonic() < deadline:
        time.sleep(0.05)
    for c in cons.values():
        if c.cmd("STATE?") != "OK BUFFERING":
            c.cmd("STOP")
            c.cmd("WAKE")


@pytest.fixture(scope="module")
def rig(emu: Emulator):
    g = emu.gpio()
    g.cmd("gpio iodir FFFFFFF8")
    g.cmd("gpio notify on")
    cons = {s: emu.console(s) for s in ("CAM001", "CAM002", "CAM003")}
    att = emu.instrument("attenuator")
    yield g, cons, att
    g.close()
    for c in cons.values():
        c.close()


def test_trigger_starts_cameras_in_range_and_not_beyond(emu: Emulator, rig) -> None:
    g, cons, att = rig
    idle(emu, cons)
    att.query(f"CHAN:1:SETATT:{NEAR_DB}")
    att.query(f"CHAN:2:SETATT:{NEAR_DB}")
    att.query(f"CHAN:3:SETATT:{FAR_DB}")
    fire(g, 1)  # holster
    assert cons["CAM001"].wait_event("STATE RECORDING cause=signal source=HS-0002")
    assert cons["CAM002"].wait_event("STATE RECORDING cause=signal source=HS-0002")
    time.sleep(3.2)  # the broadcast ends
    assert cons["CAM003"].cmd("STATE?") == "OK BUFFERING"
    b = emu.truth("broadcast_start", emitter="holster")[-1]
    acts = {r["camera"]: r for r in emu.truth("activation") if r["t_ns"] > b["t_ns"]}
    assert set(acts) == {"CAM001", "CAM002"}
    for r in acts.values():
        assert 0.15 < (r["t_ns"] - b["t_ns"]) / 1e9 < 0.6  # discovery (<0.11 s) + processing 0.2 +/- 0.05 s
    # the indicator line goes high at activation and the adapter notifies the host
    edges = emu.truth("line", line="numato0:8", level=1)
    assert edges[-1]["t_ns"] == acts["CAM001"]["t_ns"]
    assert any(int(n.split()[1], 16) >> 8 & 1 for _, n in g.notifications(0.1))
    # a running recording is never restarted by a signal
    fire(g, 1)
    time.sleep(0.8)
    assert [r["outcome"] for r in emu.truth("signal", camera="CAM001")][-1] == "already_recording"
    idle(emu, cons)


def test_attenuation_change_during_broadcast_takes_effect_at_once(emu: Emulator, rig) -> None:
    g, cons, att = rig
    idle(emu, cons)
    set_all(att, FAR_DB)
    fire(g, 2)  # taser
    time.sleep(1.0)
    assert cons["CAM001"].cmd("STATE?") == "OK BUFFERING"
    att.query(f"CHAN:1:SETATT:{NEAR_DB}")  # brought into range while the broadcast is on
    assert cons["CAM001"].wait_event("STATE RECORDING cause=signal source=TZ-0003", timeout=2)
    time.sleep(2.3)  # now the broadcast is over
    att.query(f"CHAN:2:SETATT:{NEAR_DB}")
    time.sleep(0.8)
    assert cons["CAM002"].cmd("STATE?") == "OK BUFFERING"
    idle(emu, cons)


def test_light_bar_filter_ignores_short_dips(emu: Emulator, rig) -> None:
    g, cons, _att = rig
    idle(emu, cons)
    before = len(emu.truth("broadcast_start", emitter="light_bar"))
    g.raw(b"gpio set 0\rgpio clear 0\rgpio set 0\r")  # a dip well under a millisecond
    time.sleep(0.2)
    g.ser.reset_input_buffer()
    g.cmd("gpio clear 0")
    time.sleep(0.2)  # low for longer than the 50 ms filter
    g.cmd("gpio set 0")
    g.cmd("gpio clear 0")
    assert len(emu.truth("broadcast_start", emitter="light_bar")) - before == 2
    assert emu.truth("dip_filtered", emitter="light_bar")
    time.sleep(1.0)
    idle(emu, cons)


def test_allow_list_and_sleep_keep_a_camera_from_starting(emu: Emulator, rig) -> None:
    g, cons, att = rig
    idle(emu, cons)
    set_all(att, NEAR_DB)
    assert cons["CAM001"].cmd("CONFIG allow=LB-0001") == "OK"
    assert cons["CAM002"].cmd("SLEEP") == "OK"
    fire(g, 2)
    assert cons["CAM003"].wait_event("STATE RECORDING cause=signal source=TZ-0003")
    time.sleep(0.8)
    assert cons["CAM001"].cmd("STATE?") == "OK BUFFERING"
    assert cons["CAM002"].cmd("STATE?") == "OK SLEEP"
    outcomes = {r["camera"]: r["outcome"] for r in emu.truth("signal") if r["id"] == "TZ-0003"}
    assert outcomes["CAM001"] == "not_allowed" and outcomes["CAM002"] == "asleep"
    cons["CAM001"].cmd("CONFIG allow=LB-0001,HS-0002,TZ-0003")
    time.sleep(2.5)
    idle(emu, cons)


def test_button_line_starts_a_recording(emu: Emulator, rig) -> None:
    g, cons, _att = rig
    idle(emu, cons)
    g.cmd("gpio set H")  # pin 17: CAM002's button
    g.cmd("gpio clear H")
    assert cons["CAM002"].wait_event("STATE RECORDING cause=manual source=button")
    idle(emu, cons)


def test_scope_measures_trigger_to_indicator_delay_to_10_us(emu: Emulator, rig) -> None:
    g, cons, att = rig
    idle(emu, cons)
    att.query(f"CHAN:1:SETATT:{NEAR_DB}")
    s = emu.instrument("scope")
    s.write("*RST;:TIMebase:RANGe 4;:TRIGger:EDGE:SOURce CHANnel3;:MEASure:DEFine DELay,+1,+1;:SINGle")
    assert s.query(":TER?") == "+0"
    fire(g, 1)  # holster, probed by channel 3
    cons["CAM001"].wait_event("STATE RECORDING")
    deadline = time.monotonic() + 5
    while s.query(":OPERegister:CONDition?") != "+0" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert s.query(":TER?") == "+1"
    delay = float(s.query(":MEASure:DELay? CHANnel3,CHANnel2"))
    trig = emu.truth("line", line="numato0:1", level=1)[-1]["t_ns"]
    ind = emu.truth("line", line="numato0:8", level=1)[-1]["t_ns"]
    assert abs(delay - (ind - trig) / 1e9) <= 10e-6
    time.sleep(2.5)
    idle(emu, cons)


def test_clip_holds_the_buffer_timecodes_audio_gating_and_hash(emu: Emulator, rig) -> None:
    g, cons, att = rig
    idle(emu, cons)
    att.query(f"CHAN:1:SETATT:{NEAR_DB}")
    time.sleep(3.2)  # let the 3 s buffer fill after the last recording
    fire(g, 0)
    cons["CAM001"].wait_event("STATE RECORDING")
    time.sleep(1.5)
    clip = cons["CAM001"].cmd("STOP").split("=")[1]
    cons["CAM001"].wait_event(f"CLIP {clip}")
    dock = Path(emu.resources["cameras"]["CAM001"]["dock"])
    c = decode(dock / f"{clip}.mp4")
    assert c.sha256 == c.sidecar["sha256"]
    assert all(n >= 0 for n, _ in c.frames), "every frame carries a readable full QR code"
    counters = [n for n, _ in c.frames]
    assert counters == list(range(counters[0], counters[0] + len(counters)))
    steps = np.diff([t for _, t in c.frames]) / 1e9
    assert np.allclose(steps, 1 / FPS, atol=1e-6)
    act = emu.truth("activation", camera="CAM001")[-1]
    first = c.frames[0][1]
    assert abs((act["t_ns"] - first) / 1e9 - 3.0) <= 1 / FPS  # buffer reaches back 3 s, within one frame
    rms = rms_per_frame(c, FPS)
    pre = [r for (_, t), r in zip(c.frames, rms, strict=True) if t < act["t_ns"] - 2e8]
    post = [r for (_, t), r in zip(c.frames, rms, strict=True) if t > act["t_ns"] + 2e8]
    assert max(pre) < 0.01 and min(post) > 0.2
    assert c.sidecar["activated_device_ns"] - c.sidecar["video_from_device_ns"] == pytest.approx(3e9, abs=1e6)


def test_power_cut_leaves_a_playable_clip_up_to_the_cut(emu: Emulator, rig) -> None:
    _g, cons, _att = rig
    idle(emu, cons)
    p = emu.instrument("psu")
    assert cons["CAM003"].cmd("START") == "OK"
    time.sleep(1.0)
    p.write("OUTP OFF,(@3)")
    cut = emu.wait_truth("power", channel=3, on=0)[-1]["t_ns"]
    clip = emu.wait_truth("clip", camera="CAM003", power_cut=1)[-1]["clip"]
    written = emu.wait_truth("clip_written", camera="CAM003", clip=clip, timeout=10)
    p.write("OUTP ON,(@3)")
    cons["CAM003"].wait_event("BOOT")
    mp4 = Path(emu.resources["cameras"]["CAM003"]["dock"]) / written[-1]["file"]
    c = decode(mp4)
    assert c.sidecar["power_cut"] is True and c.sha256 == c.sidecar["sha256"]
    assert 0 <= (cut - c.frames[-1][1]) / 1e9 <= 1 / FPS
