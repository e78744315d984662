"""`bwclab sim compare`: the same replications of one scenario with each vendor's measured profile, and
their difference with its 95% CI.

Both profiles see the same calls, scenes and draws (common random numbers). Each replication also
draws each profile's detection curve from its fit's own uncertainty (a, b from the normal with the
fit's covariance, the same standard normal draw for both profiles), so the CI includes what the
certification could not pin down, not only the shifts' variability.

Each device is named by its profile's model, serial and firmware (`device_names`), in the terminal's table,
compare.json and the plot; compare.json also records each profile's file and grade."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bwclab.core.profile import DeviceProfile
from bwclab.sim.profile import apply_profile
from bwclab.sim.replicate import HEADLINE, aggregate, one, paired, rep_seeds
from bwclab.sim.runfolder import device_name, device_record
from bwclab.sim.scenario import ProbitSpec, Scenario
from bwclab.sim.streams import Stream, Streams


def drawn(sc: Scenario, prof: DeviceProfile, seed: int, rep: int) -> Scenario:
    """The scenario with this profile, its curve drawn from the fit's uncertainty for replication `rep`."""
    applied = apply_profile(sc, prof)
    if not prof.detection:
        return applied
    curve = prof.detection.get("light_bar") or next(iter(prof.detection.values()))
    rng = Stream(Streams(seed).key("profile-uncertainty"), rep)
    z = np.array([rng.normal(), rng.normal()])
    cov = np.asarray(curve.cov, dtype=float)
    try:
        chol = np.linalg.cholesky(cov + np.eye(2) * 1e-12)
    except np.linalg.LinAlgError:
        chol = np.zeros((2, 2))
    a, b = np.array([curve.a, curve.b]) + chol @ z
    b = min(float(b), -1e-3)
    det = ProbitSpec(kind="probit", a=float(a), b=b)
    return applied.model_copy(update={"signal": applied.signal.model_copy(update={"detection": det})})


def device_names(profiles: list[tuple[Path, DeviceProfile]]) -> list[str]:
    """Each profile's device as `MODEL SERIAL (firmware F)`; the same device given twice is told apart by
    its place (#1, #2), and a profile naming no model or serial by its file."""
    names = [device_name(device_record(prof)) or str(path) for path, prof in profiles]
    return [f"{n} #{i + 1}" if names.count(n) > 1 else n for i, n in enumerate(names)]


def compare(sc: Scenario, profiles: list[tuple[str, DeviceProfile]], seed: int, reps: int,
            progress: Callable[[float], None] | None = None, sources: list[Path] | None = None) -> dict[str, Any]:
    seeds = rep_seeds(seed, reps)
    runs: dict[str, list[dict[str, Any]]] = {}
    total, done = len(profiles) * reps, 0
    for name, prof in profiles:
        runs[name] = []
        for r, s in enumerate(seeds):
            runs[name].append(one(drawn(sc, prof, seed, r), s))
            done += 1
            if progress:
                progress(done / total)
    names = [n for n, _ in profiles]
    base = names[0]
    files: list[Path | None] = list(sources) if sources is not None else [None] * len(profiles)
    measured = {n: {"device": device_record(p, f), **aggregate(runs[n])}
                for (n, p), f in zip(profiles, files, strict=True)}
    out: dict[str, Any] = {"scenario": sc.name, "variant": sc.variant, "seed": seed, "reps": reps,
                           "profiles": measured, "differences": {}}
    for other in names[1:]:
        out["differences"][f"{other} - {base}"] = {k: paired(runs[base], runs[other], k) for k in HEADLINE}
    return out


def plot(result: dict[str, Any], path: Any) -> None:
    from matplotlib.figure import Figure

    figures = ("capture_rate", "in_frame_rate", "any_camera_rate")
    names = list(result["profiles"])
    fig = Figure(figsize=(8, 4))
    ax = fig.subplots()
    width = 0.8 / len(names)
    for i, n in enumerate(names):
        got = [result["profiles"][n]["figures"][f] for f in figures]
        means = [g["mean"] or 0.0 for g in got]
        errs = [[m - (g["ci_low"] if g["ci_low"] is not None else m) for m, g in zip(means, got, strict=True)],
                [(g["ci_high"] if g["ci_high"] is not None else m) - m for m, g in zip(means, got, strict=True)]]
        ax.bar([k + i * width for k in range(len(figures))], means, width, yerr=errs, capsize=3, label=n)
    ax.set_xticks([k + width * (len(names) - 1) / 2 for k in range(len(figures))], [f.replace("_", " ")
                                                                                     for f in figures])
    ax.set_ylim(0, 1.02)
    ax.set_ylabel(f"mean over {result['reps']} replications, 95% CI")
    diffs = "; ".join(f"{k}: capture {v['capture_rate']['mean']:+.3f} [{_fmt(v['capture_rate']['ci_low'])}, "
                      f"{_fmt(v['capture_rate']['ci_high'])}]" for k, v in result["differences"].items())
    ax.set_title(f"{result['scenario']}: {diffs}", fontsize=8)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def _fmt(x: float | None) -> str:
    return "n/a" if x is None or math.isnan(x) else f"{x:+.3f}"
