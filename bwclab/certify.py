"""`bwclab rig certify`: the certification suite through pytest, with the rig's plugin.

The files are checked first, so a bad bench, requirements or faults file ends with exit 2 and
a message naming the file and field. Then pytest runs the requirements as tests and writes
report.html (self-contained) and junit.xml beside the rig's own results. Exit 0 when every
requirement passes or does not apply, 1 when any fails or errors, 2 on a usage error.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.description import load_bench
from emulator.faults import load_faults
from rig.campaign import check_selection
from rig.plugin import DEFAULT_SPEC
from rig.requirements import load_spec


def check_inputs(bench: Path, requirements: Path, camera: str | None, faults: Path | None, out: Path,
                 resume: bool) -> None:
    b = load_bench(bench)
    load_spec(requirements)
    check_selection(b, bench, camera, faults, out, resume)
    if faults is not None:
        load_faults(faults, list(b.cameras))


def certify(bench: Path, requirements: Path | None, camera: str | None, faults: Path | None, out: Path, resume: bool,
            select: str | None = None, quiet: bool = True) -> int:
    requirements = requirements or DEFAULT_SPEC
    check_inputs(bench, requirements, camera, faults, out, resume)
    out.mkdir(parents=True, exist_ok=True)
    args = ["-p", "no:cacheprovider", "-c", os.devnull, "--rootdir", str(Path.cwd()), "--bench", str(bench),
            "--requirements", str(requirements), "--rig-out", str(out), f"--html={out / 'report.html'}",
            "--self-contained-html", f"--junitxml={out / 'junit.xml'}", "-rfEs", "--disable-warnings"]
    args += ["-q"] if quiet else ["-v"]
    if camera:
        args += ["--camera", camera]
    if faults:
        args += ["--faults", str(faults)]
    if resume:
        args.append("--resume")
    if select:
        args += ["-k", select]
    rc = int(pytest.main(args))
    return rc if rc in (0, 1) else 2
