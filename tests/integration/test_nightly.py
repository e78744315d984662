"""Nightly regression on the emulated bench, as a CI job would run it: `bwclab nightly` in its own process,
the emulator in another, the history in a real SQLite file.

Two clean nights with firmware 1.0.0 (started together: two benches recording into one SQLite file at once),
then three nights where CAM002 is flashed with 1.1.0 and answers 150 ms later (still inside the 1-s spec), the
third of them interrupted by Ctrl-C and finished with `rig certify --resume --history`, then a night where
CAM002 hears 4.5 dB better; each against `last:3`. Every slow night must flag LAT drift on CAM002 and nothing
else: a regressed night stays out of the next nights' baseline, so the second and third slow nights are held to
the clean nights, not to the slow ones before them. The resumed night writes its junit.xml and drift.json as
the night would have. The coverage night flags COV drift; the trend page's band is the clean nights'.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from bwclab.history.drift import compare
from bwclab.history.store import History
from tests.integration.harness import ROOT

BENCH = ROOT / "fixtures" / "nightly" / "bench.yaml"
SPEC = ROOT / "fixtures" / "nightly" / "spec.yaml"
BASELINE = "last:3"
CLEAN, SLOW = 2, 3
SLOW_FAULTS = "CAM002: {firmware: 1.1.0, extra_latency_ms: 150}\n"
PAIRS = {(q, c) for q in ("LAT-LIGHTBAR", "COV-R95") for c in ("CAM001", "CAM002")}
# Every comparison here has at most two baseline nights (the slow nights stay out), so each is judged on its nights'
# pooled samples. The nights are judged at a 0.1% chance of any false alarm a night (`--alpha`), not the nightly
# default of 5%: at 5%, 3.8% of 400 simulated clean emulator nights (benchmarks/drift_power.py's, two tests a night)
# flagged something against one baseline night, and this module has some twenty tests that must read `same`; at
# 0.1%, none of 2,000 did (against one and against two nights), and a 150-ms shift was flagged in every night.
ALPHA = 0.001
# the nights are one session fixture (a module one is set up again whenever another module's test runs between two
# of these), and under xdist (`--dist loadgroup`) these tests go to one worker: the nights are run once
pytestmark = pytest.mark.xdist_group("nightly")


def default_ctrl_c() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def nightly(out_root: Path, history: str, *extra: str) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "bwclab", "nightly", "--bench", str(BENCH), "--requirements", str(SPEC),
           "--history", history, "--out-root", str(out_root), "--baseline", BASELINE, "--alpha", str(ALPHA), *extra]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT,
                            preexec_fn=default_ctrl_c)


def finish(p: subprocess.Popen[str]) -> tuple[int, str]:
    out, _ = p.communicate(timeout=400)
    return p.returncode, out


def night_of(out: str) -> Path:
    line = next(ln for ln in out.splitlines() if ln.startswith("night: "))
    return Path(line.split()[1])


def cases(night: Path) -> dict[str, ET.Element]:
    root = ET.parse(night / "junit.xml").getroot()  # noqa: S314 (our own file, written by the night under test)
    return {c.get("name", ""): c for c in root.iter("testcase")}


def drift_of(night: Path) -> dict[tuple[str, str], dict[str, Any]]:
    return {(d["requirement"], d["camera"]): d for d in json.loads((night / "drift.json").read_text())["drift"]}


def interrupted_then_resumed(root: Path, db: str, faults: Path) -> dict[str, Any]:
    """A night stopped by Ctrl-C once some trials are in, then finished with `rig certify --resume --history`."""
    before = set(root.iterdir())
    p = nightly(root, db, "--faults", str(faults))
    deadline = time.monotonic() + 300
    night = None
    while time.monotonic() < deadline and p.poll() is None:
        night = next(iter(set(root.iterdir()) - before), None)
        trials = night / "run" / "trials.sqlite" if night is not None else None
        if trials is not None and trials.exists():
            with sqlite3.connect(trials) as con, contextlib.suppress(sqlite3.OperationalError):  # schema not yet made
                if con.execute("SELECT COUNT(*) FROM trials WHERE status = 'ok'").fetchone()[0] >= 4:
                    break
        time.sleep(0.2)
    p.send_signal(signal.SIGINT)  # Ctrl-C
    rc, out = finish(p)
    assert night is not None, out[-2000:]
    cut = json.loads((night / "run" / "measurements.json").read_text())
    r = subprocess.run([sys.executable, "-m", "bwclab", "rig", "certify", "--bench", str(BENCH), "--requirements",
                        str(SPEC), "--out", str(night / "run"), "--faults", str(faults), "--resume", "--history", db],
                       capture_output=True, text=True, cwd=ROOT, timeout=400)
    return {"night": night, "interrupted": (rc, out, cut["verdict"]), "resumed": (r.returncode, r.stdout + r.stderr),
            "page": (root / "trends.html").read_text()}


@pytest.fixture(scope="session")
def nights(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("nightly")
    db = str(tmp / "history.sqlite")
    root = tmp / "nights"
    clean = [finish(p) for p in [nightly(root, db) for _ in range(CLEAN)]]  # two benches at once: enough to race
    (tmp / "slow.yaml").write_text(SLOW_FAULTS)
    slow = [finish(nightly(root, db, "--faults", str(tmp / "slow.yaml"))) for _ in range(SLOW - 1)]
    resumed = interrupted_then_resumed(root, db, tmp / "slow.yaml")
    (tmp / "hear.yaml").write_text("CAM002: {firmware: 1.1.0, sensitivity_offset_db: -4.5}\n")
    hears_better = finish(nightly(root, db, "--faults", str(tmp / "hear.yaml")))
    return {"db": db, "root": root, "clean": clean, "slow": slow, "resumed": resumed, "hears_better": hears_better}


def run_ids(db: str) -> list[int]:
    with History(db) as h:
        return [r.id or 0 for r in h.runs()]


def test_two_clean_nights_record_into_one_sqlite_file_at_once_and_pass(nights: dict[str, Any]) -> None:
    for rc, out in nights["clean"]:
        assert rc == 0, out[-2000:]
    with History(nights["db"]) as h:
        runs = h.runs()
    total = CLEAN + SLOW + 1
    assert len(runs) == total and len({r.run_id for r in runs}) == total  # nothing lost, nothing duplicated
    for r in runs[:CLEAN]:
        assert {c.firmware for c in r.cameras} == {"1.0.0"} and r.verdict == "pass"
        assert {(x.requirement, x.camera) for x in r.results} == PAIRS
        assert any(i.name == "attenuator" and i.idn.startswith("Mini-Circuits") for i in r.instruments)
        assert r.bench_sha256 and r.spec_sha256 and r.host and r.operator and r.ended >= r.started


def test_clean_nights_compared_with_each_other_flag_nothing(nights: dict[str, Any]) -> None:
    with History(nights["db"]) as h:
        a, b = h.runs()[:CLEAN]
    flagged = [(d.requirement, d.camera, d.verdict) for cur, base in ((a, b), (b, a))
               for d in compare(cur, [base], alpha=ALPHA) if d.verdict in ("regressed", "better")]
    assert flagged == []


def slow_nights(nights: dict[str, Any]) -> list[Path]:
    return [night_of(out) for _, out in nights["slow"]] + [nights["resumed"]["night"]]


def test_every_slow_night_flags_latency_drift_on_that_camera_only_held_to_the_clean_nights(
        nights: dict[str, Any]) -> None:
    for rc, out in nights["slow"]:
        assert rc == 1, out[-2000:]  # a regression, although every requirement passes
    ids = run_ids(nights["db"])
    clean_ids, slow_ids = ids[:CLEAN], ids[CLEAN:CLEAN + SLOW]
    for i, night in enumerate(slow_nights(nights)):
        cert = json.loads((night / "run" / "measurements.json").read_text())
        assert cert["verdict"] == "pass"
        assert {c["serial"]: c["firmware"] for c in cert["identity"]["cameras"]} == {"CAM001": "1.0.0",
                                                                                      "CAM002": "1.1.0"}
        judged = json.loads((night / "drift.json").read_text())
        assert judged["baseline"] == clean_ids, (night, judged["baseline"])  # the slow nights before stay out
        assert [x["run"] for x in judged["left_out"]] == slow_ids[:i], judged["left_out"]
        drift = drift_of(night)
        lat = drift[("LAT-LIGHTBAR", "CAM002")]
        assert lat["verdict"] == "regressed" and 0.09 < lat["effect"] < 0.21, (night, lat)
        assert "cannot be estimated from 2 baseline nights" in lat["between_nights"]
        assert drift[("LAT-LIGHTBAR", "CAM001")]["verdict"] == "same"
        assert drift[("COV-R95", "CAM001")]["verdict"] == "same"
        c = cases(night)
        assert c["LAT-LIGHTBAR[CAM002] drift"].find("failure") is not None
        assert c["LAT-LIGHTBAR[CAM002] spec"].find("failure") is None
        assert c["LAT-LIGHTBAR[CAM001] drift"].find("failure") is None
        assert len(c) == 8  # a spec case and a drift case per requirement and camera


def test_a_night_interrupted_and_finished_by_resume_writes_its_junit_and_drift_as_the_night_would_have(
        nights: dict[str, Any]) -> None:
    got = nights["resumed"]
    rc, out, verdict = got["interrupted"]
    assert rc == 130 and verdict == "incomplete", out[-2000:]
    rc, out = got["resumed"]
    night = got["night"]
    assert rc == 1 and f"night: {night} (exit 1)" in out, out[-2000:]  # the night's code: it regressed
    run_id = json.loads((night / "run" / "measurements.json").read_text())["identity"]["run_id"]
    judged = json.loads((night / "drift.json").read_text())
    assert judged["run_id"] == run_id and judged["alpha"] == ALPHA and judged["baseline_ref"] == BASELINE
    assert set(drift_of(night)) == PAIRS  # every pair judged: the finished run's, not the interrupted one's
    c = cases(night)
    assert len(c) == 8 and all(x.find("error") is None for x in c.values())  # nothing left unjudged
    with History(nights["db"]) as h:
        recorded = [r for r in h.runs() if r.run_id == run_id]
    assert len(recorded) == 1 and recorded[0].verdict == "pass" and len(recorded[0].results) == 4


def band_caption(db: str, ids: list[int], requirement: str, camera: str) -> str:
    with History(db) as h:
        vals = [r.value for run in h.runs() if run.id in ids for r in run.results
                if (r.requirement, r.camera) == (requirement, camera) and r.value is not None]
        units = next(r.units for run in h.runs() for r in run.results if r.requirement == requirement)
    return f"baseline band (runs {', '.join(map(str, ids))}): {min(vals):.4g} to {max(vals):.4g} {units}"


def test_the_trend_page_shows_the_clean_nights_band_and_each_regression_where_it_happened(
        nights: dict[str, Any]) -> None:
    import matplotlib.image as mpimg

    ids = run_ids(nights["db"])
    caption = band_caption(nights["db"], ids[:CLEAN], "LAT-LIGHTBAR", "CAM002")
    after_slow = nights["resumed"]["page"]  # written by the resumed third slow night
    assert caption in after_slow, re.findall(r"baseline band[^<]*", after_slow)
    page = (nights["root"] / "trends.html").read_text()  # written by the last night
    assert caption in page and "<tr class='regressed'>" not in page  # the last night heard better
    assert "<script" not in page and "http://" not in page and "https://" not in page  # loads offline
    images = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", page)
    assert len(images) == 4  # LAT and COV on two cameras
    for data in images:
        img = mpimg.imread(io.BytesIO(base64.b64decode(data)), format="png")  # every plot decodes: it will show
        assert img.shape[0] > 150 and img.shape[1] > 400 and img.std() > 0.01
    from bwclab.commands.nightly import drifts_by_run

    with History(nights["db"]) as h:
        runs = h.runs()
        by_run = drifts_by_run(h, runs, BASELINE, ALPHA)
    flagged = {(r.id, d.requirement, d.camera) for r in runs for d in by_run.get(r.run_id, [])
               if d.verdict == "regressed"}
    assert flagged >= {(i, "LAT-LIGHTBAR", "CAM002") for i in ids[CLEAN:CLEAN + SLOW]}
    assert {i for i, _, _ in flagged} == set(ids[CLEAN:CLEAN + SLOW]), flagged


def test_a_camera_that_hears_4_5_db_better_flags_coverage_drift(nights: dict[str, Any]) -> None:
    rc, out = nights["hears_better"]
    night = night_of(out)
    drift = drift_of(night)
    cov = drift[("COV-R95", "CAM002")]
    # the curve moved (the likelihood-ratio test, corrected for the night) and r95 moved out beyond max_change (the
    # point change: one night's r95 CI, some 20 ft wide from 60 broadcasts, cannot clear 2 ft; bwclab/history/drift.py)
    assert cov["verdict"] == "better" and cov["p_adjusted"] < ALPHA and cov["effect"] > 2.0, cov
    assert "cannot be estimated from 2 baseline nights" in cov["between_nights"]
    assert json.loads((night / "drift.json").read_text())["alpha"] == ALPHA  # the rate it was judged at
    assert drift[("COV-R95", "CAM001")]["verdict"] == "same"
    assert rc == 0, out[-2000:]  # a change for the better passes the night; the page and junit show it
    assert "better" in (cases(night)["COV-R95[CAM002] drift"].findtext("system-out") or "")


def test_an_accepted_slow_night_joins_the_baseline_of_the_nights_after_it(nights: dict[str, Any],
                                                                           tmp_path: Path) -> None:
    db = str(tmp_path / "copy.sqlite")  # the same nights in a history of their own: the session's stays as it is
    folders = sorted(p / "run" for p in nights["root"].iterdir() if (p / "run" / "measurements.json").exists())

    def bwclab(*args: object) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "bwclab", *map(str, args)], capture_output=True, text=True,
                              cwd=ROOT, timeout=300, env={**os.environ, "COLUMNS": "250"})

    assert bwclab("history", "import", *folders, "--history", db).returncode == 0
    ids = run_ids(db)
    slow1, slow2 = ids[CLEAN], ids[CLEAN + 1]
    r = bwclab("history", "accept", slow1, "--reason", "1.1.0 answers later by design", "--operator", "lab lead",
               "--history", db)
    assert r.returncode == 0, r.stderr
    r = bwclab("history", "compare", "--run", slow2, "--baseline", BASELINE, "--history", db)
    assert f"run {slow2} against {ids[0]}, {ids[1]}, {slow1}," in r.stdout, r.stdout + r.stderr


def test_an_unreachable_instrument_is_the_bench_failing_exit_3_and_a_bench_health_entry(tmp_path: Path) -> None:
    """A real bench file (no emulate:) whose GPIO and consoles are the emulator's, and whose attenuator's
    address answers nothing: the night ends with exit 3, no camera judged failed, the loss on record."""
    from tests.integration.harness import Emulator

    emu = Emulator(tmp_path / "emu", bench=BENCH)
    try:
        import yaml

        data = yaml.safe_load(BENCH.read_text())
        del data["emulate"]
        data["gpio"]["numato0"]["port"] = emu.resources["gpio"]["numato0"]["port"]
        for serial, cam in data["cameras"].items():
            cam["console"] = emu.resources["cameras"][serial]["console"]
            cam["dock"] = emu.resources["cameras"][serial]["dock"]
        data["instruments"]["attenuator"]["resource"] = "TCPIP0::127.0.0.1::1::SOCKET"  # nothing listens there
        data["emitters"]["light_bar"]["broadcast_s"] = 0.3
        bench = tmp_path / "bench.yaml"
        bench.write_text(yaml.safe_dump(data))
        db = str(tmp_path / "history.sqlite")
        cmd = [sys.executable, "-m", "bwclab", "nightly", "--bench", str(bench), "--requirements", str(SPEC),
               "--history", db, "--out-root", str(tmp_path / "nights")]
        r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=300)
    finally:
        emu.stop()
    assert r.returncode == 3, r.stdout[-2000:] + r.stderr[-2000:]
    night = night_of(r.stdout + r.stderr)
    cert = json.loads((night / "run" / "measurements.json").read_text())
    assert cert["verdict"] == "incomplete" and not [x for x in cert["results"] if x["verdict"] == "fail"]
    assert "attenuator" in cert["health"]["lost"], cert["health"]
    with History(db) as h:
        runs = h.runs()
    assert len(runs) == 1 and "attenuator" in runs[0].lost  # the night is on record as the bench's failure
    assert all(c.find("failure") is None for c in cases(night).values())


def test_the_nights_read_the_same_from_postgresql(nights: dict[str, Any], new_postgres_db: Any) -> None:
    """The nights imported into a real PostgreSQL: the same runs, the same drift verdicts, the same page."""
    from bwclab.commands.nightly import drifts_by_run

    url = new_postgres_db()
    folders = sorted(p / "run" for p in nights["root"].iterdir() if (p / "run" / "measurements.json").exists())
    r = subprocess.run([sys.executable, "-m", "bwclab", "history", "import", *map(str, folders), "--history", url],
                       capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert r.returncode == 0 and r.stdout.count("recorded") == CLEAN + SLOW + 1, r.stdout + r.stderr

    def verdicts(h: History) -> dict[tuple[str, str, str], str]:
        runs = h.runs()
        by_run = drifts_by_run(h, runs, BASELINE, ALPHA)
        return {(run.run_id, d.requirement, d.camera): d.verdict for run in runs for d in by_run.get(run.run_id, [])}

    with History(nights["db"]) as lite, History(url) as pg:
        assert [x.run_id for x in pg.runs()] == [x.run_id for x in lite.runs()]  # one order: start, then run id
        assert verdicts(pg) == verdicts(lite) and "regressed" in verdicts(pg).values()
