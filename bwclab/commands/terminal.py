"""The terminal during a certification (`rig certify`, `nightly`, `demo`).

While the run goes: on a terminal a live display (rich) of the requirement being measured, its cameras, the
trials done of those planned and an estimated finish, with a line above it per requirement judged; anywhere
else (a pipe, a log, TERM=dumb) the same story as plain lines, no ANSI codes, a progress line at most every
ten seconds. It is fed by pytest's hooks (which requirement and camera is being judged, its verdict) and by
the campaign's `tick` (a procedure's steps done of planned), and writes to its own copy of the standard error
descriptor, so pytest's capture of a test's output never hides it. The run's last lines are
bwclab/commands/verdict.py's.
"""

from __future__ import annotations

import datetime
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import pytest
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from bwclab.commands import loglevel
from bwclab.rig.certificate import Certificate, read_certificate
from bwclab.rig.suite import RequirementItem

PLAIN_EVERY_S = 10.0  # a plain progress line at most this often per procedure
VERDICT_ORDER = ("fail", "error", "not judged", "not applicable", "pass")  # the worst first
log = logging.getLogger("bwclab.certify")


def duration(seconds: float) -> str:
    s = max(0, round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


@dataclass
class ProcedureProgress:
    """One procedure's share of the run: its steps done of planned, and the time it took so far."""

    requirement: str
    cameras: list[str]
    planned: int
    done: int = 0
    started: float | None = None
    last: float | None = None

    @property
    def spent(self) -> float:
        return 0.0 if self.started is None or self.last is None else self.last - self.started

    @property
    def left(self) -> int:
        return max(self.planned - self.done, 0)


@dataclass
class Planned:
    """What pytest collected: each requirement's cameras and procedure, in the order they will be judged."""

    order: list[str] = field(default_factory=list)
    cameras: dict[str, list[str]] = field(default_factory=dict)
    key: dict[str, str] = field(default_factory=dict)
    nodes: dict[str, tuple[str, str]] = field(default_factory=dict)  # pytest node id -> (requirement, camera)


class CertifyDisplay:
    """A pytest plugin (handed to pytest.main) and the campaign's tick: the live display or plain lines."""

    def __init__(self, title: str = "certify", progress: bool = True, stream: IO[str] | None = None) -> None:
        self.title = title
        self.progress = progress  # False: pytest's own lines (-v) own the terminal; only the end is ours
        self._stream = stream
        self._file: IO[str] | None = None
        self.console = Console(stderr=True)
        self.live: Live | None = None
        self.plan = Planned()
        self.steps: dict[str, ProcedureProgress] = {}
        self.current: tuple[str, str] | None = None
        self.verdicts: dict[str, dict[str, str]] = {}
        self.judged = 0
        self.not_passed = 0
        self.t0 = time.monotonic()
        self.warnings: list[str] = []
        self.certificate: Certificate | None = None
        self._said: dict[str, float] = {}
        self._old_show: loglevel.Show | None = None

    # --- the terminal ----------------------------------------------------------------------------------
    def __enter__(self) -> CertifyDisplay:
        if self._stream is None:  # a copy of fd 2: pytest redirects fd 2 itself while a requirement runs
            self._file = os.fdopen(os.dup(2), "w", encoding="utf-8", errors="replace", buffering=1)
        stream = self._stream or self._file
        plain = stream is None or not stream.isatty() or os.environ.get("TERM") == "dumb"
        width = None
        if not plain and stream is not None:  # asked now: while a requirement runs, pytest holds fds 0-2
            try:
                width = os.get_terminal_size(stream.fileno()).columns
            except OSError:
                width = None
        self.console = Console(file=stream, force_terminal=False if plain else None, width=width,
                               color_system=None if plain else "auto", highlight=False, soft_wrap=True)
        if self.progress and not plain:
            self.live = Live(get_renderable=self._render, console=self.console, transient=True,
                             refresh_per_second=4, redirect_stdout=False, redirect_stderr=False)
            self.live.start()
        self._old_show = loglevel.show_through(self.say)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None
        if self._old_show is not None:
            loglevel.show_through(self._old_show)
        if self._file is not None:
            self._file.close()
            self._file = None

    @property
    def plain(self) -> bool:
        return not self.console.is_terminal

    def say(self, text: str, style: str = "") -> None:
        """A line above the live display, or a plain line; never wrapped (a path stays one piece)."""
        self.console.print(Text(text, style=style if not self.plain else ""), soft_wrap=True)

    # --- pytest's hooks --------------------------------------------------------------------------------
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        for item in session.items:
            if not isinstance(item, RequirementItem):
                continue
            req = item.requirement
            if req.id not in self.plan.cameras:
                self.plan.order.append(req.id)
                self.plan.cameras[req.id] = []
                self.plan.key[req.id] = req.key
            self.plan.cameras[req.id].append(item.camera)
            self.plan.nodes[item.nodeid] = (req.id, item.camera)
            step = self.steps.setdefault(req.key, ProcedureProgress(req.id, [], req.trials))
            step.planned = max(step.planned, req.trials)
            if item.camera not in step.cameras:
                step.cameras.append(item.camera)
        cameras = list(dict.fromkeys(c for cams in self.plan.cameras.values() for c in cams))
        n = len(self.plan.order)
        if self.progress:
            self.say(f"{self.title}: {n} requirement{'s' if n != 1 else ''} on {', '.join(cameras)}: "
                     f"{sum(s.planned for s in self.steps.values())} trials planned")
        log.info("%s: %d requirements on %s", self.title, len(self.plan.order), ", ".join(cameras))

    def pytest_runtest_logstart(self, nodeid: str, location: tuple[str, int | None, str]) -> None:
        got = self.plan.nodes.get(nodeid)
        if got is None:
            return
        self.current = got
        step = self.steps[self.plan.key[got[0]]]
        if step.started is None:
            step.started = step.last = time.monotonic()
            step.requirement = got[0]
            if self.progress and self.plain:
                self.say(f"{got[0]} on {', '.join(step.cameras)}: {step.planned} trials")
        self._refresh()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        got = self.plan.nodes.get(report.nodeid)
        if got is None or not (report.when == "call" or (report.when == "setup" and not report.passed)):
            return
        req, camera = got
        props = dict(report.user_properties)
        verdict = str(props.get("verdict", "not judged"))
        if "verdict" not in props and report.failed:  # the bench was lost, or the code broke: say why, briefly
            log.error("%s on %s: not judged: %s", req, camera, why_not_judged(report, req, camera))
            log.error("%s on %s: the trace:\n%s", req, camera, report.longreprtext,
                      extra={loglevel.NOT_ON_TERMINAL: True})
        self.judged += 1
        self.not_passed += verdict != "pass"
        self.verdicts.setdefault(req, {})[camera] = verdict
        if len(self.verdicts[req]) == len(self.plan.cameras[req]):
            self._judged(req)
        self._refresh()

    def pytest_warning_recorded(self, warning_message: Any, when: str, nodeid: str, location: Any) -> None:
        text = f"{warning_message.category.__name__}: {warning_message.message} " \
               f"({warning_message.filename}:{warning_message.lineno})"
        self.warnings.append(text)
        log.warning("%s", text, extra={loglevel.NOT_ON_TERMINAL: True})  # shown once, after the run (show_warnings)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        cert = session.config.pluginmanager.get_plugin("bwclab-certification")
        got = getattr(cert, "certificate", None)
        self.certificate = got if isinstance(got, Certificate) else None

    # --- the campaign's tick ---------------------------------------------------------------------------
    def tick(self, label: str, done: int, total: int) -> None:
        if self.current is None:
            return
        step = self.steps[self.plan.key[self.current[0]]]
        step.done, step.planned, step.last = done, max(total, done), time.monotonic()
        if self.progress and self.plain:
            said = self._said.get(self.current[0], step.started or 0.0)
            if done >= total or step.last - said >= PLAIN_EVERY_S:
                self._said[self.current[0]] = step.last
                left = self._left(step)
                self.say(f"{step.requirement}: {done}/{step.planned} trials"
                         + (f", about {duration(left)} left" if left is not None and done < total else ""))
        self._refresh()

    # --- what is shown ---------------------------------------------------------------------------------
    def _judged(self, req: str) -> None:
        by_cam = self.verdicts[req]
        groups: dict[str, list[str]] = {}
        for camera, verdict in by_cam.items():
            groups.setdefault(verdict, []).append(camera)
        ranked = sorted(groups, key=lambda v: VERDICT_ORDER.index(v) if v in VERDICT_ORDER else 0)
        text = "; ".join(f"{v} on {', '.join(groups[v])}" for v in ranked)
        log.info("%s: %s", req, text)
        key = self.plan.key[req]
        if all(len(self.verdicts.get(r, {})) == len(self.plan.cameras[r]) for r in self.plan.order
               if self.plan.key[r] == key):
            self.steps[key].planned = self.steps[key].done  # its procedure is over: no more steps to come
        if self.progress:
            self.say(f"{req}: {text}", style={"fail": "red", "error": "red", "pass": "green"}.get(ranked[0], "yellow"))

    def _left(self, step: ProcedureProgress) -> float | None:
        """Seconds this procedure has left, at its pace so far."""
        if step.done == 0 or step.spent <= 0:
            return None
        return step.left * step.spent / step.done

    def run_left(self) -> float | None:
        """Seconds the whole run has left: the steps still planned, at the pace of the steps done so far."""
        done = sum(s.done for s in self.steps.values())
        spent = sum(s.spent for s in self.steps.values())
        if done == 0 or spent <= 0:
            return None
        return sum(s.left for s in self.steps.values()) * spent / done

    def _refresh(self) -> None:
        if self.live is not None:
            self.live.refresh()

    def _render(self) -> RenderableType:
        now = time.monotonic()
        total = sum(len(c) for c in self.plan.cameras.values())
        left = self.run_left()
        finish = "" if left is None else (f", about {duration(left)} left (done about "
                                          f"{(datetime.datetime.now() + datetime.timedelta(seconds=left)):%H:%M})")
        if not total:
            return Text(f"{self.title}: starting, {duration(now - self.t0)}", style="dim")
        head = Text(f"{self.title}: {self.judged} of {total} judged"
                    + (f", {self.not_passed} not passed" if self.not_passed else "")
                    + f"; {duration(now - self.t0)} elapsed{finish}")
        if self.current is None:
            return Group(head, Text("  starting the bench", style="dim"))
        req, camera = self.current
        step = self.steps[self.plan.key[req]]
        grid = Table.grid(padding=(0, 1))
        label = f"  {step.requirement} on {', '.join(step.cameras)}"
        grid.add_row(Text(label, style="bold"),
                     ProgressBar(total=max(step.planned, 1), completed=step.done,
                                 width=max(10, min(30, self.console.width - len(label) - 45))),
                     Text(f"{step.done}/{step.planned} trials"),
                     Text(self._pace(step, now), style="cyan"))
        if step.requirement != req:
            grid.add_row(Text(f"  judging {req} on {camera}", style="dim"), "", "", "")
        return Group(head, grid)

    def _pace(self, step: ProcedureProgress, now: float) -> str:
        if step.started is None:
            return ""
        if step.done == 0:
            ticked = any(s.done for s in self.steps.values())
            return f"{duration(now - step.started)}, " + ("first trial" if ticked else "starting the bench")
        left = self._left(step)
        return f"{duration(now - step.started)}" + ("" if left is None else f", about {duration(left)} left")


def why_not_judged(report: pytest.TestReport, req: str, camera: str) -> str:
    """The exception's own message, without pytest's traceback (run.log keeps that)."""
    message = str(getattr(getattr(report.longrepr, "reprcrash", None), "message", "") or "")
    lines = report.longreprtext.strip().splitlines()
    if not message:  # a traceback as text: its last exception's first "E" line, else its last line
        starts = [i for i, ln in enumerate(lines)
                  if ln.startswith("E ") and (i == 0 or not lines[i - 1].startswith("E "))]
        message = lines[starts[-1]][1:] if starts else lines[-1] if lines else "no reason given"
    return message.strip().removeprefix(f"{req} on {camera}: ").removeprefix("not judged: ")


def certificate_of(display: CertifyDisplay | None, out: Path) -> Certificate | None:
    """The session's certificate, else the one in OUT (a run that ended before pytest finished its session)."""
    if display is not None and display.certificate is not None:
        return display.certificate
    try:
        return read_certificate(out / "measurements.json")
    except (OSError, ValueError):
        return None


def show_warnings(console: Console, display: CertifyDisplay | None) -> None:
    """Each distinct warning the run raised, once, with how often (all of them are in run.log)."""
    seen: dict[str, int] = {}
    for text in display.warnings if display is not None else []:
        seen[text] = seen.get(text, 0) + 1
    for text, n in seen.items():
        console.print(Text(f"warning: {text}" + (f" ({n} times)" if n > 1 else ""),
                           style="yellow" if console.is_terminal else ""), soft_wrap=True)
