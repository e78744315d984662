"""The command line as a user meets it: run folders, errors, reproducibility, sweeps."""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TRAFFIC = ROOT / "scenarios" / "traffic-stop.yaml"
HARTFORD = ROOT / "scenarios" / "hartford-patrol-shift.yaml"


def bwclab(*args, cwd=ROOT):
    env = {**os.environ, "COLUMNS": "200"}  # tables unwrapped, as on a wide terminal
    return subprocess.run([sys.executable, "-m", "bwclab", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=300, env=env)


def test_shift_writes_the_whole_run_folder_with_a_ci_on_every_figure(tmp_path):
    r = bwclab("sim", "shift", "--scenario", HARTFORD, "--out", tmp_path / "run", "--reps", 5)
    assert r.returncode == 0, r.stderr
    run = tmp_path / "run"
    for name in ("summary.json", "reps.csv", "incidents.csv", "activations.csv", "timeline.png", "coverage.png"):
        assert (run / name).stat().st_size > 0
    s = json.loads((run / "summary.json").read_text())
    assert s["reps"] == 5 and len(set(s["rep_seeds"])) == 5
    for key in ("capture_rate", "in_frame_rate", "any_camera_rate", "audio_capture_rate", "officer_time_coverage",
                "bystander_activations", "storage_tb_per_year", "storage_tb_held"):
        x = s["figures"][key]
        assert x["n"] == 5 and x["ci_low"] <= x["mean"] <= x["ci_high"], (key, x)
    assert set(s["missed"]) == {"not_triggered", "not_pressed", "pressed_late", "buffer_too_short", "out_of_range",
                                "not_discovered", "arrived_after_broadcast", "camera_asleep", "out_of_frame"}
    assert set(s["by_severity"]) == {"use_of_force", "in_progress", "report"}
    assert "traffic_stop" in s["by_call_type"] and s["by_call_type"]["traffic_stop"]["capture_rate"]["n"] == 5
    assert s["figures"]["in_frame_rate"]["mean"] <= s["figures"]["capture_rate"]["mean"]
    assert s["figures"]["any_camera_rate"]["mean"] >= s["figures"]["in_frame_rate"]["mean"]
    first = s["first_rep"]
    with (run / "incidents.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert sum(1 for r in rows if r["cause"]) == sum(first["missed"].values())
    with (run / "activations.csv").open() as fh:
        acts = list(csv.DictReader(fh))
    assert {"time_s", "camera", "camera_kind", "cause", "trigger", "distance_ft", "latency_s"} <= set(acts[0])
    assert sum(int(a["bystander"]) for a in acts) == first["bystander_activations"]
    with (run / "reps.csv").open() as fh:
        reps = list(csv.DictReader(fh))
    assert [float(x["capture_rate"]) for x in reps] == pytest.approx(
        [first["capture_rate"]] + [float(x["capture_rate"]) for x in reps[1:]])


def strip_wall(summary_text: str) -> dict[str, object]:
    d: dict[str, object] = json.loads(summary_text)
    d.pop("wall_s")
    return d


def test_same_seed_gives_identical_outputs_and_another_seed_does_not(tmp_path):
    outs = []
    for name, seed in (("a", 42), ("b", 42), ("c", 43)):
        r = bwclab("sim", "shift", "--scenario", HARTFORD, "--seed", seed, "--reps", 3, "--out", tmp_path / name,
                   "--no-plots")
        assert r.returncode == 0, r.stderr
        outs.append(tmp_path / name)
    a, b, c = outs
    assert strip_wall((a / "summary.json").read_text()) == strip_wall((b / "summary.json").read_text())
    for f in ("incidents.csv", "activations.csv", "reps.csv", "scenario.json"):
        assert (a / f).read_bytes() == (b / f).read_bytes()
    assert (a / "activations.csv").read_bytes() != (c / "activations.csv").read_bytes()


def test_set_overrides_a_field(tmp_path):
    r = bwclab("sim", "shift", "--scenario", TRAFFIC, "--set", "camera.buffer_s=0", "--reps", 2, "--out", tmp_path,
               "--no-plots")
    assert r.returncode == 0, r.stderr
    s = json.loads((tmp_path / "summary.json").read_text())
    assert s["settings"]["buffer_s"] == 0
    assert s["missed"]["buffer_too_short"]["mean"] >= 0.5


def test_the_named_variants_switch_auto_activation(tmp_path):
    got = {}
    for variant in ("manual-only", "light-bar", "all-triggers"):
        r = bwclab("sim", "shift", "--scenario", "hartford-patrol-shift", "--variant", variant, "--reps", 3,
                   "--out", tmp_path / variant, "--no-plots")
        assert r.returncode == 0, r.stderr
        got[variant] = json.loads((tmp_path / variant / "summary.json").read_text())
    assert got["manual-only"]["first_rep"]["broadcasts"] == 0
    assert got["manual-only"]["settings"]["triggers"] == []
    assert got["all-triggers"]["settings"]["triggers"] == ["light_bar", "taser", "holster"]
    assert (got["manual-only"]["figures"]["capture_rate"]["mean"] < got["light-bar"]["figures"]["capture_rate"]["mean"]
            <= got["all-triggers"]["figures"]["capture_rate"]["mean"])
    r = bwclab("sim", "shift", "--scenario", "hartford-patrol-shift", "--variant", "drones", "--out", tmp_path / "x")
    assert r.returncode == 2 and "--variant drones: no such variant" in r.stderr


@pytest.mark.parametrize(("args", "expected"), [
    (["--seed", "-1"], "greater than or equal to 0"),
    (["--out", "FILE"], "--out names a file"),
    (["--reps", "0"], "greater than or equal to 1"),
])
def test_bad_command_line_values_exit_2(tmp_path, args, expected):
    (tmp_path / "FILE").write_text("not a folder")
    args = [str(tmp_path / "FILE") if a == "FILE" else a for a in args]
    if "--out" not in args:
        args += ["--out", str(tmp_path / "o")]
    r = bwclab("sim", "shift", "--scenario", TRAFFIC, *args)
    assert r.returncode == 2 and expected in r.stderr + r.stdout and "Traceback" not in r.stderr + r.stdout


def test_a_reused_run_folder_is_refused_unless_overwrite_empties_it(tmp_path):
    assert bwclab("sim", "shift", "--scenario", TRAFFIC, "--reps", 1, "--out", tmp_path).returncode == 0
    assert (tmp_path / "timeline.png").exists()
    r = bwclab("sim", "shift", "--scenario", TRAFFIC, "--reps", 1, "--out", tmp_path, "--no-plots")
    assert r.returncode == 2 and "already holds a run" in r.stderr
    r = bwclab("sim", "shift", "--scenario", TRAFFIC, "--reps", 1, "--out", tmp_path, "--no-plots", "--overwrite")
    assert r.returncode == 0 and not (tmp_path / "timeline.png").exists()  # no stale plot beside new results


@pytest.mark.parametrize(
    "content, field, expected",
    [
        ("name: x\ncamera: {buffer_s: 300}\n", "camera.buffer_s", "less than or equal to 120"),
        ("name: x\ncalls: {per_hour: [1, 2]}\n", "calls.per_hour", "24 hourly values"),
        ("name: x\nsignal: {detection: {kind: step}}\n", "signal.detection.step.radius_ft", "Field required"),
        ("name: x\ncamera: {bufer_s: 3}\n", "camera.bufer_s", "unknown field"),
        ("name: x\ncall_types: {a: {units: two}}\n", "call_types.a.units", "dictionary"),
        ("name: [unclosed\n", "line 2", "not valid YAML"),
    ],
)
def test_a_bad_scenario_names_file_field_and_expectation_with_exit_2(tmp_path, content, field, expected):
    bad = tmp_path / "bad.yaml"
    bad.write_text(content)
    r = bwclab("sim", "shift", "--scenario", bad, "--out", tmp_path / "out")
    assert r.returncode == 2
    assert str(bad) in r.stderr and field in r.stderr and expected in r.stderr
    assert "Traceback" not in r.stderr + r.stdout
    assert not (tmp_path / "out").exists()


def test_a_missing_scenario_file_is_exit_2(tmp_path):
    r = bwclab("sim", "shift", "--scenario", tmp_path / "nope.yaml", "--out", tmp_path / "o")
    assert r.returncode == 2 and "file not found" in r.stderr


@pytest.mark.parametrize("args", [[], ["sim"], ["sim", "shift"], ["sim", "sweep"], ["demo"]])
def test_help_everywhere(args):
    r = bwclab(*args, "--help")
    assert r.returncode == 0 and "Usage" in r.stdout


def test_demo_prints_headline_figures_and_its_run_folder(tmp_path):
    r = bwclab("demo", "--out", tmp_path)
    assert r.returncode == 0, r.stderr
    assert "PASS" in r.stdout and "captured: every officer on scene recording" in r.stdout
    assert "run folder" in r.stdout
    summary = json.loads((tmp_path / "hartford-patrol-shift" / "summary.json").read_text())
    assert summary["variant"] == "light-bar" and summary["reps"] == 20


def test_a_device_profile_brings_its_curve_latency_per_trigger_and_buffer_shortfall(tmp_path):
    r = bwclab("sim", "shift", "--scenario", "hartford-patrol-shift", "--variant", "all-triggers", "--profile",
               ROOT / "fixtures" / "profiles" / "example.yaml", "--out", tmp_path, "--no-plots")
    assert r.returncode == 0, r.stderr
    s = json.loads((tmp_path / "summary.json").read_text())
    assert s["settings"]["buffer_s"] == pytest.approx(30 - 0.1)  # configured 30, kept 29.9 (median)
    assert s["reps"] == 20
    assert s["settings"]["detection"]["kind"] == "probit"
    measured = {"light_bar": {0.38, 0.41, 0.44, 0.47, 0.52, 0.55, 0.66, 0.71},
                "taser": {0.36, 0.40, 0.43, 0.49, 0.51, 0.58}}
    with (tmp_path / "activations.csv").open() as fh:
        rows = [a for a in csv.DictReader(fh) if a["cause"] == "signal"]
    kinds = {a["trigger_kind"] for a in rows}
    assert "light_bar" in kinds
    for kind in kinds & set(measured):
        lat = {round(float(a["latency_s"]), 6) for a in rows if a["trigger_kind"] == kind}
        assert lat <= measured[kind], kind


def test_an_old_profile_is_refused_with_exit_2(tmp_path):
    old = tmp_path / "old.yaml"
    old.write_text("device: {serial: X}\nlatency_s: [0.4]\nbuffer_s: 2.94\n")
    r = bwclab("sim", "shift", "--scenario", "hartford-patrol-shift", "--profile", old, "--out", tmp_path / "o")
    assert r.returncode == 2 and "format: missing" in r.stderr and "Traceback" not in r.stderr + r.stdout


def test_ctrl_c_during_replications_says_what_was_dropped_and_writes_nothing(tmp_path):
    import signal
    import time

    out = tmp_path / "run"
    env = {**os.environ, "COLUMNS": "200"}
    p = subprocess.Popen([sys.executable, "-m", "bwclab", "sim", "shift", "--scenario", HARTFORD, "--reps", "2000",
                          "--out", out], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # the shell may ignore it
    time.sleep(10)  # well into the replications (2,000 take minutes), even on a loaded machine
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 130, err
    assert "interrupted after" in err and "of 2000 replications" in err and "nothing written" in err, err
    assert not out.exists()
