"""Every trial of a run, committed to `trials.sqlite` the moment it finishes.

A trial is one attempt of one step of a procedure: `key` names the procedure and its
parameters (`latency trigger=lightbar`), `seq` the step, `attempt` the try. An errored attempt
is kept with its cause; a resumed run skips every step that already has an `ok` attempt.
A step covers several cameras; when one camera's own part fails (its console, its clip) the step
is still `ok` for the others and that camera's entry is `{"trial_error": cause}` (`DROPPED`); the
step is retried for that camera alone, as a further attempt.
SQL is parameterised throughout; the database is in WAL mode with full sync, so a power cut of
the rig's own host loses at most the trial in flight.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS run (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trials (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    seq INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ok', 'error')),
    started_ns INTEGER NOT NULL,
    ended_ns INTEGER NOT NULL,
    wall_time TEXT NOT NULL,
    result TEXT NOT NULL,
    cause TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS trials_key ON trials (key, seq);
"""


DROPPED = "trial_error"


@dataclass(frozen=True)
class Trial:
    key: str
    seq: int
    attempt: int
    status: str
    started_ns: int
    ended_ns: int
    result: dict[str, Any]
    cause: str


class TrialStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)

    def meta(self) -> dict[str, str]:
        return dict(self.db.execute("SELECT name, value FROM run").fetchall())

    def set_meta(self, **values: str) -> None:
        with self.db:
            for name, value in values.items():
                self.db.execute("INSERT OR REPLACE INTO run (name, value) VALUES (?, ?)", (name, value))

    def record(self, key: str, seq: int, attempt: int, status: str, started_ns: int, result: dict[str, Any],
               cause: str = "") -> Trial:
        ended = time.monotonic_ns()
        self.db.execute(
            "INSERT INTO trials (key, seq, attempt, status, started_ns, ended_ns, wall_time, result, cause) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (key, seq, attempt, status, started_ns, ended, time.strftime("%Y-%m-%dT%H:%M:%S%z"),
             json.dumps(result, sort_keys=True), cause))
        return Trial(key, seq, attempt, status, started_ns, ended, result, cause)

    def trials(self, key: str | None = None) -> list[Trial]:
        query = "SELECT key, seq, attempt, status, started_ns, ended_ns, result, cause FROM trials"
        args: tuple[str, ...] = ()
        if key is not None:
            query += " WHERE key = ?"
            args = (key,)
        rows = self.db.execute(query + " ORDER BY id", args).fetchall()
        return [Trial(k, s, a, st, t0, t1, json.loads(r), c) for k, s, a, st, t0, t1, r, c in rows]

    def ok(self, key: str) -> dict[int, Trial]:
        return {t.seq: t for t in self.trials(key) if t.status == "ok"}

    def attempts(self, key: str, seq: int) -> int:
        row = self.db.execute("SELECT COUNT(*) FROM trials WHERE key = ? AND seq = ?", (key, seq)).fetchone()
        return int(row[0])

    def close(self) -> None:
        self.db.close()


def _entry(t: Trial, camera: str) -> dict[str, Any] | None:
    """This camera's entry in a successful attempt (a result, or why it was dropped), if any."""
    entry = t.result.get(camera) if t.status == "ok" else None
    return entry if isinstance(entry, dict) else None


def camera_rows(trials: list[Trial], camera: str) -> list[dict[str, Any]]:
    """One camera's results from the successful attempts, its dropped entries left out."""
    return [e for t in trials if (e := _entry(t, camera)) is not None and DROPPED not in e]


def answered_steps(trials: list[Trial], camera: str) -> set[int]:
    """The steps that gave this camera a result."""
    return {t.seq for t in trials if (e := _entry(t, camera)) is not None and DROPPED not in e}


def lost_steps(trials: list[Trial], camera: str) -> list[int]:
    """Steps that ran (some attempt is stored) yet gave this camera no result."""
    return sorted({t.seq for t in trials} - answered_steps(trials, camera))


def camera_causes(trials: list[Trial], camera: str) -> list[str]:
    """Why attempts failed for this camera: whole-step errors and its own dropped entries."""
    causes = []
    for t in trials:
        entry = _entry(t, camera)
        if t.status == "error":
            causes.append(t.cause)
        elif entry is not None and DROPPED in entry:
            causes.append(str(entry[DROPPED]))
    return causes
