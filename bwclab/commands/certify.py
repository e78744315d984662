"""`bwclab rig certify`: the certification suite through pytest, with the rig's plugin.

Every input is checked first (bench, spec, faults, the spec against the bench, the run folder), so a
bad file ends with exit 2 and a message naming the file and field before any bench is touched. Then
pytest runs the requirements as tests and writes report.html (self-contained) and junit.xml beside the
rig's own results. Exit 0 only when the certificate says pass (every requirement judged on every camera of
the bench, or not applicable where the spec made it optional), 1 when any fails or errors or the run judged
less than its spec (it ended early, or was narrowed by -k or --camera: incomplete; the rig's pytest plugin
sets that status), 2 on a usage error, 3 when the bench itself was lost (an emulated
bench's process died: the camera was not judged), 130 on Ctrl-C.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from bwclab.bench.description import calibration_overdue, load_bench
from bwclab.commands.loglevel import log_to
from bwclab.commands.terminal import CertifyDisplay
from bwclab.core.builtin import resolve
from bwclab.core.config import ConfigError
from bwclab.emulator.faults import load_faults
from bwclab.rig.campaign import Stop, Stopped, check_selection
from bwclab.rig.requirements import check_against_bench, load_spec
from bwclab.rig.suite import DEFAULT_SPEC

Tick = Callable[[str, int, int], None]
REFUSED, BENCH_LOST, INTERRUPTED = 2, 3, 130
EXIT: dict[int, int] = {  # pytest's exit codes -> ours
    pytest.ExitCode.OK: 0, pytest.ExitCode.TESTS_FAILED: 1, pytest.ExitCode.INTERRUPTED: INTERRUPTED,
    pytest.ExitCode.INTERNAL_ERROR: 1, pytest.ExitCode.USAGE_ERROR: REFUSED,
    pytest.ExitCode.NO_TESTS_COLLECTED: REFUSED}
STOPPED_EXIT = {Stop.BENCH_LOST: BENCH_LOST, Stop.INTERRUPTED: INTERRUPTED}  # why a run ended early -> ours


class RunSink:
    """Handed to pytest as a plugin: the campaign reports each finished step to it, and why it stopped."""

    def __init__(self, tick: Tick | None) -> None:
        self.bwclab_tick: Tick = tick or (lambda _label, _done, _total: None)
        self.bwclab_stopped: Stopped | None = None

    @property
    def bwclab_lost(self) -> str:
        """Why the bench was lost, in words; "" when it was not."""
        stopped = self.bwclab_stopped
        return stopped.reason if stopped is not None and stopped.kind is Stop.BENCH_LOST else ""


def exit_code(pytest_status: int, stopped: Stopped | None) -> int:
    """Ours, from types alone: why the run ended early (the bench lost: 3, Ctrl-C: 130), else pytest's status
    (0 pass, 1 a failure, an error or an incomplete certificate, 2 refused)."""
    if stopped is not None and stopped.kind in STOPPED_EXIT:
        return STOPPED_EXIT[stopped.kind]
    return EXIT.get(pytest_status, 1)


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
            operator: str | None = None, require_calibration: bool = False, display: CertifyDisplay | None = None
            ) -> int:
    bench_path = resolve("bench", bench)
    spec_path = resolve("spec", requirements or DEFAULT_SPEC)
    check_inputs(bench_path, spec_path, camera, faults, out, resume, require_calibration)
    out.mkdir(parents=True, exist_ok=True)
    log_to(out)
    args = ["-p", "no:cacheprovider", "-c", os.devnull, "--rootdir", str(Path.cwd()), "--bench", str(bench_path),
            "--requirements", str(spec_path), "--rig-out", str(out), f"--html={out / 'report.html'}",
            "--self-contained-html", f"--junitxml={out / 'junit.xml'}",
            "--assert=plain"]  # nothing to rewrite: bwclab's modules are imported already (a warning each)
    if display is not None:  # run.log holds the logs; the display (unless -v) owns the terminal
        args += ["-p", "no:logging"] + (["-p", "no:terminal"] if display.progress else [])
    if display is None or not display.progress:
        args += ["-rfEs", "--disable-warnings"] + (["-q"] if quiet else ["-v"])
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
    sink = RunSink(display.tick if display is not None else tick)
    rc = int(pytest.main(args, plugins=[sink] if display is None else [sink, display]))
    return exit_code(rc, sink.bwclab_stopped)
