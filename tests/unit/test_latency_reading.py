"""One camera's latency reading in one trial: an edge that is not this trigger's activation is an error of the
attempt (retried), never a sample, and each error says whose fault it is."""

from __future__ import annotations

import pytest

from bwclab.rig.interfaces import CameraError, InstrumentError
from bwclab.rig.procedures.latency import timed

MS = 1_000_000
FIRED = 10_000 * MS


def test_a_clean_trial_gives_the_scope_and_gpio_readings() -> None:
    row = timed("CAM001", [(FIRED - 900 * MS, False), (FIRED + 300 * MS, True)], FIRED, 0.297, 0.002, 0.2995, 1e-6, 1.5)
    assert (row.gpio_s, row.scope_s, row.best_s) == (0.297, 0.2995, 0.2995)


def test_a_camera_recording_when_the_trigger_fired_cannot_be_timed() -> None:
    with pytest.raises(CameraError, match="recording when the trigger fired"):
        timed("CAM001", [(FIRED - 50 * MS, True), (FIRED + 300 * MS, False)], FIRED, None, 0.002, None, None, 1.5)


def test_a_negative_scope_delay_from_an_indicator_that_rose_before_the_trigger_is_the_cameras_error() -> None:
    """The indicator rose 144 ms before the trigger and fell again, then rose after it: the scope takes the first
    rising edge on screen and reads -0.144 s. That was once recorded as a latency sample."""
    edges = [(FIRED - 144 * MS, True), (FIRED - 100 * MS, False), (FIRED + 250 * MS, True)]
    with pytest.raises(CameraError, match="rose 144 ms before the trigger"):
        timed("CAM001", edges, FIRED, 0.248, 0.002, -0.144, 1e-6, 1.5)


def test_a_negative_scope_delay_the_gpio_adapter_did_not_see_is_the_scopes_error() -> None:
    with pytest.raises(InstrumentError, match="scope") as got:
        timed("CAM001", [(FIRED + 250 * MS, True)], FIRED, 0.248, 0.002, -0.144, 1e-6, 1.5)
    assert got.value.device == "scope"


def test_an_edge_before_the_scope_window_does_not_condemn_the_camera() -> None:
    with pytest.raises(InstrumentError):
        timed("CAM001", [(FIRED - 3000 * MS, True), (FIRED - 2000 * MS, False), (FIRED + 250 * MS, True)],
              FIRED, 0.248, 0.002, -0.5, 1e-6, 1.5)


def test_a_gpio_reading_below_zero_is_the_adapters_error_beyond_its_uncertainty_and_zero_within_it() -> None:
    with pytest.raises(InstrumentError, match="gpio"):
        timed("CAM001", [(FIRED + 1 * MS, True)], FIRED, -0.010, 0.002, None, None, 1.5)
    assert timed("CAM001", [(FIRED + 1 * MS, True)], FIRED, -0.001, 0.002, None, None, 1.5).gpio_s == 0.0
