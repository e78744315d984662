"""When an emitter may be fired again.

An emitter that ignores a rising edge during its broadcast (a real one may; the bench file says,
`retrigger`) must be left until that broadcast has ended, or the next step's trigger starts nothing
and the step measures the tail of the old broadcast. One that restarts may be fired at once.
"""

from __future__ import annotations


class OnAir:
    def __init__(self, broadcast_s: dict[str, float], restarts: dict[str, bool], margin_s: float) -> None:
        self.broadcast_ns = {e: int(s * 1e9) for e, s in broadcast_s.items()}
        self.restarts = restarts
        self.margin_ns = int(margin_s * 1e9)
        self.fired_ns: dict[str, int] = {}

    def wait_s(self, emitter: str, now_ns: int) -> float:
        """Seconds to wait before `emitter` may be fired at `now_ns` (host monotonic ns)."""
        last = self.fired_ns.get(emitter)
        if self.restarts[emitter] or last is None:
            return 0.0
        return max(0.0, (last + self.broadcast_ns[emitter] + self.margin_ns - now_ns) / 1e9)

    def fired(self, emitter: str, t_ns: int) -> None:
        self.fired_ns[emitter] = t_ns
