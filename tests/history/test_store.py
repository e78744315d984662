"""The history store on SQLite and on a real PostgreSQL server that this suite starts itself (pgserver: a
pip-installed PostgreSQL), through the command line as a user meets it. Nothing is mocked."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from bwclab.history.record import HistoryError
from bwclab.history.store import History

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "fixtures" / "nightly" / "bench.yaml"


def bwclab(*args: object, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "bwclab", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, timeout=timeout, env=env)


@pytest.fixture
def postgres(new_postgres_db: Callable[[], str]) -> str:
    return new_postgres_db()


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("spec") / "spec.yaml"
    path.write_text("name: two-camera latency\nrequirements:\n"
                    "  - {id: LAT, text: latency p95 at most 1 s, procedure: latency, params: {trigger: light_bar},\n"
                    "     quantity: p95, limit: {max: 1.0}, units: s, trials: 6}\n")
    return path


def two_runs_at_once(tmp: Path, spec: Path, history: str) -> list[Path]:
    outs = [tmp / "a", tmp / "b"]
    procs = [subprocess.Popen([sys.executable, "-m", "bwclab", "rig", "certify", "--bench", str(BENCH),
                               "--requirements", str(spec), "--out", str(o), "--history", history,
                               "--operator", "tester"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True) for o in outs]
    for p in procs:
        out, _ = p.communicate(timeout=300)
        assert p.returncode == 0, out[-2000:]
    return outs


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_certify_runs_record_at_once_nothing_lost_nothing_duplicated_and_import_is_idempotent(
        backend: str, tmp_path: Path, spec: Path, request: pytest.FixtureRequest) -> None:
    history = str(tmp_path / "h.sqlite") if backend == "sqlite" else request.getfixturevalue("postgres")
    outs = two_runs_at_once(tmp_path, spec, history)
    again = bwclab("history", "import", *outs, "--history", history)
    assert again.returncode == 0 and again.stdout.count("already recorded") == 2, again.stdout + again.stderr
    with History(history) as h:
        runs = h.runs()
    ids = {json.loads((o / "measurements.json").read_text())["identity"]["run_id"] for o in outs}
    assert {r.run_id for r in runs} == ids and len(runs) == 2
    for r in runs:
        assert r.operator == "tester" and len(r.results) == 2 and r.results[0].observations.samples
        assert {c.serial for c in r.cameras} == {"CAM001", "CAM002"}
    tag = bwclab("history", "tag", str(runs[0].id), "golden", "--history", history)
    assert tag.returncode == 0, tag.stderr
    cmp_ = bwclab("history", "compare", "--run", str(runs[1].id), "--baseline", "golden", "--history", history)
    assert cmp_.returncode in (0, 1) and "LAT" in cmp_.stdout and "rate of 0.05" in cmp_.stdout, cmp_.stdout
    strict = bwclab("history", "compare", "--run", str(runs[1].id), "--baseline", "golden", "--history", history,
                    "--alpha", "0.001")
    assert strict.returncode in (0, 1) and "rate of 0.001" in strict.stdout, strict.stdout + strict.stderr
    bad = bwclab("history", "compare", "--run", str(runs[1].id), "--history", history, "--alpha", "0")
    assert bad.returncode == 2 and "--alpha" in bad.stderr and "Traceback" not in bad.stderr, bad.stderr
    page = tmp_path / "trends.html"
    rep = bwclab("history", "report", "--out", page, "--history", history, "--alpha", "0.001")
    text = page.read_text()
    assert rep.returncode == 0 and text.count("data:image/png;base64,") == 2, rep.stderr
    assert "false-alarm rate of 0.001 a night" in text  # the last run judged at the rate asked for


def test_a_bad_url_an_unknown_run_and_a_newer_schema_are_refused_with_exit_2(tmp_path: Path) -> None:
    for url in ("mysql://u@h/db", "postgresql://nobody@127.0.0.1:1/none", str(tmp_path)):
        r = bwclab("history", "list", "--history", url)
        assert r.returncode == 2 and "Traceback" not in r.stderr and "--history" in r.stderr, (url, r.stderr)
    db = tmp_path / "h.sqlite"
    with History(str(db)):
        pass
    r = bwclab("history", "compare", "--run", "nosuchrun", "--history", db)
    assert r.returncode == 2 and "no run 'nosuchrun'" in r.stderr, r.stderr
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO bwclab_schema (version) VALUES (99)")
    r = bwclab("history", "list", "--history", db)
    assert r.returncode == 2 and "schema 99" in r.stderr and "Traceback" not in r.stderr, r.stderr
    r = bwclab("history", "import", tmp_path / "not-a-run", "--history", tmp_path / "other.sqlite")
    assert r.returncode == 2 and "not-a-run" in r.stderr and "measurements.json" in r.stderr, r.stderr
    typo = tmp_path / "typo.yaml"
    typo.write_text(BENCH.read_text().replace("attenuator_channel: 1}", "attenuator_chanel: 1}"))
    r = bwclab("nightly", "--bench", typo, "--out-root", tmp_path / "nights", "--history", tmp_path / "n.sqlite")
    assert r.returncode == 2 and str(typo) in r.stderr and "attenuator_chanel" in r.stderr, r.stderr
    assert not (tmp_path / "nights").exists()  # no empty night left behind


def test_require_calibration_refuses_an_overdue_bench_naming_the_instrument(tmp_path: Path, spec: Path) -> None:
    bench = tmp_path / "bench.yaml"
    bench.write_text(BENCH.read_text().replace("calibration_due: 2027-06-01", "calibration_due: 2020-01-01"))
    r = bwclab("rig", "certify", "--bench", bench, "--requirements", spec, "--out", tmp_path / "run",
               "--require-calibration")
    assert r.returncode == 2 and "instruments.attenuator" in r.stderr and "overdue" in r.stderr, r.stderr
    assert not (tmp_path / "run" / "trials.sqlite").exists()
    r = bwclab("rig", "certify", "--bench", bench, "--requirements", spec, "--out", tmp_path / "run2")
    cert = json.loads((tmp_path / "run2" / "measurements.json").read_text())
    att = next(i for i in cert["identity"]["instruments"] if i["name"] == "attenuator")
    assert att["overdue"] is True and att["calibration_due"] == "2020-01-01"
    report = (tmp_path / "run2" / "report.html").read_text()
    assert "Calibration overdue: attenuator" in report and "BWC-EMU-1 firmware 1.0.0 (console)" in report


def test_a_resumed_run_replaces_its_unfinished_record_and_keeps_its_number_and_tags(tmp_path: Path) -> None:
    from tests.history.test_drift import lat, run

    db = str(tmp_path / "h.sqlite")
    unfinished = run("2026-11-22T03:00", [])
    unfinished.verdict, unfinished.ended = "incomplete", "2026-11-22T03:05"
    finished = run("2026-11-22T03:00", [lat(np.array([0.3, 0.31, 0.32]))])
    finished.ended = "2026-11-22T09:00"
    with History(db) as h:
        rid, new = h.record(unfinished)
        assert new
        h.tag(str(rid), "first")
        assert h.record(unfinished) == (rid, False)  # the same record again: nothing changes
        assert h.record(finished) == (rid, True)  # the resume finished it: the record is replaced, in place
        assert h.record(unfinished) == (rid, False)  # an older, lesser certificate never replaces a richer one
        got = h.run("first")
    assert got.id == rid and got.verdict == "pass" and len(got.results) == 1


READ_ONLY = {
    "list": ["list"],
    "compare": ["compare", "--run", "1"],
    "report": ["report", "--out", "{tmp}/trends.html"],
    "tag": ["tag", "1", "golden"],
    "accept": ["accept", "1", "--reason", "intended"],
}


@pytest.mark.parametrize("command", list(READ_ONLY))
def test_a_command_that_only_reads_refuses_a_history_that_does_not_exist_and_creates_nothing(
        command: str, tmp_path: Path) -> None:
    typo = tmp_path / "results" / "typo.sqlite"
    args = [a.replace("{tmp}", str(tmp_path / "out")) for a in READ_ONLY[command]]
    r = bwclab("history", *args, "--history", typo)
    assert r.returncode == 2 and str(typo) in r.stderr and "no such history" in r.stderr, r.stdout + r.stderr
    assert "Traceback" not in r.stderr and not (tmp_path / "results").exists() and not (tmp_path / "out").exists()


def test_a_command_that_only_reads_refuses_an_empty_postgresql_database_and_creates_no_table(
        new_postgres_db: Callable[[], str]) -> None:
    from sqlalchemy import create_engine, inspect

    url = new_postgres_db()
    r = bwclab("history", "list", "--history", url)
    assert r.returncode == 2 and "holds no bwclab history" in r.stderr and "Traceback" not in r.stderr, r.stderr
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            assert inspect(conn).get_table_names() == []
    finally:
        engine.dispose()


def a_real_history(path: Path) -> bytes:
    """A history of 30 runs, its write-ahead log folded in: the bytes of a healthy database file."""
    from tests.history.test_drift import lat, run

    with History(str(path)) as h:
        for i in range(30):
            h.record(run(f"2026-01-{i + 1:02d}", [lat(np.random.default_rng(i).uniform(0.2, 0.4, 200))]))
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path.read_bytes()


@pytest.mark.parametrize("kind", ["truncated", "random bytes", "text"])
def test_a_history_file_that_is_not_a_database_is_refused_at_once_naming_it_and_left_as_it_was(
        kind: str, tmp_path: Path) -> None:
    bad = tmp_path / f"{kind.replace(' ', '-')}.sqlite"
    if kind == "truncated":
        whole = a_real_history(tmp_path / "whole.sqlite")
        bad.write_bytes(whole[:len(whole) // 2])
    elif kind == "random bytes":
        bad.write_bytes(np.random.default_rng(3).bytes(5000))
    else:
        bad.write_text("run,started,verdict\n1,2026-01-01,pass\n" * 20)
    before = bad.read_bytes()
    nightly = ["nightly", "--bench", BENCH, "--out-root", tmp_path / "nights"]  # a writer, refused before the bench
    for args in (["history", "list"], ["history", "compare", "--run", "1"], nightly):
        r = bwclab(*args, "--history", bad)
        assert r.returncode == 2 and str(bad) in r.stderr and "Traceback" not in r.stderr, (args, r.stderr)
        assert "not a SQLite database" in r.stderr or "not a usable database" in r.stderr, r.stderr
    with pytest.raises(HistoryError, match=r"not a (SQLite|usable) database"):
        History(str(bad))  # a writer too: nothing is written over it
    assert bad.read_bytes() == before and not (tmp_path / "nights").exists()


def test_a_history_of_schema_1_is_upgraded_with_its_runs_kept(tmp_path: Path) -> None:
    from sqlalchemy import create_engine, insert

    from bwclab.history.store import V1, schema_t
    from tests.history.test_drift import run

    db = tmp_path / "old.sqlite"
    engine = create_engine(f"sqlite:///{db}")
    with engine.begin() as conn:
        for t in V1:
            t.create(conn)
        conn.execute(insert(schema_t).values(version=1))
    engine.dispose()
    with History(str(db)) as h:  # the old database, upgraded on opening
        rid, _ = h.record(run("2026-02-01", []))
    with History(str(db), create=False) as h:
        assert h.version() == 2 and h.acceptances() == {} and [r.id for r in h.runs()] == [rid]
