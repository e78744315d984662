"""Sweeps: every point of a parameter grid run with the same replications (common random
numbers), on local worker processes or on a Dask cluster."""

from __future__ import annotations

import concurrent.futures as cf
import copy
import csv
import itertools
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bwclab.core.config import ConfigError, apply_overrides, validate
from bwclab.sim.metrics import CAUSES, officers_on_scene, summarize
from bwclab.sim.model import run_shift
from bwclab.sim.replicate import figure_range, mean_ci, rep_seeds
from bwclab.sim.runfolder import write_csv
from bwclab.sim.scenario import Scenario, scenario_data

METRICS = ("capture_rate", "in_frame_rate", "any_camera_rate", "audio_capture_rate", "officer_time_coverage",
           "bystander_activations", "latency_p95_s", "storage_gb")


def parse_vary(items: list[str], source: str) -> list[tuple[str, list[str]]]:
    out = []
    for item in items:
        key, sep, values = item.partition("=")
        vals = [v.strip() for v in values.split(",") if v.strip()]
        if not sep or not key or not vals:
            raise ConfigError(source, [f"--vary {item!r}: expected key=v1,v2,..."])
        out.append((key.strip(), vals))
    return out


def grid(vary: list[tuple[str, list[str]]]) -> list[dict[str, str]]:
    keys = [k for k, _ in vary]
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*(v for _, v in vary))]


def point_scenario(data: dict[str, Any], point: dict[str, str], source: str) -> Scenario:
    d = apply_overrides(copy.deepcopy(data), [f"{k}={v}" for k, v in point.items()], source)
    return validate(Scenario, d, f"{source} with {', '.join(f'{k}={v}' for k, v in point.items())}")


def run_task(data: dict[str, Any], point: dict[str, str], seed: int, source: str) -> dict[str, Any]:
    """One replication at one point; runs in a worker process. Returns its metrics."""
    res = run_shift(point_scenario(data, point, source), seed)
    s = summarize(res, officers_on_scene(res))
    row = {k: s[k] for k in ("capture_rate", "in_frame_rate", "any_camera_rate", "audio_capture_rate",
                             "officer_time_coverage", "bystander_activations", "storage_gb", "incidents", "events",
                             "wall_s")}
    row["latency_p95_s"] = s["latency_s"]["p95"]
    row.update({f"missed_{c}": s["missed"][c] for c in CAUSES})
    return row


@contextmanager
def executor(workers: int, scheduler: str | None) -> Iterator[cf.Executor]:
    if scheduler:
        from distributed import Client

        client = Client(scheduler, timeout="10s")
        try:
            yield client.get_executor()
        finally:
            client.close()
    else:
        with cf.ProcessPoolExecutor(max_workers=workers) as pool:
            yield pool


def run_sweep(
    scenario_path: Path,
    vary: list[str],
    reps: int,
    out: Path,
    seed: int | None = None,
    workers: int = 2,
    scheduler: str | None = None,
    overrides: list[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
    variant: str | None = None,
) -> list[dict[str, Any]]:
    source = str(scenario_path)
    data = scenario_data(scenario_path, variant, overrides)
    points = grid(parse_vary(vary, source))
    base = validate(Scenario, data, source)
    for p in points:  # refuse a bad point before any work starts
        point_scenario(data, p, source)
    seeds = rep_seeds(base.seed if seed is None else seed, reps)
    if out.exists() and not out.is_dir():
        raise ConfigError(out, ["--out names a file; a sweep folder is expected"])
    out.mkdir(parents=True, exist_ok=True)
    keys = list(points[0])
    header = ["point", *keys, "rep", "seed", *METRICS, "incidents", "events", "wall_s",
              *(f"missed_{c}" for c in CAUSES)]
    tasks = [(i, r) for i in range(len(points)) for r in range(reps)]
    rows: list[dict[str, Any]] = []
    partial = out / "sweep.csv.partial"
    with partial.open("w", newline="", encoding="utf-8") as fh, executor(workers, scheduler) as ex:
        w = csv.DictWriter(fh, fieldnames=header, lineterminator="\n")
        w.writeheader()
        futs = {ex.submit(run_task, data, points[i], seeds[r], source): (i, r) for i, r in tasks}
        for n, fut in enumerate(cf.as_completed(futs), 1):
            i, r = futs[fut]
            row = {"point": i, **points[i], "rep": r, "seed": seeds[r], **fut.result()}
            rows.append(row)
            w.writerow(row)  # each replication is on disk as soon as it is done
            fh.flush()
            os.fsync(fh.fileno())
            if progress:
                progress(n, len(tasks))
    rows.sort(key=lambda x: (x["point"], x["rep"]))
    write_csv(out / "sweep.csv", header, [{k: x[k] for k in header} for x in rows])
    partial.unlink()
    summary = summarize_points(rows, points, keys)
    sum_header = ["point", *keys, "reps"] + [f"{m}_{s}" for m in METRICS for s in ("mean", "ci_low", "ci_high")]
    write_csv(out / "sweep_summary.csv", sum_header, summary)
    from bwclab.sim.plots import sweep_plots

    sweep_plots(summary, keys, out)
    return summary


def summarize_points(rows: list[dict[str, Any]], points: list[dict[str, str]], keys: list[str]) -> list[dict[str, Any]]:
    out = []
    for i, p in enumerate(points):
        mine = [r for r in rows if r["point"] == i]
        entry: dict[str, Any] = {"point": i, **p, "reps": len(mine)}
        for m in METRICS:
            got = mean_ci([r[m] for r in mine], *figure_range(m))
            entry.update({f"{m}_mean": got["mean"], f"{m}_ci_low": got["ci_low"], f"{m}_ci_high": got["ci_high"]})
        out.append(entry)
    return out
