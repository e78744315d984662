"""Hardware in the loop on the emulated bench: `bwclab hil run` in its own process drives an emulator in its
own process through pyserial on ptys and pyvisa-py on TCP; every claim is checked against the emulator's
truth log (`RUN/bench/truth.jsonl`), never against what the replay says of itself.

The replays run at speed 10 on benches whose broadcasts and buffers are 1/10 of the scenarios' (3 s for
30 s). The functional tests allow 250 ms of lateness: the suite shares two cores with other tests; the
benchmark measures lateness on an idle machine (benchmarks/hil_timing.py)."""

from __future__ import annotations

import csv
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from bwclab.bench.description import load_bench
from bwclab.commands.hil import hil_plan
from bwclab.core.config import ConfigError
from bwclab.hil.replay import ReplayShift
from bwclab.hil.run import plan, replay
from bwclab.hil.window import LEAD_S
from tests.integration.benches import real_bench
from tests.integration.harness import Emulator
from tests.integration.processes import descendants, running, wait_gone

ROOT = Path(__file__).resolve().parents[2]
PROFILE = ROOT / "fixtures" / "profiles" / "emulated.yaml"
QUICK = load_bench(ROOT / "fixtures" / "emulated.yaml")
MATRIX = load_bench(ROOT / "fixtures" / "matrix.yaml")
LOADED_TOLERANCE_MS = "250"
# The emulator's seed (7) fixes each camera's fade on each broadcast: on the traffic stop's one broadcast
# CAM002's is -3.56 dB, the 1% tail of the curve the profile measured, and the replay rightly flags it
# (test_a_camera_in_the_tail_of_its_curve_is_flagged...); the clean cases map officer 1 to CAM003 (+1.50 dB).
MAP = "0=CAM001,1=CAM003"


def start(out: Path, *args: str, scenario: str = "traffic-stop", bench: str = "emulated",
          faults: dict[str, dict[str, Any]] | None = None) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "bwclab", "hil", "run", "--scenario", scenario, "--bench", bench, "--out", str(out),
           "--speed", "10", "--tolerance-ms", LOADED_TOLERANCE_MS, *args]
    if faults is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        path = out.parent / f"{out.name}-faults.json"  # JSON is YAML
        path.write_text(json.dumps(faults))
        cmd += ["--faults", str(path)]
    return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen[str], out: Path) -> tuple[int, dict[str, Any]]:
    rc, hil, _stdout = finish_said(proc, out)
    return rc, hil


def finish_said(proc: subprocess.Popen[str], out: Path) -> tuple[int, dict[str, Any], str]:
    """Exit code, hil.json and what the terminal said."""
    stdout, stderr = proc.communicate(timeout=240)
    assert "Traceback" not in stderr, stderr
    hil = json.loads((out / "hil.json").read_text())
    return proc.returncode, hil, stdout


def truth(out: Path, event: str) -> list[dict[str, Any]]:
    rows = [json.loads(x) for x in (out / "bench" / "truth.jsonl").read_text().splitlines() if x]
    return [r for r in rows if r["event"] == event]


def sim_time(hil: dict[str, Any], t_ns: int) -> float:
    c = hil["clock"]
    return float(c["env_start_s"] + (t_ns / 1e9 - c["real_start_s"]) / c["factor"])


def position(segs: list[list[float]], t: float) -> tuple[float, float]:
    """From hil.json's segments alone (not the replay's code): the last segment begun by t, clamped to its end."""
    t0, x0, y0, vx, vy, t1 = ([s for s in segs if s[0] <= t] or segs[:1])[-1]
    elapsed = min(max(t, t0), t1) - t0
    return x0 + elapsed * vx, y0 + elapsed * vy


def expected_db(hil: dict[str, Any], bench: Any, officer: int, emitters: set[str], t: float) -> float:
    """What the channel should stand for at simulated t, from the replay's tracks alone: the least loss among the
    broadcasts on the air through this channel, or the attenuator's full range."""
    top = bench.instruments.attenuator.max_db
    me = hil["tracks"][f"officer {officer}"]
    losses = [bench.path_loss.attenuation_for(math.dist(position(me, t), position(hil["tracks"][b["holder"]], t)))
              for b in hil["broadcasts"] if b["emitter"] in emitters and b["start_s"] <= t < b["end_s"]]
    return float(min(max(min(losses), 0.0), top)) if losses else float(top)


def check_attenuation(hil: dict[str, Any], out: Path, bench: Any) -> int:
    """Every change of a mapped camera's channel in the truth log matches the simulated distance within one
    attenuator step, and every setting the replay made reached the bench. Returns the number checked."""
    step = bench.instruments.attenuator.step_db
    ready = next(r["t_ns"] for r in truth(out, "ready"))
    channels: dict[int, tuple[int, set[str]]] = {}
    for serial, cam in hil["cameras"].items():
        for emitter, ch in bench.channels(serial).items():
            channels.setdefault(ch, (cam["officer"], set()))[1].add(emitter)
    changes = [r for r in truth(out, "attenuation") if r["t_ns"] > ready and r["channel"] in channels]
    stamps = [s for s in hil["attenuation"] if s["channel"] in channels]
    assert len(changes) == len(stamps) > 0
    for r in changes:
        officer, emitters = channels[r["channel"]]
        stamp = max((s for s in stamps if s["channel"] == r["channel"] and s["host_ns"] <= r["t_ns"]),
                    key=lambda s: s["host_ns"])
        assert abs(stamp["db"] - r["db"]) < 1e-9 and r["t_ns"] - stamp["host_ns"] < 50e6
        want = expected_db(hil, bench, officer, emitters, stamp["t_s"])
        assert abs(r["db"] - want) <= step + 1e-6, (r, stamp, want)
    return len(changes)


def rows(out: Path, name: str) -> list[dict[str, str]]:
    with (out / name).open() as fh:
        return list(csv.DictReader(fh))


def check_clean_stop(out: Path, rc: int, hil: dict[str, Any]) -> None:
    """The clean traffic stop: valid, as the profile predicts, every attenuation and activation as the emulator's
    truth says, and the footage deciding what was captured."""
    assert hil["valid"], hil["reason"]
    assert rc == 0 and all(c["consistent_with_model"] for c in hil["cameras"].values()), hil["cameras"]
    assert hil["prediction"]["from"] == "profile" and hil["fidelity"] == []
    # attenuation: every change on the bench, as the simulated distance says
    assert check_attenuation(hil, out, QUICK) > 40
    parked = [r for r in truth(out, "attenuation") if r["channel"] == 2]  # CAM002 stands for nobody
    assert parked and parked[-1]["db"] == QUICK.instruments.attenuator.max_db
    assert not [a for a in truth(out, "activation") if a["camera"] == "CAM002"]
    # timing: every activation the replay saw is the emulator's, within 5 ms
    acts = truth(out, "activation")
    for serial, cam in hil["cameras"].items():
        observed = [a for a in cam["activations"] if a.get("observed_s") is not None]
        assert observed, serial
        for a in observed:
            real = min((x["t_ns"] for x in acts if x["camera"] == serial), key=lambda t: abs(t - a["host_ns"]))
            assert abs(a["host_ns"] - real) <= 5e6, (serial, a["host_ns"] - real)
    # the footage decides: each mapped officer's video starts where its clip's first frame does
    for r in rows(out, "incidents.csv"):
        cam = hil["cameras"][{"0": "CAM001", "1": "CAM003"}[r["officer"]]]
        assert float(r["video_from_s"]) == pytest.approx(cam["clips"][0]["video_from_s"], abs=1e-3)
        assert r["covered"] == "1"
    bench_rows = [a for a in rows(out, "activations.csv") if a["camera"] in ("BWC-00000", "BWC-00001")]
    assert sorted(float(a["time_s"]) for a in bench_rows) == pytest.approx(
        sorted(c["activations"][0]["observed_s"] for c in hil["cameras"].values()), abs=1e-3)
    for name in ("summary.json", "incidents.csv", "activations.csv", "timeline.png", "hil.json", "hil.png"):
        assert (out / name).stat().st_size > 0, name


def check_tail(out: Path, rc: int, hil: dict[str, Any]) -> None:
    """Unmapped, officer 1 is CAM002 (bench order): the emulator's truth shows it came into range only with a
    -3.56 dB fade, about 40 ft out where the profile's curve puts 95% of its draws farther: later than the model's
    interval, and hil.json says so."""
    assert hil["valid"], hil["reason"]
    entered = next(r for r in truth(out, "reception") if r["camera"] == "CAM002" and r["in_range"] == 1)
    fade = entered["rx_dbm"] - (QUICK.emulate.emitters.tx_power_dbm - QUICK.path_loss.bench_loss_db  # type: ignore[union-attr]
                                - [r for r in truth(out, "attenuation") if r["channel"] == 2
                                   and r["t_ns"] <= entered["t_ns"]][-1]["db"])
    assert fade < -3.0  # from the bench's own truth: the draw sits in the tail
    cam = hil["cameras"]["CAM002"]
    assert not cam["consistent_with_model"] and first(hil, "CAM002") > cam["activations"][0]["interval_s"][1]
    assert hil["cameras"]["CAM001"]["consistent_with_model"] and rc == 1


def first(hil: dict[str, Any], serial: str) -> float:
    t = hil["cameras"][serial]["activations"][0]["observed_s"]
    return math.inf if t is None else float(t)


def test_the_traffic_stop_replays_clean_in_the_tail_and_with_a_fault_on_one_camera(tmp_path: Path) -> None:
    """Five replays of the traffic stop (each its own bench): clean, unmapped (CAM002's tail draw), and three
    faults; a fault on one camera changes that officer's outcome only, and is flagged."""
    cases: dict[str, tuple[dict[str, Any] | None, list[str]]] = {
        "clean": (None, ["--map", MAP]),
        "tail": (None, []),
        "late": ({"CAM001": {"extra_latency_ms": 1500}}, ["--map", MAP]),
        "deaf": ({"CAM001": {"sensitivity_offset_db": 60}}, ["--map", MAP]),
        "short": ({"CAM003": {"buffer_shortfall_s": 2.9}}, ["--map", MAP])}
    got = {"clean": finish(start(tmp_path / "clean", "--profile", str(PROFILE), "--map", MAP), tmp_path / "clean")}
    # the clean run alone (its edges are timed against the truth to 5 ms), then the other four at once
    procs = {k: start(tmp_path / k, "--profile", str(PROFILE), *args, faults=f) for k, (f, args) in cases.items()
             if k != "clean"}
    got |= {k: finish(p, tmp_path / k) for k, p in procs.items()}
    check_clean_stop(tmp_path / "clean", *got["clean"])
    check_tail(tmp_path / "tail", *got["tail"])
    for k in ("late", "deaf", "short"):
        assert got[k][1]["valid"], (k, got[k][1]["reason"])
    clean = got["clean"][1]
    # 1.5 s more latency on the bench = 15 simulated s at speed 10: officer 0 late and outside the interval
    late = got["late"][1]
    assert first(late, "CAM001") >= first(clean, "CAM001") + 14.0
    assert not late["cameras"]["CAM001"]["consistent_with_model"] and got["late"][0] == 1
    # 60 dB deaf: officer 0 never activates, where the model is sure it would
    deaf = got["deaf"][1]
    assert first(deaf, "CAM001") == math.inf and not deaf["cameras"]["CAM001"]["consistent_with_model"]
    assert not deaf["cameras"]["CAM001"]["activations"][0]["inside"]
    # the other officer is untouched by a fault on officer 0's camera
    for k in ("late", "deaf"):
        assert first(got[k][1], "CAM003") == pytest.approx(first(clean, "CAM003"), abs=1.0), k
        assert got[k][1]["cameras"]["CAM003"]["consistent_with_model"], k
    # a short buffer on officer 1's camera: it starts on time, but its footage misses the moment
    short = got["short"][1]
    assert first(short, "CAM003") == pytest.approx(first(clean, "CAM003"), abs=1.0)
    assert short["cameras"]["CAM003"]["consistent_with_model"]
    by_officer = {k: {r["officer"]: r for r in rows(tmp_path / k, "incidents.csv")} for k in ("clean", "short")}
    assert by_officer["clean"]["1"]["covered"] == "1"
    assert by_officer["short"]["1"]["covered"] == "0" and by_officer["short"]["1"]["cause"] == "buffer_too_short"
    assert by_officer["short"]["0"]["covered"] == "1"


def test_a_blocked_event_loop_marks_the_run_invalid(tmp_path: Path) -> None:
    p = plan(ROOT / "scenarios" / "traffic-stop.yaml", ROOT / "fixtures" / "emulated.yaml", tmp_path / "blocked",
             {0: "CAM001", 1: "CAM003"}, 10.0, None, PROFILE, None, None, None)
    assert p.tolerance_ms == 20.0

    def block(shift: ReplayShift) -> None:
        def blocker() -> Any:
            yield shift.clock.timeout(shift.window.start_s + 9.9)  # 10 ms of host time before the light bar fires
            time.sleep(0.3)  # the simulation's thread held up: every bench event due meanwhile is late

        shift.clock.process(blocker())

    outcome = replay(p, on_clock=block)
    hil = outcome.hil
    assert not hil["valid"] and "past the 20 ms tolerance" in hil["reason"]
    assert hil["lateness_ms"]["max"] >= 250 and outcome.exit_code == 1
    assert json.loads((tmp_path / "blocked" / "hil.json").read_text())["valid"] is False


def test_a_matrix_bench_gives_two_broadcasts_at_two_distances_to_one_camera(tmp_path: Path) -> None:
    out = tmp_path / "matrix"
    _rc, hil, said = finish_said(start(out, scenario="two-cruisers", bench="matrix"), out)
    assert hil["valid"], hil["reason"]
    # without --profile the prediction is the scenario's camera, and both the terminal and hil.json say so
    assert hil["prediction"]["from"] == "scenario" and "not the bench device's measured one" in said
    assert sorted(b["emitter"] for b in hil["broadcasts"]) == ["light_bar", "light_bar_2"]
    assert check_attenuation(hil, out, MATRIX) > 20
    starts = {r["emitter"]: r for r in truth(out, "broadcast_start")}
    ends = {r["emitter"]: r for r in truth(out, "broadcast_end")}
    overlap = (starts["light_bar_2"]["t_ns"], min(ends["light_bar"]["t_ns"], ends["light_bar_2"]["t_ns"]))
    assert overlap[0] < overlap[1]  # both on the air at once
    # CAM002 hears each broadcast through its own path: channel 4 from light_bar, 5 from light_bar_2
    heard = [r for r in truth(out, "reception") if r["camera"] == "CAM002" and r["in_range"] == 1]
    assert {(r["emitter"], r["channel"]) for r in heard} == {("light_bar", 4), ("light_bar_2", 5)}
    # in the overlap, its two channels stand for its two distances, and they differ
    mid = sim_time(hil, (overlap[0] + overlap[1]) // 2)
    at = {ch: [r for r in truth(out, "attenuation") if r["channel"] == ch and sim_time(hil, r["t_ns"]) <= mid][-1]["db"]
          for ch in (4, 5)}
    assert abs(at[4] - at[5]) > 3.0
    assert at[4] == pytest.approx(expected_db(hil, MATRIX, 1, {"light_bar"}, mid), abs=0.5)
    assert at[5] == pytest.approx(expected_db(hil, MATRIX, 1, {"light_bar_2"}, mid), abs=0.5)


@pytest.mark.parametrize(("scenario", "bench", "kw", "names"), [
    ("traffic-stop", "emulated", {"mapping": "0=CAM009"}, "camera CAM009 is not on the bench"),
    ("traffic-stop", "emulated", {"mapping": "0:CAM001"}, "expected OFFICER=SERIAL"),
    ("taser-partner", str(ROOT / "fixtures" / "nightly" / "bench.yaml"), {}, "no taser emitter"),
    ("traffic-stop", "emulated", {"window": 7}, "--window 7"),
    ("traffic-stop", "emulated", {"speed": 0.0}, "--speed"),
    ("hartford-patrol-shift", "emulated", {}, "--window INCIDENT_ID"),
    # the quick bench's 3 s broadcasts and buffer stand for the scenario's 30 s at speed 10 only
    ("traffic-stop", "emulated", {"speed": 1.0}, "--speed 10 fits"),
    ("traffic-stop", "emulated", {"speed": 12.0}, "the emulated cameras buffer (emulate.camera.buffer_s of"),
    ("two-cruisers", "matrix", {"speed": 20.0}, "the scenario's light_bar broadcasts (signal.broadcast_s) 30 s"),
    ("traffic-stop", "emulated", {"overrides": ["camera.buffer_s=10"]}, "no speed from 0.05 to 100 fits"),
    # a number option that is not a finite number in its range is refused naming it
    ("traffic-stop", "emulated", {"until": math.nan}, "--until is not valid"),
    ("traffic-stop", "emulated", {"until": math.inf}, "--until is not valid"),
    ("traffic-stop", "emulated", {"until": -5.0}, "--until is not valid"),
    ("traffic-stop", "emulated", {"until": 5.0}, "--until is not valid:\n  - 5: the replay starts at"),
    ("traffic-stop", "emulated", {"speed": math.nan}, "--speed is not valid"),
    ("traffic-stop", "emulated", {"speed": math.inf}, "--speed is not valid"),
    ("traffic-stop", "emulated", {"tolerance_ms": math.nan}, "--tolerance-ms is not valid"),
    ("traffic-stop", "emulated", {"tolerance_ms": -1.0}, "--tolerance-ms is not valid"),
])
def test_a_replay_the_bench_cannot_play_is_refused_with_what_is_missing(tmp_path: Path, scenario: str, bench: str,
                                                                        kw: dict[str, Any], names: str) -> None:
    """What `bwclab hil run` checks before anything is started (the CLI turns it into exit 2: the test below)."""
    args: dict[str, Any] = {"mapping": None, "speed": 10.0, "seed": None, "profile": None, "faults": None,
                            "window": None, "until": None} | kw
    with pytest.raises(ConfigError) as err:
        hil_plan(scenario, bench, tmp_path / "x", **args)
    assert names in err.value.render()
    assert not (tmp_path / "x").exists()  # nothing was started, no folder made


def test_more_officers_than_bench_cameras_is_refused_naming_how_many_are_missing(tmp_path: Path) -> None:
    one = tmp_path / "one.yaml"
    text = (ROOT / "fixtures" / "emulated.yaml").read_text()
    one.write_text("\n".join(x for x in text.splitlines() if not x.strip().startswith(("CAM002", "CAM003"))
                             and "indicator: CAM001" not in x))
    done = subprocess.run([sys.executable, "-m", "bwclab", "hil", "run", "--scenario", "traffic-stop", "--bench",
                           str(one), "--out", str(tmp_path / "x")], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2 and "1 camera(s) missing" in done.stderr, done.stderr


def test_the_taser_scene_and_a_window_cut_from_a_hartford_shift_replay_as_shipped(tmp_path: Path) -> None:
    taser, window = tmp_path / "taser", tmp_path / "hartford"
    procs = [start(taser, "--profile", "emulated", "--map", MAP, scenario="taser-partner"),
             start(window, "--profile", "emulated", "--window", "8", scenario="hartford-patrol-shift")]
    (_rc1, t), (_rc2, h) = finish(procs[0], taser), finish(procs[1], window)
    assert t["valid"] and h["valid"], (t["reason"], h["reason"])
    # the taser on officer 0 starts its own camera at 0 ft and the partner's, still in the car, some 20 ft away
    assert [b["kind"] for b in t["broadcasts"]] == ["taser"] and t["broadcasts"][0]["holder"] == "officer 0"
    partner = t["cameras"]["CAM003"]["activations"][0]
    assert partner["trigger"] == "TSR-00000" and 14.0 < partner["distance_ft"] < 24.0
    assert t["cameras"]["CAM001"]["activations"][0]["distance_ft"] == 0.0
    # the Hartford window: incident 8's officers on the bench, the rest of the shift the model's
    assert h["window"]["incidents"] == [8] and h["window"]["start_s"] > 3000
    incident = [r for r in rows(window, "incidents.csv") if r["incident"] == "8"]
    assert sorted(int(r["officer"]) for r in incident) == sorted(c["officer"] for c in h["cameras"].values())
    assert all(c["activations"][0]["observed_s"] is not None for c in h["cameras"].values())


def bwclab_hil(out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bwclab", "hil", "run", "--scenario", "traffic-stop", "--bench",
                           "emulated", "--out", str(out), *args], cwd=ROOT, capture_output=True, text=True, timeout=240)


def test_a_bench_that_does_not_fit_the_speed_is_refused_before_it_starts_with_the_speed_that_fits(
        tmp_path: Path) -> None:
    """The quick bench at the default speed 1: 3 s broadcasts and buffer for the scenario's 30 s."""
    done = bwclab_hil(tmp_path / "x")
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    for said in ("--speed 1 is not valid", "emulate.emitters.broadcast_s of", "signal.broadcast_s",
                 "emulate.camera.buffer_s of", "camera.buffer_s", "--speed 10 fits", "--allow-mismatch"):
        assert said in done.stderr, (said, done.stderr)
    assert not (tmp_path / "x").exists()  # no bench started, no folder made


def test_a_number_option_that_is_not_a_finite_number_is_refused_before_the_bench_starts(tmp_path: Path) -> None:
    done = bwclab_hil(tmp_path / "x", "--speed", "10", "--until", "nan")
    assert done.returncode == 2 and "--until" in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert not (tmp_path / "x").exists()


def test_a_mismatch_allowed_replays_and_is_marked_invalid_with_the_reason(tmp_path: Path) -> None:
    """Speed 20 on the quick bench: its 3 s stand for 60 simulated s where the scenario has 30 s."""
    out = tmp_path / "fast"
    rc, hil, said = finish_said(start(out, "--allow-mismatch", "--until", "45", "--speed", "20"), out)  # the last wins
    assert hil["speed"] == 20
    assert not hil["valid"] and "does not stand for the scenario at speed 20" in hil["reason"], hil["reason"]
    assert "--speed 10 fits" in hil["reason"]
    assert any("emitter light_bar" in x for x in hil["fidelity"]) and any("buffer" in x for x in hil["fidelity"])
    assert rc == 1 and "INVALID" in said
    assert truth(out, "ready")  # it did run on the bench


def default_ctrl_c() -> None:
    """A terminal's Ctrl-C, whatever this test process's disposition (an ignored or blocked SIGINT is inherited)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def wait_for(what: str, ready: Any, proc: subprocess.Popen[str] | None = None, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not ready():
        assert proc is None or proc.poll() is None, f"the replay ended before {what}"
        assert time.monotonic() < deadline, f"never {what}"
        time.sleep(0.02)


def test_ctrl_c_in_the_window_ends_the_replay_with_exit_130_an_invalid_hil_json_and_no_emulator_left(
        tmp_path: Path) -> None:
    """SIGINT to the whole process group, as a terminal's Ctrl-C: the emulator, in a session of its own, is not
    in it, so the replay ends on a bench still there (lines low, paths parked), then stops it."""
    out = tmp_path / "ctrl-c"
    cmd = [sys.executable, "-m", "bwclab", "hil", "run", "--scenario", "traffic-stop", "--bench", "emulated",
           "--out", str(out), "--speed", "10", "--map", MAP, "--tolerance-ms", LOADED_TOLERANCE_MS]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, preexec_fn=default_ctrl_c)
    log = out / "bench" / "truth.jsonl"
    wait_for("the light bar fired", lambda: log.exists() and truth(out, "broadcast_start"), proc)
    tree = descendants(proc.pid)
    emulator = json.loads((out / "bench" / "resources.json").read_text())["pid"]
    assert emulator in tree
    os.killpg(proc.pid, signal.SIGINT)
    _stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130 and "Traceback" not in stderr, stderr
    hil = json.loads((out / "hil.json").read_text())
    assert not hil["valid"] and "interrupted (Ctrl-C) at" in hil["reason"], hil["reason"]
    assert hil["window"]["start_s"] < hil["reached_s"] < hil["window"]["end_s"]
    assert all(c["consistent_with_model"] is None for c in hil["cameras"].values())  # part of a window: not judged
    # the bench took the window's end: every mapped camera's channel parked, then the rig stopped the emulator
    top = QUICK.instruments.attenuator.max_db
    for ch in (1, 3):
        assert [r for r in truth(out, "attenuation") if r["channel"] == ch][-1]["db"] == top, ch
    assert truth(out, "stop") and not truth(out, "parent_gone")
    assert wait_gone(tree) == set()  # the emulator and its clip renderer are gone


def test_a_ctrl_c_that_finds_the_bench_already_gone_still_ends_with_exit_130_and_hil_json(tmp_path: Path) -> None:
    """The bench dies during the window (kill -9 of the emulator, with the light bar's line high and the paths
    set), and Ctrl-C comes: the window's end cannot reach the bench, and the replay says so instead of failing."""
    p = plan(ROOT / "scenarios" / "traffic-stop.yaml", ROOT / "fixtures" / "emulated.yaml", tmp_path / "gone",
             {0: "CAM001", 1: "CAM003"}, 10.0, None, PROFILE, None, None, None, tolerance_ms=250.0)
    fired = p.window.start_s + LEAD_S  # the traffic stop's light bar: its line high for 2 simulated s

    def bench_dies(shift: ReplayShift) -> None:
        def die() -> Any:
            yield shift.clock.timeout(fired + 0.5)
            emulator = json.loads((p.out / "bench" / "resources.json").read_text())["pid"]
            shift.clock.interrupt()  # what Ctrl-C does: taken between this instant and the next
            os.kill(emulator, signal.SIGKILL)
            wait_for("the emulator died", lambda: not running({emulator}), timeout_s=10)

        shift.clock.process(die())

    outcome = replay(p, on_clock=bench_dies)
    hil = json.loads((tmp_path / "gone" / "hil.json").read_text())
    assert outcome.exit_code == 130 and not hil["valid"]
    assert "interrupted (Ctrl-C) at" in hil["reason"] and "did not take the window's end" in hil["reason"]
    assert hil["broadcasts"] and hil["reached_s"] < hil["window"]["end_s"]


def test_a_real_cameras_own_buffer_that_does_not_fit_is_refused_once_the_bench_is_up(tmp_path: Path,
                                                                                     emu: Emulator) -> None:
    """A lab's bench file says nothing of a camera's buffer: its CONFIG? does (3 s, 30 simulated s at speed 10),
    and the scenario set to 10 s is refused before the window, naming the camera."""
    bench = real_bench(emu, ROOT / "fixtures" / "emulated.yaml", tmp_path / "lab.yaml")
    out = tmp_path / "lab"
    p = plan(ROOT / "scenarios" / "traffic-stop.yaml", bench, out, {0: "CAM001", 1: "CAM003"}, 10.0, None, None,
             None, None, None, overrides=["camera.buffer_s=10"])
    with pytest.raises(ConfigError) as err:
        replay(p)
    said = err.value.render()
    assert "camera CAM001 buffers (its CONFIG?) 3 s = 30 simulated s at speed 10" in said, said
    assert "the scenario's cameras buffer (camera.buffer_s) 10 s" in said and "--allow-mismatch" in said
    assert not (out / "hil.json").exists() and not emu.truth("broadcast_start")  # the replay never started
