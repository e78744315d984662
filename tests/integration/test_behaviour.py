"""The emulated bench behaves like the real one: triggers, range, timing, buffer and clips.

Each test waits for what it checks: a console event, an entry in the emulator's truth log, an adapter notification.
Where it checks that something did not happen within a time, it waits until the emulator has run everything due by
then on its own clock, the truth log's (`Emulator.wait_past`), and only then asks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.integration.clipcheck import decode, rms_per_frame
from tests.integration.harness import Emulator, sleep_until_ns, wait_for

NEAR_DB, FAR_DB = 30.0, 90.0  # well inside and far beyond the cameras' reach on the quick bench
FPS = 10
REACT_NS = 800_000_000  # more than a camera in range takes to start: discovery (< 0.11 s) + processing (0.2 +/- 0.05 s)
WAIT_S = 10.0  # what a test waits for comes within a broadcast (3 s), or a clip's writing


def fire(emu: Emulator, g, pin: int) -> dict[str, Any]:
    """Pulse an emitter's trigger line: the broadcast it started (logged before the adapter's prompt comes back)."""
    before = len(emu.truth("broadcast_start"))
    g.cmd(f"gpio set {pin}")
    g.cmd(f"gpio clear {pin}")
    started = emu.truth("broadcast_start")[before:]
    assert len(started) == 1, started
    return started[0]


def set_all(att, db: float) -> None:
    for ch in (1, 2, 3):
        att.query(f"CHAN:{ch}:SETATT:{db}")


def settled(emu: Emulator) -> bool:
    """Nothing on the air, and every signal a camera heard judged (that comes up to 0.25 s after the hearing, which
    may be after the broadcast ended)."""
    rows = emu.truth()
    on_air = sum(r["event"] == "broadcast_start" for r in rows) - sum(r["event"] == "broadcast_end" for r in rows)
    heard = {(r["camera"], r["broadcast"]) for r in rows if r["event"] == "discovery"}
    judged = {(r["camera"], r["broadcast"]) for r in rows if r["event"] in ("signal", "signal_ignored")}
    return on_air == 0 and heard <= judged


def idle(emu: Emulator, cons) -> None:
    """Wait out any broadcast and any signal still being judged, then bring every camera back to buffering and
    forget the console events of what went before."""
    wait_for(lambda: settled(emu), WAIT_S, "every broadcast to end and every signal heard to be judged")
    for c in cons.values():
        if c.cmd("STATE?") != "OK BUFFERING":
            c.cmd("STOP")
            c.cmd("WAKE")
        c.events.clear()


def buffering_since_ns(emu: Emulator, serial: str) -> int:
    """When the camera last began to buffer: its last stop (the end of a clip), wake or boot, else the bench's start."""
    marks = [r["t_ns"] for r in emu.truth() if r.get("camera") == serial and r["event"] in ("clip", "wake", "boot")]
    return int(max(marks, default=emu.truth("ready")[0]["t_ns"]))


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
    notes_before = len(g.notes)
    b = fire(emu, g, 1)  # holster
    assert cons["CAM001"].wait_event("STATE RECORDING cause=signal source=HS-0002")
    assert cons["CAM002"].wait_event("STATE RECORDING cause=signal source=HS-0002")
    wait_for(lambda: emu.truth("broadcast_end", broadcast=b["broadcast"]), WAIT_S, "the holster's broadcast to end")
    # out of range all along: CAM003 never heard it (nothing is heard of a broadcast once it has ended)
    assert not emu.truth("discovery", camera="CAM003", broadcast=b["broadcast"])
    assert cons["CAM003"].cmd("STATE?") == "OK BUFFERING"
    acts = {r["camera"]: r for r in emu.truth("activation") if r["t_ns"] > b["t_ns"]}
    assert set(acts) == {"CAM001", "CAM002"}
    for r in acts.values():
        assert 0.15 < (r["t_ns"] - b["t_ns"]) / 1e9 < 0.6  # discovery (<0.11 s) + processing 0.2 +/- 0.05 s
    # the indicator line goes high at activation and the adapter notifies the host
    edges = emu.truth("line", line="numato0:8", level=1)
    assert edges[-1]["t_ns"] == acts["CAM001"]["t_ns"]
    wait_for(lambda: [n for _, n in g.notifications(0.05)[notes_before:] if int(n.split()[1], 16) >> 8 & 1],
             WAIT_S, "the adapter's notification of CAM001's indicator going high")
    # a running recording is never restarted by a signal
    again = fire(emu, g, 1)
    judged = wait_for(lambda: emu.truth("signal", camera="CAM001", broadcast=again["broadcast"]), WAIT_S,
                      "CAM001 to judge the second holster broadcast")
    assert judged[-1]["outcome"] == "already_recording"
    idle(emu, cons)


def test_attenuation_change_during_broadcast_takes_effect_at_once(emu: Emulator, rig) -> None:
    g, cons, att = rig
    idle(emu, cons)
    set_all(att, FAR_DB)
    b = fire(emu, g, 2)  # taser
    emu.wait_past(b["t_ns"] + 1_000_000_000, lambda: g.cmd("ver"))  # a second of it, out of range: not started
    assert cons["CAM001"].cmd("STATE?") == "OK BUFFERING"
    att.query(f"CHAN:1:SETATT:{NEAR_DB}")  # brought into range while the broadcast is on
    changed = emu.truth("attenuation", channel=1)[-1]["t_ns"]
    assert changed < b["end_ns"], "the host was too slow to change the attenuation before the broadcast ended"
    assert cons["CAM001"].wait_event("STATE RECORDING cause=signal source=TZ-0003")
    act = emu.truth("activation", camera="CAM001")[-1]["t_ns"]
    assert 0.15 < (act - changed) / 1e9 < 0.6  # heard from the change on: discovery + processing after it
    wait_for(lambda: emu.truth("broadcast_end", broadcast=b["broadcast"]), WAIT_S, "the taser's broadcast to end")
    att.query(f"CHAN:2:SETATT:{NEAR_DB}")  # in range only after the broadcast: never started by it
    late = emu.truth("attenuation", channel=2)[-1]["t_ns"]
    emu.wait_past(late + REACT_NS, lambda: g.cmd("ver"))
    assert cons["CAM002"].cmd("STATE?") == "OK BUFFERING"
    idle(emu, cons)


def test_light_bar_filter_ignores_short_dips(emu: Emulator, rig) -> None:
    g, cons, _att = rig
    idle(emu, cons)
    before = len(emu.truth("broadcast_start", emitter="light_bar"))
    dips = len(emu.truth("dip_filtered", emitter="light_bar"))
    g.raw(b"gpio set 0\rgpio clear 0\rgpio set 0\r", prompts=3)  # a dip well under a millisecond
    g.cmd("gpio clear 0")
    low = emu.truth("line", line="numato0:0", level=0)[-1]["t_ns"]
    emu.wait_past(low + 200_000_000, lambda: g.cmd("ver"))  # low for longer than the 50 ms filter
    g.cmd("gpio set 0")
    g.cmd("gpio clear 0")
    assert len(emu.truth("broadcast_start", emitter="light_bar")) - before == 2
    assert len(emu.truth("dip_filtered", emitter="light_bar")) - dips == 1
    idle(emu, cons)


def test_allow_list_and_sleep_keep_a_camera_from_starting(emu: Emulator, rig) -> None:
    g, cons, att = rig
    idle(emu, cons)
    set_all(att, NEAR_DB)
    assert cons["CAM001"].cmd("CONFIG allow=LB-0001") == "OK"
    assert cons["CAM002"].cmd("SLEEP") == "OK"
    b = fire(emu, g, 2)
    assert cons["CAM003"].wait_event("STATE RECORDING cause=signal source=TZ-0003")

    def judged() -> dict[str, str]:
        seen = {r["camera"]: r["outcome"] for r in emu.truth("signal", broadcast=b["broadcast"])}
        return seen if {"CAM001", "CAM002"} <= seen.keys() else {}

    outcomes = wait_for(judged, WAIT_S, "CAM001 and CAM002 to judge the taser's signal")  # a camera hears it once
    assert cons["CAM001"].cmd("STATE?") == "OK BUFFERING"
    assert cons["CAM002"].cmd("STATE?") == "OK SLEEP"
    assert outcomes["CAM001"] == "not_allowed" and outcomes["CAM002"] == "asleep"
    cons["CAM001"].cmd("CONFIG allow=LB-0001,HS-0002,TZ-0003")
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
    fire(emu, g, 1)  # holster, probed by channel 3
    cons["CAM001"].wait_event("STATE RECORDING cause=signal source=HS-0002")
    wait_for(lambda: s.query(":OPERegister:CONDition?") == "+0", WAIT_S, "the scope's single acquisition to end",
             poll_s=0.1)
    assert s.query(":TER?") == "+1"
    delay = float(s.query(":MEASure:DELay? CHANnel3,CHANnel2"))
    trig = emu.truth("line", line="numato0:1", level=1)[-1]["t_ns"]
    ind = emu.truth("line", line="numato0:8", level=1)[-1]["t_ns"]
    assert abs(delay - (ind - trig) / 1e9) <= 10e-6
    idle(emu, cons)


def test_clip_holds_the_buffer_timecodes_audio_gating_and_hash(emu: Emulator, rig) -> None:
    g, cons, att = rig
    idle(emu, cons)
    att.query(f"CHAN:1:SETATT:{NEAR_DB}")
    sleep_until_ns(buffering_since_ns(emu, "CAM001") + 3_200_000_000)  # the 3 s buffer full again
    fire(emu, g, 0)
    cons["CAM001"].wait_event("STATE RECORDING cause=signal source=LB-0001")
    sleep_until_ns(emu.truth("activation", camera="CAM001")[-1]["t_ns"] + 1_500_000_000)  # 1.5 s of recording
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
    sleep_until_ns(emu.truth("activation", camera="CAM003")[-1]["t_ns"] + 1_000_000_000)  # 1 s of recording
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
