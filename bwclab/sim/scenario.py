"""A scenario as validated data: the department, its calls, its scenes, its cameras and its signals.

What a department can buy or configure is a setting here (which triggers it fields, the radius its
cameras reach, the buffer they keep, the field of view of the lens, dash cameras); everything else is
the situation (calls, scenes, officers), each figure sourced or marked as an assumption in the
scenario file and listed in docs/model.md's sensitivity table.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from bwclab.camera.ble import DiscoveryModel
from bwclab.camera.detection import DetectionCurve, LogisticCurve, LogNormalCurve, StepCurve, TableCurve
from bwclab.core.config import ConfigError, apply_overrides, read_yaml, set_dotted, validate
from bwclab.core.strict import Probability, Strict
from bwclab.core.triggers import DEFAULT_FIELDED, VEHICLE_TRIGGERS, TriggerKind
from bwclab.sim.dists import Dist, DistSpec, NonNegative, Share

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
    on_foot_share: Probability = Field(default=0.0, description="officers on foot or bicycle: no cruiser")
    on_foot: list[Annotated[int, Field(ge=0)]] | None = Field(default=None, description="these officers on foot")

    @model_validator(mode="after")
    def _positions(self) -> FleetSpec:
        if self.officers_at_ft is not None and len(self.officers_at_ft) != self.officers:
            raise ValueError(
                f"officers_at_ft lists {len(self.officers_at_ft)} positions for {self.officers} officers"
            )
        if self.on_foot is not None and any(o >= self.officers for o in self.on_foot):
            raise ValueError(f"on_foot names an officer >= {self.officers}")
        return self

    def foot(self, officer: int) -> bool:
        if self.on_foot is not None:
            return officer in self.on_foot
        return officer >= self.officers - round(self.officers * self.on_foot_share)


class PatrolSpec(Strict):
    enabled: bool = True
    speed_mph: float = Field(default=20.0, gt=0)
    emergency_speed_mph: float = Field(default=45.0, gt=0)
    foot_speed_mph: float = Field(default=8.0, gt=0, description="officers on foot or bicycle")
    detour_factor: float = Field(default=1.3, ge=1.0, description="road distance / straight line")
    park_s: NonNegative = Field(default_factory=lambda: Dist(dist="uniform", low=300, high=1200))
    walk_speed_ftps: float = Field(default=4.5, gt=0)
    run_speed_ftps: float = Field(default=15.0, gt=0, description="a foot pursuit")
    instant_travel: bool = Field(default=False, description="units reach scenes at once (validation)")


class DutiesSpec(Strict):
    """Time away from calls (reports, breaks, court): an officer is unavailable for `share` of the shift."""

    share: Probability = 0.0
    length_min: NonNegative = Field(default_factory=lambda: Dist(dist="exponential", mean=30))


class DispatchSpec(Strict):
    processing_s: NonNegative = Field(default_factory=lambda: Dist(dist="constant", value=0),
                                   description="call received to first unit dispatched, when one is free")
    duties: DutiesSpec = Field(default_factory=DutiesSpec)


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
    after_s: NonNegative
    stand_ft: NonNegative


class LightsSpec(Strict):
    """A light bar switched on at the scene (to warn traffic, to mark it), `after_s` after the unit stops:
    0 while the officer is still in the car, later once the officer has walked away from it."""

    probability: Probability = 0.0
    after_s: NonNegative = Field(default_factory=lambda: Dist(dist="constant", value=0))
    who: Literal["all", "first"] = Field(default="all", description="every unit, or only the first on scene")


class PursuitSpec(Strict):
    """A foot pursuit: the subject runs `distance_ft` and is caught at the critical moment; the officers
    present run after, at `patrol.run_speed_ftps`, from where they stand."""

    probability: Probability = 0.0
    distance_ft: NonNegative = Field(default_factory=lambda: Dist(dist="uniform", low=100, high=600))


class SceneSpec(Strict):
    cruiser_stop_ft: NonNegative = Field(default_factory=lambda: Dist(dist="uniform", low=10, high=30))
    exit_s: NonNegative = Field(default_factory=lambda: Dist(dist="uniform", low=5, high=20))
    stand_ft: NonNegative = Field(
        default_factory=lambda: Dist(dist="uniform", low=0, high=10),
        description="where each officer stands: distance from the subject",
    )
    moves: list[MoveSpec] = Field(default_factory=list)
    lights: LightsSpec = Field(default_factory=LightsSpec)
    pursuit: PursuitSpec = Field(default_factory=PursuitSpec)
    struggle: Probability = Field(default=0.0, description="a struggle at the critical moment (it may block the view)")
    wait_for_cover: Probability = Field(default=0.0, description="contact (the critical moment) waits until every "
                                        "unit sent is on scene, at most cover_wait_max_s")
    cover_wait_max_s: NonNegative = Field(default_factory=lambda: Dist(dist="constant", value=600))


class TriggerUse(Strict):
    """A weapon's sensor going off at an incident: `probability` per incident (a holster: every draw of the
    firearm, not only uses of force; a taser: fired). A taser is often armed without being fired: `armed` is
    P(armed at all), at least `probability` (arming broadcasts; firing, `fire_after_s` later, broadcasts again)."""

    probability: Probability = 0.0
    armed: Probability | None = Field(default=None, description="a taser armed (fired or not); default: probability")
    fire_after_s: NonNegative = Field(default_factory=lambda: Dist(dist="uniform", low=2, high=10),
                                      description="a taser fired: this long after it was armed")
    offset_s: DistSpec = Field(
        default_factory=lambda: Dist(dist="uniform", low=-5, high=5),
        description="when, relative to the critical moment",
    )

    @model_validator(mode="after")
    def _armed(self) -> TriggerUse:
        if self.armed is not None and self.armed < self.probability:
            raise ValueError(f"armed ({self.armed}) must be at least probability ({self.probability}): "
                             "a taser fired was armed first")
        return self

    @property
    def armed_probability(self) -> float:
        return self.probability if self.armed is None else self.armed


class CallTypeSpec(Strict):
    share: float = Field(default=0.0, ge=0, description="weight among citizen calls")
    units: dict[int, float] = Field(default_factory=lambda: {1: 1.0})
    priority: Probability = Field(default=0.0, description="P(emergency response: faster, light bar on)")
    severity: Literal["in_progress", "report"] = Field(
        default="report", description="in_progress: the event is under way; use of force is decided per incident")
    time_on_scene_min: NonNegative = Field(default_factory=lambda: Dist(dist="lognormal", mean=30.8, cv=0.8))
    critical_after_arrival_s: NonNegative = Field(default_factory=lambda: Dist(dist="uniform", low=30, high=300))
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


class ManualSpec(Strict):
    """Starting the camera by hand. `compliance` alone: one department-wide figure, drawn once per officer per
    shift. `by_call_type`: each type's steady-state rate over the officers (a type not listed takes
    `compliance`'s mean); each officer a propensity on the logit scale (normal, sd `officer_spread_logit`) added
    to every type's. `when`: the press after arrival, or on a priority response a share of them en route."""

    expected: bool = Field(default=True, description="policy: an officer starts the camera on every call")
    compliance: Share = Field(default_factory=lambda: Dist(dist="constant", value=0.5),
                              description="P(an officer starts it by hand), drawn once per officer per shift")
    by_call_type: dict[str, Probability] = Field(
        default_factory=dict, description="per call type, the share of officer-responses started by hand")
    officer_spread_logit: float = Field(default=0.0, ge=0, le=5,
                                        description="sd of an officer's propensity on the logit scale")
    when: Literal["arrival", "en_route"] = Field(
        default="arrival", description="en_route: on a priority response, en_route_share of presses while driving")
    en_route_share: Probability = Field(default=0.0, description="of presses on a priority response, made en route")
    delay_s: NonNegative = Field(default_factory=lambda: Dist(dist="lognormal", mean=30, cv=1.0),
                                 description="after arrival; en route, after setting off")


class CameraSpec(Strict):
    buffer_s: float = Field(default=30.0, ge=0, le=120)
    audio_in_buffer: bool = False
    sleep_probability: Probability = 0.05
    storage_gb_per_hour: float = Field(default=1.5, ge=0)
    retention_days: float = Field(default=90.0, ge=0, description="how long video is kept")
    stop_unassigned_after_s: NonNegative = Field(default_factory=lambda: Dist(dist="uniform", low=30, high=180))
    fov_deg: float = Field(default=146.0, gt=0, le=360, description="horizontal field of view (a lens sold as 146 "
                           "degrees is a diagonal figure: about 127 horizontal in 16:9)")
    mount: Literal["chest", "head"] = "chest"
    occlusion: dict[str, Probability] = Field(
        default_factory=lambda: {"chest": 0.0, "head": 0.0},
        description="P(the view is blocked) at a critical moment with a draw or a struggle, by mount")
    heading_spread_deg: float = Field(default=0.0, ge=0, le=180,
                                      description="how far from the subject an officer may face (uniform +/-)")
    manual: ManualSpec = Field(default_factory=ManualSpec)


class DashSpec(Strict):
    fitted: bool = True
    buffer_s: float = Field(default=30.0, ge=0, le=120)
    fov_deg: float = Field(default=110.0, gt=0, le=360)
    storage_gb_per_hour: float = Field(default=1.5, ge=0)


class LogisticSpec(Strict):
    kind: Literal["logistic"] = "logistic"
    r50_ft: float = Field(default=40.0, gt=0)
    slope_ft: float = Field(default=3.0, gt=0)

    def curve(self) -> DetectionCurve:
        return LogisticCurve(self.r50_ft, self.slope_ft)


class ShadowedSpec(Strict):
    """The radio's own shape: P(d) = Phi(10 n log10(r50 / d) / shadowing), log-distance path loss with a
    normal fade in dB."""

    kind: Literal["shadowed"]
    r50_ft: float = Field(default=40.0, gt=0)
    shadowing_db: float = Field(default=3.0, gt=0, le=20)
    exponent: float = Field(default=2.0, gt=0.5, le=6)

    def curve(self) -> DetectionCurve:
        return LogNormalCurve.shadowed(self.r50_ft, self.shadowing_db, self.exponent)


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
        return LogNormalCurve(self.a, self.b)


DetectionSpec = Annotated[LogisticSpec | ShadowedSpec | StepSpec | TableSpec | ProbitSpec,
                          Field(discriminator="kind")]


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
        return DiscoveryModel(self.adv_interval_ms / 1000, self.scan_window_ms / 1000, self.scan_interval_ms / 1000,
                              self.processing_ms / 1000, self.processing_jitter_ms / 1000)


class MeasuredLatency(Strict):
    """A device's measured latencies for one trigger kind (from its profile): they replace the BLE model."""

    samples_s: tuple[Annotated[float, Field(ge=0)], ...] = Field(min_length=1)
    misses: int = Field(default=0, ge=0, description="trials that did not activate: drawn as never heard")


class EmitterSpec(Strict):
    """One trigger kind's own settings against the signal's: extra loss (a body, a car) and its broadcast."""

    loss_db: float = Field(default=0.0, ge=-20, le=40, description="extra path loss of this emitter's mounting")
    broadcast_s: float | None = Field(default=None, gt=0, description="default: signal.broadcast_s")


class VehicleSpec(Strict):
    """A cruiser's inputs besides its light bar: when its speed and crash triggers go off (its door opens when the
    officer first gets out at a scene; its siren sounds as it sets off on an emergency response)."""

    speed_mph: float = Field(default=60.0, gt=0, description="the GNSS speed threshold")
    speed_after_s: NonNegative = Field(
        default_factory=lambda: Dist(dist="constant", value=10),
        description="from setting off on an emergency response to passing the threshold, when the response's "
                    "speed is above it")
    crash_per_hour: float = Field(default=0.0, ge=0, le=1, description="crashes per cruiser-hour on patrol or a call")


class SignalSpec(Strict):
    triggers: list[TriggerKind] = Field(default_factory=lambda: list(DEFAULT_FIELDED),
                                        description="the auto-activation switch: the emitter kinds fielded")
    broadcast_s: float = Field(default=30.0, gt=0)
    detection: DetectionSpec = Field(default_factory=LogisticSpec)
    path_loss_exponent: float = Field(default=2.0, gt=0.5, le=6, description="turns an emitter's loss_db into range")
    body_loss_db: float = Field(
        default=15.0, ge=0, le=40,
        description="the wearer's body between a worn camera and the emitter, at its back (half side-on, none "
                    "facing it): 10-20 dB at 2.4 GHz, no body-camera figure published (assumption); 0: off")
    emitters: dict[TriggerKind, EmitterSpec] = Field(default_factory=dict)
    vehicle: VehicleSpec = Field(default_factory=VehicleSpec)
    ble: BleSpec = Field(default_factory=BleSpec)
    measured_latency: dict[TriggerKind, MeasuredLatency] = Field(
        default_factory=dict, description="per trigger kind, from a device profile")

    def emitter(self, kind: str) -> EmitterSpec:
        return next((e for k, e in self.emitters.items() if k == kind), EmitterSpec())

    def broadcast_for(self, kind: str) -> float:
        return self.emitter(kind).broadcast_s or self.broadcast_s


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
        if self.cruiser is not None and self.kind not in VEHICLE_TRIGGERS:
            raise ValueError(f"a cruiser holds only vehicle triggers ({', '.join(VEHICLE_TRIGGERS)}), not {self.kind}")
        return self


class ScriptCall(Strict):
    at_s: float = Field(ge=0)
    type: str
    at_ft: Point
    units: list[Annotated[int, Field(ge=0)]] = Field(min_length=1)
    stops_ft: list[Point] | None = Field(default=None, description="where each unit stops, in the order of units")

    @model_validator(mode="after")
    def _stops(self) -> ScriptCall:
        if self.stops_ft is not None and len(self.stops_ft) != len(self.units):
            raise ValueError(f"stops_ft lists {len(self.stops_ft)} points for {len(self.units)} units")
        return self


class ScriptSpec(Strict):
    calls: list[ScriptCall] = Field(default_factory=list)
    triggers: list[ScriptTrigger] = Field(default_factory=list)


class Scenario(Strict):
    name: str
    description: str = ""
    seed: int = Field(default=1, ge=0)
    variant: str = Field(default="", description="the named variant applied, if any")
    shift: ShiftSpec = Field(default_factory=ShiftSpec)
    area: AreaSpec = Field(default_factory=AreaSpec)
    fleet: FleetSpec = Field(default_factory=FleetSpec)
    patrol: PatrolSpec = Field(default_factory=PatrolSpec)
    dispatch: DispatchSpec = Field(default_factory=DispatchSpec)
    calls: CallsSpec = Field(default_factory=CallsSpec)
    call_types: dict[str, CallTypeSpec] = Field(default_factory=dict)
    camera: CameraSpec = Field(default_factory=CameraSpec)
    dash: DashSpec = Field(default_factory=DashSpec)
    signal: SignalSpec = Field(default_factory=SignalSpec)
    metrics: MetricsSpec = Field(default_factory=MetricsSpec)
    script: ScriptSpec = Field(default_factory=ScriptSpec)

    @model_validator(mode="after")
    def _references(self) -> Scenario:
        if unknown := set(self.camera.occlusion) - {"chest", "head"}:
            raise ValueError(f"camera.occlusion: mounts are chest and head (got {', '.join(sorted(unknown))})")
        if any(r > 0 for r in self.calls.per_hour) and sum(t.share for t in self.call_types.values()) <= 0:
            raise ValueError("calls arrive but no call type has a share > 0")
        stops = any(r > 0 for r in self.calls.officer_initiated_per_hour)
        if stops and self.calls.officer_initiated_type not in self.call_types:
            raise ValueError(
                f"calls.officer_initiated_type {self.calls.officer_initiated_type!r} "
                f"is not among call_types ({', '.join(self.call_types) or 'none'})"
            )
        if stray := sorted(set(self.camera.manual.by_call_type) - set(self.call_types)):
            raise ValueError(f"camera.manual.by_call_type: unknown call type {', '.join(map(repr, stray))} "
                             f"(expected one of the call_types: {', '.join(self.call_types) or 'none'})")
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


def scenario_data(path: Path, variant: str | None = None, overrides: list[str] | None = None) -> dict[str, Any]:
    """The scenario file as data, with a named variant and `--set` overrides applied (not yet validated)."""
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(path, ["(top level): expected a mapping of fields"])
    return with_variant(data, path, variant, overrides)


def with_variant(data: dict[str, Any], path: Path | str, variant: str | None,
                 overrides: list[str] | None = None) -> dict[str, Any]:
    data = copy.deepcopy(data)
    variants = data.pop("variants", None) or {}
    if not isinstance(variants, dict):
        raise ConfigError(path, ["variants: expected a mapping of name to {dotted.key: value}"])
    if variant:
        if variant not in variants:
            raise ConfigError(path, [f"--variant {variant}: no such variant (have: {', '.join(variants) or 'none'})"])
        changes = variants[variant]
        if not isinstance(changes, dict):
            raise ConfigError(path, [f"variants.{variant}: expected a mapping of dotted.key to value"])
        for key, value in changes.items():
            set_dotted(data, str(key), copy.deepcopy(value), path)
        data["variant"] = variant
    if overrides:
        apply_overrides(data, overrides, path)
    return data


def load_scenario(path: Path, overrides: list[str] | None = None, variant: str | None = None) -> Scenario:
    """Read, pick a variant, override and validate a scenario; raises ConfigError naming file and field."""
    return validate(Scenario, scenario_data(path, variant, overrides), path)


def scenario_from_dict(data: dict[str, Any], source: str = "<scenario>") -> Scenario:
    return validate(Scenario, with_variant(data, source, None), source)
