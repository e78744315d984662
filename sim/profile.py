"""A measured device profile (written by the rig) applied to a scenario.

Format (YAML): `device` (model, serial, firmware), `detection` (a detection curve:
logistic r50_ft/slope_ft, or a table of distance_ft and probability), `latency_s` (measured
activation latencies, seconds, trigger edge to recording) and `buffer_s` (pre-event buffer
measured). Each field is optional; what is given replaces the scenario's model.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from bwclab.configfile import load
from sim.scenario import DetectionSpec, Scenario, Strict


class DeviceProfile(Strict):
    device: dict[str, str] = Field(default_factory=dict)
    detection: DetectionSpec | None = None
    latency_s: list[float] | None = Field(default=None, min_length=1)
    buffer_s: float | None = Field(default=None, ge=0, le=120)


def apply_profile(sc: Scenario, path: Path) -> Scenario:
    prof = load(DeviceProfile, path)
    signal = sc.signal
    if prof.detection is not None:
        signal = signal.model_copy(update={"detection": prof.detection})
    if prof.latency_s is not None:
        signal = signal.model_copy(update={"latency_samples_s": tuple(prof.latency_s)})
    camera = sc.camera
    if prof.buffer_s is not None:
        camera = camera.model_copy(update={"buffer_s": prof.buffer_s})
    return sc.model_copy(update={"signal": signal, "camera": camera})
