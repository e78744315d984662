"""`bwclab rig certify` end to end against the emulator in its own process: a clean bench passes
every requirement, with the reports a lab hands over; the plugin runs the same suite under plain
pytest; an interrupted run resumes without redoing or losing a trial; bad input exits 2."""

from __future__ import annotations

import contextlib
import itertools
import json
import signal
import sqlite3
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import yaml

from bwclab.core.profile import load_profile
from tests.integration.certify_helpers import QUICK_SPEC, certify, fast_bench, spec, verdicts
from tests.integration.harness import ROOT


def test_a_clean_bench_passes_everything_and_the_run_folder_is_complete(tmp_path: Path) -> None:
    out = tmp_path / "run"
    rc, output = certify(out, fast_bench(tmp_path), QUICK_SPEC)
    assert rc == 0, output
    got = verdicts(out)
    n_req = len(yaml.safe_load(QUICK_SPEC.read_text())["requirements"])
    assert len(got) == 3 * n_req and set(got.values()) == {"pass"}, got
    # trials: every attempt committed, none errored on a clean bench
    with sqlite3.connect(out / "trials.sqlite") as db:
        total, errors = db.execute("SELECT COUNT(*), SUM(status = 'error') FROM trials").fetchone()
    assert total >= 8 * 3 + 24 and errors == 0
    # measurements.json: value, uncertainty, limit and verdict for each requirement and camera
    data = json.loads((out / "measurements.json").read_text())
    cov = next(r for r in data["results"] if r["requirement"] == "COV-30FT")
    # judged on the one-sided 95% lower bound, which lies inside the two-sided 95% CI
    assert cov["ci_low"] <= cov["judged_value"] <= cov["value"] and cov["judged_value"] >= 0.95
    assert cov["uncertainty"].startswith("95% CI")
    # the quick spec is a quick look: the certificate says so, with why, and a pass stays a pass
    assert data["verdict"] == "pass" and data["grade"] == "indicative"
    assert "the spec (bwclab quick spec (fewer trials)) is graded indicative" in data["grade_reasons"]
    # report.html is self-contained: the traceability table and the plots are inside it
    page = (out / "report.html").read_text()
    assert "Traceability" in page and page.count("data:image/png;base64") >= 3 * 5
    assert 'src="http' not in page and "<link" not in page.split("</head>")[0].replace('rel="icon"', "")
    # junit.xml: one test case per requirement and camera, the verdict as a property
    cases = ET.parse(out / "junit.xml").getroot().iter("testcase")  # noqa: S314
    props = [{p.get("name"): p.get("value") for p in c.iter("property")} for c in cases]
    assert len(props) == 3 * n_req and all(p["verdict"] == "pass" for p in props)
    # the profile feeds the fleet simulator
    prof = load_profile(out / "CAM001" / "profile.yaml")
    assert set(prof.detection) == {"light_bar"} and set(prof.latency) == {"light_bar", "holster", "taser"}
    assert prof.buffer is not None and prof.buffer.configured_s == 1.5 and prof.buffer.shortfall_s <= 0.1
    assert prof.device.serial == "CAM001" and prof.device.firmware == "1.0.0"
    assert prof.audio is not None and not prof.audio.found_in_buffer
    assert prof.measured.grade == "indicative"
    shift = subprocess.run([sys.executable, "-m", "bwclab", "sim", "shift", "--scenario", "hartford-patrol-shift",
                            "--out", str(tmp_path / "shift"), "--profile", str(out / "CAM001" / "profile.yaml"),
                            "--reps", "3", "--no-plots"], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert shift.returncode == 0, shift.stderr
    # two vendors' cameras, side by side: the same replications, the difference with its CI
    cmp = subprocess.run([sys.executable, "-m", "bwclab", "sim", "compare", "--scenario", "hartford-patrol-shift",
                          "--profile", str(out / "CAM001" / "profile.yaml"), "--profile",
                          str(out / "CAM002" / "profile.yaml"), "--reps", "4", "--out", str(tmp_path / "cmp")],
                         capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert cmp.returncode == 0, cmp.stderr
    result = json.loads((tmp_path / "cmp" / "compare.json").read_text())
    one, two = "BWC-EMU-1 CAM001 (firmware 1.0.0)", "BWC-EMU-1 CAM002 (firmware 1.0.0)"  # named from the profiles
    assert set(result["profiles"]) == {one, two} and result["reps"] == 4
    diff = result["differences"][f"{two} - {one}"]["capture_rate"]
    assert diff["n"] == 4 and diff["ci_low"] <= diff["mean"] <= diff["ci_high"]
    assert (tmp_path / "cmp" / "compare.png").stat().st_size > 0


def test_the_plugin_runs_the_suite_under_plain_pytest_and_a_narrowed_run_never_exits_0(tmp_path: Path) -> None:
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--bench", str(fast_bench(tmp_path)),
           "--requirements", str(spec(tmp_path, ["GROUP", "SLEEP"])), "--rig-out", str(out), "--camera", "CAM002",
           f"--junitxml={tmp_path / 'j.xml'}"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 1, proc.stdout + proc.stderr  # every test passed; the certificate is incomplete
    assert "2 passed" in proc.stdout and "certificate: INCOMPLETE" in proc.stdout
    assert verdicts(out) == {("GROUP", "CAM002"): "pass", ("SLEEP", "CAM002"): "pass"}
    cert = json.loads((out / "measurements.json").read_text())
    assert cert["verdict"] == "incomplete" and cert["narrowed"] == (
        "narrowed on purpose: --camera CAM002 left out the bench's other camera(s) CAM001, CAM003")
    assert {(u["camera"], u["why"]) for u in cert["unjudged"]} == {("CAM001", "camera left out"),
                                                                   ("CAM003", "camera left out")}
    assert cert["resume"] == ""  # --resume with --camera CAM002 could not judge the others


def test_a_camera_without_console_is_refused_unless_the_spec_makes_what_needs_one_optional(tmp_path: Path) -> None:
    bench = fast_bench(tmp_path)
    data = yaml.safe_load(bench.read_text())
    data["cameras"]["CAM003"]["has_console"] = False
    bench.write_text(yaml.safe_dump(data))
    ids = ["LAT-TASER", "SLEEP", "ALLOW-LIST", "BUF-METADATA", "BUF-HASH"]
    rc, output = certify(tmp_path / "refused", bench, spec(tmp_path, ids, **{"LAT-TASER": {"trials": 3}}))
    assert rc == 2 and "Traceback" not in output, output
    for req in ("SLEEP", "ALLOW-LIST", "BUF-METADATA"):
        assert f"({req}): camera CAM003 cannot be judged: the camera has no console" in output
    optional = {"optional": True}
    out = tmp_path / "run"
    rc, output = certify(out, bench, spec(tmp_path, ids, **{"LAT-TASER": {"trials": 3}, "SLEEP": optional,
                                                            "ALLOW-LIST": optional, "BUF-METADATA": optional}), "-v")
    assert rc == 0, output
    got = verdicts(out)
    assert got[("SLEEP", "CAM003")] == got[("ALLOW-LIST", "CAM003")] == "not applicable"
    assert got[("BUF-METADATA", "CAM003")] == "not applicable"
    assert got[("LAT-TASER", "CAM003")] == got[("BUF-HASH", "CAM003")] == "pass"
    assert {v for (_, cam), v in got.items() if cam != "CAM003"} == {"pass"}
    assert "SKIPPED" in output and "not applicable: the camera has no console" in output


def default_ctrl_c() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def test_an_interrupted_run_resumes_without_redoing_or_losing_a_trial(tmp_path: Path) -> None:
    out = tmp_path / "run"
    bench, requirements = fast_bench(tmp_path), spec(tmp_path, ["LAT-HOLSTER", "GROUP"],
                                                     **{"LAT-HOLSTER": {"trials": 20}})
    cmd = [sys.executable, "-m", "bwclab", "rig", "certify", "--bench", str(bench), "--requirements",
           str(requirements), "--out", str(out)]
    # a terminal gives the child a default Ctrl-C whatever this test process's disposition is (an earlier
    # test in the same xdist worker may have left SIGINT ignored or blocked, and both are inherited)
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            preexec_fn=default_ctrl_c)
    db = out / "trials.sqlite"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if db.exists():
            with sqlite3.connect(db) as con, contextlib.suppress(sqlite3.OperationalError):  # schema not yet made
                if con.execute("SELECT COUNT(*) FROM trials WHERE status = 'ok'").fetchone()[0] >= 4:
                    break
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)  # Ctrl-C
    assert proc.wait(timeout=30) == 130
    cert = json.loads((out / "measurements.json").read_text())  # never "pass" with nothing judged
    assert cert["verdict"] == "incomplete" and "Ctrl-C" in cert["reason"] and cert["unjudged"]
    assert cert["resume"].endswith("--resume") and str(out) in cert["resume"]
    with sqlite3.connect(db) as con:
        before = con.execute("SELECT id, key, seq, result FROM trials WHERE status = 'ok'").fetchall()
    assert 4 <= len(before) < 22  # 20 latency steps: room for Ctrl-C to land mid-run on a loaded machine
    rc, output = certify(out, bench, requirements)
    assert rc == 2 and "pass --resume" in output  # a folder with trials is never overwritten
    rc, output = certify(out, bench, requirements, "--resume")
    assert rc == 0, output
    with sqlite3.connect(db) as con:
        after = con.execute("SELECT id, key, seq, result FROM trials WHERE status = 'ok'").fetchall()
    assert after[: len(before)] == before  # nothing lost, nothing rewritten
    keys = [(k, s) for _, k, s, _ in after]
    assert len(keys) == len(set(keys)) == 20 + 2  # no step done twice
    assert set(verdicts(out).values()) == {"pass"}


def test_bad_input_exits_2_naming_file_and_field(tmp_path: Path) -> None:
    bad_spec = tmp_path / "spec.yaml"
    bad_spec.write_text("requirements: [{id: A, text: t, procedure: latency, quantity: p95, limit: {maxx: 1}}]\n")
    rc, output = certify(tmp_path / "o1", fast_bench(tmp_path), bad_spec)
    assert rc == 2 and str(bad_spec) in output and "requirements.0.limit.maxx" in output
    assert "Traceback" not in output
    faults = tmp_path / "faults.yaml"
    faults.write_text("CAM009: {extra_latency_ms: 5}\n")
    rc, output = certify(tmp_path / "o2", fast_bench(tmp_path), QUICK_SPEC, "--faults", str(faults))
    assert rc == 2 and str(faults) in output and "CAM009" in output and "Traceback" not in output
    rc, output = certify(tmp_path / "o3", fast_bench(tmp_path), QUICK_SPEC, "--camera", "CAM404")
    assert rc == 2 and "--camera CAM404" in output and "Traceback" not in output


def test_an_emitter_that_ignores_an_edge_mid_broadcast_is_waited_out(tmp_path: Path) -> None:
    bench = fast_bench(tmp_path)
    data = yaml.safe_load(bench.read_text())
    data["emulate"]["emitters"]["retrigger"] = "ignore"  # as some real emitters: a new edge changes nothing
    data["emulate"]["emitters"]["broadcast_s"] = 1.0  # longer than a group step, so firing at once would hit it
    bench.write_text(yaml.safe_dump(data))
    out = tmp_path / "run"
    # a group step ends as soon as every camera has activated, well inside the broadcast
    rc, output = certify(out, bench, spec(tmp_path, ["GROUP"], GROUP={"trials": 4}))
    assert rc == 0, output
    truth = [json.loads(x) for x in (out / "bench" / "session-1" / "truth.jsonl").read_text().splitlines() if x]
    assert not [r for r in truth if r["event"] == "edge_ignored"]  # no step fired into a live broadcast
    starts = [r["t_ns"] for r in truth if r["event"] == "broadcast_start" and r["emitter"] == "taser"]
    assert len(starts) == 4
    broadcast_ns = data["emulate"]["emitters"]["broadcast_s"] * 1e9
    assert min(b - a for a, b in itertools.pairwise(starts)) >= broadcast_ns  # each after the last ended
    assert verdicts(out) == {("GROUP", s): "pass" for s in ("CAM001", "CAM002", "CAM003")}


def test_a_run_folder_in_use_is_refused_and_released_when_its_run_dies(tmp_path: Path) -> None:
    out = tmp_path / "run"
    bench, requirements = fast_bench(tmp_path), spec(tmp_path, ["COV-30FT"])
    cmd = [sys.executable, "-m", "bwclab", "rig", "certify", "--bench", str(bench), "--requirements",
           str(requirements), "--out", str(out)]
    first = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not (out / "trials.sqlite").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    rc, output = certify(out, bench, requirements, "--resume")
    assert rc == 2 and "is in use by another bwclab run (pid" in output and "Traceback" not in output
    first.kill()  # kill -9: the lock goes with the process
    first.wait()
    rc, output = certify(out, bench, requirements, "--resume", "-k", "nothing-matches")
    assert "in use" not in output
