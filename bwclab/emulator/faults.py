"""Injectable faults, per camera by serial: exactly the keys below, each off by default."""

from __future__ import annotations

from pathlib import Path

from pydantic import ConfigDict, Field, RootModel

from bwclab.core.config import ConfigError, read_yaml, validate
from bwclab.core.strict import Strict, Token


class CameraFaults(Strict):
    extra_latency_ms: float = Field(default=0.0, ge=0, le=60_000)
    latency_jitter_ms: float = Field(default=0.0, ge=0, le=60_000, description="uniform 0..jitter added")
    sensitivity_offset_db: float = Field(default=0.0, ge=-60, le=60, description="positive: hears less")
    buffer_shortfall_s: float = Field(default=0.0, ge=0, le=120)
    drop_frames: int = Field(default=0, ge=0, le=10_000)
    duplicate_frames: int = Field(default=0, ge=0, le=10_000)
    timecode_jump_ms: float = Field(default=0.0, ge=0, le=3_600_000)
    audio_in_buffer: bool = False
    ignore_signals: bool = False
    accept_any_emitter: bool = False
    corrupt_on_power_loss: bool = False
    console_noise: float = Field(default=0.0, ge=0, le=100_000, description="garbage bytes per minute")
    console_disconnect_after_s: float | None = Field(default=None, gt=0)
    clock_drift_ppm: float = Field(default=0.0, ge=-10_000, le=10_000)
    firmware: Token | None = Field(default=None, description="the firmware the camera reports: 'flash' a build")

    def active(self) -> dict[str, object]:
        base = CameraFaults()
        return {k: v for k, v in self.model_dump().items() if v != getattr(base, k)}


class FaultFile(RootModel[dict[str, CameraFaults]]):
    model_config = ConfigDict(frozen=True)


def load_faults(path: Path, cameras: list[str]) -> dict[str, CameraFaults]:
    data = read_yaml(path)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(path, ["(top level): expected a mapping of camera serial to faults"])
    parsed = validate(FaultFile, data, path)
    unknown = [s for s in parsed.root if s not in cameras]
    if unknown:
        raise ConfigError(path, [f"{s}: no camera with this serial on the bench (have {', '.join(cameras)})"
                                 for s in unknown])
    return dict(parsed.root)
