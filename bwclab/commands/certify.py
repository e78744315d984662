"""`bwclab rig certify`: the certification suite through pytest, with the rig's plugin.

Every input is checked first (bench, spec, faults, the spec against the bench, the run folder), so a
bad file ends with exit 2 and a message naming the file and field before any bench is touched. Then
pytest runs the requirements as tests and writes report.html (self-contained) and junit.xml beside the
rig's own results. Exit 0 when every requirement passes or does not apply, 1 when any fails or errors or
the run ended before judging everything, 2 on a usage error, 3 when the bench itself was lost (an emulated
bench's process died: the camera was not judged), 130 on Ctrl-C.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from bwclab.bench.description import calibration_overdue, load_bench
from bwclab.core.builtin import resolve
from bwclab.core.config import ConfigError
from bwclab.emulator.faults import load_faults
from bwclab.rig.campaign import check_selection
from bwclab.rig.requirements import check_against_bench, load_spec
from bwclab.rig.suite import DEFAULT_SPEC

Tick = Callable[[str, int, int], None]
EXIT = {0: 0, 1: 1, 2: 130, 3: 1, 4: 2, 5: 2}  # pytest's exit codes -> ours
BENCH_LOST = 3


class RunSink:
    """Handed to pytest as a plugin: the campaign reports each finished step to it, and why it stopped."""

    def __init__(self, tick: Tick | None) -> None:
        self.bwclab_tick: Tick = tick or (lambda _label, _done, _total: None)
        self.bwclab_lost = ""


def check_inputs(bench: Path, requirements: Path, camera: str | None, faults: Path | None, out: Path,
                 resume: bool, require_calibration: bool = False) -> None:
    b = load_bench(bench)
    overdue = calibration_overdue(b, datetime.date.today())
    if require_calibration and overdue:
        raise ConfigError(bench, [f"instruments.{name}: calibration overdue; --require-calibration refuses the run"
                                  for name in overdue])
    spec = load_spec(requirements)
    check_selection(b, bench, camera, faults, out, resume)
    check_against_bench(spec, requirements, b, [camera] if camera else list(b.cameras))
    if faults is not None:
        load_faults(faults, list(b.cameras))


def certify(bench: str | Path, requirements: str | Path | None, camera: str | None, faults: Path | None, out: Path,
            resume: bool, select: str | None = None, quiet: bool = True, tick: Tick | None = None,
            operator: str | None = None, require_calibration: bool = False) -> int:
    bench_path = resolve("bench", bench)
    spec_path = resolve("spec", requirements or DEFAULT_SPEC)
    check_inputs(bench_path, spec_path, camera, faults, out, resume, require_calibration)
    out.mkdir(parents=True, exist_ok=True)
    args = ["-p", "no:cacheprovider", "-c", os.devnull, "--rootdir", str(Path.cwd()), "--bench", str(bench_path),
            "--requirements", str(spec_path), "--rig-out", str(out), f"--html={out / 'report.html'}",
            "--self-contained-html", f"--junitxml={out / 'junit.xml'}", "-rfEs", "--disable-warnings"]
    args += ["-q"] if quiet else ["-v"]
    if camera:
        args += ["--camera", camera]
    if faults:
        args += ["--faults", str(faults)]
    if resume:
        args.append("--resume")
    if operator:
        args += ["--operator", operator]
    if select:
        args += ["-k", select]
    sink = RunSink(tick)
    rc = int(pytest.main(args, plugins=[sink]))
    return BENCH_LOST if sink.bwclab_lost else EXIT.get(rc, 1)
