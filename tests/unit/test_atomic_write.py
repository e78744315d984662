"""Results written atomically (measurements.json, profile.yaml, junit.xml, drift.json, trends.html) are created
with the user's umask, as every other output is: readable by the rest of the lab under the usual 022."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from bwclab.core.outfolder import atomic_write


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_an_atomic_write_creates_the_file_with_the_users_umask(tmp_path: Path, umask: int, mode: int) -> None:
    target = tmp_path / "measurements.json"
    old = os.umask(umask)
    try:
        atomic_write(target, "{}\n")
        atomic_write(target, '{"verdict": "pass"}\n')  # and so does the file that replaces it
    finally:
        os.umask(old)
    assert stat.S_IMODE(target.stat().st_mode) == mode
    assert target.read_text() == '{"verdict": "pass"}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["measurements.json"]  # no temporary file left beside it
