#!/usr/bin/env python3
"""Quick start without setup: `python3 run.py demo` or `python3 run.py test`.

Creates .venv beside this file (once, and again whenever pyproject.toml changes),
installs bwclab into it with its test and lint tools, then runs:
  demo  -> bwclab demo                (the main job, on the built-in scenario)
  test  -> pytest                     (the whole test suite; extra args go to pytest)
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
        return subprocess.call([py, "-m", "pytest", *rest], cwd=ROOT)
    for tool in (["ruff", "check", "."], ["mypy", "."], ["lint-imports"]):
        rc = subprocess.call([str(BIN / tool[0]), *tool[1:]], cwd=ROOT)
        if rc:
            return rc
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
