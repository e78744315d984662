"""Field of view: is the subject inside a camera's horizontal field of view, given where the camera
faces? A body camera faces where its officer does; a dash camera faces along its car."""

from __future__ import annotations

import math


def in_view(px: float, py: float, hx: float, hy: float, sx: float, sy: float, fov_deg: float) -> bool:
    """A camera at (px, py) facing the unit vector (hx, hy) sees (sx, sy) if the angle between is at most
    half its field of view. A subject at the camera itself is seen."""
    dx, dy = sx - px, sy - py
    d = math.hypot(dx, dy)
    if d < 1e-9:
        return True
    cos = (dx * hx + dy * hy) / d
    return cos >= math.cos(math.radians(fov_deg) / 2.0) - 1e-12


def turned(hx: float, hy: float, degrees: float) -> tuple[float, float]:
    """A heading turned by an angle (an officer never faces exactly the subject)."""
    a = math.radians(degrees)
    c, s = math.cos(a), math.sin(a)
    return hx * c - hy * s, hx * s + hy * c
