"""Every trial of a run, committed to `trials.sqlite` the moment it finishes.

A trial is one attempt of one step of a procedure: `key` names the procedure and its parameters
(`latency trigger=light_bar`), `seq` the step, `attempt` the try within a session, from 0 (each `--resume`
is a new session, with a fresh retry budget). A step's result is typed (`StepResult`): what the
cameras share (when the trigger fired, which emitter), each camera's row, and the cameras whose own
part failed (`dropped`, with the cause); an attempt that failed as a whole (a shared instrument) is
kept as `error` with its cause. Every errored attempt, the whole step's or one camera's part, is also a
row of `errors`, with its cause and whose fault it was (`Fault`, from the exception's type), committed
with its trial: the run's counts of errors are read from those rows. SQL is parameterised throughout;
the database is in WAL mode with full sync, so a crash of the rig's host loses at most the trial in flight.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from bwclab.rig.interfaces import InstrumentError

TRIALS_FORMAT = "3"

SCHEMA = """
CREATE TABLE IF NOT EXISTS run (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trials (
    id INTEGER PRIMARY KEY,
    session INTEGER NOT NULL,
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
CREATE TABLE IF NOT EXISTS errors (
    id INTEGER PRIMARY KEY,
    trial INTEGER NOT NULL REFERENCES trials (id),
    camera TEXT NOT NULL DEFAULT '',
    fault TEXT NOT NULL CHECK (fault IN ('instrument', 'camera')),
    device TEXT NOT NULL DEFAULT '',
    cause TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS errors_trial ON errors (trial);
"""


class Fault(Enum):
    """Whose fault an errored attempt was."""

    INSTRUMENT = "instrument"  # a bench instrument (GPIO adapter, attenuator, scope, supply): not the camera's
    CAMERA = "camera"  # the camera under test: its console, its dock, its clips


@dataclass(frozen=True)
class Failure:
    """One errored attempt: of the whole step (`camera` "") or of one camera's part of it."""

    fault: Fault
    cause: str
    device: str = ""  # the device that failed, when known: an instrument's role, a camera's serial
    camera: str = ""

    @classmethod
    def of(cls, exc: BaseException, camera: str = "") -> Failure:
        """An exception as a failure, its fault from its type. Only an InstrumentError excuses the camera: an
        error that does not say whose fault it was counts against the camera, never excusing it on a guess."""
        fault = Fault.INSTRUMENT if isinstance(exc, InstrumentError) else Fault.CAMERA
        device = str(getattr(exc, "device", "") or (camera if fault is Fault.CAMERA else ""))
        return cls(fault, f"{type(exc).__name__}: {exc}", device, camera)

    def __str__(self) -> str:
        return self.cause


@dataclass(frozen=True)
class ErrorRow:
    """A stored errored attempt: which step and attempt, and its failure."""

    session: int
    key: str
    seq: int
    attempt: int
    failure: Failure


class Row(BaseModel):
    """One camera's result in one step; each procedure declares its own fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)


Shared = dict[str, int | float | str]


class StepResult(BaseModel):
    """What one attempt of a step gave: the shared part, each camera's row, the cameras dropped from it."""

    model_config = ConfigDict(extra="forbid")

    shared: Shared = Field(default_factory=dict)
    cameras: dict[str, dict[str, Any]] = Field(default_factory=dict)
    dropped: dict[str, str] = Field(default_factory=dict)

    @classmethod
    def of(cls, rows: Mapping[str, Row], **shared: int | float | str) -> StepResult:
        return cls(shared=shared, cameras={s: r.model_dump(mode="json") for s, r in rows.items()})


R = TypeVar("R", bound=Row)


@dataclass(frozen=True)
class Trial:
    session: int
    key: str
    seq: int
    attempt: int
    status: str
    started_ns: int
    ended_ns: int
    result: StepResult
    cause: str

    def row(self, camera: str, row_type: type[R]) -> R | None:
        """This camera's row in a successful attempt, if it has one."""
        if self.status != "ok" or camera not in self.result.cameras:
            return None
        return row_type.model_validate(self.result.cameras[camera])


class TrialStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)
        self.session = 0

    def meta(self) -> dict[str, str]:
        return dict(self.db.execute("SELECT name, value FROM run").fetchall())

    def set_meta(self, **values: str) -> None:
        with self.db:
            for name, value in values.items():
                self.db.execute("INSERT OR REPLACE INTO run (name, value) VALUES (?, ?)", (name, value))

    def begin_session(self) -> int:
        """A new session (the first run, or a resume): attempts are counted afresh within it."""
        row = self.db.execute("SELECT MAX(session) FROM trials").fetchone()
        last = int(self.meta().get("sessions", "0"))
        self.session = max(last, int(row[0] or 0)) + 1
        self.set_meta(sessions=str(self.session))
        return self.session

    def record(self, key: str, seq: int, attempt: int, status: str, started_ns: int, result: StepResult,
               failures: Sequence[Failure] = ()) -> Trial:
        """Commit one attempt with its failures (an `error` attempt's own, of camera ""; the dropped cameras'),
        all in one transaction."""
        ended = time.monotonic_ns()
        cause = "; ".join(f.cause for f in failures if not f.camera)
        self.db.execute("BEGIN IMMEDIATE")
        try:
            row = self.db.execute(
                "INSERT INTO trials (session, key, seq, attempt, status, started_ns, ended_ns, wall_time, result, "
                "cause) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (self.session, key, seq, attempt, status, started_ns, ended, time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                 result.model_dump_json(), cause))
            self.db.executemany(
                "INSERT INTO errors (trial, camera, fault, device, cause) VALUES (?, ?, ?, ?, ?)",
                [(row.lastrowid, f.camera, f.fault.value, f.device, f.cause) for f in failures])
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")
        return Trial(self.session, key, seq, attempt, status, started_ns, ended, result, cause)

    def trials(self, key: str | None = None) -> list[Trial]:
        query = "SELECT session, key, seq, attempt, status, started_ns, ended_ns, result, cause FROM trials"
        args: tuple[str, ...] = ()
        if key is not None:
            query += " WHERE key = ?"
            args = (key,)
        rows = self.db.execute(query + " ORDER BY id", args).fetchall()
        return [Trial(se, k, s, a, st, t0, t1, StepResult.model_validate(json.loads(r)), c)
                for se, k, s, a, st, t0, t1, r, c in rows]

    def errors(self, key: str | None = None) -> list[ErrorRow]:
        """Every errored attempt (of this key), in the order they were made."""
        query = ("SELECT t.session, t.key, t.seq, t.attempt, e.camera, e.fault, e.device, e.cause "
                 "FROM errors e JOIN trials t ON t.id = e.trial")
        args: tuple[str, ...] = ()
        if key is not None:
            query += " WHERE t.key = ?"
            args = (key,)
        rows = self.db.execute(query + " ORDER BY e.id", args).fetchall()
        return [ErrorRow(se, k, s, a, Failure(Fault(f), c, d, cam)) for se, k, s, a, cam, f, d, c in rows]

    def attempts(self, key: str, seq: int) -> int:
        """Attempts of this step in the current session."""
        row = self.db.execute("SELECT COUNT(*) FROM trials WHERE key = ? AND seq = ? AND session = ?",
                              (key, seq, self.session)).fetchone()
        return int(row[0])

    def close(self) -> None:
        self.db.close()


def camera_rows(trials: list[Trial], camera: str, row_type: type[R]) -> list[R]:
    """One camera's rows from the successful attempts, in the order they were made."""
    return [r for t in trials if (r := t.row(camera, row_type)) is not None]


def answered_steps(trials: list[Trial], camera: str) -> set[int]:
    """The steps that gave this camera a row."""
    return {t.seq for t in trials if t.status == "ok" and camera in t.result.cameras}


def lost_steps(trials: list[Trial], camera: str) -> list[int]:
    """Steps that ran (some attempt is stored) yet gave this camera no row."""
    return sorted({t.seq for t in trials} - answered_steps(trials, camera))


def camera_errors(errors: list[ErrorRow], camera: str) -> list[Failure]:
    """The failures that cost this camera an attempt: whole-step errors and its own part's."""
    return [e.failure for e in errors if e.failure.camera in ("", camera)]


def camera_causes(trials: list[Trial], camera: str) -> list[str]:
    """Why attempts failed for this camera: whole-step errors and its own dropped entries."""
    causes = []
    for t in trials:
        if t.status == "error":
            causes.append(t.cause)
        elif camera in t.result.dropped:
            causes.append(t.result.dropped[camera])
    return causes
