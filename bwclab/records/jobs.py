"""`bwclab sim calibrate` and `bwclab sim backtest` as jobs: every input checked (the scenario, the maps, each
row of each export) before anything is written; then the folder's files."""

from __future__ import annotations

import gc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bwclab.core.builtin import resolve
from bwclab.core.outfolder import refuse_previous
from bwclab.records.backtest import RepsFile, compare, run_periods
from bwclab.records.calibrated import calibrated_scenario
from bwclab.records.calibration import Records, calibrate, read_records
from bwclab.records.calltypes import load_types
from bwclab.records.columns import load_columns
from bwclab.records.outputs import BACKTEST_FILES, CALIBRATION_FILES, clear, write_json, write_text
from bwclab.records.pages import backtest_page, calibration_page
from bwclab.records.problems import RecordsError
from bwclab.sim.scenario import Scenario, load_scenario


@dataclass
class Inputs:
    scenario_path: Path
    scenario: Scenario
    records: Records


def read_inputs(scenario: str, cad: Path, audit: Path | None, columns: str | None, types: str | None) -> Inputs:
    """The scenario, the maps and the records, all checked. Python's cyclic collector is paused while the exports
    are read: millions of cells are made and dropped, none in a reference cycle, and its passes over the growing
    tables cost a third of the reading."""
    path = resolve("scenario", scenario)
    sc = load_scenario(path)
    cols, cols_path = load_columns(columns)
    type_map = load_types(types, list(sc.call_types))
    was_on = gc.isenabled()
    gc.disable()
    try:
        return Inputs(path, sc, read_records(cad, audit, cols, cols_path, type_map))
    finally:
        if was_on:
            gc.enable()


def run_calibrate(scenario: str, cad: Path, audit: Path | None, out: Path, columns: str | None, types: str | None,
                  overwrite: bool) -> dict[str, Any]:
    refuse_previous(out, overwrite, CALIBRATION_FILES, "calibration")
    got = read_inputs(scenario, cad, audit, columns, types)
    cal, samples = calibrate(got.records, got.scenario_path)
    text, _ = calibrated_scenario(got.scenario_path, cal)
    clear(out, CALIBRATION_FILES)
    write_text(out / "calibrated.yaml", text)
    cal["records"]["scenario_written"] = str(out / "calibrated.yaml")
    write_json(out / "calibration.json", cal)
    write_text(out / "calibration.html", calibration_page(cal, samples))
    return cal


def run_backtest(scenario: str, cad: Path, audit: Path, out: Path, columns: str | None, types: str | None,
                 reps: int, seed: int | None, workers: int, overwrite: bool,
                 progress: Callable[[float], None] | None = None) -> dict[str, Any]:
    refuse_previous(out, overwrite, BACKTEST_FILES, "backtest")
    got = read_inputs(scenario, cad, audit, columns, types)
    if "unit" not in got.records.cad.mapped and not got.records.audit.has_call_id:  # type: ignore[union-attr]
        raise RecordsError(cad, ["neither a unit in the CAD export nor a call id in the audit export: no recording "
                                 "can be joined to a response"])
    start_hour, hours = got.records.cad.period_hours()
    period = load_scenario(got.scenario_path, [f"shift.start_hour={start_hour}", f"shift.duration_h={hours}"])
    run_seed = period.seed if seed is None else seed
    clear(out, BACKTEST_FILES)
    out.mkdir(parents=True, exist_ok=True)
    periods = run_periods(period, run_seed, reps, workers, RepsFile(out / "backtest_reps.csv"), progress)
    bt = compare(got.records, periods, period, run_seed)
    bt["scenario_file"] = str(got.scenario_path)
    write_json(out / "backtest.json", bt)
    write_text(out / "backtest.html", backtest_page(bt))
    return bt
