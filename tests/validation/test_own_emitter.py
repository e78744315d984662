"""An emitter's own camera: an officer's taser or holster starts that officer's own body camera (at 0 ft, by
signal); a cruiser's dash camera is wired to its own light bar and does not also listen to it."""

from __future__ import annotations

from bwclab.sim.model import run_shift
from tests.conftest import scripted


def test_an_officers_own_taser_starts_its_own_camera_at_0_ft() -> None:
    sc = scripted({"signal": {"triggers": ["taser"]},
                   "script": {"calls": [{"at_s": 10, "type": "stop", "at_ft": [1000, 1000], "units": [0]}],
                              "triggers": [{"at_s": 60, "kind": "taser", "officer": 0, "call": 0}]}})
    res = run_shift(sc)
    own = [a for a in res.activations if a.camera == "BWC-00000"]
    assert len(own) == 1
    assert own[0].cause == "signal" and own[0].trigger == "TSR-00000" and own[0].distance_ft == 0.0
    assert 0 < own[0].latency_s < 2.0


def test_a_dash_camera_is_wired_to_its_own_light_bar_and_does_not_listen_to_it() -> None:
    sc = scripted({"dash": {"fitted": True}, "signal": {"triggers": ["light_bar"]},
                   "call_types": {"stop": {"scene": {"lights": {"probability": 1, "after_s": 0}}}},
                   "script": {"calls": [{"at_s": 10, "type": "stop", "at_ft": [1000, 1000], "units": [0]}]}})
    res = run_shift(sc)
    dash = [a for a in res.activations if a.camera == "DASH-00000"]
    assert [a.cause for a in dash] == ["wired"]
