"""A scenario as validated data: the department, its calls, its cameras and its signals."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from camera.ble import DiscoveryModel
from camera.detection import DetectionCurve, LogisticCurve, ProbitCurve, StepCurve, TableCurve
from core.config import ConfigError, apply_overrides, read_yaml, validate
from core.strict import Probability, Strict
from core.triggers import TriggerKind
from sim.dists import Dist, DistSpec, Duration

Point = tuple[float, float]


class ShiftSpec(Strict):
    start_hour: float = Field(default=0.0, ge=0, lt=24, description="clock hour the shift starts")
    duration_h: float = Field(default=8.0, gt=0, le=24 * 366)


class AreaSpec(Strict):
    width_mi: float = Field(default=4.0, gt=0)
    height_mi: float = Field(default=4.0, gt=0)


class FleetSpec(Strict):
    officers: int = Field(default=20, ge=1, le=200_000)
    officers_at_ft: list[Point] | None = Field(
        default=None, description="explicit start positions (one per officer); default: in beats"
    )

    @model_validator(mode="after")
    def _positions(self) -> FleetSpec:
        if self.officers_at_ft is not None and len(self.officers_at_ft) != self.officers:
            raise ValueError(
                f"officers_at_ft lists {len(self.officers_at_ft)} positions for {self.officers} officers"
            )
        return self


class PatrolSpec(Strict):
    enabled: bool = True
    speed_mph: float = Field(default=20.0, gt=0)
    emergency_speed_mph: float = Field(default=45.0, gt=0)
    detour_factor: float = Field(default=1.3, ge=1.0, description="road distance / straight line")
    park_s: Duration = Field(default_factory=lambda: Dist(dist="uniform", low=300, high=1200))
    walk_speed_ftps: float = Field(default=4.5, gt=0)
    instant_travel: bool = Field(default=False, description="units reach scenes at once (validation)")


class CallsSpec(Strict):
    per_hour: list[Annotated[float, Field(ge=0)]] = Field(
        default_factory=lambda: [8.0] * 24, description="citizen calls per hour, by clock hour"
    )
    officer_initiated_per_hour: list[Annotated[float, Field(ge=0)]] = Field(
        default_factory=lambda: [0.0] * 24
    )
    officer_initiated_type: str = "traffic_stop"

    @field_validator("per_hour", "officer_initiated_per_hour", mode="before")
    @classmethod
    def _hourly(cls, v: Any) -> Any:
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return [float(v)] * 24
        if isinstance(v, list) and len(v) != 24:
            raise ValueError(f"expected 24 hourly values (one per clock hour), got {len(v)}")
        return v


class MoveSpec(Strict):
    after_s: Duration
    stand_ft: Duration


class SceneSpec(Strict):
    cruiser_stop_ft: Duration = Field(
        default_factory=lambda: Dist(dist="uniform", low=10, high=30)
    )
    exit_s: Duration = Field(default_factory=lambda: Dist(dist="uniform", low=5, high=20))
    stand_ft: Duration = Field(
        default_factory=lambda: Dist(dist="uniform", low=0, high=10),
        description="where each officer stands: distance from the incident point",
    )
    moves: list[MoveSpec] = Field(default_factory=list)


class TriggerUse(Strict):
    probability: Probability = 0.0
    offset_s: DistSpec = Field(
        default_factory=lambda: Dist(dist="uniform", low=-5, high=5),
        description="when, relative to the critical moment",
    )


class CallTypeSpec(Strict):
    share: float = Field(default=0.0, ge=0, description="weight among citizen calls")
    units: dict[int, float] = Field(default_factory=lambda: {1: 1.0})
    priority: Probability = Field(default=0.0, description="P(light bar on while responding)")
    light_bar_on_scene: bool = False
    time_on_scene_min: Duration = Field(
        default_factory=lambda: Dist(dist="lognormal", mean=30.8, cv=0.8)
    )
    critical_after_arrival_s: Duration = Field(
        default_factory=lambda: Dist(dist="uniform", low=30, high=300)
    )
    taser: TriggerUse = Field(default_factory=TriggerUse)
    holster: TriggerUse = Field(default_factory=TriggerUse, description="a firearm drawn from a sensing holster")
    scene: SceneSpec = Field(default_factory=SceneSpec)

    @field_validator("units", mode="before")
    @classmethod
    def _units(cls, v: Any) -> Any:
        if isinstance(v, int) and not isinstance(v, bool):
            return {v: 1.0}
        return v

    @field_validator("units")
    @classmethod
    def _units_valid(cls, v: dict[int, float]) -> dict[int, float]:
        if not v or any(k < 1 for k in v) or any(w < 0 for w in v.values()) or sum(v.values()) <= 0:
            raise ValueError("expected {units: weight} with units >= 1 and positive weights")
        return v

    @property
    def mean_units(self) -> float:
        total = sum(self.units.values())
        return sum(k * w for k, w in self.units.items()) / total


class ManualSpec(Strict):
    compliance: Probability = Field(default=0.5, description="P(officer starts the camera by hand)")
    delay_s: Duration = Field(default_factory=lambda: Dist(dist="lognormal", mean=30, cv=1.0))


class CameraSpec(Strict):
    buffer_s: float = Field(default=30.0, ge=0, le=120)
    audio_in_buffer: bool = False
    sleep_probability: Probability = 0.05
    storage_gb_per_hour: float = Field(default=1.5, ge=0)
    stop_unassigned_after_s: Duration = Field(
        default_factory=lambda: Dist(dist="uniform", low=30, high=180)
    )
    manual: ManualSpec = Field(default_factory=ManualSpec)


class LogisticSpec(Strict):
    kind: Literal["logistic"] = "logistic"
    r50_ft: float = Field(default=40.0, gt=0)
    slope_ft: float = Field(default=3.0, gt=0)

    def curve(self) -> DetectionCurve:
        return LogisticCurve(self.r50_ft, self.slope_ft)


class StepSpec(Strict):
    kind: Literal["step"]
    radius_ft: float = Field(gt=0)

    def curve(self) -> DetectionCurve:
        return StepCurve(self.radius_ft)


class TableSpec(Strict):
    kind: Literal["table"]
    distance_ft: list[float]
    probability: list[Probability]

    @model_validator(mode="after")
    def _check(self) -> TableSpec:
        try:
            self.curve()
        except ValueError as exc:
            raise ValueError(str(exc)) from None
        return self

    def curve(self) -> DetectionCurve:
        return TableCurve(tuple(self.distance_ft), tuple(self.probability))


class ProbitSpec(Strict):
    """A measured curve, P(d) = Phi(a + b ln d): what a device profile's fit gives."""

    kind: Literal["probit"]
    a: float
    b: float = Field(lt=0)

    def curve(self) -> DetectionCurve:
        return ProbitCurve(self.a, self.b)


DetectionSpec = Annotated[LogisticSpec | StepSpec | TableSpec | ProbitSpec, Field(discriminator="kind")]


class BleSpec(Strict):
    adv_interval_ms: float = Field(default=100.0, ge=20, le=10240)
    scan_window_ms: float = Field(default=183.0, gt=0)
    scan_interval_ms: float = Field(default=730.0, gt=0)
    processing_ms: float = Field(default=200.0, ge=0)
    processing_jitter_ms: float = Field(default=50.0, ge=0)

    @model_validator(mode="after")
    def _window(self) -> BleSpec:
        if self.scan_window_ms > self.scan_interval_ms:
            raise ValueError("scan_window_ms must not exceed scan_interval_ms")
        return self

    def model(self) -> DiscoveryModel:
        return DiscoveryModel(
            self.adv_interval_ms / 1000,
            self.scan_window_ms / 1000,
            self.scan_interval_ms / 1000,
            self.processing_ms / 1000,
            self.processing_jitter_ms / 1000,
        )


class MeasuredLatency(Strict):
    """A device's measured latencies for one trigger kind (from its profile): they replace the BLE model."""

    samples_s: tuple[Annotated[float, Field(ge=0)], ...] = Field(min_length=1)
    misses: int = Field(default=0, ge=0, description="trials that did not activate: drawn as never heard")


class SignalSpec(Strict):
    broadcast_s: float = Field(default=30.0, gt=0)
    detection: DetectionSpec = Field(default_factory=LogisticSpec)
    ble: BleSpec = Field(default_factory=BleSpec)
    measured_latency: dict[TriggerKind, MeasuredLatency] = Field(
        default_factory=dict, description="per trigger kind, from a device profile")


class MetricsSpec(Strict):
    context_s: float = Field(default=10.0, ge=0, description="video needed before the critical moment")


class ScriptTrigger(Strict):
    at_s: float = Field(ge=0)
    kind: TriggerKind
    officer: int | None = Field(default=None, ge=0)
    cruiser: int | None = Field(default=None, ge=0)
    at_ft: Point | None = None
    call: int | None = Field(default=None, ge=0, description="script.calls index it belongs to")

    @model_validator(mode="after")
    def _one_holder(self) -> ScriptTrigger:
        given = [x is not None for x in (self.officer, self.cruiser, self.at_ft)]
        if sum(given) != 1:
            raise ValueError("name exactly one holder: officer, cruiser or at_ft")
        return self


class ScriptCall(Strict):
    at_s: float = Field(ge=0)
    type: str
    at_ft: Point
    units: list[Annotated[int, Field(ge=0)]] = Field(min_length=1)


class ScriptSpec(Strict):
    calls: list[ScriptCall] = Field(default_factory=list)
    triggers: list[ScriptTrigger] = Field(default_factory=list)


class Scenario(Strict):
    name: str
    description: str = ""
    seed: int = Field(default=1, ge=0)
    shift: ShiftSpec = Field(default_factory=ShiftSpec)
    area: AreaSpec = Field(default_factory=AreaSpec)
    fleet: FleetSpec = Field(default_factory=FleetSpec)
    patrol: PatrolSpec = Field(default_factory=PatrolSpec)
    calls: CallsSpec = Field(default_factory=CallsSpec)
    call_types: dict[str, CallTypeSpec] = Field(default_factory=dict)
    camera: CameraSpec = Field(default_factory=CameraSpec)
    signal: SignalSpec = Field(default_factory=SignalSpec)
    metrics: MetricsSpec = Field(default_factory=MetricsSpec)
    script: ScriptSpec = Field(default_factory=ScriptSpec)

    @model_validator(mode="after")
    def _references(self) -> Scenario:
        if any(r > 0 for r in self.calls.per_hour) and sum(t.share for t in self.call_types.values()) <= 0:
            raise ValueError("calls arrive but no call type has a share > 0")
        stops = any(r > 0 for r in self.calls.officer_initiated_per_hour)
        if stops and self.calls.officer_initiated_type not in self.call_types:
            raise ValueError(
                f"calls.officer_initiated_type {self.calls.officer_initiated_type!r} "
                f"is not among call_types ({', '.join(self.call_types) or 'none'})"
            )
        n = self.fleet.officers
        for i, call in enumerate(self.script.calls):
            if call.type not in self.call_types:
                raise ValueError(f"script.calls.{i}.type {call.type!r} is not among call_types")
            if any(u >= n for u in call.units):
                raise ValueError(f"script.calls.{i}.units name an officer >= {n}")
        for i, trig in enumerate(self.script.triggers):
            idx = trig.officer if trig.officer is not None else trig.cruiser
            if idx is not None and idx >= n:
                raise ValueError(f"script.triggers.{i} names unit {idx} but the fleet has {n}")
            if trig.call is not None:
                if trig.call >= len(self.script.calls):
                    raise ValueError(f"script.triggers.{i}.call {trig.call}: no such script call")
                if trig.at_s < self.script.calls[trig.call].at_s:
                    raise ValueError(f"script.triggers.{i} fires before its call arrives")
        return self

    @property
    def duration_s(self) -> float:
        return self.shift.duration_h * 3600.0


def load_scenario(path: Path, overrides: list[str] | None = None) -> Scenario:
    """Read, override and validate a scenario; raises ConfigError naming file and field."""
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(path, ["(top level): expected a mapping of fields"])
    if overrides:
        apply_overrides(data, overrides, path)
    return validate(Scenario, data, path)


def scenario_from_dict(data: dict[str, Any], source: str = "<scenario>") -> Scenario:
    return validate(Scenario, data, source)
