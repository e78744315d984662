"""What a shift records as it runs (desmod's probes): activations, receptions, status spans, and what each camera
faced at each critical moment. The figures are worked out from them after the shift (metrics.py)."""

from __future__ import annotations

import math

from bwclab.sim.component import Component
from bwclab.sim.incident import Incident
from bwclab.sim.motion import Motion
from bwclab.sim.records import ActivationRow, Reception, StatusSpan, View
from bwclab.sim.scenario import CameraSpec
from bwclab.sim.streams import KeyedRandom
from bwclab.sim.view import in_view, turned

FORCE_WINDOW_S = 5.0  # a draw this close to the critical moment may block a chest camera's view


class Probes(Component):
    """The shift's records. It connects to nothing: the others write to it, and it reads the world's positions."""

    def __init__(self, motion: Motion, camera: CameraSpec, dash_fov_deg: float, foot: list[bool],
                 has_dash: list[bool], view_key: int) -> None:
        self.motion, self.camera, self.dash_fov_deg = motion, camera, dash_fov_deg
        self.foot, self.has_dash, self._view_key = foot, has_dash, view_key
        self.n_officers = len(foot)
        self.activations: list[ActivationRow] = []
        self.receptions: list[Reception] = []
        self.statuses: list[StatusSpan] = []
        self.views: dict[int, View] = {}  # incident -> what each camera faced at its critical moment

    def status(self, officer: int, status: str, start: float, end: float) -> None:
        if end > start:
            self.statuses.append(StatusSpan(officer, status, start, end))

    def at_critical(self, inc: Incident) -> None:
        self.views[inc.number] = self._view(inc)

    def _view(self, inc: Incident) -> View:
        """Is the subject inside each present camera's field of view (and not blocked) at the moment?"""
        cam, m = self.camera, self.motion
        t = inc.critical_at
        sx, sy = inc.subject_at_critical
        force = inc.struggle or any(abs(ft - t) <= FORCE_WINDOW_S for ft, _ in inc.force)
        block = cam.occlusion.get(cam.mount, 0.0) if force else 0.0
        body: dict[int, bool] = {}
        for o in inc.present_at(t):
            rng = KeyedRandom(self._view_key, inc.number, o)
            px, py = m.position(o, t)
            hx, hy = m.heading(o)
            if not m.moving(o, t) and (o in inc.out_of_car or self.foot[o]):
                d = math.hypot(sx - px, sy - py)
                if d > 1e-9:  # on scene, out of the car: facing the subject, within the spread
                    hx, hy = turned((sx - px) / d, (sy - py) / d, rng.uniform(-1.0, 1.0) * cam.heading_spread_deg)
            body[o] = in_view(px, py, hx, hy, sx, sy, cam.fov_deg) and rng.uniform() >= block
        dash: dict[int, bool] = {}
        for o in inc.present_at(t):
            if self.has_dash[o]:
                c = self.n_officers + o
                cx, cy = m.position(c, t)
                hx, hy = m.heading(c)
                dash[o] = in_view(cx, cy, hx, hy, sx, sy, self.dash_fov_deg)
        return View(body, dash)
