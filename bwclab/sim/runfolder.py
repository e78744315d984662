"""A run folder: summary.json, reps.csv, officers.csv, incidents.csv, activations.csv and the plots.

summary.json's `wall_s` is the wall-clock time of all the replications, and its `device` the camera a
measured profile modelled (model, serial, firmware, the certificate's grade, the profile file), or null."""

from __future__ import annotations

import csv
import json
import math
import os
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from bwclab.core.outfolder import atomic_write, refuse_previous
from bwclab.core.profile import DeviceProfile
from bwclab.sim.fixes import FixRow
from bwclab.sim.metrics import CAUSES, OfficerOnScene, OfficerShift, officers_on_scene
from bwclab.sim.model import ShiftResult
from bwclab.sim.records import ActivationRow
from bwclab.sim.replicate import HEADLINE, aggregate


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
    atomic_write(path, json.dumps(data, indent=2, sort_keys=False) + "\n")


RUN_FILES = ("summary.json", "reps.csv", "incidents.csv", "activations.csv", "scenario.json", "timeline.png",
             "coverage.png", "compare.json", "compare.png", "run.log", "officers.csv", "fixes.csv")


def device_record(prof: DeviceProfile, source: Path | None = None) -> dict[str, Any]:
    """The device a profile models, as a run folder records it: model, serial, firmware, the grade of the
    certificate that measured it (when the profile says), and the profile file."""
    d = prof.device
    record: dict[str, Any] = {"model": d.model, "serial": d.serial, "firmware": d.firmware}
    grade = getattr(prof.measured, "grade", None)
    if grade not in (None, "unknown"):
        record["grade"] = grade
    if source is not None:
        record["profile"] = str(source)
    return record


def device_name(record: dict[str, Any]) -> str:
    """`MODEL SERIAL (firmware F)`: what a table, a legend or compare.json calls the device."""
    name = " ".join(str(record[k]) for k in ("model", "serial") if record.get(k))
    return name + (f" (firmware {record['firmware']})" if record.get("firmware") else "")


def prepare_run_folder(out: Path, overwrite: bool) -> None:
    """Refuse a file where a folder is expected, and a folder a previous run wrote (unless `overwrite`). Nothing is
    removed here: the previous run's files go only when the new run's are ready to be written (`clear_run_folder`),
    so a run interrupted before then leaves the previous one whole."""
    refuse_previous(out, overwrite, RUN_FILES, "run")


def clear_run_folder(out: Path, *more: str) -> None:
    """Remove a previous run's files (and `more`), so no stale plot survives beside the new results."""
    for f in (*RUN_FILES, *more):
        (out / f).unlink(missing_ok=True)


def write_run(first: ShiftResult, summaries: list[dict[str, Any]], out: Path, seed: int, plots: bool = True,
              wall_s: float | None = None, device: dict[str, Any] | None = None) -> dict[str, Any]:
    """The run folder of `len(summaries)` replications: summary.json (every figure with its 95% CI over the
    replications), reps.csv (a row per replication), officers.csv (a row per replication and officer: time by
    status, incidents attended, moments captured), and the first replication's incidents, activations
    and timeline. `wall_s`: the replications' wall-clock time as the caller measured it (workers in
    parallel), else the sum of each one's; `device`: `device_record` of the profile applied, if any."""
    out.mkdir(parents=True, exist_ok=True)
    clear_run_folder(out)
    rows = officers_on_scene(first)
    sc = first.scenario
    first_rep = {k: v for k, v in summaries[0].items()
                 if k not in ("wall_s", "by_officer", "fix_rows")}  # by_officer: officers.csv; fix_rows: fixes.csv
    summary = {"scenario": sc.name, "variant": sc.variant, "seed": seed,
               "reps": len(summaries), "rep_seeds": [s["seed"] for s in summaries],
               "events": first.events,
               "wall_s": round(wall_s if wall_s is not None else sum(s["wall_s"] for s in summaries), 4),
               "device": device, **aggregate(summaries), "first_rep": first_rep, "settings": summaries[0]["settings"]}
    write_json(out / "summary.json", summary)
    header = ["rep", "seed", *HEADLINE, *(f"missed_{c}" for c in CAUSES)]
    write_csv(out / "reps.csv", header, [
        {"rep": r, "seed": s["seed"], **{k: s[k] for k in HEADLINE},
         **{f"missed_{c}": s["missed"][c] for c in CAUSES}} for r, s in enumerate(summaries)])
    write_csv(out / "officers.csv", ["rep", "seed", *(f.name for f in fields(OfficerShift))], [
        {"rep": r, "seed": s["seed"], **o} for r, s in enumerate(summaries) for o in s["by_officer"]])
    if all("fix_rows" in s for s in summaries):
        write_csv(out / "fixes.csv", ["rep", *(f.name for f in fields(FixRow))], [
            {"rep": r, **row} for r, s in enumerate(summaries) for row in s["fix_rows"]])
    write_csv(out / "incidents.csv", [f.name for f in fields(OfficerOnScene)], [asdict(r) for r in rows])
    write_csv(out / "activations.csv", [f.name for f in fields(ActivationRow)],
              [asdict(a) for a in first.activations])
    write_json(out / "scenario.json", sc.model_dump(mode="json"))
    if plots:
        from bwclab.sim.plots import coverage_plot, timeline_plot

        timeline_plot(first, out / "timeline.png")
        coverage_plot(first, rows, summary, out / "coverage.png")
    return summary
