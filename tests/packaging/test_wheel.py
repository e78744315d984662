"""The package as a user installs it: a wheel, no checkout behind it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(cmd: list[str | Path], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=timeout)


def test_a_wheel_installed_without_e_runs_a_built_in_shift_and_the_demo_from_an_empty_directory(tmp_path: Path) -> None:
    source = tmp_path / "source"  # a copy: building in place would leave build/ in the checkout
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".*", "results", "build", "dist", "*.egg-info",
                                                                "__pycache__", "tests", "benchmarks"))
    built = run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                 tmp_path / "dist", source], cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "dist").glob("bwclab-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "bwclab/scenarios/hartford-patrol-shift.yaml" in names and "bwclab/fixtures/requirements/demo.yaml" in names
    assert "bwclab/fixtures/demo.yaml" in names and "bwclab/fixtures/profiles/example.yaml" in names
    assert "bwclab/fixtures/nightly/bench.yaml" in names and "bwclab/history/store.py" in names
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == {"bwclab"}, tops  # one import name: nothing to collide with PyPI's fixtures, camera, rig, ...
    env = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env)
    py = env / "bin" / "python"
    installed = run([sys.executable, "-m", "pip", "--python", py, "install", "--no-deps", "-q", wheel], cwd=tmp_path)
    assert installed.returncode == 0, installed.stderr
    # the dependencies (numpy, simpy, pytest, ...) come from this environment, bwclab only from the wheel
    site = run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=tmp_path).stdout.strip()
    (Path(site) / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    empty = tmp_path / "empty"
    empty.mkdir()
    other = Path(site) / "fixtures"  # a stand-in for PyPI's `fixtures` (a test library), installed beside bwclab
    other.mkdir()
    (other / "__init__.py").write_text("NAME = 'the other fixtures'\n")
    where = run([py, "-c", "import fixtures, bwclab, bwclab.rig, bwclab.history; "
                           "from bwclab.core.builtin import builtin; "
                           "print(fixtures.NAME, bwclab.__file__, bwclab.rig.__file__, builtin('spec', 'demo'))"],
                cwd=empty)
    assert "the other fixtures" in where.stdout, where
    assert where.returncode == 0 and str(ROOT) not in where.stdout and str(env) in where.stdout, where
    shift = run([env / "bin" / "bwclab", "sim", "shift", "--scenario", "hartford-patrol-shift", "--out", "shift",
                 "--no-plots", "--reps", "2"], cwd=empty)
    assert shift.returncode == 0, shift.stderr
    assert json.loads((empty / "shift" / "summary.json").read_text())["first_rep"]["incidents"] > 30
    # the README's main job, from an empty directory: the demo bench certified against the demo spec (every
    # procedure: clips decoded, plots drawn, the report written), then a shift with the profile it measured
    demo = run([env / "bin" / "bwclab", "demo", "--out", "demo"], cwd=empty, timeout=600)
    told = demo.stdout + demo.stderr
    assert demo.returncode == 0, told
    assert "Error" not in told and "Traceback" not in told and "warning" not in told.lower(), told
    assert json.loads((empty / "demo" / "certify" / "measurements.json").read_text())["verdict"] == "pass"
    assert (empty / "demo" / "certify" / "report.html").stat().st_size > 0
    shifted = json.loads((empty / "demo" / "hartford-patrol-shift" / "summary.json").read_text())
    assert shifted["device"]["serial"] == "CAM001" and shifted["reps"] == 20


def test_the_pytest_plugin_does_nothing_and_imports_nothing_heavy_without_bench(tmp_path: Path) -> None:
    (tmp_path / "test_x.py").write_text("def test_x():\n    pass\n")
    code = ("import sys, pytest; rc = pytest.main(['-q', '-p', 'no:cacheprovider', 'test_x.py']); "
            "print('LOADED', sorted(m for m in ('bwclab.rig.plugin', 'bwclab.rig.suite', 'bwclab.rig.campaign', "
            "'matplotlib', 'scipy', 'pydantic', 'bwclab.sim', 'bwclab.emulator') if m in sys.modules)); sys.exit(rc)")
    out = run([sys.executable, "-c", code], cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "LOADED ['bwclab.rig.plugin']" in out.stdout, out.stdout
