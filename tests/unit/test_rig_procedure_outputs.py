"""A procedure owns what its trials give beyond the verdict: the observations a comparison of nights pools and
its part of a device profile. The campaign reads only the declarations, so a new procedure is one module."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from bwclab.core.profile import AudioMeasured, BufferMeasured, LatencySamples, ProbitCurve
from bwclab.core.triggers import TriggerKind
from bwclab.rig.campaign import Campaign
from bwclab.rig.certificate import Observations
from bwclab.rig.measurements import SECONDS, Measurement
from bwclab.rig.procedures import PROCEDURES
from bwclab.rig.procedures.declare import Options, Procedure, ProfilePart, Quantity, TriggerParams
from bwclab.rig.procedures.latency import LatencyRow
from bwclab.rig.trials import Row, StepResult

ROOT = Path(__file__).resolve().parents[2]


class EchoRow(Row):
    seconds: float


def _measure(quantity: str, rows: list[EchoRow], _o: Options) -> Measurement:
    return Measurement(quantity, max(r.seconds for r in rows), "s", len(rows), exact=True)


def _observe(rows: list[EchoRow], _m: Measurement) -> Observations:
    return Observations(samples=[r.seconds for r in rows], misses=len(rows))


def _profile(rows: list[EchoRow], kind: TriggerKind) -> ProfilePart:
    if not rows:
        return ProfilePart()
    return ProfilePart(latency={kind: LatencySamples(samples_s=sorted(r.seconds for r in rows))})


ECHO = Procedure(name="echo", summary="a procedure the campaign has never heard of", params=TriggerParams,
                 options=Options, row=EchoRow, quantities={"worst": Quantity(SECONDS, "slowest step")},
                 needs=("indicator",), run=lambda _ctx, _plan, _p: None, measure=_measure, observe=_observe,
                 profile=_profile)


@pytest.fixture
def campaign(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setitem(PROCEDURES, "echo", ECHO)
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump({"name": "echo spec", "grade": "indicative", "requirements": [
        {"id": "ECHO", "text": "slowest step at most 400 ms", "procedure": "echo", "params": {"trigger": "holster"},
         "quantity": "worst", "limit": {"max": 400}, "units": "ms"}]}))
    c = Campaign(ROOT / "fixtures" / "demo.yaml", spec, tmp_path / "run")
    yield c
    c.close()


def test_a_new_procedure_brings_its_own_observations_and_profile_part_to_the_campaign(campaign: Any) -> None:
    req = campaign.spec.requirements[0]
    for seq, seconds in enumerate((0.3, 0.2)):
        campaign.store.record(req.key, seq, 1, "ok", time.monotonic_ns(),
                              StepResult.of({"CAM001": EchoRow(seconds=seconds)}))
    outcome = campaign._judge(req, "CAM001")
    assert outcome.verdict == "pass" and outcome.observations == Observations(samples=[0.3, 0.2], misses=2)
    profile = campaign.profile("CAM001", "indicative")
    assert profile.latency == {"holster": LatencySamples(samples_s=[0.2, 0.3])}
    assert profile.measured.grade == "indicative" and profile.measured.spec == "echo spec"
    assert campaign.profile("CAM002", "indicative") is None  # no trials of its own: nothing to say of it


def test_profile_parts_merge_in_spec_order_and_the_first_to_say_a_thing_keeps_it() -> None:
    def lat(*xs: float) -> LatencySamples:
        return LatencySamples(samples_s=list(xs))

    buf = BufferMeasured(configured_s=1.5, measured_s=[1.5])
    audio = AudioMeasured(configured_in_buffer=False, found_in_buffer=False)
    first = ProfilePart(latency={"light_bar": lat(0.1)})
    later = ProfilePart(latency={"holster": lat(0.2), "light_bar": lat(0.9)}, buffer=buf, audio=audio)
    merged = first.then(later).then(ProfilePart(buffer=BufferMeasured(configured_s=9, measured_s=[9])))
    assert list(merged.latency) == ["light_bar", "holster"] and merged.latency["light_bar"] == lat(0.1)
    assert (merged.buffer, merged.audio) == (buf, audio)
    assert ProfilePart().empty and not merged.empty


def test_latency_observes_every_sample_and_the_misses_and_profiles_them_sorted() -> None:
    latency = PROCEDURES["latency"]
    rows = [LatencyRow(gpio_s=0.31234567, gpio_u_s=0.0), LatencyRow(gpio_s=None, gpio_u_s=0.0),
            LatencyRow(gpio_s=0.2, gpio_u_s=0.0, scope_s=0.19, scope_u_s=1e-6)]
    m = latency.measure("p50", rows, Options())
    assert latency.observe(rows, m) == Observations(samples=[0.312346, 0.19], misses=1)
    assert latency.profile is not None
    assert latency.profile(rows, "taser") == ProfilePart(latency={"taser": LatencySamples(samples_s=[0.19, 0.3123],
                                                                                          misses=1)})


def test_coverage_observes_each_broadcast_and_profiles_its_fitted_curve() -> None:
    from bwclab.rig.procedures.coverage import CoverageRow

    coverage = PROCEDURES["coverage"]
    rows = [CoverageRow(distance_ft=d, activated=d < 40 or d == 45.0) for d in (20.0, 30.0, 35.0, 45.0, 50.0, 60.0,
                                                                                 38.0, 42.0, 25.0, 55.0)]
    obs = coverage.observe(rows, Measurement("r95", 30.0, "ft", len(rows)))
    assert obs.distance_ft == [r.distance_ft for r in rows] and obs.activated == [r.activated for r in rows]
    assert coverage.profile is not None
    curve = coverage.profile(rows, "light_bar").detection["light_bar"]
    assert isinstance(curve, ProbitCurve) and curve.broadcasts == len(rows) and 38 < curve.distance_ft(0.5) < 50
    assert coverage.profile(rows[:3], "light_bar").empty  # all one outcome: no curve, not a made-up one


def test_any_other_quantity_is_observed_as_its_value() -> None:
    clock = PROCEDURES["clock"]
    assert clock.observe([], Measurement("drift_ppm", 12.5, "ppm", 1)) == Observations(samples=[12.5])
    assert clock.observe([], Measurement("drift_ppm", math.inf, "ppm", 1)) == Observations()
    assert clock.profile is None
