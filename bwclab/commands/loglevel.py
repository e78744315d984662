"""The standard logging module as a command sets it up (`--log-level LEVEL`, default INFO).

bwclab's loggers (`bwclab.*`, the drivers' exchange traces among them) log at LEVEL; other libraries at
WARNING. A command with a run folder writes `run.log` there, at LEVEL, and shows only warnings and errors on
the terminal, above its progress display; any other command shows LEVEL on the terminal. Records logged
before the run folder exists are kept in memory and written to `run.log` when it does: a run refused or
interrupted before it wrote anything leaves no folder behind.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
RUN_LOG = "run.log"
FORMAT = "%(asctime)s.%(msecs)03d %(levelname)s %(name)s: %(message)s"
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
HELD = 10_000  # records kept while no run folder exists yet; the oldest are dropped beyond it

Show = Callable[[str], None]
NOT_ON_TERMINAL = "bwclab_not_on_terminal"  # a record's extra: run.log only (the command shows it itself)


class TerminalHandler(logging.Handler):
    """Hands each record's text to whatever owns the terminal now (a live display prints it above itself)."""

    def __init__(self, show: Show, level: int) -> None:
        super().__init__(level)
        self.show = show
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(record, NOT_ON_TERMINAL, False):
            return
        try:
            self.show(self.format(record))
        except Exception:  # a log line must never end the run
            self.handleError(record)


class RunLogHandler(logging.Handler):
    """run.log in the run folder, once there is one; until then the records wait in memory."""

    def __init__(self, level: int) -> None:
        super().__init__(level)
        self.setFormatter(logging.Formatter(FORMAT, DATE_FORMAT))
        self.held: list[logging.LogRecord] = []
        self.file: logging.FileHandler | None = None
        self.path: Path | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if self.file is not None:
            self.file.emit(record)
            return
        self.held.append(record)
        if len(self.held) > HELD:
            del self.held[0]

    def attach(self, folder: Path) -> Path:
        """Write to FOLDER/run.log (appended to, as a resumed run's is) from now on, the held records first."""
        path = folder / RUN_LOG
        if path == self.path:
            return path
        folder.mkdir(parents=True, exist_ok=True)
        new = logging.FileHandler(path, mode="a", encoding="utf-8")
        new.setFormatter(self.formatter)
        old, self.file, self.path = self.file, new, path
        if old is not None:
            old.close()
        for record in self.held:
            new.emit(record)
        self.held.clear()
        return path

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
        super().close()


class _Setup:
    run_log: RunLogHandler | None = None
    terminal: TerminalHandler | None = None


_setup = _Setup()


def configure(level: str, show: Show, run_folder: bool) -> None:
    """Set up logging for one command: bwclab's loggers at LEVEL, the terminal through SHOW (WARNING and above
    when the command has a run folder, else LEVEL), and run.log once `log_to` names the folder."""
    number = logging.getLevelName(level.upper())
    if not isinstance(number, int):
        raise ValueError(f"--log-level {level}: expected one of {', '.join(LEVELS)}")
    root = logging.getLogger()
    for handler in (_setup.run_log, _setup.terminal):
        if handler is not None:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(logging.WARNING)
    logging.getLogger("bwclab").setLevel(number)
    _setup.terminal = TerminalHandler(show, max(number, logging.WARNING) if run_folder else number)
    root.addHandler(_setup.terminal)
    _setup.run_log = RunLogHandler(number) if run_folder else None
    if _setup.run_log is not None:
        root.addHandler(_setup.run_log)
    logging.captureWarnings(True)  # a Python warning is a record: in run.log, and on the terminal


def log_to(folder: Path) -> Path | None:
    """From now on write run.log in FOLDER (a command's run folder); nothing when no command set logging up."""
    if _setup.run_log is None:
        return None
    return _setup.run_log.attach(folder)


def show_through(show: Show) -> Show:
    """Send terminal log lines through SHOW from now on (a live display); returns the one it replaces."""
    if _setup.terminal is None:
        return show
    old, _setup.terminal.show = _setup.terminal.show, show
    return old
