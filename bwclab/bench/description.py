"""A bench as validated data: wiring, path-loss calibration, and the emulated device models.

Lines are named `ADAPTER:PIN` (for example `numato0:5`). The rig reads the wiring and the
calibration; the emulator also reads `emulate:`. Neither reads the other's protocol code.
"""

from __future__ import annotations

import datetime
import math
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from bwclab.bench.drivers import ROLES, driver_class
from bwclab.core.config import load
from bwclab.core.strict import Line, Strict, Token
from bwclab.core.triggers import TriggerKind

LINE = re.compile(r"^(?P<adapter>[A-Za-z][\w-]*):(?P<pin>\d{1,3})$")
SERIAL = r"^[A-Za-z0-9][\w-]{0,31}$"
FT_PER_M = 3.28084


def split_line(ref: str) -> tuple[str, int]:
    m = LINE.match(ref)
    if m is None:
        raise ValueError(f"expected a line as ADAPTER:PIN, for example numato0:5, got {ref!r}")
    return m["adapter"], int(m["pin"])


LineRef = Annotated[str, Field(pattern=LINE.pattern, description="ADAPTER:PIN")]
DriverName = Annotated[str, Field(pattern=r"^[A-Za-z][\w.-]{0,63}$",
                                  description="a name in the bwclab.drivers entry-point group (docs/drivers.md)")]


def _fits(role: str) -> AfterValidator:
    """Checks a driver name against ROLE: a ValueError naming what is wrong and the drivers that would do."""

    def check(name: str) -> str:
        driver_class(role, name)
        return name

    return AfterValidator(check)


GpioDriver = Annotated[DriverName, _fits("gpio")]
ConsoleDriver = Annotated[DriverName, _fits("console")]
ScopeDriver = Annotated[DriverName, _fits("scope")]
AttenuatorDriver = Annotated[DriverName, _fits("attenuator")]
SupplyDriver = Annotated[DriverName, _fits("psu")]


class GpioAdapter(Strict):
    driver: GpioDriver = Field(default=ROLES["gpio"].default, description="numato, gpiod, or a lab's own")
    port: str | None = Field(default=None, description="serial device (numato) or gpiochip path (gpiod)")
    ports: Literal[8, 16, 32, 64] = 32


class EmitterWiring(Strict):
    kind: TriggerKind
    line: LineRef
    id: str = Field(pattern=r"^[\w-]{1,32}$", description="the ID the emitter broadcasts")
    broadcast_s: float | None = Field(default=None, gt=0, le=600,
                                      description="nominal broadcast duration (datasheet); emulated: emulate.emitters")
    retrigger: Literal["restart", "ignore"] | None = Field(
        default=None, description="what a rising edge during a broadcast does (datasheet); unset: emulated "
                                  "emitters as emulate.emitters says, a real one assumed to ignore it")


class CameraWiring(Strict):
    indicator: LineRef | None = None
    button: LineRef | None = None
    attenuator_channel: int | None = Field(default=None, ge=1, le=8,
                                           description="the one channel between every emitter and this camera")
    paths: dict[str, Annotated[int, Field(ge=1, le=8)]] = Field(
        default_factory=dict, description="a matrix bench: the channel between each emitter (by name) and this camera")
    psu_channel: int | None = Field(default=None, ge=1, le=3)
    console: str | None = Field(default=None, description="serial device of the console (real bench)")
    has_console: bool = Field(default=True, description="false: a camera certified by trigger, indicator and dock only")
    dock: str | None = Field(default=None, description="folder where its clips appear (real bench)")
    model: Token | None = Field(default=None, description="for a camera without a console: its model")
    firmware: Token | None = Field(default=None, description="for a camera without a console: its firmware")
    driver: ConsoleDriver = Field(default=ROLES["console"].default, description="the driver of its console")


class Instrument(Strict):
    resource: str | None = Field(default=None, description="VISA resource string (real bench)")
    calibrated: datetime.date | None = Field(default=None, description="date of the last calibration")
    calibration_due: datetime.date | None = Field(default=None, description="date the next calibration is due")

    def overdue(self, today: datetime.date) -> bool:
        return self.calibration_due is not None and self.calibration_due < today


class ScopeProbe(Strict):
    line: LineRef | None = None
    indicator: str | None = Field(default=None, description="camera serial whose indicator this probes")

    @model_validator(mode="after")
    def _one(self) -> ScopeProbe:
        if (self.line is None) == (self.indicator is None):
            raise ValueError("a scope probe watches exactly one of: line, indicator")
        return self


class Scope(Instrument):
    driver: ScopeDriver = ROLES["scope"].default
    channels: dict[Annotated[int, Field(ge=1, le=4)], ScopeProbe] = Field(default_factory=dict)


class AttenuatorInstrument(Instrument):
    driver: AttenuatorDriver = ROLES["attenuator"].default
    max_db: float = Field(default=95.0, gt=0, le=130,
                          description="the attenuator's range: a camera parked here hears nothing")
    step_db: float = Field(default=0.25, gt=0, le=2, description="the attenuator's resolution")


class Supply(Instrument):
    driver: SupplyDriver = ROLES["psu"].default


class Instruments(Strict):
    attenuator: AttenuatorInstrument = Field(default_factory=AttenuatorInstrument)
    scope: Scope | None = None
    psu: Supply | None = None


class PathLoss(Strict):
    """Log-distance path loss; the attenuator adds what the bench's fixed loss does not."""

    loss_at_1m_db: float = Field(default=40.2, ge=0, le=100)
    exponent: float = Field(default=2.0, gt=0.5, le=6)
    bench_loss_db: float = Field(default=10.0, ge=0, le=100, description="cables, splitters, enclosure")

    def path_loss_db(self, distance_ft: float) -> float:
        d_m = max(distance_ft / FT_PER_M, 1e-3)
        return self.loss_at_1m_db + 10 * self.exponent * math.log10(d_m)

    def attenuation_for(self, distance_ft: float) -> float:
        """Attenuator setting (dB) that stands for `distance_ft` on this bench."""
        return self.path_loss_db(distance_ft) - self.bench_loss_db

    def distance_for(self, attenuation_db: float) -> float:
        total = attenuation_db + self.bench_loss_db
        return FT_PER_M * 10 ** ((total - self.loss_at_1m_db) / (10 * self.exponent))


class EmulatedEmitters(Strict):
    tx_power_dbm: float = Field(default=0.0, ge=-40, le=20)
    adv_interval_ms: float = Field(default=100.0, ge=20, le=10240)
    broadcast_s: float = Field(default=30.0, gt=0, le=600)
    light_bar_filter_ms: float = Field(default=50.0, ge=0, le=1000, description="dips shorter than this are ignored")
    retrigger: Literal["restart", "ignore"] = Field(
        default="restart", description="a rising edge during a broadcast restarts it, or is ignored")


class EmulatedCamera(Strict):
    model: Token = "BWC-EMU-1"
    firmware: Token = "1.0.0"
    buffer_s: float = Field(default=30.0, ge=0, le=120)
    audio_in_buffer: bool = False
    allow_list: list[str] | None = Field(default=None, description="trusted emitter IDs; omit to trust any")
    sensitivity_dbm: float = Field(default=-64.0, ge=-110, le=0, description="RSSI threshold to act on a signal")
    shadowing_db: float = Field(default=1.5, ge=0, le=10, description="spread of the per-broadcast fade")
    scan_window_ms: float = Field(default=100.0, gt=0)
    scan_interval_ms: float = Field(default=100.0, gt=0)
    processing_ms: float = Field(default=200.0, ge=0, le=10_000)
    processing_jitter_ms: float = Field(default=50.0, ge=0, le=10_000)
    fps: float = Field(default=10.0, ge=1, le=60)
    frame_px: int = Field(default=160, ge=144, le=640, multiple_of=16)
    boot_s: float = Field(default=1.0, ge=0, le=60)
    indicator: Literal["steady", "blink"] = "steady"
    blink_hz: float = Field(default=2.0, gt=0, le=50)

    @model_validator(mode="after")
    def _scan(self) -> EmulatedCamera:
        if self.scan_window_ms > self.scan_interval_ms:
            raise ValueError("scan_window_ms must be at most scan_interval_ms")
        return self


class EmulatedAttenuator(Strict):
    model: Token = "RC4DAT-6G-95"
    serial: Token = "12011110001"
    max_db: float = Field(default=95.0, gt=0, le=130)
    step_db: float = Field(default=0.25, gt=0, le=1)
    start_db: float = Field(default=0.0, ge=0)


class Emulate(Strict):
    seed: int | None = Field(default=1, ge=0, description="fixes the emulated radio and timing; null: a fresh "
                             "seed each start (logged in the truth log)")
    emitters: EmulatedEmitters = Field(default_factory=EmulatedEmitters)
    camera: EmulatedCamera = Field(default_factory=EmulatedCamera)
    attenuator: EmulatedAttenuator = Field(default_factory=EmulatedAttenuator)
    adapter_id: str = Field(default="00000001", pattern=r"^[0-9A-Za-z]{8}$")


class RigSettings(Strict):
    """How the rig paces trials on this bench."""

    near_ft: float = Field(default=10.0, gt=0, le=100, description="the 'near' distance of latency and buffer trials")
    settle_s: float = Field(default=1.0, ge=0, le=60,
                            description="after a broadcast ends, how long an activation may still take to show")
    boot_wait_s: float = Field(default=5.0, ge=0, le=300, description="power back on until a camera is ready")


def calibration_overdue(bench: Bench, today: datetime.date) -> list[str]:
    """The bench's instruments whose calibration is past due on `today`."""
    inst = bench.instruments
    named: list[tuple[str, Instrument | None]] = [("attenuator", inst.attenuator), ("scope", inst.scope),
                                                  ("psu", inst.psu)]
    return [f"{name} (due {i.calibration_due})" for name, i in named if i is not None and i.overdue(today)]


class Bench(Strict):
    name: Line = "bench"
    gpio: dict[str, GpioAdapter] = Field(min_length=1)
    emitters: dict[str, EmitterWiring] = Field(min_length=1)
    cameras: dict[Annotated[str, Field(pattern=SERIAL)], CameraWiring] = Field(min_length=1)
    loopback: tuple[LineRef, LineRef] | None = Field(default=None, description="an output wired to an input")
    instruments: Instruments = Field(default_factory=Instruments)
    path_loss: PathLoss = Field(default_factory=PathLoss)
    rig: RigSettings = Field(default_factory=RigSettings)
    emulate: Emulate | None = None

    @field_validator("gpio")
    @classmethod
    def _names(cls, v: dict[str, GpioAdapter]) -> dict[str, GpioAdapter]:
        for name in v:
            if not re.match(r"^[A-Za-z][\w-]*$", name):
                raise ValueError(f"adapter name {name!r}: letters, digits, _ or -, starting with a letter")
        return v

    @model_validator(mode="after")
    def _wiring(self) -> Bench:
        problems: list[str] = []
        used: dict[str, str] = {}

        def claim(ref: str | None, what: str) -> None:
            if ref is None:
                return
            adapter, pin = split_line(ref)
            if adapter not in self.gpio:
                problems.append(f"{what}: no GPIO adapter named {adapter!r} (have {sorted(self.gpio)})")
            elif pin >= self.gpio[adapter].ports:
                problems.append(f"{what}: pin {pin} is beyond {adapter}'s {self.gpio[adapter].ports} pins")
            if ref in used:
                problems.append(f"{what}: line {ref} is already wired to {used[ref]}")
            used[ref] = what

        for name, e in self.emitters.items():
            claim(e.line, f"emitters.{name}.line")
        channels: dict[int, str] = {}
        supplies: dict[int, str] = {}
        for serial, c in self.cameras.items():
            claim(c.indicator, f"cameras.{serial}.indicator")
            claim(c.button, f"cameras.{serial}.button")
            problems += self._paths(serial, c, channels)
            if c.psu_channel is not None:
                if c.psu_channel in supplies:
                    problems.append(f"cameras.{serial}.psu_channel: channel {c.psu_channel} "
                                    f"already belongs to {supplies[c.psu_channel]}")
                supplies[c.psu_channel] = serial
        if self.loopback is not None:
            claim(self.loopback[0], "loopback[0]")
            claim(self.loopback[1], "loopback[1]")
        scope = self.instruments.scope
        if scope is not None:
            for ch, probe in scope.channels.items():
                if probe.indicator is not None and probe.indicator not in self.cameras:
                    problems.append(f"instruments.scope.channels.{ch}.indicator: no camera {probe.indicator!r}")
                if probe.line is not None and probe.line not in used:
                    problems.append(f"instruments.scope.channels.{ch}.line: {probe.line} is not wired to anything")
        problems += self._placeable()
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _paths(self, serial: str, c: CameraWiring, channels: dict[int, str]) -> list[str]:
        """A camera has one attenuator channel, or (a matrix bench) one per emitter; no channel serves two."""
        if (c.attenuator_channel is None) == (not c.paths):
            return [f"cameras.{serial}: give exactly one of attenuator_channel (one channel for every emitter) "
                    "or paths (a matrix bench: emitter name -> channel)"]
        problems: list[str] = []
        if c.paths:
            if unknown := sorted(set(c.paths) - set(self.emitters)):
                problems.append(f"cameras.{serial}.paths: no emitter named {', '.join(unknown)} "
                                f"(have {', '.join(self.emitters)})")
            if missing := sorted(set(self.emitters) - set(c.paths)):
                problems.append(f"cameras.{serial}.paths: no channel for emitter {', '.join(missing)}: "
                                "a matrix bench gives every emitter-camera path its own channel")
        where = {f"paths.{e}": ch for e, ch in c.paths.items()} or {"attenuator_channel": c.attenuator_channel or 0}
        for field_, ch in where.items():
            if ch in channels:
                problems.append(f"cameras.{serial}.{field_}: channel {ch} already belongs to {channels[ch]}")
            channels[ch] = f"{serial} ({field_})"
        return problems

    def channels(self, serial: str) -> dict[str, int]:
        """Emitter name -> the attenuator channel between it and this camera."""
        c = self.cameras[serial]
        if c.paths:
            return dict(c.paths)
        assert c.attenuator_channel is not None
        return {e: c.attenuator_channel for e in self.emitters}

    @property
    def matrix(self) -> bool:
        """Whether every emitter-camera path has its own channel (else a camera hears every emitter through one)."""
        return any(c.paths for c in self.cameras.values())

    def distance_range_ft(self) -> tuple[float, float]:
        """The nearest and farthest distance the attenuator can stand for on this bench (0 dB and its range)."""
        pl, top = self.path_loss, self.instruments.attenuator.max_db
        return pl.distance_for(0.0), pl.distance_for(top)

    def _placeable(self) -> list[str]:
        near, far = self.distance_range_ft()
        want = self.rig.near_ft
        if near > want:
            return [f"path_loss: at 0 dB the attenuator already stands for {near:,.1f} ft, beyond rig.near_ft "
                    f"({want:g} ft): with bench_loss_db {self.path_loss.bench_loss_db:g} no camera can be brought near"]
        if far < 2 * want:
            return [f"path_loss: the attenuator's {self.instruments.attenuator.max_db:g} dB stands for only "
                    f"{far:,.1f} ft: a camera cannot be parked out of range"]
        return []

    def broadcast_s(self, emitter: str) -> float:
        """The emitter's nominal broadcast duration: the wiring's datasheet figure, else the emulated one."""
        nominal = self.emitters[emitter].broadcast_s
        if nominal is not None:
            return nominal
        return self.emulate.emitters.broadcast_s if self.emulate is not None else 30.0

    def restarts(self, emitter: str) -> bool:
        """Whether a rising edge during the emitter's broadcast starts a new one. A real emitter whose
        datasheet does not say is assumed to ignore it: the rig then waits its broadcast out."""
        nominal = self.emitters[emitter].retrigger
        if nominal is None:
            nominal = self.emulate.emitters.retrigger if self.emulate is not None else "ignore"
        return nominal == "restart"

    def kinds(self) -> list[str]:
        return sorted({e.kind for e in self.emitters.values()})

    def lacks(self, serial: str, need: str) -> str | None:
        """Why a camera cannot serve a need (indicator, console, psu, dock), or None when it can. An emulated
        bench gives every camera a console and a dock."""
        c = self.cameras[serial]
        emulated = self.emulate is not None
        if need == "indicator" and c.indicator is None:
            return "the camera's indicator is not wired"
        if need == "console" and (not c.has_console or (not emulated and c.console is None)):
            return "the camera has no console" if not c.has_console else "the bench file gives no console port"
        if need == "psu" and (self.instruments.psu is None or c.psu_channel is None):
            return "the camera has no supply channel on this bench"
        if need == "dock" and not emulated and c.dock is None:
            return "the camera has no dock folder"
        return None


def load_bench(path: Path) -> Bench:
    return load(Bench, path)
