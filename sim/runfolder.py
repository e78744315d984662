"""A run folder: summary.json, incidents.csv, activations.csv and the plots, for one shift."""

from __future__ import annotations

import csv
import json
import math
import os
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from core.config import ConfigError
from sim.metrics import OfficerOnScene, officers_on_scene, summarize
from sim.model import ShiftResult
from sim.records import ActivationRow


def _fmt(v: Any) -> Any:
    if isinstance(v, float):
        return "" if math.isnan(v) else f"{v:.6f}"
    if isinstance(v, bool):
        return int(v)
    return v


def write_csv(path: Path, header: list[str], rows: list[dict[str, Any]]) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=header, lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: _fmt(v) for k, v in r.items()})
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)


def write_json(path: Path, data: Any) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    tmp.replace(path)


RUN_FILES = ("summary.json", "incidents.csv", "activations.csv", "scenario.json", "timeline.png", "coverage.png")


def prepare_run_folder(out: Path, overwrite: bool) -> None:
    """Refuse a file where a folder is expected, and a folder a previous run wrote (unless `overwrite`, which
    empties it of that run's files, so no stale plot survives beside new results)."""
    if out.exists() and not out.is_dir():
        raise ConfigError(out, ["--out names a file; a run folder is expected"])
    previous = [out / f for f in RUN_FILES if (out / f).exists()]
    if previous and not overwrite:
        raise ConfigError(out, ["already holds a run (summary.json, ...): choose a new --out, or pass --overwrite"])
    for f in previous:
        f.unlink()


def write_run(res: ShiftResult, out: Path, plots: bool = True) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    rows = officers_on_scene(res)
    summary = summarize(res, rows)
    write_json(out / "summary.json", summary)
    write_csv(out / "incidents.csv", [f.name for f in fields(OfficerOnScene)], [asdict(r) for r in rows])
    write_csv(out / "activations.csv", [f.name for f in fields(ActivationRow)],
              [asdict(a) for a in res.activations])
    write_json(out / "scenario.json", res.scenario.model_dump(mode="json"))
    if plots:
        from sim.plots import coverage_plot, timeline_plot

        timeline_plot(res, out / "timeline.png")
        coverage_plot(res, rows, summary, out / "coverage.png")
    return summary
