"""run.log of a certification: the campaign's progress lines (`HH:MM:SS text`) among the command's log records,
each once, in the order they happened, at any --log-level."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from bwclab.commands import loglevel
from bwclab.rig.suite import end_progress_log, progress_log

STAMP = r"^(\d{4}-\d\d-\d\d )?\d\d:\d\d:\d\d(\.\d{3})? "  # a log record's, or a progress line's


@pytest.fixture
def logging_restored() -> Iterator[None]:
    root, bwclab = logging.getLogger(), logging.getLogger("bwclab")
    handlers, root_level, bwclab_level = root.handlers[:], root.level, bwclab.level
    yield
    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(root_level)
    bwclab.setLevel(bwclab_level)
    end_progress_log(logging.getLogger("bwclab.rig.progress"))


@pytest.mark.usefixtures("logging_restored")
@pytest.mark.parametrize("level", ["DEBUG", "WARNING"])
def test_progress_lines_sit_once_each_among_the_log_records_in_the_order_logged(tmp_path: Path, level: str) -> None:
    loglevel.configure(level, lambda _text: None, run_folder=True)
    run_log = loglevel.log_to(tmp_path)
    assert run_log == tmp_path / "run.log"
    driver = logging.getLogger("bwclab.drivers.console")
    progress = progress_log(run_log)
    driver.warning("first")
    progress.info("starting the emulated bench")
    driver.warning("second")
    progress.info("R1 (latency): 5 trials on CAM001")
    lines = run_log.read_text(encoding="utf-8").splitlines()
    assert [re.sub(STAMP, "", line) for line in lines] == [
        "WARNING bwclab.drivers.console: first", "starting the emulated bench",
        "WARNING bwclab.drivers.console: second", "R1 (latency): 5 trials on CAM001"]
    assert re.fullmatch(r"\d\d:\d\d:\d\d starting the emulated bench", lines[1])


@pytest.mark.usefixtures("logging_restored")
def test_a_later_certification_writes_its_progress_to_its_own_run_log(tmp_path: Path) -> None:
    progress_log(tmp_path / "first.log").info("one")
    progress_log(tmp_path / "second.log").info("two")
    assert [line[9:] for line in (tmp_path / "first.log").read_text().splitlines()] == ["one"]
    assert [line[9:] for line in (tmp_path / "second.log").read_text().splitlines()] == ["two"]
