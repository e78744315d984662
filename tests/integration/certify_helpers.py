"""Run `bwclab rig certify` as a user would, on a fast variant of the quick bench."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from tests.integration.harness import ROOT

QUICK_SPEC = ROOT / "fixtures" / "requirements" / "quick.yaml"


DEMO = ROOT / "fixtures" / "demo.yaml"


def fast_bench(tmp: Path, **camera: Any) -> Path:
    """The demo bench (0.4 s broadcasts, 1.5 s buffer), with any emulated-camera settings changed."""
    data = yaml.safe_load(DEMO.read_text())
    data["emulate"]["camera"].update(camera)
    path = tmp / "bench.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def spec(tmp: Path, ids: list[str], **overrides: Any) -> Path:
    data = yaml.safe_load(QUICK_SPEC.read_text())
    data["requirements"] = [r | overrides.get(r["id"], {}) for r in data["requirements"] if r["id"] in ids]
    path = tmp / "spec.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def certify(out: Path, bench: Path, requirements: Path, *extra: str, timeout: float = 400) -> tuple[int, str]:
    cmd = [sys.executable, "-m", "bwclab", "rig", "certify", "--bench", str(bench), "--requirements",
           str(requirements), "--out", str(out), *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    return proc.returncode, proc.stdout + proc.stderr


def verdicts(out: Path) -> dict[tuple[str, str], str]:
    data = json.loads((out / "measurements.json").read_text())
    return {(r["requirement"], r["camera"]): r["verdict"] for r in data["results"]}
