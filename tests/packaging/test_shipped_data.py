"""The data bwclab ships (scenarios/, fixtures/): free of the paths of the machine it was made on, and every
built-in profile usable by name wherever a command takes `--profile`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bwclab.core.builtin import names

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted(p for folder in ("scenarios", "fixtures") for p in (ROOT / folder).rglob("*")
                 if p.is_file() and p.suffix in (".yaml", ".yml", ".md", ".json"))
MACHINE_PATH = re.compile(r"(?<![\w.:/\\-])(?:/[A-Za-z_][\w.-]*){2,}"  # /tmp/prof, /home/ann/runs
                          r"|(?<!\w)[A-Za-z]:\\\w"  # C:\runs
                          r"|(?<![\w/])~/\w")  # ~/runs


def machine_paths(text: str) -> list[str]:
    return [m.group(0) for m in MACHINE_PATH.finditer(text)]


def test_the_pattern_finds_machine_paths_and_nothing_else() -> None:
    assert machine_paths("  run: /home/ann/prof\n") == ["/home/ann/prof"]
    assert machine_paths("port: '/dev/serial/by-id/usb-Numato'") == ["/dev/serial/by-id/usb-Numato"]
    assert machine_paths(r"run: C:\runs\night") == [r"C:\r"] and machine_paths("see ~/runs") == ["~/r"]
    assert machine_paths("1/speed of fixtures/requirements/quick.yaml at 30 ft/s, TCPIP::127.0.0.1::5025") == []


def test_shipped_data_holds_no_absolute_machine_path() -> None:
    assert len(SHIPPED) >= 15
    found = {str(p.relative_to(ROOT)): machine_paths(p.read_text(encoding="utf-8")) for p in SHIPPED}
    assert {k: v for k, v in found.items() if v} == {}


def bwclab(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bwclab", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=300, env={**os.environ, "COLUMNS": "200"})


@pytest.mark.parametrize("name", names("profile"))
def test_sim_shift_takes_a_built_in_profile_by_name(tmp_path: Path, name: str) -> None:
    r = bwclab("sim", "shift", "--scenario", "traffic-stop", "--profile", name, "--reps", "2", "--no-plots",
               "--out", tmp_path / "run", cwd=tmp_path)  # run where no file of that name exists
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["reps"] == 2


def test_sim_compare_takes_built_in_profiles_by_name(tmp_path: Path) -> None:
    r = bwclab("sim", "compare", "--scenario", "traffic-stop", "--profile", "example", "--profile", "emulated",
               "--reps", "2", "--out", tmp_path / "cmp", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    compared = json.loads((tmp_path / "cmp" / "compare.json").read_text())
    assert len(compared["profiles"]) == 2
    assert {p["device"]["serial"] for p in compared["profiles"].values()} == {"EX-0001", "CAM001"}
