"""5. Group activation: one trigger starts every camera on the bench in range (all of them, not only
the cameras under certification)."""

from __future__ import annotations

import time
from typing import Any

from rig.procedures.base import Context, run_steps


def run(ctx: Context, key: str, trials: int, retries: int, trigger: str | None = None) -> None:
    emitter = ctx.emitter_for(trigger)
    cams = list(ctx.bench.cameras)
    st = ctx.station

    def step(seq: int) -> dict[str, Any]:
        ctx.ensure_idle(cams)
        ctx.all_near(cams)
        t0 = st.fire(emitter)
        deadline = time.monotonic() + ctx.window_s(emitter)
        result: dict[str, Any] = {"fired_ns": t0}
        for s in cams:
            edge = st.wait_indicator(s, t0, max(deadline - time.monotonic(), 0.0))
            result[s] = {"activated": edge is not None}
        st.release(emitter)
        for s in cams:
            if result[s]["activated"]:
                ctx.end_recording(s)
        time.sleep(0.1)
        return result

    run_steps(ctx, key, trials, retries, step)
