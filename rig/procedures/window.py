"""3. Broadcast window: a camera brought into range at a delay after the trigger activates while the
broadcast is still on, and not once it has ended. Delays are fractions of the emitter's nominal
broadcast duration; the cameras start parked out of range."""

from __future__ import annotations

import time
from typing import Any

from rig.procedures.base import Context, run_steps

FRACTIONS = (0.25, 0.5, 1.25)


def run(ctx: Context, key: str, trials: int, retries: int, trigger: str | None = None) -> None:
    emitter = ctx.emitter_for(trigger)
    cams = list(ctx.cameras)
    st = ctx.station
    broadcast_s = float(ctx.bench.broadcast_s(emitter))

    def step(seq: int, cams: list[str]) -> dict[str, Any]:
        delay = FRACTIONS[seq % len(FRACTIONS)] * broadcast_s
        cams = ctx.ensure_idle(cams)
        for s in cams:
            st.park(s)
        t0 = st.fire(emitter)
        time.sleep(max(0.0, delay - (time.monotonic_ns() - t0) / 1e9))
        for s in cams:
            st.set_distance(s, ctx.near_ft)
        moved = time.monotonic_ns()
        deadline = time.monotonic() + max(broadcast_s - delay, 0.0) + ctx.settle_s
        result: dict[str, Any] = {"fired_ns": t0, "delay_s": (moved - t0) / 1e9, "broadcast_s": broadcast_s}
        for s in cams:
            edge = st.wait_indicator(s, t0, max(deadline - time.monotonic(), 0.0))
            result[s] = {"activated": edge is not None, "expected": delay < broadcast_s}
        ctx.finish_step(emitter, {s: result[s]["activated"] for s in cams})
        return result

    run_steps(ctx, key, trials, retries, cams, step)
    ctx.all_near(cams)
