"""Bad records are refused by the command a user runs: exit 2, the file, the row and the column named, never a
traceback, nothing written. Rows that are merely odd are counted and reported, not refused.

tests/bad_inputs/ holds YAML files driven through one test per kind of file; a records case is a pair of CSV
exports (and maybe a map), so the cases live here, each an edit of one small valid pair."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bwclab.cli import app
from tests.records.records import AUDIT_HEADER, BASE, CAD_HEADER, bwclab, t, write_csv, write_yaml

Rows = list[list[str]]
CAD: Rows = [
    ["C1", "service", "2", t(2, 8, 0), t(2, 8, 1), t(2, 8, 10), t(2, 8, 40), "U1"],
    ["C2", "disturbance", "1", t(2, 9, 0), t(2, 9, 1), t(2, 9, 8), t(2, 9, 50), "U1"],
    ["C2", "disturbance", "1", t(2, 9, 0), t(2, 9, 1), t(2, 9, 12), t(2, 9, 50), "U2"],
]
AUDIT: Rows = [
    ["R1", "U1", t(2, 8, 11), t(2, 8, 40), "manual", "C1"],
    ["R2", "U1", t(2, 9, 1), t(2, 9, 50), "light_bar", ""],
]


def cell(rows: Rows, row: int, column: str, value: str, header: list[str] = CAD_HEADER) -> Rows:
    out = [list(r) for r in rows]
    out[row][header.index(column)] = value
    return out


# name: (what to change, the words the refusal must hold)
Case = tuple[Callable[[Path], dict[str, Path]], str]


def cad_rows(rows: Rows, header: list[str] = CAD_HEADER) -> Callable[[Path], dict[str, Path]]:
    return lambda d: {"cad": write_csv(d / "cad.csv", header, rows)}


def audit_rows(rows: Rows, header: list[str] = AUDIT_HEADER) -> Callable[[Path], dict[str, Path]]:
    return lambda d: {"audit": write_csv(d / "audit.csv", header, rows)}


def raw(name: str, data: bytes) -> Callable[[Path], dict[str, Path]]:
    def make(d: Path) -> dict[str, Path]:
        (d / f"{name}.csv").write_bytes(data)
        return {name: d / f"{name}.csv"}
    return make


CASES: dict[str, Case] = {
    "missing-column": (cad_rows([r[:7] for r in CAD], CAD_HEADER[:7]), "missing column 'unit' (unit); the header has"),
    "unparseable-time": (cad_rows(cell(CAD, 1, "arrived", "2026-03-02 9h08")),
                         "row 2 (line 3), column 'arrived': '2026-03-02 9h08': expected an ISO 8601 time"),
    "arrival-before-receipt": (cad_rows(cell(CAD, 2, "arrived", t(2, 8, 59))),
                               "row 3 (line 4), column 'arrived': arrival before the call was received"),
    "cleared-before-arrival": (cad_rows(cell(CAD, 0, "cleared", t(2, 8, 9))),
                               "row 1 (line 2), column 'cleared': cleared before the arrival"),
    "dispatched-before-receipt": (cad_rows(cell(CAD, 0, "dispatched", t(2, 7, 59))),
                                  "row 1 (line 2), column 'dispatched': dispatched before the call was received"),
    "empty-received": (cad_rows(cell(CAD, 1, "received", "")),
                       "row 2 (line 3), column 'received': empty: expected the time the call was received"),
    "unknown-call-type": (cad_rows(cell(CAD, 1, "call_type", "BURGLARY")),
                          "row 2 (line 3), column 'call_type': 'BURGLARY': not one of the scenario's call types "
                          "(service, disturbance); map it with --types MAP.yaml"),
    "empty-cad": (raw("cad", b""), "the file is empty: expected a header row"),
    "header-only-cad": (raw("cad", (",".join(CAD_HEADER) + "\n").encode()), "the file holds a header and no rows"),
    "ragged-row": (raw("cad", (",".join(CAD_HEADER) + "\nC1,service,2\n").encode()),
                   "row 1 (line 2): the row has 3 fields, the header 8"),
    "not-utf8": (raw("cad", (",".join(CAD_HEADER) + "\n").encode() + b"C1,caf\xe9,2,x,x,x,x,U1\n"),
                 "line 2: not UTF-8 text"),
    "quote-in-a-cell": (raw("cad", (",".join(CAD_HEADER) + "\n").encode() + b'C1,"serv"ice,2,x,x,x,x,U1\n'),
                        "line 2: not a well-formed CSV row (',' expected after '\"')"),
    "offsets-mixed": (cad_rows(cell(CAD, 2, "cleared", t(2, 9, 50) + "-05:00")),
                      "row 3 (line 4), column 'cleared': '2026-03-02T09:50:00-05:00': a time with a UTC offset, "
                      "where row 1 had none: a file must not mix the two"),
    "duplicate-recording-id": (audit_rows([*AUDIT, ["R1", "U2", t(2, 9, 13), t(2, 9, 50), "manual", "C2"]]),
                               "row 3 (line 4), column 'recording_id': 'R1': the same recording id as row 1"),
    "recording-longer-than-a-day": (audit_rows(cell(AUDIT, 1, "ended", t(3, 9, 2), AUDIT_HEADER)),
                                    "row 2 (line 3), column 'ended': a recording of 24.0 h: longer than a day"),
    "recording-ends-before-it-starts": (audit_rows(cell(AUDIT, 0, "ended", t(2, 8, 10), AUDIT_HEADER)),
                                        "row 1 (line 2), column 'ended': the recording ends before it starts"),
    "unknown-recording-reason": (audit_rows(cell(AUDIT, 1, "trigger", "Signal - Light Bar", AUDIT_HEADER)),
                                 "row 2 (line 3), column 'trigger': 'Signal - Light Bar': expected manual or a "
                                 "trigger kind"),
    "empty-audit": (raw("audit", b""), "the file is empty"),
    "audit-offsets-unlike-cad": (audit_rows([[*r[:2], r[2] + "Z", r[3] + "Z", *r[4:]] for r in AUDIT]),
                                 "its times carry a UTC offset and those of"),
    "columns-map-unknown-field": (lambda d: {"columns": write_yaml(d / "columns.yaml", {"cad": {"unit_id": "x"}})},
                                  "cad.unit_id: unknown field"),
    "columns-map-offset-out-of-order": (
        lambda d: {"columns": write_yaml(d / "columns.yaml", {"cad": {"dispatched": {
            "column": "dispatched", "minutes_after": "arrived"}}})},
        "dispatched: minutes_after must name an earlier time"),
    "types-map-to-an-unknown-type": (lambda d: {"types": write_yaml(d / "types.yaml", {"BURGLARY": "burglary"})},
                                     "'BURGLARY': maps to 'burglary', not one of the scenario's call types"),
}


def run(d: Path, **files: Path) -> tuple[int, str]:
    args = ["sim", "calibrate", "--cad", str(files["cad"]), "--audit", str(files["audit"]), "--scenario",
            str(files["scenario"]), "--out", str(d / "out")]
    for option in ("columns", "types"):
        if option in files:
            args += [f"--{option}", str(files[option])]
    r = CliRunner().invoke(app, args, env={"COLUMNS": "400"})
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    return r.exit_code, r.output


@pytest.fixture
def valid(tmp_path: Path) -> dict[str, Path]:
    return {"cad": write_csv(tmp_path / "good-cad.csv", CAD_HEADER, CAD),
            "audit": write_csv(tmp_path / "good-audit.csv", AUDIT_HEADER, AUDIT),
            "scenario": write_yaml(tmp_path / "base.yaml", BASE)}


def test_the_valid_pair_is_taken(tmp_path: Path, valid: dict[str, Path]) -> None:
    code, output = run(tmp_path, **valid)
    assert code == 0, output
    assert (tmp_path / "out" / "calibration.json").exists()


@pytest.mark.parametrize("case", sorted(CASES))
def test_refused_with_exit_2_naming_the_file_row_and_column(tmp_path: Path, valid: dict[str, Path], case: str) -> None:
    change, says = CASES[case]
    files = {**valid, **change(tmp_path)}
    code, output = run(tmp_path, **files)
    named = next(iter(change(tmp_path).values()))
    assert code == 2, output
    assert f"error: {named} is not valid" in output and says in " ".join(output.split()), output
    assert "Traceback" not in output and not (tmp_path / "out").exists()


def test_a_named_pipe_is_refused_unopened(tmp_path: Path, valid: dict[str, Path]) -> None:
    fifo = tmp_path / "cad.csv"
    os.mkfifo(fifo)
    r = bwclab("sim", "calibrate", "--cad", fifo, "--scenario", valid["scenario"], "--out", tmp_path / "out",
               cwd=tmp_path)  # a FIFO opened for reading would wait for a writer forever
    assert r.returncode == 2 and f"{fifo} is not valid" in r.stderr and "is not a regular file" in r.stderr
    assert "Traceback" not in r.stderr


def test_the_command_refuses_without_a_traceback(tmp_path: Path, valid: dict[str, Path]) -> None:
    bad = write_csv(tmp_path / "cad.csv", CAD_HEADER, cell(CAD, 2, "arrived", t(2, 8, 59)))
    r = bwclab("sim", "calibrate", "--cad", bad, "--audit", valid["audit"], "--scenario", valid["scenario"],
               "--out", tmp_path / "out", cwd=tmp_path)
    assert r.returncode == 2, r.stdout + r.stderr
    assert f"{bad} is not valid" in r.stderr and "column 'arrived': arrival before the call was received" in r.stderr
    assert "Traceback" not in r.stderr and not (tmp_path / "out").exists()


def test_odd_rows_are_counted_and_reported_not_refused(tmp_path: Path, valid: dict[str, Path]) -> None:
    rows = [*CAD,
            ["C3", "service", "2", t(2, 10, 0), t(2, 10, 1), "", t(2, 10, 5), "U2"],  # cancelled
            ["C4", "service", "2", t(2, 11, 0), t(2, 11, 5), t(2, 11, 2), t(2, 11, 30), "U1"],  # there already
            ["C5", "service", "", t(2, 12, 0), t(2, 12, 1), t(2, 12, 9), "", ""]]  # no clearing, unit, priority
    cad = write_csv(tmp_path / "cad.csv", CAD_HEADER, rows)
    code, output = run(tmp_path, **{**valid, "cad": cad})
    assert code == 0, output
    odd = json.loads((tmp_path / "out" / "calibration.json").read_text())["records"]["odd_rows"]["cad"]
    assert {k: v["first_rows"] for k, v in odd.items()} == {
        "response with no arrival (cancelled)": [4],
        "arrival before the dispatch (travel not fitted)": [5],
        "arrival with no clearing time": [6],
        "response with no unit (not joined to recordings by officer)": [6],
        "call with no priority (taken as routine)": [6],
    }
    assert "odd rows (cad): 1 response with no arrival (cancelled), first at rows 4" in " ".join(output.split())


def test_a_previous_calibration_is_kept_unless_overwrite(tmp_path: Path, valid: dict[str, Path]) -> None:
    assert run(tmp_path, **valid)[0] == 0
    code, output = run(tmp_path, **valid)
    assert code == 2 and "already holds calibrated.yaml" in output
    bad = write_csv(tmp_path / "cad.csv", CAD_HEADER, cell(CAD, 0, "cleared", t(2, 8, 9)))
    r = CliRunner().invoke(app, ["sim", "calibrate", "--cad", str(bad), "--audit", str(valid["audit"]),
                                 "--scenario", str(valid["scenario"]), "--out", str(tmp_path / "out"), "--overwrite"])
    assert r.exit_code == 2 and (tmp_path / "out" / "calibration.json").exists()  # refused input: nothing lost
