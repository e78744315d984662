"""The history database: SQLAlchemy Core on SQLite (the default, `results/history.sqlite`) or PostgreSQL
(psycopg 3) for a lab whose benches write to one history at once.

One schema, versioned: `bwclab_schema` holds the version; MIGRATIONS[n] takes a database from n - 1 to n,
each in its own transaction. A database from a newer bwclab is refused, never written. A run is keyed by
its `run_id` (a UUID the campaign draws when it starts), so recording it twice is one run: the second
insert meets the unique key and is dropped with its transaction. Every statement is parameterised.

Commands that only read (list, compare, report, tag, accept) open an existing history and never create one;
a file that is not a SQLite database (truncated, foreign, text) is refused at once, naming it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    func,
    insert,
    inspect,
    select,
)
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DatabaseError,
    DBAPIError,
    IntegrityError,
    NoSuchModuleError,
    OperationalError,
)

from bwclab.history.record import CameraRecord, HistoryError, InstrumentRecord, ResultRecord, RunRecord
from bwclab.rig.certificate import Observations

SCHEMA = 2
DEFAULT_URL = "results/history.sqlite"
SQLITE_HEADER = b"SQLite format 3\x00"

metadata = MetaData()
schema_t = Table("bwclab_schema", metadata, Column("version", Integer, nullable=False))
runs_t = Table(
    "runs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(64), nullable=False, unique=True),
    Column("started", String(40), nullable=False), Column("ended", String(40), nullable=False),
    Column("bench", String(200), nullable=False), Column("bench_sha256", String(64), nullable=False),
    Column("spec", String(200), nullable=False), Column("spec_sha256", String(64), nullable=False),
    Column("verdict", String(16), nullable=False), Column("operator", String(100), nullable=False),
    Column("host", String(200), nullable=False), Column("bwclab_version", String(40), nullable=False),
    Column("git_commit", String(40), nullable=False), Column("folder", Text, nullable=False),
    Column("trials", Integer, nullable=False), Column("errored_attempts", Integer, nullable=False),
    Column("retried_steps", Integer, nullable=False), Column("lost", Text, nullable=False),
    Column("errors_by_device", Text, nullable=False), Column("recorded_at", String(40), nullable=False),
)
cameras_t = Table(
    "run_cameras", metadata,
    Column("run", Integer, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("serial", String(64), nullable=False), Column("model", String(64)), Column("firmware", String(64)),
    Column("source", String(16), nullable=False),
    UniqueConstraint("run", "serial"),
)
instruments_t = Table(
    "run_instruments", metadata,
    Column("run", Integer, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(64), nullable=False), Column("idn", Text, nullable=False),
    Column("calibrated", String(10)), Column("calibration_due", String(10)),
    Column("overdue", Boolean, nullable=False), Column("error", Text, nullable=False),
    UniqueConstraint("run", "name"),
)
results_t = Table(
    "results", metadata,
    Column("run", Integer, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("requirement", String(32), nullable=False), Column("camera", String(64), nullable=False),
    Column("verdict", String(16), nullable=False), Column("quantity", String(40), nullable=False),
    Column("units", String(16), nullable=False), Column("judge", String(16), nullable=False),
    Column("limit_min", Float), Column("limit_max", Float), Column("value", Float),
    Column("ci_low", Float), Column("ci_high", Float), Column("trials", Integer, nullable=False),
    Column("max_change", Float, nullable=False), Column("observations", Text, nullable=False),
    UniqueConstraint("run", "requirement", "camera"),
)
tags_t = Table(
    "tags", metadata,
    Column("tag", String(64), primary_key=True),
    Column("run", Integer, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
)
acceptances_t = Table(  # a regression a person accepted: the night may join later baselines
    "acceptances", metadata,
    Column("run", Integer, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("accepted_by", String(100), nullable=False), Column("accepted_at", String(40), nullable=False),
    Column("reason", Text, nullable=False),
)
V1 = [schema_t, runs_t, cameras_t, instruments_t, results_t, tags_t]


def _v1(conn: Connection) -> None:
    metadata.create_all(conn, tables=V1[1:])


def _v2(conn: Connection) -> None:
    acceptances_t.create(conn)


MIGRATIONS: dict[int, Callable[[Connection], None]] = {1: _v1, 2: _v2}


@dataclass(frozen=True)
class Acceptance:
    """A person's word that a night's change is intended: who, when and why."""

    run: int
    by: str
    at: str
    reason: str


def engine_for(url: str, create: bool = True) -> Engine:
    """A plain path or sqlite:///PATH is SQLite; postgresql://... is PostgreSQL through psycopg 3. With
    `create` False a SQLite file must already exist: nothing is made, not even its folder."""
    if "://" not in url:
        url = f"sqlite:///{url}"
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise HistoryError(f"--history {url!r}: not a database URL (expected a file path, sqlite:///PATH or "
                           "postgresql://USER@HOST/DB)") from None
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif backend != "sqlite":
        raise HistoryError(f"--history {url!r}: {backend} is not supported (expected sqlite or postgresql)")
    try:
        if backend == "sqlite":
            if parsed.database in (None, "", ":memory:"):
                raise HistoryError(f"--history {url!r}: give the SQLite file's path")
            _check_sqlite_file(Path(parsed.database), create)
            engine = create_engine(parsed, connect_args={"timeout": 60})
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            engine = create_engine(parsed, pool_pre_ping=True)
    except (NoSuchModuleError, ArgumentError) as exc:
        raise HistoryError(f"--history {url!r}: {exc}") from None
    return engine


def _check_sqlite_file(path: Path, create: bool) -> None:
    """Refuse a folder, a missing file when only reading, and a file that is not SQLite's, before connecting."""
    if path.is_dir():
        raise HistoryError(f"--history {path}: a folder; give a file (e.g. {path / 'history.sqlite'}) or a URL")
    if not path.exists():
        if not create:
            raise HistoryError(f"--history {path}: no such history (a command that only reads creates none; "
                               "`bwclab nightly`, `rig certify --history` or `history import` start one)")
        path.parent.mkdir(parents=True, exist_ok=True)
        return
    try:
        with path.open("rb") as f:
            head = f.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise HistoryError(f"--history {path}: cannot read it: {exc.strerror}") from None
    if head and head != SQLITE_HEADER:  # an empty file is an empty database: a writer may start one there
        raise HistoryError(f"--history {path}: not a SQLite database (it does not start with SQLite's header): "
                           "a truncated copy or another kind of file?")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=60000")
    cur.close()


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def _supersedes(new: RunRecord, old: RunRecord) -> bool:
    """A later certificate of the same run that judged more (a resume finished it) replaces the record."""
    return new.ended > old.ended and (len(new.results) > len(old.results) or
                                      (old.verdict == "incomplete" and new.verdict != "incomplete"))


def _run_values(run: RunRecord) -> dict[str, Any]:
    return {"started": run.started, "ended": run.ended, "bench": run.bench, "bench_sha256": run.bench_sha256,
            "spec": run.spec, "spec_sha256": run.spec_sha256, "verdict": run.verdict, "operator": run.operator,
            "host": run.host, "bwclab_version": run.bwclab_version, "git_commit": run.git_commit,
            "folder": run.folder, "trials": run.trials, "errored_attempts": run.errored_attempts,
            "retried_steps": run.retried_steps, "lost": run.lost,
            "errors_by_device": json.dumps(run.errors_by_device, sort_keys=True), "recorded_at": _now()}


def _write_children(conn: Connection, rid: int, run: RunRecord) -> None:
    if run.cameras:
        conn.execute(insert(cameras_t), [
            {"run": rid, "serial": c.serial, "model": c.model, "firmware": c.firmware, "source": c.source}
            for c in run.cameras])
    if run.instruments:
        conn.execute(insert(instruments_t), [
            {"run": rid, "name": i.name, "idn": i.idn, "calibrated": i.calibrated,
             "calibration_due": i.calibration_due, "overdue": i.overdue, "error": i.error}
            for i in run.instruments])
    if run.results:
        conn.execute(insert(results_t), [
            {"run": rid, "requirement": r.requirement, "camera": r.camera, "verdict": r.verdict,
             "quantity": r.quantity, "units": r.units, "judge": r.judge, "limit_min": r.limit_min,
             "limit_max": r.limit_max, "value": r.value, "ci_low": r.ci_low, "ci_high": r.ci_high,
             "trials": r.trials, "max_change": r.max_change, "observations": r.observations.model_dump_json()}
            for r in run.results])


def _busy(exc: DBAPIError) -> bool:
    """Another bench holds the database a moment (SQLite's lock): worth waiting for, unlike a broken file."""
    text = str(exc.orig).lower()
    return "locked" in text or "busy" in text


class History(AbstractContextManager["History"]):
    """`create`: a writer (nightly, rig certify --history, history import) may start a new history; a command
    that only reads (create=False) refuses one that does not exist or holds no bwclab history."""

    def __init__(self, url: str, create: bool = True) -> None:
        self.url = url
        self.engine = engine_for(url, create)
        self.shown = self.engine.url.render_as_string(hide_password=True)
        try:
            with self._guard():
                if not create and self.version() == 0:
                    raise HistoryError(f"--history {self.shown}: holds no bwclab history (a command that only "
                                       "reads starts none)")
                self._migrate()
        except BaseException:
            self.engine.dispose()
            raise

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """A database that cannot be read (not a database, malformed, unreachable): a HistoryError naming it."""
        try:
            yield
        except IntegrityError:
            raise  # a key met twice is the caller's to resolve (two benches recording one run)
        except OperationalError as exc:
            raise HistoryError(f"--history {self.shown}: cannot open the database: {str(exc.orig).strip()[:300]}") \
                from None
        except DatabaseError as exc:
            raise HistoryError(f"--history {self.shown}: not a usable database ({str(exc.orig).strip()[:200]}): "
                               "a truncated copy or another kind of file?") from None

    def close(self) -> None:
        self.engine.dispose()

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- schema -------------------------------------------------------------------------
    def version(self) -> int:
        with self.engine.connect() as conn:
            if not inspect(conn).has_table("bwclab_schema"):
                return 0
            got = conn.execute(select(func.max(schema_t.c.version))).scalar()
            return int(got or 0)

    def _migrate(self) -> None:
        for attempt in range(20):  # two benches creating one database at once: one wins, the other re-reads
            try:
                self._migrate_once()
                return
            except (IntegrityError, DBAPIError) as exc:
                if not (isinstance(exc, IntegrityError) or _busy(exc)) or attempt == 19:
                    raise
                time.sleep(0.1 * (attempt + 1))

    def _migrate_once(self) -> None:
        have = self.version()
        if have > SCHEMA:
            raise HistoryError(f"--history {self.shown}: the database has schema {have}, newer than this bwclab "
                               f"knows ({SCHEMA}); upgrade bwclab to use it")
        if have == SCHEMA:
            return
        with self.engine.begin() as conn:
            if self.engine.dialect.name == "postgresql":
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(4242)")  # one migrator at a time
            elif self.engine.dialect.name == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")  # type: ignore[unreachable, unused-ignore]
            if not inspect(conn).has_table("bwclab_schema"):
                schema_t.create(conn)
            have = int(conn.execute(select(func.max(schema_t.c.version))).scalar() or 0)
            for v in range(have + 1, SCHEMA + 1):
                MIGRATIONS[v](conn)
                conn.execute(insert(schema_t).values(version=v))

    # --- writing ------------------------------------------------------------------------
    def record(self, run: RunRecord) -> tuple[int, bool]:
        """Record a run; (its id, True) when new or when it replaced the record of the same run before it was
        finished (an interrupted run, resumed since); (its id, False) when it was already there as it is."""
        with self._guard():
            return self._record(run)

    def _record(self, run: RunRecord) -> tuple[int, bool]:
        existing = self.find(run.run_id)
        if existing is not None:
            old = self.runs([existing])[0]
            if not _supersedes(run, old):
                return existing, False
            with self.engine.begin() as conn:
                for t in (cameras_t, instruments_t, results_t):
                    conn.execute(t.delete().where(t.c.run == existing))
                conn.execute(runs_t.update().where(runs_t.c.id == existing).values(**_run_values(run)))
                _write_children(conn, existing, run)
            return existing, True
        try:
            with self.engine.begin() as conn:
                rid = conn.execute(insert(runs_t).values(run_id=run.run_id, **_run_values(run))
                                   .returning(runs_t.c.id)).scalar_one()
                _write_children(conn, int(rid), run)
        except IntegrityError:
            got = self.find(run.run_id)  # another bench recorded the same run a moment ago
            if got is None:
                raise
            return got, False
        return int(rid), True

    def tag(self, run: str, tag: str) -> int:
        rid = self.resolve(run)
        with self._guard(), self.engine.begin() as conn:
            conn.execute(tags_t.delete().where(tags_t.c.tag == tag))
            conn.execute(insert(tags_t).values(tag=tag, run=rid))
        return rid

    def accept(self, run: str, by: str, reason: str) -> int:
        """Record that a person accepts a night's change (who, when, why): a regressed night that passed its
        spec may then join later `last:N` baselines. Accepting again replaces the earlier word."""
        got = self.run(run)
        if got.verdict != "pass":
            raise HistoryError(f"run {got.id} did not pass its spec ({got.verdict}): only a night that passed "
                               "can join a baseline, and acceptance is for drift, not for a failure")
        if not reason.strip():
            raise HistoryError("--reason: say why the change is accepted (it is shown on the trend page)")
        assert got.id is not None  # read from the history
        with self._guard(), self.engine.begin() as conn:
            conn.execute(acceptances_t.delete().where(acceptances_t.c.run == got.id))
            conn.execute(insert(acceptances_t).values(run=got.id, accepted_by=by, accepted_at=_now(),
                                                      reason=reason.strip()))
        return got.id

    # --- reading ------------------------------------------------------------------------
    def find(self, run_id: str) -> int | None:
        with self._guard(), self.engine.connect() as conn:
            got = conn.execute(select(runs_t.c.id).where(runs_t.c.run_id == run_id)).scalar()
        return None if got is None else int(got)

    def resolve(self, ref: str) -> int:
        """A run named by its number in the history, its run id, or a tag."""
        with self._guard(), self.engine.connect() as conn:
            if ref.isdigit():
                got = conn.execute(select(runs_t.c.id).where(runs_t.c.id == int(ref))).scalar()
            else:
                got = conn.execute(select(runs_t.c.id).where(runs_t.c.run_id == ref)).scalar()
                if got is None:
                    got = conn.execute(select(tags_t.c.run).where(tags_t.c.tag == ref)).scalar()
        if got is None:
            raise HistoryError(f"no run {ref!r} in the history {self.shown} (give its number, run id or a tag; "
                               "`bwclab history list` shows them)")
        return int(got)

    def tags(self) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {}
        with self._guard(), self.engine.connect() as conn:
            for tag, run in conn.execute(select(tags_t.c.tag, tags_t.c.run)):
                out.setdefault(int(run), []).append(str(tag))
        return out

    def acceptances(self) -> dict[int, Acceptance]:
        """Each accepted run's acceptance, by the run's number."""
        with self._guard(), self.engine.connect() as conn:
            rows = conn.execute(select(acceptances_t)).mappings().all()
        return {int(r["run"]): Acceptance(int(r["run"]), r["accepted_by"], r["accepted_at"], r["reason"])
                for r in rows}

    def runs(self, ids: list[int] | None = None) -> list[RunRecord]:
        """Runs in the order they started (all, or those named), with their cameras, instruments and results."""
        with self._guard(), self.engine.connect() as conn:
            q = select(runs_t).order_by(runs_t.c.started, runs_t.c.run_id)  # the same order on every backend
            if ids is not None:
                q = q.where(runs_t.c.id.in_(ids))
            rows = conn.execute(q).mappings().all()
            wanted = [int(r["id"]) for r in rows]
            cams: dict[int, list[CameraRecord]] = {}
            for c in conn.execute(select(cameras_t).where(cameras_t.c.run.in_(wanted))
                                  .order_by(cameras_t.c.run, cameras_t.c.serial)).mappings():
                cams.setdefault(int(c["run"]), []).append(CameraRecord(c["serial"], c["model"], c["firmware"],
                                                                        c["source"]))
            insts: dict[int, list[InstrumentRecord]] = {}
            for i in conn.execute(select(instruments_t).where(instruments_t.c.run.in_(wanted))
                                  .order_by(instruments_t.c.run, instruments_t.c.name)).mappings():
                insts.setdefault(int(i["run"]), []).append(InstrumentRecord(
                    i["name"], i["idn"], i["calibrated"], i["calibration_due"], bool(i["overdue"]), i["error"]))
            res: dict[int, list[ResultRecord]] = {}
            for r in conn.execute(select(results_t).where(results_t.c.run.in_(wanted))  # one order on every backend
                                  .order_by(results_t.c.run, results_t.c.requirement, results_t.c.camera)).mappings():
                res.setdefault(int(r["run"]), []).append(ResultRecord(
                    r["requirement"], r["camera"], r["verdict"], r["quantity"], r["units"], r["judge"],
                    r["limit_min"], r["limit_max"], r["value"], r["ci_low"], r["ci_high"], int(r["trials"]),
                    float(r["max_change"]), Observations.model_validate_json(r["observations"])))
        return [RunRecord(
            run_id=r["run_id"], started=r["started"], ended=r["ended"], bench=r["bench"],
            bench_sha256=r["bench_sha256"], spec=r["spec"], spec_sha256=r["spec_sha256"], verdict=r["verdict"],
            operator=r["operator"], host=r["host"], bwclab_version=r["bwclab_version"], git_commit=r["git_commit"],
            folder=r["folder"], trials=int(r["trials"]), errored_attempts=int(r["errored_attempts"]),
            retried_steps=int(r["retried_steps"]), lost=r["lost"], errors_by_device=json.loads(r["errors_by_device"]),
            cameras=cams.get(int(r["id"]), []), instruments=insts.get(int(r["id"]), []),
            results=res.get(int(r["id"]), []), id=int(r["id"])) for r in rows]

    def run(self, ref: str) -> RunRecord:
        return self.runs([self.resolve(ref)])[0]
