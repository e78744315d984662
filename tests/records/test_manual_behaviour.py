"""What calibrate writes into the scenario's manual starts besides compliance: presses before arrival on priority
responses as `when: en_route` with their share, presses en route on routine responses only as a comment, and how
much officers differ (`officer_spread_logit`) from a random-effects fit, or the scenario's own when the CAD
export names no unit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bwclab.core.config import load
from bwclab.records.calibrated import calibrated_scenario
from bwclab.records.calibration import calibrate, read_records
from bwclab.records.calltypes import TypeMap
from bwclab.records.columns import ColumnMap
from bwclab.records.fit import officer_spread
from bwclab.records.sample import Truth, make
from bwclab.sim.scenario import load_scenario
from tests.records import records
from tests.records.records import AUDIT_HEADER, BASE, CAD_HEADER, t, write_csv, write_yaml

Rows = list[list[str]]
TYPES = TypeMap(["service", "disturbance"])
TRUTH = load(Truth, records.RECORDS / "sample-truth.yaml")


def calibrated(tmp_path: Path, cad: Rows, audit: Rows, base: dict[str, Any] = BASE,
               columns: ColumnMap | None = None, cad_header: list[str] = CAD_HEADER) -> tuple[dict[str, Any], str, Any]:
    rec = read_records(write_csv(tmp_path / "cad.csv", cad_header, cad),
                       write_csv(tmp_path / "audit.csv", AUDIT_HEADER, audit), columns or ColumnMap(), None, TYPES)
    cal, _ = calibrate(rec, write_yaml(tmp_path / "base.yaml", base))
    text, scenario = calibrated_scenario(tmp_path / "base.yaml", cal)
    return cal, text, scenario


def responses(priorities: list[str], press_min: list[int | None]) -> tuple[Rows, Rows]:
    """One call an hour, unit U1..U4 in turn, arriving at :10 and clearing at :40; a press that many minutes
    after :10 (negative: en route), or none."""
    cad: Rows = []
    audit: Rows = []
    for i, (prio, press) in enumerate(zip(priorities, press_min, strict=True)):
        h, unit = 1 + i, f"U{1 + i % 4}"
        cad.append([f"C{i}", "service" if i % 2 else "disturbance", prio, t(2, h, 0), t(2, h, 1), t(2, h, 10),
                    t(2, h, 40), unit])
        if press is not None:
            audit.append([f"R{i}", unit, t(2, h, 10 + press), t(2, h, 40), "manual", f"C{i}"])
    return cad, audit


def test_presses_before_arrival_on_priority_responses_set_when_en_route_with_their_share(tmp_path: Path) -> None:
    # Eight priority responses pressed, two of them en route; two routine ones pressed after arrival.
    cad, audit = responses(["1"] * 8 + ["2"] * 2, [-5, 3, 2, -4, 1, 2, 3, 1, 2, 4])
    cal, text, scenario = calibrated(tmp_path, cad, audit)
    en_route = cal["press_delay_s"]["en_route"]
    assert en_route["mean"] == 0.25 and en_route["n"] == 8 and 0 < en_route["ci_low"] < 0.25 < en_route["ci_high"]
    assert cal["press_delay_s"]["en_route_routine"]["mean"] == 0.0
    assert scenario.camera.manual.when == "en_route" and scenario.camera.manual.en_route_share == 0.25
    assert "en_route_share: 0.25  # calibrated: audit.csv, 2 of 8 presses on priority responses before arrival" in text


def test_no_press_before_arrival_leaves_the_presses_on_arrival(tmp_path: Path) -> None:
    base = {**BASE, "camera": {"manual": {"compliance": 0.3, "when": "en_route", "en_route_share": 0.3}}}
    cad, audit = responses(["1"] * 6, [1, 2, 3, 1, 2, 5])
    cal, text, scenario = calibrated(tmp_path, cad, audit, base)
    assert cal["press_delay_s"]["en_route"]["mean"] == 0.0 and cal["press_delay_s"]["en_route"]["n"] == 6
    assert scenario.camera.manual.when == "arrival"
    assert "when: arrival  # calibrated: audit.csv, none of 6 presses on priority responses before arrival" in text


def test_presses_en_route_on_routine_responses_are_noted_not_written(tmp_path: Path) -> None:
    cad, audit = responses(["1", "1", "2", "2"], [2, 3, -6, 4])
    cal, text, scenario = calibrated(tmp_path, cad, audit)
    assert cal["press_delay_s"]["en_route_routine"]["mean"] == 0.5
    assert scenario.camera.manual.when == "arrival"
    assert "# presses en route on routine responses: 0.500 [" in text
    assert "press_delay_s.en_route_routine" in cal["scenario_lacks"]


def test_no_press_on_a_priority_response_leaves_when_as_the_base_has_it(tmp_path: Path) -> None:
    base = {**BASE, "camera": {"manual": {"compliance": 0.3, "when": "en_route", "en_route_share": 0.4}}}
    cad, audit = responses(["2"] * 4, [1, 2, None, 3])
    cal, text, scenario = calibrated(tmp_path, cad, audit, base)
    assert cal["press_delay_s"]["en_route"]["n"] == 0
    assert scenario.camera.manual.when == "en_route" and scenario.camera.manual.en_route_share == 0.4
    assert "manual.when: not calibrated (no press on a priority response to judge)" in text


def test_a_type_with_no_response_to_judge_is_left_to_compliance(tmp_path: Path) -> None:
    cad, audit = responses(["2"], [1])  # disturbance only
    _, text, scenario = calibrated(tmp_path, cad, audit)
    assert scenario.camera.manual.by_call_type == {"disturbance": 1.0}
    assert "# no response to judge, so compliance applies: service" in text


def test_without_units_in_the_cad_the_officer_spread_is_the_scenarios_own(tmp_path: Path) -> None:
    base = {**BASE, "camera": {"manual": {"compliance": 0.3, "officer_spread_logit": 1.2}}}
    cad, audit = responses(["2"] * 4, [1, None, 3, 2])
    header = [h for h in CAD_HEADER if h != "unit"]
    cal, text, scenario = calibrated(tmp_path, [r[:7] for r in cad], audit, base,
                                     ColumnMap.model_validate({"cad": {"unit": None}}), header)
    assert cal["officer_spread_logit"]["not_exported"] == "unit"
    assert scenario.camera.manual.officer_spread_logit == 1.2
    assert "officer_spread_logit: not calibrated (the CAD export names no unit); the scenario's own is kept" in text


def presses(spread: float, officers: int, each: int, seed: int) -> tuple[Any, Any, Any]:
    """Responses of three call types (logit levels 0, 0.8, -0.5), each officer's propensity normal with sd
    `spread` on the logit scale."""
    rng = np.random.default_rng(seed)
    officer = np.repeat(np.arange(officers), each)
    kind = rng.integers(0, 3, officers * each)
    level = np.array([0.0, 0.8, -0.5])[kind] + spread * rng.normal(size=officers)[officer]
    return rng.uniform(size=len(level)) < 1 / (1 + np.exp(-level)), kind, officer


@pytest.mark.parametrize(("truth", "officers", "each"), [(0.5, 80, 60), (1.0, 80, 60), (1.5, 80, 60),
                                                          (0.8, 40, 1500)])  # ... and a year's worth each
def test_the_officer_spread_is_found_within_its_interval(truth: float, officers: int, each: int) -> None:
    got = officer_spread(*presses(truth, officers, each, seed=int(truth * 10)))
    assert got["ci_low"] < truth < got["ci_high"], got
    assert abs(got["mean"] - truth) < 0.3 and got["n"] == officers and got["responses"] == officers * each


def test_officers_alike_are_found_alike() -> None:
    got = officer_spread(*presses(0.0, 80, 60, seed=3))
    assert got["ci_low"] == 0.0 and got["mean"] < 0.2 and got["ci_high"] < 0.4, got


def test_one_officer_gives_no_spread() -> None:
    pressed, kind, _ = presses(1.0, 1, 50, seed=4)
    assert officer_spread(pressed, kind, np.zeros(50, dtype=np.int64))["mean"] is None


def test_records_made_with_presses_en_route_and_compliance_by_type_are_found_again(tmp_path: Path) -> None:
    # The sample's department for four days, without light bars (so priority responses are judged too), with
    # compliance differing by type and 30% of presses made en route.
    by_type = {"service": 0.35, "disturbance": 0.55, "traffic_stop": 0.85, "domestic": 0.7, "person_crime": 0.9}
    truth = TRUTH.model_copy(update={
        "days": 4, "light_bar": False, "en_route": 0.3,
        "call_types": {k: v.model_copy(update={"compliance": by_type[k]}) for k, v in TRUTH.call_types.items()}})
    make(truth, tmp_path / "cad.csv", tmp_path / "audit.csv")
    r = records.bwclab("sim", "calibrate", "--cad", tmp_path / "cad.csv", "--audit", tmp_path / "audit.csv",
                       "--scenario", records.SAMPLE_BASE, "--types", records.SAMPLE_TYPES, "--out", tmp_path / "cal",
                       cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    cal = json.loads((tmp_path / "cal" / "calibration.json").read_text())
    manual = load_scenario(tmp_path / "cal" / "calibrated.yaml").camera.manual
    for name, rate in by_type.items():
        found = cal["compliance"][name]
        assert found["ci_low"] <= rate <= found["ci_high"], (name, found)
        assert manual.by_call_type[name] == pytest.approx(found["mean"], abs=1e-4)
    en_route = cal["press_delay_s"]["en_route"]
    # Within 0.07 of the truth: the sample's seed draws 0.358 [0.306, 0.414] here, 2.2 standard errors high
    # (seeds 1-4 draw 0.294, 0.291, 0.334, 0.288, each interval holding 0.3).
    assert abs(en_route["mean"] - 0.3) < 0.07 and en_route["n"] > 100, en_route
    assert manual.when == "en_route" and manual.en_route_share == pytest.approx(en_route["mean"], abs=1e-4)
    assert "# presses en route on routine responses: " in (tmp_path / "cal" / "calibrated.yaml").read_text()
