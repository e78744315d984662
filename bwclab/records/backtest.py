"""A scenario held against the records it should stand for: the share of officer responses with video during
the response (a recording of the officer's running between arrival and clearing), overall, by call type and by
priority (emergency or routine), as the records show it and as the model predicts it over the records' period.

The records' figure has a 95% Wilson interval, widened by the design effect of officers' responses being alike.
The model's is a 95% prediction interval for one period like the records' (mean +/- t * sd * sqrt(1 + 1/R) over
R replications): where a period of the department would fall if the model were the department. A record
outside it says the model is wrong there (or, one figure in twenty, chance)."""

from __future__ import annotations

import concurrent.futures as cf
import csv
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from bwclab.records import fit
from bwclab.records.calibration import Records, clusters, response_emergency
from bwclab.sim.metrics import officers_on_scene
from bwclab.sim.model import run_shift
from bwclab.sim.replicate import rep_seeds
from bwclab.sim.scenario import Scenario

OBSERVABLE = ("share of officer responses on scene (arrival and clearing known) with a recording of the officer's "
              "running between arrival and clearing")
Counts = dict[str, tuple[int, int]]  # group -> (responses with video, responses)
PRIORITIES = ("emergency", "routine")


def groups_of(call_type: str, emergency: bool) -> tuple[str, str, str]:
    return "overall", f"call_type:{call_type}", f"priority:{'emergency' if emergency else 'routine'}"


def observed(rec: Records) -> dict[str, fit.Figure]:
    j, cad = rec.joined, rec.cad
    assert j is not None
    scene = j.on_scene
    kind = cad.call_type[cad.call]
    em = response_emergency(cad)
    cl = clusters(cad)
    out = {"overall": fit.share(j.with_video[scene], cl[scene])}
    for k, name in enumerate(cad.types):
        mine = scene & (kind == k)
        out[f"call_type:{name}"] = fit.share(j.with_video[mine], cl[mine])
    for flag, name in ((True, "emergency"), (False, "routine")):
        mine = scene & (em == flag)
        out[f"priority:{name}"] = fit.share(j.with_video[mine], cl[mine])
    return out


def one_period(scenario: Scenario, seed: int) -> Counts:
    """One replication of the period: per group, officer responses with video, and responses."""
    res = run_shift(scenario, seed)
    counts: dict[str, list[int]] = {}
    for row in officers_on_scene(res):
        video = not math.isnan(row.activated_s)
        for g in groups_of(row.call_type, res.incidents[row.incident].priority):
            c = counts.setdefault(g, [0, 0])
            c[0] += video
            c[1] += 1
    return {g: (c[0], c[1]) for g, c in counts.items()}


def predicted(shares: list[float | None]) -> fit.Figure:
    x = np.asarray([s for s in shares if s is not None], dtype=float)
    r = len(x)
    if r == 0:
        return {"mean": None, "ci_low": None, "ci_high": None, "n": 0}
    m = float(x.mean())
    if r < 2:
        return {"mean": round(m, 6), "ci_low": None, "ci_high": None, "n": 1}
    half = float(stats.t.ppf(0.975, r - 1) * x.std(ddof=1) * math.sqrt(1 + 1 / r))
    return {"mean": round(m, 6), "ci_low": round(max(0.0, m - half), 6), "ci_high": round(min(1.0, m + half), 6),
            "n": r, "sd": round(float(x.std(ddof=1)), 6)}


def verdict(obs: fit.Figure, pred: fit.Figure) -> str:
    if obs.get("mean") is None or pred.get("ci_low") is None:
        return "not compared"
    if obs["mean"] < pred["ci_low"]:
        return "outside: the model predicts more video than the record shows"
    if obs["mean"] > pred["ci_high"]:
        return "outside: the model predicts less video than the record shows"
    return "inside"


class RepsFile:
    """backtest_reps.csv: a row per replication and group, appended and synced as each replication finishes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with path.open("w", newline="", encoding="utf-8") as fh:
            csv.writer(fh, lineterminator="\n").writerow(["rep", "seed", "group", "with_video", "responses", "share"])

    def add(self, rep: int, seed: int, counts: Counts) -> None:
        with self.path.open("a", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh, lineterminator="\n")
            for g, (k, n) in sorted(counts.items()):
                w.writerow([rep, seed, g, k, n, f"{k / n:.6f}" if n else ""])
            fh.flush()
            os.fsync(fh.fileno())


def run_periods(scenario: Scenario, seed: int, reps: int, workers: int, reps_file: RepsFile,
                progress: Callable[[float], None] | None = None) -> list[Counts]:
    seeds = rep_seeds(seed, reps)
    done: list[Counts] = []

    def record(k: int, counts: Counts) -> None:
        reps_file.add(k, seeds[k], counts)
        done.append(counts)
        if progress:
            progress(len(done) / reps)

    if workers > 1 and reps > 1:
        with cf.ProcessPoolExecutor(max_workers=workers) as pool:
            for k, counts in enumerate(pool.map(one_period, [scenario] * reps, seeds)):
                record(k, counts)
    else:
        for k, s in enumerate(seeds):
            record(k, one_period(scenario, s))
    return done


def compare(rec: Records, periods: list[Counts], scenario: Scenario, seed: int) -> dict[str, Any]:
    obs = observed(rec)

    def pred(group: str) -> fit.Figure:
        shares = [(c[group][0] / c[group][1]) if group in c and c[group][1] else None for c in periods]
        return predicted(shares)

    def entry(group: str) -> dict[str, Any]:
        o, p = obs[group], pred(group)
        return {"with_video": {"observed": o, "predicted": p}, "verdict": verdict(o, p)}

    period = rec.cad.period_hours()
    out: dict[str, Any] = {
        "scenario": scenario.name, "seed": seed, "reps": len(periods),
        "records": {"cad": str(rec.cad.path), "audit": str(rec.audit.path) if rec.audit else None,
                    "start_hour": period[0], "hours": period[1]},
        "observable": OBSERVABLE,
        "intervals": {"observed": "95% Wilson interval, widened by the design effect of clustering by officer",
                      "predicted": "95% prediction interval for one period like the records' over the replications"},
        **entry("overall"),
        "by_call_type": {t: entry(f"call_type:{t}") for t in rec.cad.types},
        "by_priority": {p: entry(f"priority:{p}") for p in PRIORITIES},
    }
    rows = [("overall", out)] + [(f"call type {t}", v) for t, v in out["by_call_type"].items()] + \
        [(f"priority {p}", v) for p, v in out["by_priority"].items()]
    out["outside"] = [name for name, v in rows if v["verdict"].startswith("outside")]
    return out
