"""`bwclab sim calibrate` on the shipped sample records (fixtures/records/), made from a stated truth
(fixtures/records/sample-truth.yaml): it finds the truth again, within the product's tolerances and within
its own 95% intervals, and writes a scenario `sim shift` runs."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import pytest

from bwclab.core.config import load
from bwclab.records.sample import Truth
from bwclab.sim.scenario import load_scenario
from tests.records.records import RECORDS, SAMPLE_AUDIT, SAMPLE_BASE, SAMPLE_CAD, SAMPLE_TYPES, bwclab

TRUTH = load(Truth, RECORDS / "sample-truth.yaml")
SHARES = sum(tt.share for tt in TRUTH.call_types.values())


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("calibrated")
    r = bwclab("sim", "calibrate", "--cad", SAMPLE_CAD, "--audit", SAMPLE_AUDIT, "--scenario", SAMPLE_BASE,
               "--types", SAMPLE_TYPES, "--out", out, cwd=out)
    assert r.returncode == 0, r.stderr
    return out, json.loads((out / "calibration.json").read_text())


def inside(x: dict[str, Any], value: float) -> bool:
    return bool(x["ci_low"] <= value <= x["ci_high"])


def test_the_call_rate_is_found_within_5_percent(calibrated: tuple[Path, dict[str, Any]]) -> None:
    _, cal = calibrated
    truth = sum(TRUTH.calls_per_hour) / 24
    assert abs(cal["calls_per_hour"]["mean"] / truth - 1) < 0.05
    assert len(cal["calls_per_hour"]["by_hour"]) == 24
    assert cal["records"]["period"]["hours"] == TRUTH.days * 24


def test_each_call_types_share_is_found_within_0_02(calibrated: tuple[Path, dict[str, Any]]) -> None:
    _, cal = calibrated
    for name, tt in TRUTH.call_types.items():
        assert abs(cal["call_types"][name]["share"]["mean"] - tt.share / SHARES) < 0.02, name


def test_each_call_types_time_on_scene_is_found_within_10_percent(calibrated: tuple[Path, dict[str, Any]]) -> None:
    _, cal = calibrated
    for name, tt in TRUTH.call_types.items():
        found = cal["call_types"][name]["time_on_scene_min"]
        assert abs(found["mean"] / tt.time_on_scene_min.mean - 1) < 0.10, name
        assert abs(found["cv"] / tt.time_on_scene_min.cv - 1) < 0.15, name


def test_each_call_types_compliance_interval_holds_the_truth(calibrated: tuple[Path, dict[str, Any]]) -> None:
    _, cal = calibrated
    for name, tt in TRUTH.call_types.items():
        assert inside(cal["compliance"][name], tt.compliance), (name, cal["compliance"][name])
        assert cal["compliance"][name]["n"] > 50


def test_each_call_types_compliance_is_written_into_the_scenario_by_call_type(
        calibrated: tuple[Path, dict[str, Any]]) -> None:
    out, cal = calibrated
    manual = load_scenario(out / "calibrated.yaml").camera.manual
    assert set(manual.by_call_type) == set(TRUTH.call_types)
    for name, tt in TRUTH.call_types.items():
        assert manual.by_call_type[name] == pytest.approx(cal["compliance"][name]["mean"], abs=1e-4)
        assert inside(cal["compliance"][name], tt.compliance), name


def test_the_sample_shows_no_press_en_route_and_officers_alike_and_the_scenario_says_so(
        calibrated: tuple[Path, dict[str, Any]]) -> None:
    # The truth: every officer presses with the same probability, after arrival only.
    out, cal = calibrated
    manual = load_scenario(out / "calibrated.yaml").camera.manual
    en_route = cal["press_delay_s"]["en_route"]
    assert en_route["mean"] == 0.0 and en_route["n"] > 20 and TRUTH.en_route == 0.0
    assert manual.when == "arrival"
    spread = cal["officer_spread_logit"]
    assert spread["n"] == TRUTH.units and spread["ci_low"] == 0.0 and spread["ci_high"] < 0.5
    assert manual.officer_spread_logit == pytest.approx(spread["mean"], abs=1e-3)


def test_units_priorities_and_delays_hold_the_truth_in_their_intervals(
        calibrated: tuple[Path, dict[str, Any]]) -> None:
    _, cal = calibrated
    for name, tt in TRUTH.call_types.items():
        mean_units = sum(k * w for k, w in tt.units.items()) / sum(tt.units.values())
        assert inside(cal["call_types"][name]["units"], mean_units), name
        assert inside(cal["call_types"][name]["emergency"], tt.emergency), name
    assert inside(cal["dispatch_delay_s"], TRUTH.dispatch_delay_s.mean)
    assert inside(cal["travel_s"], TRUTH.travel_s.mean)
    assert inside(cal["press_delay_s"]["after_arrival"], TRUTH.press_delay_s.mean)
    assert cal["press_delay_s"]["en_route"]["mean"] == 0.0  # the truth presses only after arrival


def test_the_light_bar_is_found_as_the_only_trigger(calibrated: tuple[Path, dict[str, Any]]) -> None:
    out, cal = calibrated
    assert cal["triggers"]["fielded"] == ["light_bar"] and not cal["triggers"]["manual_only"]
    base, found = load_scenario(SAMPLE_BASE), load_scenario(out / "calibrated.yaml")
    assert base.signal.triggers == ["light_bar", "taser", "holster"]
    assert found.signal.triggers == ["light_bar"]


def test_the_calibrated_scenario_carries_the_fits_in_place_of_the_placeholders(
        calibrated: tuple[Path, dict[str, Any]]) -> None:
    out, cal = calibrated
    base, found = load_scenario(SAMPLE_BASE), load_scenario(out / "calibrated.yaml")
    assert base.camera.manual.compliance.expected() == 0.3
    assert found.camera.manual.compliance.expected() == pytest.approx(cal["compliance_all_types"]["mean"], abs=1e-4)
    assert found.calls.per_hour == pytest.approx([h["mean"] for h in cal["calls_per_hour"]["by_hour"]], abs=1e-4)
    for name, tt in TRUTH.call_types.items():
        spec = found.call_types[name]
        assert spec.share == pytest.approx(cal["call_types"][name]["share"]["mean"], abs=1e-4)
        assert spec.priority == pytest.approx(tt.emergency, abs=0.06)
        assert spec.time_on_scene_min.dist == "lognormal"
        assert spec.time_on_scene_min.expected() == pytest.approx(tt.time_on_scene_min.mean, rel=0.10)
    assert found.fleet == base.fleet and found.camera.sleep_probability == base.camera.sleep_probability


def test_every_fitted_field_names_its_source(calibrated: tuple[Path, dict[str, Any]]) -> None:
    out, _ = calibrated
    text = (out / "calibrated.yaml").read_text()
    fitted = re.compile(r"^\s*(per_hour|share|units|priority|time_on_scene_min|processing_s|compliance|delay_s|"
                        r"triggers):")
    lines = [line for line in text.splitlines() if fitted.match(line)]
    assert len(lines) == 1 + 5 * 4 + 4  # per_hour; share, priority, units, time on scene per type; the rest
    for line in lines:
        assert re.search(r"# calibrated: sample-(cad|audit)\.csv", line), line
    assert "2026-03-02 to 2026-03-15" in text
    for name in TRUTH.call_types:  # per-type compliance, each type on its own line with its source
        assert re.search(rf"^      {name}: 0\.\d+  # calibrated: sample-audit\.csv, [\d,]+ responses, 2026-03-02 to "
                         rf"2026-03-15; 0\.\d{{3}} \[0\.\d{{3}}, 0\.\d{{3}}\]$", text, re.M), name
    for field in ("when", "officer_spread_logit"):
        assert re.search(rf"^    {field}: .*  # calibrated: sample-audit\.csv", text, re.M), field


def test_sim_shift_runs_the_calibrated_scenario(calibrated: tuple[Path, dict[str, Any]]) -> None:
    out, _ = calibrated
    r = bwclab("sim", "shift", "--scenario", out / "calibrated.yaml", "--reps", "2", "--no-plots", "--out",
               out / "shift", cwd=out)
    assert r.returncode == 0, r.stderr
    summary = json.loads((out / "shift" / "summary.json").read_text())
    assert summary["scenario"] == "Sample department (calibrated)" and summary["first_rep"]["calls"] > 100


def test_cancelled_responses_are_counted_not_refused(calibrated: tuple[Path, dict[str, Any]]) -> None:
    _, cal = calibrated
    with SAMPLE_CAD.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    cancelled = [k + 1 for k, r in enumerate(rows) if not r["arrived"]]
    odd = cal["records"]["odd_rows"]["cad"]["response with no arrival (cancelled)"]
    assert odd["rows"] == len(cancelled) > 0 and odd["first_rows"] == cancelled[:5]
    assert cal["records"]["responses"] == len(rows)


def test_the_page_is_one_self_contained_file(calibrated: tuple[Path, dict[str, Any]]) -> None:
    out, _ = calibrated
    page = (out / "calibration.html").read_text()
    assert "<script" not in page.lower() and "http://" not in page and "https://" not in page
    images = re.findall(r"<img [^>]*src='([^']*)'", page)
    assert len(images) >= 5 and all(src.startswith("data:image/png;base64,") for src in images)


def test_the_shipped_sample_is_what_its_truth_makes(tmp_path: Path) -> None:
    from bwclab.records.sample import make

    made = make(TRUTH, tmp_path / "cad.csv", tmp_path / "audit.csv")
    assert (tmp_path / "cad.csv").read_bytes() == SAMPLE_CAD.read_bytes()
    assert (tmp_path / "audit.csv").read_bytes() == SAMPLE_AUDIT.read_bytes()
    assert made.cad_rows == 4909 and made.recordings == 4151
