"""A bench, connected: the wiring from the bench file, the drivers behind it, and the few verbs
procedures use (fire a trigger, wait for an indicator edge, put a camera at a distance, cut its
power, talk to its console, read its dock). Ports come from the bench file on a real bench and
from the emulator's `resources.json` on an emulated one.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bwclab.bench.description import Bench, split_line
from bwclab.core.resources import Resources
from bwclab.rig.drivers.console import CameraConsole
from bwclab.rig.drivers.e36300 import E36300Supply
from bwclab.rig.drivers.gpiod_lines import GpiodLines
from bwclab.rig.drivers.infiniivision import InfiniiVisionScope
from bwclab.rig.drivers.numato import NumatoGpio
from bwclab.rig.drivers.rcdat import RcdatAttenuator
from bwclab.rig.interfaces import (
    ConsoleLink,
    DelayMeter,
    DigitalOutput,
    DriverError,
    EdgeListener,
    EdgeReporter,
    Identified,
    PathLossSetter,
    PowerSwitch,
)
from bwclab.rig.on_air import OnAir


@dataclass
class Edges:
    """Every edge each input line reported, with host ns, kept for the whole run."""

    by_line: dict[str, list[tuple[int, bool]]] = field(default_factory=dict)
    cond: threading.Condition = field(default_factory=threading.Condition)
    subscribers: list[Callable[[str, int, bool], None]] = field(default_factory=list)

    def add(self, ref: str, t_ns: int, level: bool) -> None:
        with self.cond:
            self.by_line.setdefault(ref, []).append((t_ns, level))
            self.cond.notify_all()
        for fn in self.subscribers:  # called in the driver's reader thread: fn must only hand the edge on
            fn(ref, t_ns, level)

    def first(self, ref: str, level: bool, after_ns: int) -> int | None:
        return next((t for t, lv in self.by_line.get(ref, []) if lv == level and t >= after_ns), None)

    def wait(self, ref: str, level: bool, after_ns: int, timeout_s: float) -> int | None:
        deadline = time.monotonic() + timeout_s
        with self.cond:
            while (t := self.first(ref, level, after_ns)) is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)
            return t


class Station:
    def __init__(self, bench: Bench, resources: Resources | None = None) -> None:
        self.bench = bench
        self.res = resources
        self.edges = Edges()
        self.outputs: dict[str, DigitalOutput] = {}
        self._closers: list[Any] = []
        self.consoles: dict[str, ConsoleLink | None] = {}
        self.on_air = OnAir({e: bench.broadcast_s(e) for e in bench.emitters},
                            {e: bench.restarts(e) for e in bench.emitters}, bench.rig.settle_s)
        try:
            self._open_gpio()
            self.attenuator: PathLossSetter = RcdatAttenuator(self._resource("attenuator", required=True),
                                                              bench.instruments.attenuator.step_db)
            self._closers.append(self.attenuator)
            scope = self._resource("scope")
            self.scope: DelayMeter | None = InfiniiVisionScope(scope) if scope else None
            psu = self._resource("psu")
            self.psu: PowerSwitch | None = E36300Supply(psu) if psu else None
            for extra in (self.scope, self.psu):
                if extra is not None:
                    self._closers.append(extra)
            for serial in bench.cameras:
                self.consoles[serial] = self._open_console(serial)
        except DriverError:
            self.close()
            raise

    # --- opening ------------------------------------------------------------------------
    def _resource(self, name: str, required: bool = False) -> str | None:
        endpoint = self.res.instruments.get(name) if self.res is not None else None
        published = endpoint.resource if endpoint is not None else None
        inst = getattr(self.bench.instruments, name)
        resource = published or (inst.resource if inst is not None else None)
        if required and not resource:
            raise DriverError(f"bench {self.bench.name!r}: instruments.{name}.resource is not set")
        if inst is None:
            return None
        return str(resource) if resource else None

    def _lines(self, adapter: str) -> tuple[list[int], list[int]]:
        outs, ins = [], []
        for e in self.bench.emitters.values():
            if split_line(e.line)[0] == adapter:
                outs.append(split_line(e.line)[1])
        for c in self.bench.cameras.values():
            if c.button and split_line(c.button)[0] == adapter:
                outs.append(split_line(c.button)[1])
            if c.indicator and split_line(c.indicator)[0] == adapter:
                ins.append(split_line(c.indicator)[1])
        if self.bench.loopback is not None:
            out_ref, in_ref = self.bench.loopback
            if split_line(out_ref)[0] == adapter:
                outs.append(split_line(out_ref)[1])
            if split_line(in_ref)[0] == adapter:
                ins.append(split_line(in_ref)[1])
        return outs, ins

    def _open_gpio(self) -> None:
        for name, adapter in self.bench.gpio.items():
            published = self.res.gpio.get(name) if self.res is not None else None
            port = (published.port if published is not None else None) or adapter.port
            if not port:
                raise DriverError(f"bench {self.bench.name!r}: gpio.{name}.port is not set")
            outs, ins = self._lines(name)
            dev: Any
            if adapter.driver == "numato":
                dev = NumatoGpio(port, adapter.ports)
                self._closers.append(dev)
                mask = (1 << adapter.ports) - 1
                for pin in outs:
                    mask &= ~(1 << pin)
                dev.set_directions(mask)
                for pin in outs:
                    dev.set(pin, False)
            else:
                dev = GpiodLines(port, outs, ins)
                self._closers.append(dev)
            reporter: EdgeReporter = dev
            reporter.watch(self._listener(name))
            self.outputs[name] = dev

    def _listener(self, adapter: str) -> EdgeListener:
        def seen(t_ns: int, pin: int, level: bool) -> None:
            self.edges.add(f"{adapter}:{pin}", t_ns, level)

        return seen

    def console_port(self, serial: str) -> str | None:
        if not self.bench.cameras[serial].has_console:
            return None
        published = self.res.cameras.get(serial) if self.res is not None else None
        port = (published.console if published is not None else None) or self.bench.cameras[serial].console
        return str(port) if port else None

    def _open_console(self, serial: str) -> ConsoleLink | None:
        port = self.console_port(serial)
        if not port:
            return None
        con = CameraConsole(port)
        self._closers.append(con)
        return con

    def reopen_console(self, serial: str) -> ConsoleLink | None:
        old = self.consoles.get(serial)
        if old is not None:
            with contextlib.suppress(Exception):
                old.close()
        try:
            self.consoles[serial] = self._open_console(serial)
        except DriverError:
            self.consoles[serial] = None
        return self.consoles[serial]

    def close(self) -> None:
        for dev in reversed(self._closers):
            with contextlib.suppress(Exception):
                dev.close()
        self._closers.clear()

    def identities(self) -> dict[str, str]:
        """Each instrument and GPIO adapter as it names itself; one that does not answer: 'error: why'."""
        devices: dict[str, object] = {"attenuator": self.attenuator, "scope": self.scope, "psu": self.psu,
                                      **{f"gpio {name}": dev for name, dev in self.outputs.items()}}
        out: dict[str, str] = {}
        for name, dev in devices.items():
            if dev is None:
                continue
            try:
                out[name] = dev.identity() if isinstance(dev, Identified) else ""
            except DriverError as exc:
                out[name] = f"error: {exc}"
        return out

    # --- verbs --------------------------------------------------------------------------
    def drive(self, ref: str, level: bool) -> int:
        adapter, pin = split_line(ref)
        return self.outputs[adapter].set(pin, level)

    def fire(self, emitter: str) -> int:
        """Raise the emitter's trigger line, once an emitter that ignores an edge mid-broadcast has
        ended its last broadcast; host ns just before the command left."""
        time.sleep(self.on_air.wait_s(emitter, time.monotonic_ns()))
        t = self.drive(self.bench.emitters[emitter].line, True)
        self.on_air.fired(emitter, t)
        return t

    def release(self, emitter: str) -> None:
        self.drive(self.bench.emitters[emitter].line, False)

    def indicator(self, serial: str) -> str | None:
        return self.bench.cameras[serial].indicator

    def wait_indicator(self, serial: str, after_ns: int, timeout_s: float, level: bool = True) -> int | None:
        ref = self.indicator(serial)
        if ref is None:
            return None
        return self.edges.wait(ref, level, after_ns, timeout_s)

    def attenuation_for(self, distance_ft: float) -> float:
        """The setting that stands for `distance_ft`, within the attenuator's range."""
        top = self.bench.instruments.attenuator.max_db
        return min(max(self.bench.path_loss.attenuation_for(distance_ft), 0.0), top)

    def set_distance(self, serial: str, distance_ft: float) -> float:
        """Put a camera at `distance_ft` from every emitter (each of its channels on a matrix bench); returns the
        distance the applied attenuation stands for."""
        want = self.attenuation_for(distance_ft)
        applied = want
        for ch in sorted(set(self.bench.channels(serial).values())):
            applied = self.attenuator.set_attenuation(ch, want)
        return self.bench.path_loss.distance_for(applied)

    def set_path_attenuation(self, serial: str, emitter: str, db: float, verify: bool = True) -> float:
        """Set the channel between one emitter and a camera (on a single-channel bench: the camera's one channel,
        which every emitter shares); returns the attenuation applied (`verify` false: as acknowledged, to read
        back with `path_attenuation` once the time-critical commands are out)."""
        return self.attenuator.set_attenuation(self.bench.channels(serial)[emitter], db, verify)

    def path_attenuation(self, serial: str, emitter: str) -> float:
        return self.attenuator.attenuation(self.bench.channels(serial)[emitter])

    def park(self, serial: str) -> None:
        """Out of range of every emitter: the attenuator's full range."""
        for ch in sorted(set(self.bench.channels(serial).values())):
            self.attenuator.set_attenuation(ch, self.bench.instruments.attenuator.max_db)

    def power(self, serial: str, on: bool) -> int:
        ch = self.bench.cameras[serial].psu_channel
        if self.psu is None or ch is None:
            raise DriverError(f"camera {serial}: no supply channel on this bench")
        t = time.monotonic_ns()
        self.psu.power(ch, on)
        return t

    def dock(self, serial: str) -> Path | None:
        published = self.res.cameras.get(serial) if self.res is not None else None
        path = (published.dock if published is not None else None) or self.bench.cameras[serial].dock
        return Path(path) if path else None

    def scope_channels(self, emitter: str, serial: str) -> tuple[int, int] | None:
        """(trigger channel, indicator channel) when the scope watches both."""
        scope = self.bench.instruments.scope
        if self.scope is None or scope is None:
            return None
        line = self.bench.emitters[emitter].line
        src = next((ch for ch, p in scope.channels.items() if p.line == line), None)
        dst = next((ch for ch, p in scope.channels.items() if p.indicator == serial), None)
        return (src, dst) if src is not None and dst is not None else None

    def loopback_lags_ns(self, n: int) -> list[int]:
        """Output-to-input lag of the loopback wire as this adapter reports it: the GPIO path's own delay."""
        if self.bench.loopback is None:
            return []
        out_ref, in_ref = self.bench.loopback
        lags = []
        for _ in range(n):
            t0 = self.drive(out_ref, True)
            t1 = self.edges.wait(in_ref, True, t0, 1.0)
            self.drive(out_ref, False)
            self.edges.wait(in_ref, False, t0, 1.0)
            if t1 is None:
                raise DriverError(f"loopback {out_ref} -> {in_ref}: no edge within 1 s")
            lags.append(t1 - t0)
        return lags
