"""How recordings are joined to unit responses and what the joins mean: video during a response, compliance
among responses no trigger had started, the press delay from arrival (negative: en route), the triggers a
department fields, and a CAD export with no units joined by call id."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bwclab.core.triggers import TRIGGER_KINDS
from bwclab.records.calibrated import calibrated_scenario
from bwclab.records.calibration import calibrate, read_records
from bwclab.records.calltypes import TypeMap
from bwclab.records.columns import ColumnMap
from tests.records.records import AUDIT_HEADER, BASE, CAD_HEADER, t, write_csv, write_yaml

Rows = list[list[str]]
TYPES = TypeMap(["service", "disturbance"])


def fitted(tmp_path: Path, cad: Rows, audit: Rows, columns: ColumnMap | None = None,
           cad_header: list[str] = CAD_HEADER, audit_header: list[str] = AUDIT_HEADER) -> dict[str, Any]:
    rec = read_records(write_csv(tmp_path / "cad.csv", cad_header, cad),
                       write_csv(tmp_path / "audit.csv", audit_header, audit), columns or ColumnMap(), None, TYPES)
    cal, _ = calibrate(rec, tmp_path / "base.yaml")
    cal["_joined"] = rec.joined
    return cal


# Two calls: C1 (U1 alone), C2 (U1 and U2). U3 is on no call.
CAD: Rows = [
    ["C1", "service", "2", t(2, 8, 0), t(2, 8, 1), t(2, 8, 10), t(2, 8, 40), "U1"],
    ["C2", "disturbance", "1", t(2, 9, 0), t(2, 9, 1), t(2, 9, 8), t(2, 9, 50), "U1"],
    ["C2", "disturbance", "1", t(2, 9, 0), t(2, 9, 1), t(2, 9, 12), t(2, 9, 50), "U2"],
]


def test_an_untagged_recording_of_the_officer_during_the_scene_is_video_of_that_response(tmp_path: Path) -> None:
    audit = [["R1", "U2", t(2, 9, 20), t(2, 9, 50), "manual", ""],  # U2 on C2, no call id
             ["R2", "U3", t(2, 8, 15), t(2, 8, 30), "manual", ""]]  # U3 was on no call: video of nothing
    cal = fitted(tmp_path, CAD, audit)
    assert cal["_joined"].with_video.tolist() == [False, False, True]
    assert cal["records"]["recordings_by_time"] == 1 and cal["records"]["recordings_during_no_response"] == 1


def test_a_recording_before_arrival_or_after_clearing_is_not_video_of_the_response(tmp_path: Path) -> None:
    audit = [["R1", "U1", t(2, 8, 2), t(2, 8, 9), "manual", "C1"],  # ends before U1 arrives at C1
             ["R2", "U1", t(2, 9, 51), t(2, 9, 59), "manual", ""]]  # after C2 cleared
    assert fitted(tmp_path, CAD, audit)["_joined"].with_video.tolist() == [False, False, False]


def test_a_recording_running_from_dispatch_through_the_scene_is_video(tmp_path: Path) -> None:
    audit = [["R1", "U1", t(2, 9, 1), t(2, 9, 50), "light_bar", ""]]
    cal = fitted(tmp_path, CAD, audit)
    assert cal["_joined"].with_video.tolist() == [False, True, False]


def test_compliance_counts_presses_before_clearing_among_responses_no_trigger_had_started(tmp_path: Path) -> None:
    cad = [*CAD, ["C3", "service", "2", t(2, 10, 0), t(2, 10, 1), t(2, 10, 10), t(2, 10, 40), "U2"],
           ["C4", "service", "2", t(2, 11, 0), t(2, 11, 1), t(2, 11, 10), t(2, 11, 40), "U2"]]
    audit = [["R1", "U1", t(2, 8, 12), t(2, 8, 40), "manual", "C1"],  # C1: pressed 2 min after arrival
             ["R2", "U1", t(2, 9, 1), t(2, 9, 50), "light_bar", "C2"],  # C2/U1: a trigger first: not counted
             ["R3", "U1", t(2, 9, 20), t(2, 9, 50), "manual", "C2"],
             ["R4", "U2", t(2, 10, 5), t(2, 10, 40), "manual", "C3"],  # C3: pressed en route, 5 min early
             ["R5", "U2", t(2, 10, 20), t(2, 10, 40), "taser", "C3"]]  # ... a taser later does not undo it
    cal = fitted(tmp_path, cad, audit)  # C2/U2 and C4 never pressed
    assert cal["compliance"]["service"]["mean"] == pytest.approx(2 / 3)  # C1, C3 of C1, C3, C4
    assert cal["compliance"]["service"]["n"] == 3
    assert cal["compliance"]["disturbance"]["n"] == 1 and cal["compliance"]["disturbance"]["mean"] == 0.0
    press = cal["press_delay_s"]
    assert press["n"] == 2 and press["en_route_routine"]["mean"] == 0.5  # both routine responses
    assert press["en_route"]["n"] == 0  # no press on a priority response
    assert press["p50"] == pytest.approx((120 - 300) / 2)  # +120 s and -300 s


def test_a_press_after_clearing_is_not_compliance(tmp_path: Path) -> None:
    audit = [["R1", "U1", t(2, 8, 41), t(2, 8, 50), "manual", "C1"]]
    cal = fitted(tmp_path, CAD[:1], audit)
    assert cal["compliance"]["service"]["mean"] == 0.0 and cal["compliance"]["service"]["n"] == 1


def test_triggers_are_the_recording_reasons_seen_and_none_is_manual_only(tmp_path: Path) -> None:
    manual = fitted(tmp_path, CAD, [["R1", "U1", t(2, 8, 12), t(2, 8, 40), "manual", "C1"]])
    assert manual["triggers"]["fielded"] == [] and manual["triggers"]["manual_only"]
    write_yaml(tmp_path / "base.yaml", BASE)
    text, scenario = calibrated_scenario(tmp_path / "base.yaml", manual)
    assert scenario.signal.triggers == [] and "no triggered recording: manual-only" in text
    seen = fitted(tmp_path, CAD, [["R1", "U1", t(2, 8, 2), t(2, 8, 40), "door", "C1"],
                                  ["R2", "U2", t(2, 9, 2), t(2, 9, 50), "holster", ""],
                                  ["R3", "U2", t(2, 12, 2), t(2, 12, 9), "crash", ""]])
    fieldable = [k for k in ("holster", "door", "crash") if k in TRIGGER_KINDS]  # the scenario's vocabulary
    assert seen["triggers"]["fielded"] == fieldable and "holster" in fieldable
    assert seen["triggers"]["not_in_scenario"] == [k for k in ("door", "crash") if k not in TRIGGER_KINDS]
    text, scenario = calibrated_scenario(tmp_path / "base.yaml", seen)
    assert scenario.signal.triggers == fieldable
    assert ("cannot field yet: " in text) == bool(seen["triggers"]["not_in_scenario"])


def test_a_cad_export_without_units_joins_recordings_by_call(tmp_path: Path) -> None:
    header = [h for h in CAD_HEADER if h != "unit"]
    cad = [r[:7] for r in CAD[:2]]
    audit = [["R1", "someone", t(2, 9, 10), t(2, 9, 50), "manual", "C2"],
             ["R2", "someone", t(2, 8, 15), t(2, 8, 30), "manual", ""]]  # no call id, no unit: joins nothing
    cal = fitted(tmp_path, cad, audit, ColumnMap.model_validate({"cad": {"unit": None}}), header)
    assert cal["_joined"].with_video.tolist() == [False, True]
    assert cal["records"]["recordings_by_call"] == 1 and cal["records"]["recordings_during_no_response"] == 1


def test_units_per_call_and_time_on_scene_are_per_call(tmp_path: Path) -> None:
    cal = fitted(tmp_path, CAD, [["R1", "U1", t(2, 8, 12), t(2, 8, 40), "manual", "C1"]])
    assert cal["call_types"]["disturbance"]["units"]["distribution"] == {2: 1.0}
    assert cal["call_types"]["disturbance"]["time_on_scene_min"]["mean"] == pytest.approx(42.0)  # 9:08 to 9:50
    assert cal["call_types"]["service"]["share"]["mean"] == 0.5


def test_without_an_audit_export_the_cameras_are_left_as_the_base_has_them(tmp_path: Path) -> None:
    rec = read_records(write_csv(tmp_path / "cad.csv", CAD_HEADER, CAD), None, ColumnMap(), None, TYPES)
    cal, _ = calibrate(rec, tmp_path / "base.yaml")
    assert "compliance" not in cal and "triggers" not in cal and rec.joined is None
    write_yaml(tmp_path / "base.yaml", {**BASE, "signal": {"triggers": ["taser"]}})
    text, scenario = calibrated_scenario(tmp_path / "base.yaml", cal)
    assert scenario.camera.manual.compliance.expected() == 0.3 and scenario.signal.triggers == ["taser"]
    assert "manual compliance and triggers: not calibrated (no audit export given)" in text
    assert scenario.calls.per_hour != [1.0] * 24  # the calls are calibrated all the same
