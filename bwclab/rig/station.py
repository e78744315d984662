"""A bench, connected: the wiring from the bench file, the drivers behind it, and the few verbs
procedures use (fire a trigger, wait for an indicator edge, put a camera at a distance, cut its
power, talk to its console, read its dock). Ports come from the bench file on a real bench and
from the emulator's `resources.json` on an emulated one.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from bwclab.bench.description import Bench, split_line
from bwclab.bench.drivers import driver_class
from bwclab.core.resources import Resources
from bwclab.rig.interfaces import (
    CameraError,
    ConsoleLink,
    DelayMeter,
    DigitalOutput,
    DriverError,
    EdgeListener,
    EdgeReporter,
    Identified,
    InstrumentError,
    PathLossSetter,
    PowerSwitch,
)
from bwclab.rig.on_air import OnAir

log = logging.getLogger(__name__)

DriverLookup = Callable[[str, str], type[Any]]  # (role, name) -> the driver class: the bwclab.drivers group


def _close(what: str, dev: Any) -> None:
    """Close one device; a device that fails to close is logged, and the others are closed all the same."""
    try:
        dev.close()
    except Exception as exc:  # any driver's close, a lab's too: the station must close the rest
        log.warning("%s: closing failed (%s: %s)", what, type(exc).__name__, exc)
    else:
        log.info("%s: closed", what)


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


@dataclass(frozen=True)
class Identification:
    """How a device named itself (`idn`: an instrument's `*IDN?`), or why it did not (`error`)."""

    idn: str = ""
    error: str = ""


def pty_holder_differs(pid: int, port: str) -> bool:
    """Whether a pseudo-terminal `/dev/pts/N` is known to be held by a process other than `pid`: true when `pid`
    holds no terminal master of that number (Linux `fdinfo`: `tty-index`). Anything that cannot be told (not a
    pty, no /proc) is no objection: the device's own identity is checked besides."""
    name = Path(port)
    if name.parent != Path("/dev/pts") or not name.name.isdigit():
        return False
    try:
        infos = list(Path(f"/proc/{pid}/fdinfo").iterdir())
    except OSError:
        return False
    for info in infos:
        with contextlib.suppress(OSError):
            if f"tty-index:\t{name.name}\n" in info.read_text() + "\n":
                return False
    return True


class Station:
    """Every device a station opens is closed when it closes, last opened first, however the opening ended: a
    station that fails to open closes what it had opened before it raises. Use it as a context manager, or call
    `close`. `drivers` finds a driver class by role and name (tests give their own)."""

    def __init__(self, bench: Bench, resources: Resources | None = None, drivers: DriverLookup = driver_class) -> None:
        self.bench = bench
        self.res = resources
        self.edges = Edges()
        self.outputs: dict[str, DigitalOutput] = {}
        self._drivers = drivers
        self._stack = contextlib.ExitStack()
        self.consoles: dict[str, ConsoleLink | None] = {}
        self.on_air = OnAir({e: bench.broadcast_s(e) for e in bench.emitters},
                            {e: bench.restarts(e) for e in bench.emitters}, bench.rig.settle_s)
        inst = bench.instruments
        try:
            self._open_gpio()
            att = self._resource("attenuator", required=True)
            assert att is not None  # required: unset, _resource raised
            self.attenuator: PathLossSetter = self._open("attenuator", inst.attenuator.driver, "attenuator", att,
                                                         step_db=inst.attenuator.step_db)
            scope = self._resource("scope")
            self.scope: DelayMeter | None = (self._open("scope", inst.scope.driver, "scope", scope)
                                             if scope and inst.scope else None)
            psu = self._resource("psu")
            self.psu: PowerSwitch | None = self._open("psu", inst.psu.driver, "psu", psu) if psu and inst.psu else None
            for serial in bench.cameras:
                self.consoles[serial] = self._open_console(serial)
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # --- opening ------------------------------------------------------------------------
    def _resource(self, name: str, required: bool = False) -> str | None:
        endpoint = self.res.instruments.get(name) if self.res is not None else None
        published = endpoint.resource if endpoint is not None else None
        inst = getattr(self.bench.instruments, name)
        resource = published or (inst.resource if inst is not None else None)
        if required and not resource:
            raise InstrumentError(f"bench {self.bench.name!r}: instruments.{name}.resource is not set")
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

    def _open(self, role: str, driver: str, device: str, where: str, **options: Any) -> Any:
        """Open the driver named `driver` for `role` on `where` (a port or resource) the one way the role says
        (docs/drivers.md), and hold it to be closed with the station. `device` is the instrument's role, the
        adapter (`gpio NAME`) or the camera's serial. A driver that fails in a way of its own fails as a
        DriverError: the camera's for a console, else the bench's."""
        fault = CameraError if role == "console" else InstrumentError
        what = f"camera {device} console" if role == "console" else device
        try:
            cls = self._drivers(role, driver)
        except ValueError as exc:  # installed when the bench file was read, gone since
            raise fault(f"{what}: {exc}", device=device) from None
        try:
            dev = cls(where, **options)
        except DriverError:
            raise
        except Exception as exc:  # a driver's own failure, a lab's too: one of the two kinds of DriverError
            raise fault(f"{what}: driver {driver!r} could not open {where} ({type(exc).__name__}: {exc})",
                        device=device) from exc
        self._stack.callback(_close, what, dev)
        log.info("%s: driver %s on %s", what, driver, where)
        return dev

    def _open_gpio(self) -> None:
        for name, adapter in self.bench.gpio.items():
            published = self.res.gpio.get(name) if self.res is not None else None
            port = (published.port if published is not None else None) or adapter.port
            if not port:
                raise InstrumentError(f"bench {self.bench.name!r}: gpio.{name}.port is not set")
            outs, ins = self._lines(name)
            dev = self._open("gpio", adapter.driver, f"gpio {name}", port, outputs=outs, inputs=ins,
                             ports=adapter.ports)
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
        con: ConsoleLink = self._open("console", self.bench.cameras[serial].driver, serial, port)
        return con

    def reopen_console(self, serial: str) -> ConsoleLink | None:
        """Close a camera's console and open its port again, to be used only once the device there answers as
        this camera: a freed port may have gone to another device since (the next process to ask for a pty gets
        a freed number). None: the camera has no console. CameraError: the port cannot be opened, or what is
        there is not this camera, or does not answer; the console stays closed until a reopen succeeds."""
        old = self.consoles.get(serial)
        self.consoles[serial] = None
        if old is not None:
            with contextlib.suppress(Exception):
                old.close()
        self.consoles[serial] = self._open_console(serial)
        if self.consoles[serial] is None:
            return None
        self.verify_console(serial)
        return self.consoles[serial]

    def verify_console(self, serial: str) -> dict[str, str]:
        """That the device on a camera's open console is this camera: it answers `IDN?` with this serial, and on
        an emulated bench its port is still the emulator's own terminal (another bench's emulated camera may bear
        the same serial). Returns its `IDN?` fields. CameraError when it is not this camera, or does not answer:
        the console is closed then, until a reopen finds the camera there."""
        con = self.consoles.get(serial)
        port = self.console_port(serial) or "?"
        if con is None:
            raise CameraError(f"camera {serial}: console {port} is not open", device=serial)
        try:
            if self.res is not None and pty_holder_differs(self.res.pid, port):
                raise CameraError(f"camera {serial}: console {port} is no longer the emulated bench's terminal "
                                  f"(pid {self.res.pid}): another process has it", device=serial)
            try:
                fields = con.identity()
            except DriverError as exc:
                raise CameraError(f"camera {serial}: the device on console {port} does not answer IDN? ({exc}), so "
                                  "it is not known to be this camera", device=serial) from None
            if fields.get("serial") != serial:
                raise CameraError(f"camera {serial}: the device on console {port} answers as serial "
                                  f"{fields.get('serial')!r}: another device", device=serial)
        except CameraError:
            self.consoles[serial] = None
            with contextlib.suppress(Exception):
                con.close()
            raise
        return fields

    def close(self) -> None:
        """Close every device opened, last first (a console reopened since: each one it had); never raises, and
        closing twice does nothing."""
        self._stack.close()

    def identities(self) -> dict[str, Identification]:
        """Each instrument and GPIO adapter as it names itself, or why it did not."""
        devices: dict[str, object] = {"attenuator": self.attenuator, "scope": self.scope, "psu": self.psu,
                                      **{f"gpio {name}": dev for name, dev in self.outputs.items()}}
        out: dict[str, Identification] = {}
        for name, dev in devices.items():
            if dev is None:
                continue
            try:
                out[name] = Identification(idn=dev.identity() if isinstance(dev, Identified) else "")
            except DriverError as exc:
                out[name] = Identification(error=str(exc))
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
            raise InstrumentError(f"camera {serial}: no supply channel on this bench", device="psu")
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
                raise InstrumentError(f"loopback {out_ref} -> {in_ref}: no edge within 1 s",
                                      device=f"gpio {split_line(out_ref)[0]}")
            lags.append(t1 - t0)
        return lags
