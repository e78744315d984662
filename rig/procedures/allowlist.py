"""6. Allow-list: an emitter that is not on a camera's allow-list does not start it. Through the
console the camera is told to trust every bench emitter but one; that one fires, then (a control,
so a deaf camera cannot pass) an allowed one. The camera's own setting, read once before its first
trial, is restored after every trial."""

from __future__ import annotations

from functools import partial
from typing import Any

from rig.interfaces import ConsoleLink
from rig.procedures.base import Context, run_steps


def run(ctx: Context, key: str, trials: int, retries: int, trigger: str | None = None) -> None:
    foreign = ctx.emitter_for(trigger or list(ctx.bench.emitters)[-1])
    allowed = next(n for n in ctx.bench.emitters if n != foreign)
    cams = list(ctx.cameras)
    trusted = ",".join(e.id for n, e in ctx.bench.emitters.items() if n != foreign)

    saved: dict[str, str] = {}  # the camera's own allow-list, before the procedure touched it

    def save(s: str) -> None:
        if s not in saved:
            saved[s] = ctx.console_call(s, lambda c: c.fields("CONFIG?")).get("allow", "*")

    def restore(s: str) -> None:
        ctx.console_call(s, partial(_configure, allow=saved[s]))

    def step(seq: int, cams: list[str]) -> dict[str, Any]:
        cams = ctx.ensure_idle(cams)
        ctx.all_near(cams)
        ctx.each(cams, save)
        try:
            ctx.each(cams, lambda s: ctx.console_call(s, partial(_configure, allow=trusted)))
            bad = ctx.trigger(foreign, cams)
            good = ctx.trigger(allowed, cams)
        finally:
            ctx.each([s for s in cams if s in saved], restore)
        return {s: {"foreign_activated": bad[s], "allowed_activated": good[s]} for s in ctx.live(cams)} | {
            "foreign": foreign}

    for s in cams:
        ctx.need_console(s)
    run_steps(ctx, key, trials, retries, cams, step)


def _configure(con: ConsoleLink, allow: str) -> str:
    return con.command(f"CONFIG allow={allow}")
