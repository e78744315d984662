"""How to read a department's exports (`--columns MAP.yaml`): which of its columns holds each of our fields,
how its times are written, which priorities get an emergency response, and what its recording reasons mean.

Without a map the columns are ours: `call_id, call_type, priority, received, dispatched, arrived, cleared, unit`
in the CAD export and `recording_id, officer, started, ended, trigger` (and, if present, `call_id`) in the audit
export, times in ISO 8601. A field a department does not export is mapped to null; a time a department exports
as minutes after another (Detroit's `traveltime`) is `{column: NAME, minutes_after: FIELD}`."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from bwclab.core.config import load
from bwclab.core.strict import Strict
from bwclab.records import shipped

RecordingCause = Literal["manual", "light_bar", "taser", "holster", "door", "siren", "speed", "crash"]
CAUSES: tuple[str, ...] = ("manual", "light_bar", "taser", "holster", "door", "siren", "speed", "crash")
TIME_ORDER = ("received", "dispatched", "arrived", "cleared")


class Offset(Strict):
    """A time exported as a number of minutes after another of the row's times."""

    column: str = Field(min_length=1)
    minutes_after: Literal["received", "dispatched", "arrived"]


class CadColumns(Strict):
    call_id: str = "call_id"
    call_type: str = "call_type"
    priority: str | None = "priority"
    received: str = "received"
    dispatched: str | Offset | None = "dispatched"
    arrived: str | Offset | None = "arrived"
    cleared: str | Offset | None = "cleared"
    unit: str | None = Field(default="unit", description="the unit (one officer) of this response; null when "
                             "the export has one row per call")

    @model_validator(mode="after")
    def _offsets_follow(self) -> CadColumns:
        for name in TIME_ORDER[1:]:
            spec = getattr(self, name)
            if isinstance(spec, Offset):
                base = getattr(self, spec.minutes_after)
                if TIME_ORDER.index(spec.minutes_after) >= TIME_ORDER.index(name):
                    raise ValueError(f"{name}: minutes_after must name an earlier time ({', '.join(TIME_ORDER)})")
                if base is None:
                    raise ValueError(f"{name}: minutes_after {spec.minutes_after}, which is not mapped")
        return self


class AuditColumns(Strict):
    recording_id: str = "recording_id"
    officer: str = "officer"
    started: str = "started"
    ended: str = "ended"
    trigger: str = "trigger"
    call_id: str | None = Field(default=None, description="default: the column call_id, when the export has it")


class ColumnMap(Strict):
    description: str = ""
    cad: CadColumns = Field(default_factory=CadColumns)
    audit: AuditColumns = Field(default_factory=AuditColumns)
    time_format: list[str] | None = Field(
        default=None, description="strptime formats tried in turn, `iso` for ISO 8601 (the default: ISO 8601, "
        "with or without an offset)")
    emergency_priorities: list[str] = Field(
        default_factory=lambda: ["1"], description="priorities answered as emergencies (lights on): a priority is "
        "one when it equals one of these, or begins with one and goes on with letters ('2' covers '2A')")
    triggers: dict[str, RecordingCause] = Field(
        default_factory=dict, description="the export's recording reasons, as ours (manual, light_bar, ...)")

    @field_validator("time_format", mode="before")
    @classmethod
    def _one_or_more(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v

    @field_validator("time_format")
    @classmethod
    def _formats(cls, v: list[str] | None) -> list[str] | None:
        if v is not None and (not v or any("%" not in f and f != "iso" for f in v)):
            raise ValueError("expected strptime formats such as '%m/%d/%Y %I:%M:%S %p', or iso (ISO 8601)")
        return v

    @field_validator("emergency_priorities", mode="before")
    @classmethod
    def _as_text(cls, v: Any) -> Any:
        if isinstance(v, list):
            return [str(x) if isinstance(x, int | float) and not isinstance(x, bool) else x for x in v]
        return v

    @field_validator("triggers", mode="before")
    @classmethod
    def _keys_as_text(cls, v: Any) -> Any:
        if isinstance(v, dict):
            return {("" if k is None else str(k)).strip().lower(): c for k, c in v.items()}
        return v

    def is_emergency(self, priority: str) -> bool:
        p = priority.strip()
        return any(p == e or (p.startswith(e) and p[len(e):].isalpha()) for e in self.emergency_priorities)


DEFAULT = ColumnMap()


def builtin_maps() -> list[str]:
    return shipped.names("columns-")


def load_columns(text: str | None) -> tuple[ColumnMap, Path | None]:
    if text is None:
        return DEFAULT, None
    path = shipped.resolve("columns-", text, "column map")
    return load(ColumnMap, path), path
