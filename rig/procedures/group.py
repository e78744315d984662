"""5. Group activation: one trigger starts every camera on the bench in range (all of them, not only
the cameras under certification)."""

from __future__ import annotations

from typing import Any

from rig.procedures.base import Context, run_steps


def run(ctx: Context, key: str, trials: int, retries: int, trigger: str | None = None) -> None:
    emitter = ctx.emitter_for(trigger)
    cams = list(ctx.bench.cameras)
    st = ctx.station

    def step(seq: int, cams: list[str]) -> dict[str, Any]:
        cams = ctx.ensure_idle(cams)
        ctx.all_near(cams)
        t0 = st.fire(emitter)
        seen = ctx.see_activations(emitter, t0, cams)
        ctx.finish_step(emitter, seen)
        return {"fired_ns": t0} | {s: {"activated": on} for s, on in seen.items()}

    run_steps(ctx, key, trials, retries, cams, step)
