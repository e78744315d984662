"""The rig's measurements against the emulator's truth log, and its pace (`--only rig`).

One certification run on the quick emulated bench (fixtures/emulated.yaml: 3 cameras, 3 s
broadcast) with light-bar latency and coverage only, then, from `trials.sqlite` and the
emulator's `truth.jsonl` in the same run folder:
- latency error per trial: the rig's figure minus the truth (indicator rising edge minus trigger
  line rising edge, host ns), through the scope (CAM001) and through the GPIO path (all cameras);
- r95 of each camera's fitted curve (with its 95% CI), and of all three pooled (identical emulated
  units), against the emulator's true curve, after as many broadcasts as the default spec's
  coverage requirement asks (fixtures/requirements/default.yaml);
- coverage pace: camera-trials per hour against the bound cameras x 3600 / broadcast_s.
Targets: p99 |error| <= 1 ms scope, <= 10 ms GPIO; r95 within 2 ft; pace >= 90%.
Also the adaptive design against a fixed grid on the same true curve, over many simulated runs
(coverage_design.py): one run of three cameras shows little about a distribution of errors.
"""

from __future__ import annotations

import json
import math
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from benchmarks import coverage_design
from bwclab.bench.description import load_bench
from bwclab.commands.certify import certify
from bwclab.rig.stats import fit_probit

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "fixtures" / "emulated.yaml"


def spec(path: Path, latency_trials: int, coverage_trials: int, target_ft: float = 0.0) -> Path:
    cov: dict[str, Any] = {"trigger": "light_bar", "at_ft": 30}
    reqs: list[dict[str, Any]] = []
    if latency_trials:
        reqs.append({"id": "LAT", "text": "latency", "procedure": "latency", "params": {"trigger": "light_bar"},
                     "quantity": "p95", "limit": {"max": 1.0}, "units": "s", "trials": latency_trials})
    if target_ft:
        cov["target_ft"] = target_ft
    reqs.append({"id": "COV", "text": "coverage", "procedure": "coverage", "params": cov,
                 "quantity": "p_at", "measure": {"at_ft": 30}, "limit": {"min": 0.95}, "judge": "lower",
                 "trials": coverage_trials})
    path.write_text(yaml.safe_dump({"name": "accuracy", "requirements": reqs}))
    return path


def pct(x: list[float]) -> dict[str, float]:
    a = np.abs(np.asarray(x))
    return {"n": len(a), "p50": float(np.median(a)), "p99": float(np.percentile(a, 99)), "max": float(a.max())}


def default_coverage_trials() -> int:
    spec = yaml.safe_load((ROOT / "fixtures" / "requirements" / "default.yaml").read_text())
    return int(next(r["trials"] for r in spec["requirements"] if r["procedure"] == "coverage"))


def _certify(latency_trials: int, coverage_trials: int, target_ft: float = 0.0
             ) -> tuple[int, list[dict[str, Any]], list[tuple[str, str, int, int]]]:
    """One certification of the emulated bench: its exit code, the truth log and the ok trials."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        rc = certify(BENCH, spec(Path(tmp) / "spec.yaml", latency_trials, coverage_trials, target_ft), None, None,
                     out, False)
        truth = [json.loads(x) for x in (out / "bench" / "session-1" / "truth.jsonl").read_text().splitlines() if x]
        with sqlite3.connect(out / "trials.sqlite") as db:
            rows = db.execute("SELECT key, result, started_ns, ended_ns FROM trials WHERE status = 'ok' "
                              "ORDER BY id").fetchall()
    return rc, truth, rows


def coverage_obs(rows: list[tuple[str, str, int, int]], cameras: list[str]) -> dict[str, list[tuple[float, bool]]]:
    cov: dict[str, list[tuple[float, bool]]] = {s: [] for s in cameras}
    for key, res, _, _ in rows:
        if key.startswith("coverage"):
            cams = json.loads(res)["cameras"]
            for s in cameras:
                if s in cams:  # not a camera dropped from this step
                    cov[s].append((cams[s]["distance_ft"], cams[s]["activated"]))
    return cov


def r95_errors(cov: dict[str, list[tuple[float, bool]]], truth_ft: float) -> dict[str, Any]:
    """Each camera's fitted r95 (profile-likelihood 95% CI) against the true curve, and the pooled fit's."""
    out: dict[str, Any] = {}
    for s, obs in cov.items():
        fit = fit_probit([d for d, _ in obs], [y for _, y in obs])
        est = None if fit is None else fit.radius(0.95)
        out[s] = None if est is None else {
            "broadcasts": len(obs), "error": est.value - truth_ft, "ci_low": est.low, "ci_high": est.high,
            "within_2ft": bool(abs(est.value - truth_ft) <= 2.0),
            "ci_holds_truth": bool(est.low is not None and est.high is not None and est.low <= truth_ft <= est.high)}
    pooled = fit_probit([d for obs in cov.values() for d, _ in obs], [y for obs in cov.values() for _, y in obs])
    out["pooled_error"] = None if pooled is None else pooled.radius(0.95).value - truth_ft
    return out


def precision(target_ft: float = 2.0, cap: int = 800) -> dict[str, Any]:
    """Coverage alone, run until every camera's r95 CI is within +/-`target_ft` (the procedure's
    stopping rule, `target_ft` in a spec), at most `cap` broadcasts: what r95 within 2 ft costs."""
    bench = load_bench(BENCH)
    t0 = time.perf_counter()
    rc, _, rows = _certify(0, cap, target_ft)
    cov = coverage_obs(rows, list(bench.cameras))
    return {"certify_exit": rc, "target_ft": target_ft, "cap": cap, "wall_min": (time.perf_counter() - t0) / 60,
            "broadcasts": sum(1 for row in rows if row[0].startswith("coverage")),
            "r95_ft": r95_errors(cov, coverage_design.TRUE_R95)}


def run(latency_trials: int = 30, coverage_trials: int | None = None, seeds: int = 200,
        precise: bool = True) -> dict[str, Any]:
    coverage_trials = coverage_trials or default_coverage_trials()
    bench = load_bench(BENCH)
    assert bench.emulate is not None
    rc, truth, rows = _certify(latency_trials, coverage_trials)
    line_up = sorted(r["t_ns"] for r in truth if r["event"] == "line" and r["line"] == "numato0:0" and r["level"])
    ind = {s: sorted(r["t_ns"] for r in truth if r["event"] == "line" and r["line"] == c.indicator and r["level"])
           for s, c in bench.cameras.items()}
    scope_err, gpio_err = [], []
    for key, res, _, _ in rows:
        if key.startswith("latency"):
            step = json.loads(res)
            trig = next(t for t in line_up if t >= step["shared"]["fired_ns"])
            r = step["cameras"]
            for s in bench.cameras:
                if s not in r or r[s]["gpio_s"] is None:
                    continue
                edge = next(t for t in ind[s] if t >= trig)
                truth_s = (edge - trig) / 1e9
                gpio_err.append(r[s]["gpio_s"] - truth_s)
                if r[s].get("scope_s") is not None:
                    scope_err.append(r[s]["scope_s"] - truth_s)
    cov = coverage_obs(rows, list(bench.cameras))
    cov_rows = [row for row in rows if row[0].startswith("coverage")]
    em = bench.emulate.emitters
    hours = (cov_rows[-1][3] - cov_rows[0][2]) / 3.6e12 if cov_rows else 0.0
    camera_trials = sum(len(v) for v in cov.values())
    bound = len(bench.cameras) * 3600 / em.broadcast_s
    return {
        "certify_exit": rc,
        "latency_error_ms": {"scope": pct([e * 1e3 for e in scope_err]), "gpio": pct([e * 1e3 for e in gpio_err])},
        "true_r95_ft": coverage_design.TRUE_R95,
        "coverage_broadcasts": coverage_trials,
        "r95_ft": r95_errors(cov, coverage_design.TRUE_R95),
        "coverage_pace": {"camera_trials": camera_trials, "per_hour": camera_trials / hours if hours else math.nan,
                          "bound_per_hour": bound, "ratio": camera_trials / hours / bound if hours else math.nan,
                          "broadcast_s": em.broadcast_s, "settle_s": bench.rig.settle_s},
        "r95_within_2ft_run": precision() if precise else "skipped (--quick)",
        "design": coverage_design.compare(seeds=seeds, checkpoints=tuple(sorted({60, 90, 120, coverage_trials}))),
    }
