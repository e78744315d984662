"""Calls for service as a non-homogeneous Poisson process, piecewise constant by clock hour."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def arrival_times(
    per_hour: list[float], start_hour: float, duration_s: float, rng: np.random.Generator
) -> NDArray[np.float64]:
    """Exact arrivals: a Poisson count per constant-rate piece, placed uniformly within it."""
    times: list[NDArray[np.float64]] = []
    t = 0.0
    while t < duration_s:
        clock = start_hour + t / 3600.0
        piece_end = min(duration_s, (np.floor(clock) + 1 - start_hour) * 3600.0)
        if piece_end <= t:  # guard against rounding at an hour boundary
            piece_end = min(duration_s, t + 3600.0)
        rate = per_hour[int(clock % 24)] / 3600.0
        n = rng.poisson(rate * (piece_end - t))
        times.append(np.sort(rng.uniform(t, piece_end, size=n)))
        t = piece_end
    return np.concatenate(times) if times else np.empty(0)
