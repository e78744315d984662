"""What a certificate may claim, end to end on the emulated bench in its own process: a limit is judged in the
units the spec wrote it in; a camera without the wiring a requirement needs is refused, never passed; a run
narrowed on purpose (-k) is incomplete and exits 1; a quick spec's certificate and profile say indicative."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from bwclab.core.profile import load_profile
from tests.integration.certify_helpers import DEMO, certify, fast_bench, verdicts
from tests.integration.harness import ROOT


def test_a_latency_limit_in_milliseconds_fails_a_camera_slower_than_it(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump({"name": "in milliseconds", "requirements": [
        {"id": "LAT-MS", "text": "Median activation latency from the light bar at most 400 ms",
         "procedure": "latency", "params": {"trigger": "light_bar", "scope_window_s": 0.6}, "quantity": "p50",
         "limit": {"max": 400}, "units": "ms", "trials": 4}]}))
    faults = tmp_path / "faults.yaml"
    faults.write_text("CAM002: {extra_latency_ms: 250}\n")  # about 500 ms where the others take about 250 ms
    out = tmp_path / "run"
    rc, output = certify(out, fast_bench(tmp_path), spec, "--faults", str(faults))
    assert rc == 1, output
    assert verdicts(out) == {("LAT-MS", "CAM001"): "pass", ("LAT-MS", "CAM002"): "fail",
                             ("LAT-MS", "CAM003"): "pass"}
    cert = json.loads((out / "measurements.json").read_text())
    slow = next(r for r in cert["results"] if r["camera"] == "CAM002")
    assert slow["value"] > 0.4 and slow["limit"] == {"max": 0.4} and slow["units"] == "s"
    assert slow["spec_limit"] == {"max": 400} and slow["spec_units"] == "ms"
    page = (out / "report.html").read_text()
    assert "&lt;= 400 ms" in page and f"{slow['value'] * 1000:.4g} ms" in page


def test_a_camera_whose_indicator_is_not_wired_is_refused_by_the_demo_spec_before_the_bench_starts(
        tmp_path: Path) -> None:
    data = yaml.safe_load(DEMO.read_text())
    del data["cameras"]["CAM003"]["indicator"]
    bench = tmp_path / "bench.yaml"
    bench.write_text(yaml.safe_dump(data))
    out = tmp_path / "run"
    rc, output = certify(out, bench, ROOT / "fixtures" / "requirements" / "demo.yaml")
    assert rc == 2 and "Traceback" not in output, output
    assert ("requirements.0 (LAT-LIGHTBAR): camera CAM003 cannot be judged: the camera's indicator is not wired "
            "(latency needs its indicator)") in output
    assert "(GROUP): camera CAM003 cannot be judged" in output and "optional: true" in output
    assert not (out / "trials.sqlite").exists() and not (out / "measurements.json").exists()


def test_a_run_narrowed_by_k_is_incomplete_exits_1_and_says_what_it_left_out_and_that_it_is_indicative(
        tmp_path: Path) -> None:
    out = tmp_path / "run"
    rc, output = certify(out, Path("demo"), Path("demo"), "-k", "LAT-LIGHTBAR")  # built-in names
    assert rc == 1, output
    cert = json.loads((out / "measurements.json").read_text())
    assert cert["verdict"] == "incomplete" and {r["verdict"] for r in cert["results"]} == {"pass"}
    assert cert["narrowed"].startswith("narrowed on purpose: -k LAT-LIGHTBAR left out 12 requirement(s): LAT-HOLSTER")
    assert cert["reason"] == cert["narrowed"]
    left_out = {(u["requirement"], u["camera"], u["why"]) for u in cert["unjudged"]}
    assert ("COV-30FT", "CAM002", "deselected") in left_out and len(left_out) == 12 * 3
    assert cert["resume"].endswith("--resume")  # finishing it without -k judges the rest
    # the demo spec is graded indicative, and 5 trials cannot bound a 95th percentile
    assert cert["grade"] == "indicative"
    assert cert["grade_reasons"][0] == "the spec (bwclab demo spec (fewest trials)) is graded indicative"
    assert "LAT-LIGHTBAR on CAM001: judged on its estimate: 5 trials do not bound p95 from above at 95%" in \
        cert["grade_reasons"]
    assert "certificate: INCOMPLETE (indicative)" in output and "not final: narrowed on purpose" in output
    page = (out / "report.html").read_text()
    assert "INCOMPLETE" in page and "(INDICATIVE)" in page and "COV-30FT on CAM001 (deselected)" in page
    assert load_profile(out / "CAM001" / "profile.yaml").measured.grade == "indicative"
