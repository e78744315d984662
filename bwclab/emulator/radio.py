"""Which camera hears which broadcast, and when: link budget, shadowing, BLE discovery.

Received power = emitter power - bench loss - the attenuator channel between that emitter and the
camera (one channel per camera, or one per emitter-camera path on a matrix bench) + a fade drawn
once per broadcast and camera. While it clears the camera's threshold the camera scans;
discovery follows the shared BLE model. A change of attenuation takes effect at once.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from bwclab.camera.ble import DiscoveryModel
from bwclab.emulator.emitter import Broadcast
from bwclab.emulator.loop import Loop, Timer
from bwclab.emulator.truth import TruthLog


@dataclass
class Listener:
    """One camera's radio as the air sees it."""

    serial: str
    index: int
    channels: dict[str, int]  # emitter name -> the attenuator channel between it and this camera
    sensitivity_dbm: float
    shadowing_db: float
    ble: DiscoveryModel
    on_discovery: Callable[[Broadcast, int], None]
    can_hear: Callable[[], bool] = field(default=lambda: True)


@dataclass
class Link:
    broadcast: Broadcast
    listener: Listener
    fade_db: float
    rng: np.random.Generator
    in_range: bool = False
    pending: Timer | None = None
    heard: bool = False

    @property
    def channel(self) -> int:
        return self.listener.channels[self.broadcast.emitter]


class Radio:
    def __init__(self, loop: Loop, seed: int, tx_power_dbm: float, bench_loss_db: float,
                 attenuation: Callable[[int], float], truth: TruthLog) -> None:
        self.loop, self.seed = loop, seed
        self.tx_power_dbm, self.bench_loss_db = tx_power_dbm, bench_loss_db
        self.attenuation = attenuation
        self.truth = truth
        self.listeners: list[Listener] = []
        self.links: dict[int, list[Link]] = {}

    def received_dbm(self, link: Link) -> float:
        att = self.attenuation(link.channel)
        return self.tx_power_dbm - self.bench_loss_db - att + link.fade_db

    def start(self, b: Broadcast) -> None:
        links = []
        for lis in self.listeners:
            rng = np.random.default_rng(np.random.SeedSequence([self.seed, b.seq, lis.index]))
            fade = float(rng.normal(0.0, lis.shadowing_db)) if lis.shadowing_db > 0 else 0.0
            links.append(Link(b, lis, fade, rng))
        self.links[b.seq] = links
        for link in links:
            self._evaluate(link, b.start_ns)

    def end(self, b: Broadcast) -> None:
        for link in self.links.pop(b.seq, []):
            if link.pending is not None:
                link.pending.cancel()

    def retune(self, channel: int, t_ns: int) -> None:
        """The attenuation of `channel` changed: re-evaluate every live link through it."""
        self._evaluate_where(lambda link: link.channel == channel, t_ns)

    def reevaluate(self, serial: str, t_ns: int) -> None:
        """The camera's power or sleep changed: re-evaluate its live links."""
        self._evaluate_where(lambda link: link.listener.serial == serial, t_ns)

    def _evaluate_where(self, which: Callable[[Link], bool], t_ns: int) -> None:
        for links in self.links.values():
            for link in links:
                if which(link):
                    self._evaluate(link, t_ns)

    def _evaluate(self, link: Link, t_ns: int) -> None:
        if link.heard or not link.broadcast.active:
            return
        rx = self.received_dbm(link)
        now_in = rx >= link.listener.sensitivity_dbm and link.listener.can_hear()
        if now_in == link.in_range:
            return
        link.in_range = now_in
        self.truth.log("reception", t_ns, camera=link.listener.serial, broadcast=link.broadcast.seq,
                       emitter=link.broadcast.emitter, channel=link.channel, rx_dbm=round(rx, 3),
                       threshold_dbm=link.listener.sensitivity_dbm, in_range=int(now_in))
        if not now_in:
            if link.pending is not None:
                link.pending.cancel()
                link.pending = None
            return
        left_s = (link.broadcast.end_ns - t_ns) / 1e9
        d = link.listener.ble.sample_discovery(link.rng, left_s)
        if math.isinf(d):
            return
        link.pending = self.loop.call_at(t_ns + int(d * 1e9), self._discovered, link, t_ns + int(d * 1e9))

    def _discovered(self, link: Link, t_ns: int) -> None:
        link.pending = None
        link.heard = True
        self.truth.log("discovery", t_ns, camera=link.listener.serial, broadcast=link.broadcast.seq,
                       id=link.broadcast.emitter_id)
        link.listener.on_discovery(link.broadcast, t_ns)
