"""A measured device profile (bwclab/core/profile.py, written by the rig) applied to a scenario.

Only properties of the device reach the department's prediction: the detection curve (the light bar's,
else the first measured), latency samples per trigger kind (misses included), the buffer's shortfall
against the length it was configured to (subtracted from the department's own buffer setting, never
replacing it), and audio in the buffer where the device did not do as configured.
"""

from __future__ import annotations

from bwclab.core.profile import DeviceProfile
from bwclab.sim.scenario import MeasuredLatency, ProbitSpec, Scenario


def apply_profile(sc: Scenario, prof: DeviceProfile) -> Scenario:
    signal, camera = sc.signal, sc.camera
    if prof.detection:
        curve = prof.detection.get("light_bar") or next(iter(prof.detection.values()))
        signal = signal.model_copy(update={"detection": ProbitSpec(kind="probit", a=curve.a, b=curve.b)})
    if prof.latency:
        measured = {k: MeasuredLatency(samples_s=tuple(v.samples_s), misses=v.misses) for k, v in prof.latency.items()}
        signal = signal.model_copy(update={"measured_latency": measured})
    if prof.buffer is not None:
        camera = camera.model_copy(update={"buffer_s": max(0.0, camera.buffer_s - prof.buffer.shortfall_s)})
    audio = prof.audio
    if audio is not None and audio.found_in_buffer != audio.configured_in_buffer:
        camera = camera.model_copy(update={"audio_in_buffer": audio.found_in_buffer})
    return sc.model_copy(update={"signal": signal, "camera": camera})
