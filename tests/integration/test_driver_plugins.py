"""A lab's own driver, in its own distribution outside the repository, registered by name in the
`bwclab.drivers` entry points: once installed, a bench file names it and `bwclab rig certify` uses it, with no
change to bwclab."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.integration.certify_helpers import DEMO

LAB_DRIVER = '''\
"""A lab's attenuator: bwclab's RCDAT driver, recording each use in the file $LAB_ATTENUATOR_RECORD."""

import os

from bwclab.rig.drivers.rcdat import RcdatAttenuator


class LabAttenuator(RcdatAttenuator):
    driver_name = "labattenuator"

    def __init__(self, resource, step_db=0.25):
        super().__init__(resource, step_db)
        self.record(f"opened {resource} step {step_db}")

    def set_attenuation(self, channel, db, verify=True):
        applied = super().set_attenuation(channel, db, verify)
        self.record(f"channel {channel} set {db:.2f} applied {applied}")
        return applied

    def record(self, line):
        with open(os.environ["LAB_ATTENUATOR_RECORD"], "a", encoding="utf-8") as fh:
            fh.write(line + "\\n")
'''

LAB_PROJECT = '''\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "acme-lab-attenuator"
version = "1.0"

[project.entry-points."bwclab.drivers"]
labattenuator = "acme_lab_attenuator:LabAttenuator"

[tool.setuptools]
py-modules = ["acme_lab_attenuator"]
'''

SPEC = ("requirements: [{id: GROUP, text: One trigger starts every camera in range, procedure: group,\n"
        "                params: {trigger: taser}, quantity: fraction_activated, limit: {min: 1.0}, trials: 1}]\n")


@pytest.fixture(scope="module")
def lab_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The lab's distribution, built and pip-installed into a folder of its own (offline, beside bwclab)."""
    work = tmp_path_factory.mktemp("lab")
    source = work / "source"
    source.mkdir()
    (source / "pyproject.toml").write_text(LAB_PROJECT)
    (source / "acme_lab_attenuator.py").write_text(LAB_DRIVER)
    site = work / "site"
    got = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index",
                          "-q", "--target", str(site), str(source)], capture_output=True, text=True, timeout=300,
                         cwd=work)
    assert got.returncode == 0, got.stdout + got.stderr
    assert (site / "acme_lab_attenuator.py").exists()
    return site


def bench_naming(tmp: Path, driver: str) -> Path:
    data = yaml.safe_load(DEMO.read_text())
    data["instruments"]["attenuator"] = {"driver": driver}
    path = tmp / f"bench-{driver}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def bwclab(args: list[str], cwd: Path, site: Path | None, record: Path | None = None
           ) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if site is not None:
        env["PYTHONPATH"] = str(site)
    if record is not None:
        env["LAB_ATTENUATOR_RECORD"] = str(record)
    return subprocess.run([sys.executable, "-m", "bwclab", *args], capture_output=True, text=True, timeout=300,
                          cwd=cwd, env=env)


def test_a_lab_driver_installed_in_its_own_distribution_certifies_the_demo_bench(lab_site: Path,
                                                                                 tmp_path: Path) -> None:
    bench = bench_naming(tmp_path, "labattenuator")
    (tmp_path / "spec.yaml").write_text(SPEC)
    record = tmp_path / "record.txt"
    got = bwclab(["rig", "certify", "--bench", str(bench), "--requirements", "spec.yaml", "--out", "cert",
                  "--log-level", "DEBUG"], tmp_path, lab_site, record)
    assert got.returncode == 0, got.stdout + got.stderr
    cert = json.loads((tmp_path / "cert" / "measurements.json").read_text())
    assert cert["verdict"] == "pass" and {r["verdict"] for r in cert["results"]} == {"pass"}
    used = record.read_text().splitlines()
    assert used[0].startswith("opened TCPIP::127.0.0.1::") and used[0].endswith("step 0.25")
    near = [line for line in used[1:] if line.startswith(("channel 1 ", "channel 2 ", "channel 3 "))]
    assert {line.split()[1] for line in near} == {"1", "2", "3"}  # every camera was placed through it
    att = next(i for i in cert["identity"]["instruments"] if i["name"] == "attenuator")
    assert att["idn"].startswith("Mini-Circuits,") and not att["error"]
    # run.log at DEBUG: each of its exchanges, under the lab driver's own name
    traced = [line for line in (tmp_path / "cert" / "run.log").read_text().splitlines()
              if " DEBUG bwclab.drivers.labattenuator.TCPIP::127_0_0_1::" in line and " ns, " in line]
    sets = [line for line in traced if "SETATT" in line]
    assert len(sets) == len(near) and all(line.endswith(" ms)") and "-> '1' (sent at " in line for line in sets)


def test_without_the_lab_distribution_its_name_is_refused_at_load(lab_site: Path, tmp_path: Path) -> None:
    bench = bench_naming(tmp_path, "labattenuator")
    assert bwclab(["bench", "check", str(bench)], tmp_path, lab_site).returncode == 0
    got = bwclab(["bench", "check", str(bench)], tmp_path, None)
    assert got.returncode == 2, got.stdout + got.stderr
    assert str(bench) in got.stderr and "instruments.attenuator.driver" in got.stderr
    assert "no driver named 'labattenuator' is installed; drivers for an attenuator: rcdat" in got.stderr


def test_an_unknown_name_exits_2_listing_the_drivers_it_knows_for_the_role(lab_site: Path, tmp_path: Path) -> None:
    bench = bench_naming(tmp_path, "labattenuatr")
    (tmp_path / "spec.yaml").write_text(SPEC)
    got = bwclab(["rig", "certify", "--bench", str(bench), "--requirements", "spec.yaml", "--out", "cert"],
                 tmp_path, lab_site, tmp_path / "record.txt")
    assert got.returncode == 2, got.stdout + got.stderr
    assert str(bench) in got.stderr and "instruments.attenuator.driver" in got.stderr
    assert "no driver named 'labattenuatr' is installed; drivers for an attenuator: labattenuator, rcdat" \
        in got.stderr
    assert "Traceback" not in got.stderr and not (tmp_path / "cert" / "trials.sqlite").exists()
    assert not (tmp_path / "record.txt").exists()
