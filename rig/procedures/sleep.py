"""8. Sleep: a sleeping camera does not activate on a trigger (documented behaviour); after WAKE the
same trigger starts it again (a control, so a deaf camera cannot pass)."""

from __future__ import annotations

from typing import Any

from rig.procedures.base import Context, run_steps


def run(ctx: Context, key: str, trials: int, retries: int, trigger: str | None = None) -> None:
    emitter = ctx.emitter_for(trigger)
    cams = list(ctx.cameras)

    def step(seq: int, cams: list[str]) -> dict[str, Any]:
        cams = ctx.ensure_idle(cams)
        ctx.all_near(cams)
        try:
            ctx.each(cams, lambda s: ctx.console_call(s, lambda c: c.command("SLEEP")))
            asleep = ctx.trigger(emitter, cams)
        finally:
            ctx.each(cams, lambda s: ctx.console_call(s, lambda c: c.command("WAKE")))
        awake = ctx.trigger(emitter, cams)
        return {s: {"asleep_activated": asleep[s], "awake_activated": awake[s]} for s in ctx.live(cams)}

    for s in cams:
        ctx.need_console(s)
    run_steps(ctx, key, trials, retries, cams, step)
