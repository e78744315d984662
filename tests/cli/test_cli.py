"""The command line as a user meets it: run folders, errors, reproducibility, sweeps."""

import csv
import fcntl
import json
import os
import re
import sqlite3
import struct
import subprocess
import sys
import termios
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
    assert got["all-triggers"]["settings"]["triggers"] == ["light_bar", "door", "siren", "speed", "crash", "taser",
                                                           "holster"]
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
    assert r.returncode == 2 and "(a previous run)" in r.stderr
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


@pytest.mark.slow  # a whole certification on an emulated bench: left out by run.py test --fast
def test_demo_prints_headline_figures_and_its_run_folder_with_no_warning_and_refuses_to_run_over_itself(tmp_path):
    r = bwclab("demo", "--out", tmp_path)
    assert r.returncode == 0, r.stderr
    assert "PASS" in r.stdout and "captured: every officer on scene recording" in r.stdout
    assert "run folder" in r.stdout and "wall time, 20 replications" in r.stdout
    assert "warning" not in (r.stdout + r.stderr).lower(), r.stdout + r.stderr
    summary = json.loads((tmp_path / "hartford-patrol-shift" / "summary.json").read_text())
    assert summary["variant"] == "light-bar" and summary["reps"] == 20
    assert summary["device"]["serial"] == "CAM001" and summary["device"]["model"] == "BWC-EMU-1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["certify", "hartford-patrol-shift"]
    before = (tmp_path / "certify" / "measurements.json").read_bytes()
    again = bwclab("demo", "--out", tmp_path)  # refused before the bench starts: nothing replaced, nothing added
    assert again.returncode == 2 and "holds a previous demo" in again.stderr and "--overwrite" in again.stderr
    assert "Traceback" not in again.stderr
    assert (tmp_path / "certify" / "measurements.json").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["certify", "hartford-patrol-shift"]


@pytest.mark.slow  # a whole certification on an emulated bench: left out by run.py test --fast
def test_demo_overwrite_replaces_the_previous_demo_instead_of_adding_a_folder(tmp_path):
    (tmp_path / "one.yaml").write_text(
        "requirements: [{id: GROUP, text: One trigger starts every camera in range, procedure: group,\n"
        "                params: {trigger: taser}, quantity: fraction_activated, limit: {min: 1.0}, trials: 1}]\n")
    out = tmp_path / "demo"
    first = bwclab("demo", "--out", out, "--requirements", tmp_path / "one.yaml")
    assert first.returncode == 0, first.stdout + first.stderr
    run_id = json.loads((out / "certify" / "measurements.json").read_text())["identity"]["run_id"]
    second = bwclab("demo", "--out", out, "--requirements", tmp_path / "one.yaml", "--overwrite")
    assert second.returncode == 0, second.stdout + second.stderr
    assert sorted(p.name for p in out.iterdir()) == ["certify", "hartford-patrol-shift"]
    assert json.loads((out / "certify" / "measurements.json").read_text())["identity"]["run_id"] != run_id
    with sqlite3.connect(out / "certify" / "trials.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM trials").fetchone()[0] == 1  # the new run's trial, alone


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


def interrupt_shift(out, *extra):
    """`sim shift` of 2,000 replications into `out`, interrupted well into them: its exit code and stderr."""
    import signal
    import time

    env = {**os.environ, "COLUMNS": "200"}
    p = subprocess.Popen([sys.executable, "-m", "bwclab", "sim", "shift", "--scenario", HARTFORD, "--reps", "2000",
                          "--out", out, *extra], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # else ignored
    time.sleep(10)  # well into the replications (2,000 take minutes), even on a loaded machine
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    return p.returncode, err


def test_ctrl_c_during_replications_says_what_was_dropped_and_writes_nothing(tmp_path):
    out = tmp_path / "run"
    rc, err = interrupt_shift(out)
    assert rc == 130, err
    assert "interrupted after" in err and "of 2000 replications" in err and "nothing written" in err, err
    assert not out.exists()


def test_ctrl_c_during_an_overwrite_leaves_the_previous_run_whole(tmp_path):
    out = tmp_path / "run"
    r = bwclab("sim", "shift", "--scenario", HARTFORD, "--reps", "2", "--no-fixes", "--no-plots", "--out", out)
    assert r.returncode == 0, r.stderr
    before = {f.name: f.read_bytes() for f in out.iterdir()}
    rc, err = interrupt_shift(out, "--overwrite", "--no-fixes")
    assert rc == 130 and "nothing written" in err, err
    assert {f.name: f.read_bytes() for f in out.iterdir()} == before


# --- the terminal during a certification, and its last lines ------------------------------------------------

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
TWO_REQUIREMENTS = """name: two requirements
requirements:
  - {id: LAT-TASER, text: "Activation latency from the taser, 95th percentile, at most 1.0 s",
     procedure: latency, params: {trigger: taser, scope_window_s: 0.6}, quantity: p95, limit: {max: 1.0},
     units: s, trials: 5}
  - {id: GROUP, text: "One trigger starts every camera in range",
     procedure: group, params: {trigger: taser}, quantity: fraction_activated, limit: {min: 1.0}, trials: 2}
"""


def on_a_terminal(args, cwd, columns=120):
    """Run `bwclab ARGS` with stdin, stdout and stderr on a pseudo-terminal; (exit code, every byte it wrote)."""
    main, child = os.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR")}
    p = subprocess.Popen([sys.executable, "-m", "bwclab", *map(str, args)], stdin=child, stdout=child, stderr=child,
                         cwd=cwd, env={**env, "TERM": "xterm-256color"}, close_fds=True)
    os.close(child)
    got = bytearray()
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # EIO: every holder of the terminal's other end has closed it
            break
        if not chunk:
            break
        got += chunk
    os.close(main)
    return p.wait(timeout=60), got.decode("utf-8", errors="replace")


def screen_lines(raw):
    """What a terminal shows, line by line, as text: colours and cursor moves dropped, redraws kept."""
    return [ln.rstrip() for ln in ANSI.sub("", raw).replace("\r\n", "\n").replace("\r", "\n").split("\n") if ln.strip()]


@pytest.mark.slow  # a whole certification on an emulated bench: left out by run.py test --fast
def test_certify_on_a_terminal_shows_requirements_and_trial_counts_live_and_ends_with_what_failed(tmp_path):
    (tmp_path / "spec.yaml").write_text(TWO_REQUIREMENTS)
    (tmp_path / "slow.yaml").write_text("CAM002: {extra_latency_ms: 1500}\n")  # far beyond the 1 s limit
    rc, raw = on_a_terminal(["rig", "certify", "--bench", "demo", "--requirements", "spec.yaml", "--out", "run",
                             "--faults", "slow.yaml", "--log-level", "DEBUG"], tmp_path)
    assert rc == 1, raw[-3000:]
    lines = screen_lines(raw)
    assert "\x1b[" in raw  # drawn live, in colour
    live = [ln for ln in lines if "LAT-TASER on CAM001, CAM002, CAM003" in ln]
    counts = {m.group(1) for ln in live for m in [re.search(r"(\d)/5 trials", ln)] if m}
    assert len(counts) >= 2 and "5" in counts, live  # the count moved while the trials ran
    assert any(re.search(r"GROUP on CAM001, CAM002, CAM003 .* [0-2]/2 trials", ln) for ln in lines), lines
    assert not any(re.fullmatch(r"[.FEsx]+( +\[\s*\d+%\])?", ln.strip()) for ln in lines)  # no pytest dots
    assert not any(re.search(r"\d+ (passed|failed)\b.* in [\d.]+s", ln) for ln in lines)  # nor pytest's summary
    end = lines[max(i for i, ln in enumerate(lines) if ln.startswith("certificate: ")):]
    assert end[0].startswith("certificate: FAIL"), end
    assert any(ln.strip().startswith("LAT-TASER on CAM002: fail: p95") and "limit <= 1 s" in ln
               and "judged on the estimate" in ln for ln in end), end
    assert any(ln.strip().startswith("GROUP on CAM002: fail") for ln in end), end
    assert not any("CAM001: fail" in ln or "CAM003: fail" in ln for ln in end), end
    assert end[-1] == f"report: {Path('run') / 'report.html'}", end
    log = (tmp_path / "run" / "run.log").read_text()
    assert " DEBUG bwclab.drivers." in log and " INFO bwclab.certify: LAT-TASER: fail on CAM002" in log


@pytest.mark.slow  # a whole certification on an emulated bench: left out by run.py test --fast
def test_certify_through_a_pipe_writes_plain_lines_with_trial_counts_and_no_ansi_codes(tmp_path):
    (tmp_path / "spec.yaml").write_text(TWO_REQUIREMENTS)
    r = bwclab("rig", "certify", "--bench", "demo", "--requirements", "spec.yaml", "--out", "run", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "\x1b" not in r.stdout + r.stderr
    err = r.stderr.splitlines()
    assert "LAT-TASER on CAM001, CAM002, CAM003: 5 trials" in err and "LAT-TASER: 5/5 trials" in err, err
    assert "LAT-TASER: pass on CAM001, CAM002, CAM003" in err and "GROUP: 2/2 trials" in err, err
    out = r.stdout.splitlines()
    assert out[0].startswith("certificate: PASS") and out[-1] == f"report: {Path('run') / 'report.html'}", out
    assert not any(ln.strip(".") == "" for ln in err + out if ln)  # no pytest dots


# --- the device a shift modelled, and a comparison of devices --------------------------------------------------

def test_a_shift_with_a_profile_records_the_device_it_modelled_and_its_wall_time_over_all_replications(tmp_path):
    r = bwclab("sim", "shift", "--scenario", "hartford-patrol-shift", "--profile", "emulated", "--reps", 3,
               "--out", tmp_path, "--no-plots")
    assert r.returncode == 0, r.stderr
    s = json.loads((tmp_path / "summary.json").read_text())
    assert s["device"] == {"model": "BWC-EMU-1", "serial": "CAM001", "firmware": "1.0.0",
                           "profile": str(ROOT / "fixtures" / "profiles" / "emulated.yaml")}
    assert "BWC-EMU-1 CAM001 (firmware 1.0.0)" in r.stdout and "wall time, 3 replications" in r.stdout
    assert "first rep) / wall time" not in r.stdout


def test_compare_names_each_device_by_model_serial_and_firmware_not_by_file(tmp_path):
    r = bwclab("sim", "compare", "--scenario", "traffic-stop", "--profile", "emulated", "--profile",
               ROOT / "fixtures" / "profiles" / "example.yaml", "--reps", 2, "--out", tmp_path / "cmp")
    assert r.returncode == 0, r.stderr
    emu, example = "BWC-EMU-1 CAM001 (firmware 1.0.0)", "Example-BWC EX-0001 (firmware 1.0)"
    result = json.loads((tmp_path / "cmp" / "compare.json").read_text())
    assert list(result["profiles"]) == [emu, example]
    assert list(result["differences"]) == [f"{example} - {emu}"]
    assert result["profiles"][example]["device"] == {"model": "Example-BWC", "serial": "EX-0001", "firmware": "1.0",
                                                     "profile": str(ROOT / "fixtures" / "profiles" / "example.yaml")}
    assert emu in r.stdout and example in r.stdout and "profiles/example" not in r.stdout
    twice = bwclab("sim", "compare", "--scenario", "traffic-stop", "--profile", "emulated", "--profile", "emulated",
                   "--reps", 2, "--out", tmp_path / "twice")
    assert twice.returncode == 0, twice.stderr
    assert list(json.loads((tmp_path / "twice" / "compare.json").read_text())["profiles"]) == [f"{emu} #1",
                                                                                              f"{emu} #2"]


# --- logging ---------------------------------------------------------------------------------------------------

def test_every_command_takes_log_level():
    import typer.main

    from bwclab.cli import app

    def leaves(cmd, path=()):
        subs = getattr(cmd, "commands", None)
        if subs is None:
            yield " ".join(path), cmd
            return
        for name, sub in subs.items():
            yield from leaves(sub, (*path, name))

    commands = dict(leaves(typer.main.get_command(app)))
    assert {"demo", "rig certify", "nightly", "sim shift", "history list", "bench check"} <= set(commands)
    lacking = [name for name, cmd in commands.items() if not any("--log-level" in p.opts for p in cmd.params)]
    assert not lacking, lacking


def test_log_level_writes_run_log_in_the_run_folder_and_a_bad_level_is_refused(tmp_path):
    r = bwclab("sim", "shift", "--scenario", TRAFFIC, "--reps", 1, "--out", tmp_path / "run", "--no-plots",
               "--log-level", "debug")
    assert r.returncode == 0, r.stderr
    log = (tmp_path / "run" / "run.log").read_text()
    assert " INFO bwclab.cli: bwclab sim shift --scenario " in log and "--log-level debug" in log
    bad = bwclab("sim", "shift", "--scenario", TRAFFIC, "--out", tmp_path / "other", "--log-level", "LOUD")
    assert bad.returncode == 2 and "--log-level" in bad.stderr and "'LOUD' is not one of" in bad.stderr
    assert "Traceback" not in bad.stderr and not (tmp_path / "other").exists()
    again = bwclab("sim", "shift", "--scenario", TRAFFIC, "--reps", 1, "--out", tmp_path / "run", "--no-plots",
                   "--overwrite")
    assert again.returncode == 0, again.stderr
    assert "--overwrite" in (tmp_path / "run" / "run.log").read_text()  # the old run's log went with its run


# --- run.py -----------------------------------------------------------------------------------------------------

def run_py():
    import importlib.util

    spec = importlib.util.spec_from_file_location("run_py", ROOT / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(("given", "expected"), [
    ([], ["--dist", "loadgroup", "-n", "auto"]),
    (["-x", "-k", "shift"], ["--dist", "loadgroup", "-n", "auto", "-x", "-k", "shift"]),
    (["-n", "2", "--dist", "loadgroup"], ["-n", "2", "--dist", "loadgroup"]),  # CI's own choice stands
    (["-n2"], ["--dist", "loadgroup", "-n2"]),
    (["--numprocesses=1", "--dist=load"], ["--numprocesses=1", "--dist=load"]),
    (["-p", "no:xdist"], ["-p", "no:xdist"]),
    (["--fast"], ["--dist", "loadgroup", "-n", "auto", "-m", "not slow", "tests/unit", "tests/cli"]),
    (["--fast", "-x"], ["--dist", "loadgroup", "-n", "auto", "-x", "-m", "not slow", "tests/unit", "tests/cli"]),
])
def test_run_py_test_uses_every_core_unless_told_and_fast_runs_the_quick_directories(given, expected):
    assert run_py().pytest_args(given) == expected
