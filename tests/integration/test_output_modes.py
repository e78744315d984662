"""A certification's run folder under the usual umask 022: every file readable by the rest of the lab (0644),
every folder 0755, the atomically written ones (measurements.json, profile.yaml) included."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

from tests.integration.certify_helpers import fast_bench, spec
from tests.integration.harness import ROOT


def test_every_file_a_certification_writes_is_readable_under_umask_022(tmp_path: Path) -> None:
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "bwclab", "rig", "certify", "--bench", str(fast_bench(tmp_path)), "--requirements",
           str(spec(tmp_path, ["LAT-TASER"], **{"LAT-TASER": {"trials": 3}})), "--out", str(out)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=ROOT, umask=0o022)
    assert r.returncode in (0, 1), r.stdout + r.stderr  # the verdict does not matter here, the files do
    written = sorted(out.rglob("*"))
    names = {p.name for p in written}
    assert {"measurements.json", "profile.yaml", "trials.sqlite", "report.html", "junit.xml"} <= names, names
    modes = {str(p.relative_to(out)): oct(stat.S_IMODE(p.stat().st_mode)) for p in written}
    assert {k: m for k, m in modes.items() if m != ("0o755" if (out / k).is_dir() else "0o644")} == {}
