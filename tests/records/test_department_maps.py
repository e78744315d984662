"""The column maps shipped for public CAD schemas (Seattle, New Orleans, Detroit, Cincinnati) read exports with
those departments' own column names and time formats; a department's priorities and recording reasons map to
ours."""

from __future__ import annotations

from pathlib import Path

import pytest

from bwclab.core.config import ConfigError
from bwclab.records.calibration import calibrate, read_records
from bwclab.records.calltypes import TypeMap
from bwclab.records.columns import ColumnMap, builtin_maps, load_columns
from tests.records.records import write_csv

TYPES = TypeMap(["service", "disturbance"], {"ALARM": "service", "FIGHT": "disturbance"})

EXPORTS: dict[str, tuple[list[str], list[list[str]]]] = {
    "seattle": (["CAD Event Number", "Initial Call Type", "Final Call Type", "Priority", "Original Time Queued",
                 "Arrived Time", "Beat"],
                [["2026000101", "x", "ALARM", "3", "03/02/2026 08:00:00 AM", "03/02/2026 08:09:30 AM", "K1"],
                 ["2026000102", "x", "FIGHT", "1", "2026-03-02T20:00:00", "2026-03-02T20:04:00", "K2"]]),
    "new-orleans": (["NOPD_Item", "InitialTypeText", "InitialPriority", "TimeCreate", "TimeDispatch", "TimeArrive",
                     "TimeClosed", "SelfInitiated", "Disposition"],
                    [["A0001-26", "ALARM", "1A", "03/02/2026 08:00:00 AM", "03/02/2026 08:01:00 AM",
                      "03/02/2026 08:09:30 AM", "03/02/2026 08:39:30 AM", "N", "RTF"],
                     ["A0002-26", "FIGHT", "2B", "03/02/2026 08:00:00 PM", "03/02/2026 08:00:30 PM",
                      "03/02/2026 08:04:00 PM", "03/02/2026 09:04:00 PM", "N", "GOA"]]),
    "detroit": (["incident_id", "calldescription", "priority", "call_timestamp", "dispatchtime", "traveltime",
                 "time_on_scene", "officerinitiated"],
                [["1", "ALARM", "3", "2026/03/02 08:00:00", "1", "8.5", "30", "No"],
                 ["2", "FIGHT", "1", "2026/03/02 20:00:00", "0.5", "3.5", "60", "No"]]),
    "cincinnati": (["EVENT_NUMBER", "INCIDENT_TYPE_DESC", "PRIORITY", "CREATE_TIME_INCIDENT",
                    "DISPATCH_TIME_PRIMARY_UNIT", "ARRIVAL_TIME_PRIMARY_UNIT", "CLOSED_TIME_INCIDENT"],
                   [["CPD26000001", "ALARM", "3", "03/02/2026 08:00:00 AM", "03/02/2026 08:01:00 AM",
                     "03/02/2026 08:09:30 AM", "03/02/2026 08:39:30 AM"],
                    ["CPD26000002", "FIGHT", "1", "03/02/2026 08:00:00 PM", "03/02/2026 08:00:30 PM",
                     "03/02/2026 08:04:00 PM", "03/02/2026 09:04:00 PM"]]),
}


def test_every_public_schema_has_a_shipped_map() -> None:
    assert builtin_maps() == sorted(EXPORTS)


@pytest.mark.parametrize("name", sorted(EXPORTS))
def test_a_shipped_map_reads_its_departments_export(tmp_path: Path, name: str) -> None:
    header, rows = EXPORTS[name]
    columns, path = load_columns(name)
    assert path is not None and path.name == f"columns-{name}.yaml"
    rec = read_records(write_csv(tmp_path / "cad.csv", header, rows), None, columns, path, TYPES)
    cad = rec.cad
    assert cad.calls == 2 and cad.responses == 2 and "unit" not in cad.mapped
    assert [cad.types[k] for k in cad.call_type] == ["service", "disturbance"]
    assert cad.hour.tolist() == [8, 20]
    assert (cad.arrived - cad.received).tolist() == [570.0, 240.0]  # 9.5 and 4 minutes, however written
    emergency = cad.emergency_priorities[cad.priority].tolist()
    assert emergency == [False, True]
    cal, _ = calibrate(rec, tmp_path / "base.yaml")
    assert cal["call_types"]["service"]["units"] == {"mean": None, "ci_low": None, "ci_high": None, "n": 0,
                                                     "not_exported": "unit"}  # a row per call: never "1 unit"
    assert cal["call_types"]["disturbance"]["emergency"]["mean"] == 1.0
    if "cleared" in cad.mapped:
        assert cal["call_types"]["disturbance"]["time_on_scene_min"]["mean"] == pytest.approx(60.0)
    else:  # no clearing time: no time on scene to fit, and nothing invented
        assert cal["call_types"]["disturbance"]["time_on_scene_min"]["mean"] is None


def test_a_priority_with_letters_belongs_to_its_number() -> None:
    m = ColumnMap.model_validate({"emergency_priorities": ["2", 0]})
    assert [m.is_emergency(p) for p in ("2", "2A", "2B", " 2C ", "20", "1A", "0", "0A", "3")] == [
        True, True, True, True, False, False, True, True, False]


def test_a_departments_recording_reasons_map_to_ours(tmp_path: Path) -> None:
    columns = ColumnMap.model_validate({"triggers": {"Signal - Light Bar": "light_bar", "Button Press": "manual",
                                                     "": "manual"}})
    cad = write_csv(tmp_path / "cad.csv", ["call_id", "call_type", "priority", "received", "dispatched", "arrived",
                                           "cleared", "unit"],
                    [["C1", "ALARM", "2", "2026-03-02T08:00:00", "2026-03-02T08:01:00", "2026-03-02T08:09:00",
                      "2026-03-02T08:39:00", "U1"]])
    audit = write_csv(tmp_path / "audit.csv", ["recording_id", "officer", "started", "ended", "trigger"],
                      [["R1", "U1", "2026-03-02T08:01:05", "2026-03-02T08:39:00", "Signal - Light Bar"],
                       ["R2", "U1", "2026-03-02T09:00:00", "2026-03-02T09:05:00", "button press"],
                       ["R3", "U1", "2026-03-02T10:00:00", "2026-03-02T10:05:00", ""]])
    rec = read_records(cad, audit, columns, None, TYPES)
    assert rec.audit is not None and rec.audit.cause_counts()["light_bar"] == 1
    assert rec.audit.cause_counts()["manual"] == 2 and not rec.audit.has_call_id


def test_an_unknown_map_name_lists_the_shipped_ones() -> None:
    with pytest.raises(ConfigError, match="no shipped column map of that name \\(shipped: cincinnati, detroit, "
                                          "new-orleans, seattle\\)"):
        load_columns("boston")


def test_times_with_offsets_are_placed_by_their_offset_and_keep_their_clock_hour(tmp_path: Path) -> None:
    cad = write_csv(tmp_path / "cad.csv", ["call_id", "call_type", "priority", "received", "dispatched", "arrived",
                                           "cleared", "unit"],
                    [["C1", "ALARM", "2", "2026-03-08T01:50:00-05:00", "2026-03-08T01:55:00-05:00",
                      "2026-03-08T03:05:00-04:00", "2026-03-08T03:35:00-04:00", "U1"]])  # across a clock change
    rec = read_records(cad, None, ColumnMap(), None, TYPES)
    assert rec.cad.hour.tolist() == [1] and rec.cad.aware
    assert float(rec.cad.arrived[0] - rec.cad.received[0]) == 15 * 60.0
