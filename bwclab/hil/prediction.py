"""What the model predicts a mapped camera does in the replay: its first activation in the window, as a
predictive distribution drawn the model's own way.

For each broadcast the bench was given, each draw takes one uniform U per camera-broadcast pair (the
camera hears it once its simulated distance falls to the curve's radius for U: the scenario's detection
curve, or the device profile's), then the latency (the profile's measured samples with their misses,
else the scenario's BLE discovery and processing) stretched by the replay's speed, since the bench
camera is a device running in host seconds. A draw's first activation is the earliest over the
broadcasts and the officer's manual starts; a camera already recording when the window opened cannot
be started by a signal. "No activation" is a value like any other (+inf): the 95% region is [q2.5, q97.5]
of the activations, plus "none" where the model gives none at least 2.5%.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from bwclab.camera.detection import DetectionCurve
from bwclab.hil.track import Tracks
from bwclab.sim.broadcast import ShiftBroadcast
from bwclab.sim.scenario import Scenario

DRAWS = 4000
GRID_S = 0.02  # simulated seconds between the distance samples of a broadcast


@dataclass(frozen=True)
class Prediction:
    """The model's 95% prediction region for a camera's first activation: [low, high] for an activation, and
    "none" when the model gives no activation at least 2.5% (an activation later than 97.5% of the model's
    activations is outside, even where none is plausible)."""

    median_s: float  # inf: more likely none
    low_s: float  # inf: the model almost never activates it
    high_s: float
    p_none: float

    @property
    def none_plausible(self) -> bool:
        return self.p_none >= 0.025

    def holds(self, observed_s: float) -> bool:
        if math.isinf(observed_s):
            return self.none_plausible
        return self.low_s <= observed_s <= self.high_s


def _latencies(sc: Scenario, kind: str, rng: np.random.Generator, n: int, limit_s: np.ndarray,
               speed: float) -> np.ndarray:
    """Latency in simulated seconds; inf where the broadcast is not heard in time (limit in simulated s)."""
    measured = sc.signal.measured_latency.get(kind)  # type: ignore[call-overload]
    if measured is not None:
        samples = np.array(measured.samples_s, dtype=float) * speed
        k = rng.integers(len(samples) + measured.misses, size=n)
        lat = np.where(k < len(samples), samples[np.minimum(k, len(samples) - 1)], np.inf)
        return np.asarray(np.where(lat <= limit_s + sc.signal.ble.processing_ms / 1e3 * speed, lat, np.inf))
    ble = sc.signal.ble.model()
    out = np.empty(n)
    for i in range(n):
        d = ble.sample_discovery(rng, limit_s=float(limit_s[i]) / speed)
        out[i] = (d + ble.sample_processing(rng)) * speed if math.isfinite(d) else math.inf
    return out


def first_activation(sc: Scenario, curves: dict[str, DetectionCurve], tracks: Tracks, officer: int,
                     broadcasts: list[ShiftBroadcast], presses: list[float], recording_at_start: bool, speed: float,
                     seed: int, from_s: float) -> Prediction:
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x41, officer]))
    first = np.full(DRAWS, np.inf)
    if not recording_at_start:
        for b in broadcasts:
            start = max(b.start, from_s)
            times = np.arange(start, b.end + GRID_S / 2, GRID_S)
            closest = np.minimum.accumulate(tracks.distances(officer, b.emitter_body, times))
            radii = curves[b.kind].radius_for(rng.uniform(size=DRAWS))
            idx = np.searchsorted(-closest, -radii, side="left")  # first grid time within the radius
            inside = (idx < len(times)) & (radii >= 0)
            entry = np.where(inside, times[np.minimum(idx, len(times) - 1)], np.inf)
            limit = np.where(inside, b.end - entry, 0.0)
            lat = _latencies(sc, b.kind, rng, DRAWS, limit, speed)
            first = np.minimum(first, entry + lat)
    for p in presses:
        first = np.minimum(first, p)
    return region(first)


def region(draws: np.ndarray) -> Prediction:
    """The 95% region of draws of a first activation time (+inf: none)."""
    srt = np.sort(draws)
    n = len(srt)
    finite = srt[np.isfinite(srt)]
    low = float(srt[math.floor(0.025 * n)])
    high = float(srt[math.ceil(0.975 * n) - 1])
    if math.isinf(high) and len(finite):  # none is plausible: the activations' own upper 97.5% point
        high = float(finite[math.ceil(0.975 * len(finite)) - 1])
    return Prediction(median_s=float(np.median(srt)), low_s=low, high_s=high, p_none=float(np.mean(np.isinf(srt))))
