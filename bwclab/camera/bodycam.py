"""A body camera's state machine: SLEEP, BUFFERING, RECORDING, and the video it keeps."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class CameraState(StrEnum):
    SLEEP = "SLEEP"
    BUFFERING = "BUFFERING"
    RECORDING = "RECORDING"


class SignalOutcome(StrEnum):
    """What a camera did with a trigger signal it heard."""

    ACTIVATED = "activated"
    ASLEEP = "asleep"  # sleep mode ignores signals
    ALREADY_RECORDING = "already_recording"  # a signal never restarts a recording
    NOT_ALLOWED = "not_allowed"  # emitter not on the allow-list


@dataclass(frozen=True)
class CameraSettings:
    buffer_s: float = 30.0
    audio_in_buffer: bool = False
    allow_list: frozenset[str] | None = None  # None: any emitter is trusted

    def __post_init__(self) -> None:
        if not 0.0 <= self.buffer_s <= 120.0:
            raise ValueError(f"buffer_s must be within 0..120 s, got {self.buffer_s}")


@dataclass
class Recording:
    """One recording: video reaches back into the pre-event buffer, audio may not."""

    activated_at: float
    video_from: float
    audio_from: float
    cause: str
    source: str
    ended_at: float | None = None

    def video_covers(self, start: float, end: float) -> bool:
        stop = self.ended_at if self.ended_at is not None else float("inf")
        return self.video_from <= start and end <= stop

    def audio_covers(self, start: float, end: float) -> bool:
        stop = self.ended_at if self.ended_at is not None else float("inf")
        return self.audio_from <= start and end <= stop


@dataclass
class BodyCamera:
    """The behaviour shared by the fleet model and the bench emulator.

    Times are plain floats in seconds on whatever clock the caller runs.
    """

    camera_id: str
    settings: CameraSettings = field(default_factory=CameraSettings)
    state: CameraState = CameraState.BUFFERING
    buffering_since: float = 0.0
    recordings: list[Recording] = field(default_factory=list)

    @property
    def current(self) -> Recording | None:
        if self.state is CameraState.RECORDING:
            return self.recordings[-1]
        return None

    def sleep(self, now: float) -> None:
        if self.state is CameraState.RECORDING:
            self.stop(now)
        self.state = CameraState.SLEEP

    def wake(self, now: float) -> None:
        if self.state is CameraState.SLEEP:
            self.state = CameraState.BUFFERING
            self.buffering_since = now

    def hear(self, now: float, emitter_id: str, *, accept_any: bool = False) -> SignalOutcome:
        """A trigger signal was discovered and processed at `now`."""
        if self.state is CameraState.SLEEP:
            return SignalOutcome.ASLEEP
        if self.state is CameraState.RECORDING:
            return SignalOutcome.ALREADY_RECORDING
        allowed = self.settings.allow_list
        if allowed is not None and emitter_id not in allowed and not accept_any:
            return SignalOutcome.NOT_ALLOWED
        self._start(now, cause="signal", source=emitter_id)
        return SignalOutcome.ACTIVATED

    def press(self, now: float, source: str = "manual") -> bool:
        """Manual start (button). Wakes a sleeping camera, which then has no buffer."""
        if self.state is CameraState.RECORDING:
            return False
        if self.state is CameraState.SLEEP:
            self.wake(now)
        self._start(now, cause="manual", source=source)
        return True

    def start_direct(self, now: float, cause: str, source: str) -> bool:
        """A wired start (an in-car camera on its own light bar). Never restarts."""
        if self.state is CameraState.RECORDING:
            return False
        if self.state is CameraState.SLEEP:
            self.wake(now)
        self._start(now, cause=cause, source=source)
        return True

    def stop(self, now: float) -> Recording | None:
        rec = self.current
        if rec is None:
            return None
        rec.ended_at = now
        self.state = CameraState.BUFFERING
        self.buffering_since = now
        return rec

    def buffered_from(self, now: float) -> float:
        """Earliest time the pre-event buffer holds at `now` (no buffer while asleep)."""
        if self.state is not CameraState.BUFFERING:
            return now
        return max(self.buffering_since, now - self.settings.buffer_s)

    def _start(self, now: float, cause: str, source: str) -> None:
        video_from = self.buffered_from(now)
        audio_from = video_from if self.settings.audio_in_buffer else now
        self.recordings.append(Recording(now, video_from, audio_from, cause, source))
        self.state = CameraState.RECORDING
