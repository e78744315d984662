"""`bwclab sim backtest`: the calibrated sample scenario holds against the sample records (overall and for the
three largest call types the records fall inside the model's 95% prediction), a model that is wrong is said to
be outside the record, and each replication is on disk as it finishes."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from tests.records.records import SAMPLE_AUDIT, SAMPLE_BASE, SAMPLE_CAD, SAMPLE_TYPES, bwclab

REPS = 8


@pytest.fixture(scope="module")
def backtest(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], str]:
    out = tmp_path_factory.mktemp("backtest")
    r = bwclab("sim", "calibrate", "--cad", SAMPLE_CAD, "--audit", SAMPLE_AUDIT, "--scenario", SAMPLE_BASE,
               "--types", SAMPLE_TYPES, "--out", out / "cal", cwd=out)
    assert r.returncode == 0, r.stderr
    r = bwclab("sim", "backtest", "--scenario", out / "cal" / "calibrated.yaml", "--cad", SAMPLE_CAD, "--audit",
               SAMPLE_AUDIT, "--types", SAMPLE_TYPES, "--reps", str(REPS), "--out", out / "bt", cwd=out)
    assert r.returncode in (0, 1), r.stderr
    return out / "bt", json.loads((out / "bt" / "backtest.json").read_text()), r.stdout


def test_the_calibrated_sample_holds_overall_and_for_the_three_largest_call_types(
        backtest: tuple[Path, dict[str, Any], str]) -> None:
    _, bt, _ = backtest
    assert bt["verdict"] == "inside", bt["with_video"]
    observed, predicted = bt["with_video"]["observed"], bt["with_video"]["predicted"]
    assert predicted["ci_low"] <= observed["mean"] <= predicted["ci_high"]
    largest = sorted(bt["by_call_type"], key=lambda t: -bt["by_call_type"][t]["with_video"]["observed"]["n"])[:3]
    assert set(largest) == {"service", "disturbance", "domestic"}
    for name in largest:
        v = bt["by_call_type"][name]["with_video"]
        assert v["predicted"]["ci_low"] <= v["observed"]["mean"] <= v["predicted"]["ci_high"], name


def test_the_comparison_is_on_one_observable_by_type_and_priority(backtest: tuple[Path, dict[str, Any], str]) -> None:
    out, bt, stdout = backtest
    assert bt["reps"] == REPS and set(bt["by_priority"]) == {"emergency", "routine"}
    with SAMPLE_CAD.open(newline="") as fh:
        on_scene = sum(1 for r in csv.DictReader(fh) if r["arrived"] and r["cleared"])
    assert bt["with_video"]["observed"]["n"] == on_scene
    assert sum(v["with_video"]["observed"]["n"] for v in bt["by_priority"].values()) == on_scene
    for v in [bt, *bt["by_call_type"].values(), *bt["by_priority"].values()]:
        assert set(v["with_video"]) == {"observed", "predicted"}
        assert set(v["with_video"]["observed"]) >= {"mean", "ci_low", "ci_high"}
        assert v["with_video"]["predicted"]["n"] == REPS
    page = (out / "backtest.html").read_text()
    assert "<script" not in page.lower() and "data:image/png;base64," in page
    assert "inside the record on every figure" in page or "Outside the record" in page
    assert ("inside the record on every figure" in stdout) == (not bt["outside"])


def test_each_replication_is_on_disk_with_its_counts(backtest: tuple[Path, dict[str, Any], str]) -> None:
    out, bt, _ = backtest
    with (out / "backtest_reps.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert sorted({int(r["rep"]) for r in rows}) == list(range(REPS))
    overall = [int(r["with_video"]) / int(r["responses"]) for r in rows if r["group"] == "overall"]
    assert len(overall) == REPS
    assert bt["with_video"]["predicted"]["mean"] == pytest.approx(sum(overall) / REPS, abs=1e-6)


def first_days(src: Path, dst: Path, column: str, before: str) -> Path:
    with src.open(newline="") as fh, dst.open("w", newline="") as out:
        reader = csv.DictReader(fh)
        w = csv.DictWriter(out, fieldnames=reader.fieldnames or [], lineterminator="\n")
        w.writeheader()
        w.writerows(r for r in reader if r[column] < before)
    return dst


def test_a_model_that_is_wrong_is_said_to_be_outside_the_record(tmp_path: Path) -> None:
    # The base scenario before calibration: compliance 0.3, a priority response one call in five. Three days.
    cad = first_days(SAMPLE_CAD, tmp_path / "cad.csv", "received", "2026-03-05")
    audit = first_days(SAMPLE_AUDIT, tmp_path / "audit.csv", "started", "2026-03-05T06")
    r = bwclab("sim", "backtest", "--scenario", SAMPLE_BASE, "--cad", cad, "--audit", audit, "--types",
               SAMPLE_TYPES, "--reps", "3", "--out", tmp_path / "bt", cwd=tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr
    bt = json.loads((tmp_path / "bt" / "backtest.json").read_text())
    assert bt["verdict"] == "outside: the model predicts less video than the record shows"
    assert "overall" in bt["outside"]
    assert "Outside the record, overall: the model predicts less video than the record shows" in r.stdout
    assert "Outside the record, overall" in (tmp_path / "bt" / "backtest.html").read_text()


def test_a_verdict_names_which_way_the_model_is_off() -> None:
    from bwclab.records.backtest import verdict

    model = {"mean": 0.65, "ci_low": 0.6, "ci_high": 0.7}
    assert verdict({"mean": 0.55}, model) == "outside: the model predicts more video than the record shows"
    assert verdict({"mean": 0.75}, model) == "outside: the model predicts less video than the record shows"
    assert verdict({"mean": 0.6}, model) == verdict({"mean": 0.7}, model) == "inside"
    assert verdict({"mean": None}, model) == verdict({"mean": 0.6}, {"mean": 0.6, "ci_low": None}) == "not compared"
