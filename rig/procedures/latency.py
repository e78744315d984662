"""1. Activation latency for one trigger type at a near distance, every camera at once.

Each trial fires the trigger and times each camera's indicator edge: through the scope when it
watches both lines (its own delay measurement), and always through the GPIO adapter's host
timestamps, corrected by the loopback wire's median lag (the GPIO path's out-and-back delay).
The scope's window (`scope_window_s`, default 1.5 s: half again the default limit) bounds what it can
see; a slower activation has no scope reading and the trial set falls back to the GPIO path.
"""

from __future__ import annotations

import time
from typing import Any

from rig.procedures.base import Context, run_steps


def run(ctx: Context, key: str, trials: int, retries: int, trigger: str, distance_ft: float | None = None,
        scope_window_s: float = 1.5) -> None:
    emitter = ctx.emitter_for(trigger)
    cams = list(ctx.cameras)
    window = ctx.window_s(emitter)
    st = ctx.station

    def step(seq: int, cams: list[str]) -> dict[str, Any]:
        cams = ctx.ensure_idle(cams)
        for s in cams:
            st.set_distance(s, distance_ft or ctx.near_ft)
        scoped = {s: st.scope_channels(emitter, s) for s in cams}
        armed = next(((s, chans) for s, chans in scoped.items() if chans is not None), None)
        if armed is not None and st.scope is not None:
            st.scope.arm(armed[1][0], rising=True, window_s=scope_window_s)
        t0 = st.fire(emitter)
        result: dict[str, Any] = {"fired_ns": t0, "emitter": emitter}
        deadline = time.monotonic() + window
        for s in cams:
            edge = st.wait_indicator(s, t0, max(deadline - time.monotonic(), 0.0))
            gpio_s = None if edge is None else (edge - t0 - ctx.gpio.lag_median_ns) / 1e9
            result[s] = {"gpio_s": gpio_s, "gpio_u_s": ctx.gpio.lag_spread_ns / 1e9, "scope_s": None}
        if armed is not None and st.scope is not None:
            s, (src, dst) = armed
            if result[s]["gpio_s"] is not None:
                result[s]["scope_s"] = st.scope.delay(src, dst, timeout_s=scope_window_s + 2.0)
                result[s]["scope_u_s"] = st.scope.resolution_s
        ctx.finish_step(emitter, {s: result[s]["gpio_s"] is not None for s in cams})
        return result

    ctx.all_near(cams)
    run_steps(ctx, key, trials, retries, cams, step)
