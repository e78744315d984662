"""What the model records as it runs: plain rows, turned into files by the run folder."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ActivationRow:
    time_s: float
    camera: str
    camera_kind: str  # body | dash
    cause: str  # signal | manual | wired
    trigger: str  # emitter ID, or "" for a manual start
    trigger_kind: str  # light_bar | taser | holster | manual
    broadcast: int | None  # broadcast number; None for a manual or wired start
    incident: int | None  # incident of the trigger, None when it belongs to none
    distance_ft: float  # camera to emitter when it came into range (nan when no signal)
    latency_s: float  # activation - max(broadcast start, entry into range)
    since_trigger_s: float  # activation - broadcast start
    bystander: bool  # a body camera of an officer not on the trigger's incident


@dataclass(frozen=True, slots=True)
class Reception:
    """A camera that discovered a broadcast, and what it did with it."""

    time_s: float
    officer: int
    broadcast: int
    incident: int | None
    outcome: str


@dataclass(frozen=True, slots=True)
class StatusSpan:
    officer: int
    status: str  # patrol | responding | on_scene | duty
    start_s: float
    end_s: float


@dataclass(frozen=True, slots=True)
class View:
    """What each camera faced at an incident's critical moment: the subject in its field of view and not
    blocked (body cameras by officer; dash cameras by the officer whose cruiser carries it)."""

    body: dict[int, bool]
    dash: dict[int, bool]
