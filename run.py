#!/usr/bin/env python3
"""Quick start without setup: `python3 run.py demo` or `python3 run.py test`.

Creates .venv beside this file (once, and again whenever pyproject.toml changes),
installs bwclab into it with its test and lint tools, then runs:
  demo  -> bwclab demo                (the main job, on the built-in scenario)
  test  -> pytest                     (the whole test suite on every core: -n auto --dist loadgroup,
                                       unless -n is given; extra args go to pytest)
  test --fast -> the unit and command-line tests only (tests/unit, tests/cli), none marked slow
  lint  -> ruff, mypy, lint-imports   (what CI checks besides the tests)
  bwclab ARGS...  -> the bwclab command itself
Needs only python3 >= 3.11 with venv and pip; everything else comes from PyPI.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".bwclab-installed"
FAST = ("-m", "not slow", "tests/unit", "tests/cli")  # no whole certification, no history: CI runs everything


def pytest_args(rest: list[str]) -> list[str]:
    """pytest's arguments for `run.py test REST`: every core (pytest-xdist `-n auto`) unless REST gives `-n`,
    with `--dist loadgroup` (the suite keeps some tests on one worker); `--fast`: the unit and CLI tests, none
    marked slow (a whole certification, a statistical validation)."""
    fast = "--fast" in rest
    args = [a for a in rest if a != "--fast"]
    if "no:xdist" not in args:
        if not any(a == "--numprocesses" or a.startswith(("-n", "--numprocesses=")) for a in args):
            args = ["-n", "auto", *args]
        if not any(a == "--dist" or a.startswith("--dist=") for a in args):
            args = ["--dist", "loadgroup", *args]
    return [*args, *FAST] if fast else args


def ensure_env() -> None:
    want = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text().strip() == want:
        return
    if not (BIN / "python").exists():
        print("run.py: creating .venv", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("run.py: installing bwclab and its tools into .venv (first run only)", file=sys.stderr)
    pip = [str(BIN / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "-e", f"{ROOT}[test,lint]"], check=True)
    STAMP.write_text(want)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"demo", "test", "lint", "bwclab"}:
        print(__doc__, file=sys.stderr)
        return 2
    ensure_env()
    cmd, rest = argv[0], argv[1:]
    py = str(BIN / "python")
    if cmd == "demo":
        return subprocess.call([str(BIN / "bwclab"), "demo", *rest], cwd=ROOT)
    if cmd == "bwclab":
        return subprocess.call([str(BIN / "bwclab"), *rest])
    if cmd == "test":
        return subprocess.call([py, "-m", "pytest", *pytest_args(rest)], cwd=ROOT)
    for tool in (["ruff", "check", "."], ["mypy", "."], ["lint-imports"]):
        rc = subprocess.call([str(BIN / tool[0]), *tool[1:]], cwd=ROOT)
        if rc:
            return rc
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
