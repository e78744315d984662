"""8. Sleep: a sleeping camera does not activate on a trigger (documented behaviour); after WAKE the
same trigger starts it again (a control, so a deaf camera cannot pass)."""

from __future__ import annotations

import time
from typing import Any

from rig.procedures.base import Context, run_steps


def run(ctx: Context, key: str, trials: int, retries: int, trigger: str | None = None) -> None:
    emitter = ctx.emitter_for(trigger)
    cams = list(ctx.cameras)
    st = ctx.station

    def fire_and_see() -> dict[str, bool]:
        t0 = st.fire(emitter)
        deadline = time.monotonic() + ctx.window_s(emitter)
        seen = {s: st.wait_indicator(s, t0, max(deadline - time.monotonic(), 0.0)) is not None for s in cams}
        st.release(emitter)
        time.sleep(0.1)
        return seen

    def step(seq: int) -> dict[str, Any]:
        ctx.ensure_idle(cams)
        ctx.all_near(cams)
        try:
            for s in cams:
                ctx.console_call(s, lambda c: c.command("SLEEP"))
            asleep = fire_and_see()
            for s in cams:
                if asleep[s]:
                    ctx.end_recording(s)
        finally:
            for s in cams:
                ctx.console_call(s, lambda c: c.command("WAKE"))
        awake = fire_and_see()
        for s in cams:
            if awake[s]:
                ctx.end_recording(s)
        return {s: {"asleep_activated": asleep[s], "awake_activated": awake[s]} for s in cams}

    for s in cams:
        ctx.need_console(s)
    run_steps(ctx, key, trials, retries, step)
