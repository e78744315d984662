"""Baselines that hold a regression: the history judged night by night, on synthetic nights whose truth is known,
in memory and through a real history (SQLite and PostgreSQL) as `history compare` and `history accept` meet it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from bwclab.history.drift import judge
from bwclab.history.record import HistoryError, RunRecord
from bwclab.history.store import Acceptance, History
from tests.history.test_drift import lat, latency_samples, run

ROOT = Path(__file__).resolve().parents[2]


def nights(clean: int, slow: int, seed: int = 7, shift_s: float = 0.15) -> list[RunRecord]:
    """`clean` nights, then `slow` nights whose camera answers `shift_s` later, one a day."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(clean + slow):
        r = run(f"2026-03-{i + 1:02d}T02:30", [lat(latency_samples(rng, 20, shift_s if i >= clean else 0.0))])
        r.id = i + 1
        out.append(r)
    return out


def test_slow_nights_never_become_the_baseline_the_next_slow_night_is_held_to() -> None:
    runs = nights(2, 3)
    judged = judge(runs, "last:3")
    clean_ids = [r.run_id for r in runs[:2]]
    for slow in runs[2:]:
        j = judged[slow.run_id]
        assert j.regressed and [b.run_id for b in j.baseline] == clean_ids, (slow.run_id, j.baseline)
        assert not j.clean
    assert judged[runs[1].run_id].clean and [b.run_id for b in judged[runs[1].run_id].baseline] == clean_ids[:1]


def test_an_accepted_night_joins_later_baselines() -> None:
    runs = nights(2, 3)
    word = Acceptance(3, "lab lead", "2026-03-04T09:00", "firmware 1.1.0 is slower by design")
    judged = judge(runs, "last:3", accepted={3: word})
    assert judged[runs[2].run_id].regressed and judged[runs[2].run_id].clean  # it regressed; a person accepted it
    assert runs[2].run_id in [b.run_id for b in judged[runs[3].run_id].baseline]
    assert runs[2].run_id in [b.run_id for b in judged[runs[4].run_id].baseline]


def test_a_night_that_failed_its_spec_stays_out_of_later_baselines() -> None:
    runs = nights(3, 0)
    runs[1].verdict = "fail"
    judged = judge(runs, "last:3")
    assert [b.run_id for b in judged[runs[2].run_id].baseline] == [runs[0].run_id]


def test_a_named_baseline_is_every_nights_baseline_whatever_regressed() -> None:
    runs = nights(1, 2)
    judged = judge(runs, "golden", named=runs[0])
    assert all(judged[r.run_id].baseline == [runs[0]] for r in runs[1:]) and judged[runs[2].run_id].regressed
    with pytest.raises(HistoryError, match="last:N with N >= 1"):
        judge(runs, "last:0")


def bwclab(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bwclab", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, timeout=300, env={**os.environ, "COLUMNS": "250"})


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_history_accept_records_who_when_and_why_and_the_night_joins_the_baseline_compare_uses(
        backend: str, tmp_path: Path, new_postgres_db: Callable[[], str]) -> None:
    url = str(tmp_path / "h.sqlite") if backend == "sqlite" else new_postgres_db()
    runs = nights(2, 2)
    with History(url) as h:
        for r in runs:
            r.id = None
            h.record(r)
        ids = [x.id for x in h.runs()]
    before = bwclab("history", "compare", "--run", ids[3], "--baseline", "last:3", "--history", url)
    assert before.returncode == 1 and f"run {ids[3]} against {ids[0]}, {ids[1]}," in before.stdout, before.stdout
    assert "cannot be estimated from 2 baseline nights" in before.stdout
    refused = bwclab("history", "accept", ids[2], "--history", url, "--operator", "lab lead")
    assert refused.returncode == 2 and "--reason" in refused.stderr, refused.stderr  # the reason is required
    done = bwclab("history", "accept", ids[2], "--reason", "firmware 1.1.0 is slower by design", "--history", url,
                  "--operator", "lab lead")
    assert done.returncode == 0, done.stdout + done.stderr
    with History(url, create=False) as h:
        accepted = ids[2]
        assert accepted is not None
        got = h.acceptances()[accepted]
    assert (got.by, got.reason) == ("lab lead", "firmware 1.1.0 is slower by design") and got.at.startswith("20")
    after = bwclab("history", "compare", "--run", ids[3], "--baseline", "last:3", "--history", url)
    assert f"run {ids[3]} against {ids[0]}, {ids[1]}, {ids[2]}," in after.stdout, after.stdout
    listed = bwclab("history", "list", "--history", url)
    assert "lab lead" in listed.stdout and "slower by design" in listed.stdout, listed.stdout
    page = tmp_path / "trends.html"
    assert bwclab("history", "report", "--out", page, "--baseline", "last:3", "--history", url).returncode == 0
    text = page.read_text()
    assert "Changes accepted" in text and "lab lead" in text and "firmware 1.1.0 is slower by design" in text


def test_only_a_night_that_passed_its_spec_can_be_accepted(tmp_path: Path) -> None:
    db = str(tmp_path / "h.sqlite")
    failed = nights(1, 0)[0]
    failed.verdict, failed.id = "fail", None
    with History(db) as h:
        rid, _ = h.record(failed)
    r = bwclab("history", "accept", rid, "--reason", "why not", "--history", db)
    assert r.returncode == 2 and "did not pass its spec" in r.stderr and "Traceback" not in r.stderr, r.stderr
    with History(db) as h:
        assert h.acceptances() == {}
