"""`bwclab demo`: certify the built-in emulated demo bench against the demo spec, then run the Hartford
patrol shift with the profile the certification measured of CAM001, and print both headline tables.
`--requirements quick` (or `default`) and `--bench emulated` are one flag away.

Its folder holds `certify/` (the certification's run folder) and `hartford-patrol-shift/` (the shift's). A
folder a previous demo wrote is refused, before the bench starts, unless `--overwrite` replaces both."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from rich.console import Console

from bwclab.commands.certify import certify, check_inputs
from bwclab.commands.terminal import CertifyDisplay, certificate_of, show_warnings
from bwclab.core.builtin import resolve
from bwclab.core.config import ConfigError
from bwclab.core.profile import load_profile
from bwclab.rig.campaign import lock_folder
from bwclab.rig.certificate import Certificate
from bwclab.sim.profile import apply_profile
from bwclab.sim.replicate import run_reps
from bwclab.sim.runfolder import device_record, prepare_run_folder, write_run
from bwclab.sim.scenario import load_scenario

SCENARIO = "hartford-patrol-shift"
VARIANT = "light-bar"  # the deployment a department weighing auto-activation would look at first
REPS = 20
CERTIFICATION = "certify"
RUN_MARKS = ("trials.sqlite", "measurements.json")  # a certification's run folder holds one of these


def prepare_demo_folder(out: Path, overwrite: bool) -> None:
    """Refuse a folder a previous demo wrote unless OVERWRITE, which removes that demo's two run folders (never
    anything else, never a certification another run is writing)."""
    if out.exists() and not out.is_dir():
        raise ConfigError(out, ["--out names a file; a folder for the demo's runs is expected"])
    cert_dir, sim_dir = out / CERTIFICATION, out / SCENARIO
    previous = [p for p in (cert_dir, sim_dir) if p.exists()]
    if previous and not overwrite:
        raise ConfigError(out, [f"holds a previous demo ({', '.join(p.name + '/' for p in previous)}): pass "
                                "--overwrite to replace it, or choose another --out"])
    if cert_dir.exists():
        if not cert_dir.is_dir() or not any((cert_dir / m).exists() for m in RUN_MARKS):
            raise ConfigError(cert_dir, ["is not a certification's run folder; --overwrite replaces only a "
                                         "previous demo's: choose another --out"])
        lock_folder(cert_dir).close()  # refused while another run holds it
        shutil.rmtree(cert_dir)
    prepare_run_folder(sim_dir, overwrite)


def run_demo(
    out: Path,
    bench: str,
    spec: str,
    progress: Callable[[str], AbstractContextManager[Callable[[float], None]]],
    show: Callable[[dict[str, Any], Path], None],
    show_certificate: Callable[[Certificate | None, Path], None],
    overwrite: bool = False,
) -> tuple[int, dict[str, Any]]:
    bench_path, spec_path = resolve("bench", bench), resolve("spec", spec)
    check_inputs(bench_path, spec_path, None, None, out / "(the demo's certification)", False)
    prepare_demo_folder(out, overwrite)
    cert_dir = out / CERTIFICATION
    with CertifyDisplay("demo: certify") as display:
        rc = certify(bench_path, spec_path, None, None, cert_dir, resume=False, display=display)
    show_warnings(Console(stderr=True), display)
    show_certificate(certificate_of(display, cert_dir), cert_dir)
    sc = load_scenario(resolve("scenario", SCENARIO), variant=VARIANT)
    serial = "CAM001"
    profile = cert_dir / serial / "profile.yaml"
    label = f"shift: {sc.name}"
    device = None
    if profile.exists():
        prof = load_profile(profile)
        sc, device = apply_profile(sc, prof), device_record(prof, profile)
        label += f" with {serial}'s measured profile"
    t0 = time.perf_counter()
    with progress(label) as frac:
        first, summaries = run_reps(sc, sc.seed, REPS, 1, frac)
    folder = out / SCENARIO
    summary = write_run(first, summaries, folder, sc.seed, wall_s=time.perf_counter() - t0, device=device)
    show(summary, folder)
    return rc, summary
