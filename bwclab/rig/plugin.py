"""pytest plugin (`pytest11` entry point): `pytest --bench FILE|NAME [--requirements FILE|NAME]
[--camera SERIAL] [--faults FILE] [--rig-out DIR] [--resume]` certifies the bench's cameras, one test per
requirement and camera.

Loaded by every pytest session of the environment, so it does nothing and imports nothing heavy
until `--bench` is given; then `bwclab/rig/suite.py` replaces collection with the spec's requirements, and
pytest's own selection (-k), reports (--junitxml, pytest-html) and exit codes apply unchanged.
"""

from __future__ import annotations

from pathlib import Path

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("bwclab", "bwclab rig certification")
    group.addoption("--bench", default=None, help="bench description YAML, or a built-in name: certify its cameras")
    group.addoption("--requirements", default=None, help="requirements YAML or built-in name (default: default)")
    group.addoption("--camera", default=None, help="certify only this camera serial")
    group.addoption("--faults", type=Path, default=None, help="emulator faults YAML (emulated bench only)")
    group.addoption("--rig-out", type=Path, default=None, help="run folder (default results/certify-<time>)")
    group.addoption("--resume", action="store_true", help="finish the interrupted run in --rig-out")
    group.addoption("--operator", default=None, help="who ran it, for the record (default: the login)")


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("bench", None) is None:
        return
    from bwclab.rig.suite import Certification

    config.pluginmanager.register(Certification(config), "bwclab-certification")
