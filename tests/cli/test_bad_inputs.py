"""The bad-input corpus (tests/bad_inputs/): every file refused with exit 2, naming the file and the field,
without a traceback, in under a second, before any bench starts or run folder is written."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bwclab.bench.description import load_bench
from bwclab.core.builtin import builtin
from bwclab.core.config import ConfigError, read_yaml
from bwclab.core.profile import load_profile
from bwclab.emulator.faults import load_faults
from bwclab.rig.requirements import check_against_bench, load_spec
from bwclab.sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "bad_inputs"
CASES = sorted(CORPUS.glob("*/*.yaml"))
DEMO = load_bench(builtin("bench", "demo"))


def expected(path: Path) -> str:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# expect: "), path
    return first.removeprefix("# expect: ")


def command(kind: str, path: Path, out: Path) -> list[str]:
    return {
        "scenario": ["sim", "shift", "--scenario", str(path), "--out", str(out)],
        "bench": ["rig", "certify", "--bench", str(path), "--requirements", "demo", "--out", str(out)],
        "spec": ["rig", "certify", "--bench", "demo", "--requirements", str(path), "--out", str(out)],
        "faults": ["rig", "certify", "--bench", "demo", "--requirements", "demo", "--faults", str(path), "--out",
                   str(out)],
        "profile": ["sim", "shift", "--scenario", "traffic-stop", "--profile", str(path), "--out", str(out)],
    }[kind]


LOADERS: dict[str, Callable[[Path], Any]] = {
    "scenario": load_scenario,
    "bench": load_bench,
    "spec": lambda p: check_against_bench(load_spec(p), p, DEMO, list(DEMO.cameras)),
    "faults": lambda p: load_faults(p, list(DEMO.cameras)),
    "profile": load_profile,
}


def test_the_corpus_covers_every_file_type_with_at_least_60_files() -> None:
    kinds = {p.parent.name for p in CASES}
    assert kinds == set(LOADERS) and len(CASES) >= 60
    assert all(sum(p.parent.name == k for p in CASES) >= 5 for k in ("scenario", "bench", "spec", "faults"))


@pytest.mark.parametrize("path", CASES, ids=[f"{p.parent.name}/{p.stem}" for p in CASES])
def test_refused_by_the_command_with_exit_2_naming_file_and_field(tmp_path: Path, path: Path) -> None:
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "bwclab", *command(path.parent.name, path, out)], capture_output=True,
                       text=True, timeout=60, cwd=tmp_path)
    assert r.returncode == 2, r.stdout + r.stderr
    assert str(path) in r.stderr and expected(path) in r.stderr, r.stderr
    assert "Traceback" not in r.stdout + r.stderr
    assert not (out / "trials.sqlite").exists() and not (out / "summary.json").exists()


@pytest.mark.parametrize("path", CASES, ids=[f"{p.parent.name}/{p.stem}" for p in CASES])
def test_refused_by_its_loader_in_under_a_second_with_a_short_message(path: Path) -> None:
    t0 = time.perf_counter()
    with pytest.raises(ConfigError) as err:
        LOADERS[path.parent.name](path)
    assert time.perf_counter() - t0 < 1.0
    text = err.value.render()
    assert expected(path) in text and all(len(line) < 600 for line in text.splitlines())


def test_a_50_mb_file_is_refused_at_once_unread(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    with big.open("w") as fh:
        fh.write("name: big\ndescription: >\n")
        line = "  " + "x" * 998 + "\n"
        for _ in range(50_000):
            fh.write(line)
    t0 = time.perf_counter()
    with pytest.raises(ConfigError, match="configuration files are at most 1,000,000"):
        read_yaml(big)
    assert time.perf_counter() - t0 < 1.0


def test_a_long_value_is_quoted_short(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("name: x\ncamera: {buffer_s: '" + "9" * 100_000 + "'}\n")
    with pytest.raises(ConfigError) as err:
        load_scenario(path)
    text = err.value.render()
    assert "camera.buffer_s" in text and "100,002 characters" in text and len(text) < 600
