"""`bwclab demo`: certify the built-in emulated demo bench against the demo spec, then run the Hartford
patrol shift with the profile the certification measured of CAM001, and print both headline tables.
`--requirements quick` (or `default`) and `--bench emulated` are one flag away."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from bwclab.commands.certify import Tick, certify
from bwclab.core.builtin import resolve
from bwclab.core.profile import load_profile
from bwclab.rig.certificate import Certificate, read_certificate
from bwclab.sim.profile import apply_profile
from bwclab.sim.replicate import run_reps
from bwclab.sim.runfolder import prepare_run_folder, write_run
from bwclab.sim.scenario import load_scenario

SCENARIO = "hartford-patrol-shift"
VARIANT = "light-bar"  # the deployment a department weighing auto-activation would look at first
REPS = 20


def run_demo(
    out: Path,
    bench: str,
    spec: str,
    certify_progress: Callable[[], AbstractContextManager[Tick]],
    progress: Callable[[str], AbstractContextManager[Callable[[float], None]]],
    show: Callable[[dict[str, Any], Path], None],
    show_certificate: Callable[[Certificate, Path], None],
) -> tuple[int, dict[str, Any]]:
    cert_dir = out / time.strftime("certify-%Y%m%d-%H%M%S")
    with certify_progress() as tick:
        rc = certify(bench, spec, None, None, cert_dir, resume=False, tick=tick)
    show_certificate(read_certificate(cert_dir / "measurements.json"), cert_dir)
    sc = load_scenario(resolve("scenario", SCENARIO), variant=VARIANT)
    serial = "CAM001"
    profile = cert_dir / serial / "profile.yaml"
    label = f"shift: {sc.name}"
    if profile.exists():
        sc = apply_profile(sc, load_profile(profile))
        label += f" with {serial}'s measured profile"
    with progress(label) as frac:
        first, summaries = run_reps(sc, sc.seed, REPS, 1, frac)
    folder = out / SCENARIO
    prepare_run_folder(folder, overwrite=True)  # the demo's own folder: each run replaces the last
    summary = write_run(first, summaries, folder, sc.seed)
    show(summary, folder)
    return rc, summary
