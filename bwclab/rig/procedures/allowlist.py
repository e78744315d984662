"""6. Allow-list: an emitter that is not on a camera's allow-list does not start it. Through the
console the camera is told to trust every bench emitter but one; that one fires, then (a control,
so a deaf camera cannot pass) an allowed one. The camera's own setting, read once before its first
trial, is restored after every trial."""

from __future__ import annotations

from functools import partial

from bwclab.bench.description import Bench
from bwclab.core.triggers import TriggerKind
from bwclab.rig.interfaces import ConsoleLink
from bwclab.rig.measurements import COUNT, Measurement, count_with_control
from bwclab.rig.procedures.base import Context, Plan, run_steps
from bwclab.rig.procedures.declare import Options, Procedure, Quantity, TriggerParams
from bwclab.rig.trials import Row, StepResult


class AllowlistParams(TriggerParams):
    """`trigger`: the foreign emitter's kind (default: the bench's last emitter)."""


class AllowlistRow(Row):
    foreign_activated: bool
    allowed_activated: bool


def _foreign(bench: Bench, kind: TriggerKind | None) -> str:
    names = list(bench.emitters)
    return next((n for n in names if bench.emitters[n].kind == kind), names[-1]) if kind else names[-1]


def run(ctx: Context, plan: Plan, p: AllowlistParams) -> None:
    foreign = _foreign(ctx.bench, p.trigger)
    allowed = next(n for n in ctx.bench.emitters if n != foreign)
    trusted = ",".join(e.id for n, e in ctx.bench.emitters.items() if n != foreign)
    saved: dict[str, str] = {}  # the camera's own allow-list, before the procedure touched it

    def save(s: str) -> None:
        if s not in saved:
            saved[s] = ctx.console_call(s, lambda c: c.fields("CONFIG?")).get("allow", "*")

    def restore(s: str) -> None:
        ctx.console_call(s, partial(_configure, allow=saved[s]))

    def step(seq: int, cams: list[str]) -> StepResult:
        cams = ctx.ready_near(cams)
        ctx.each(cams, save)
        try:
            ctx.each(cams, lambda s: ctx.console_call(s, partial(_configure, allow=trusted)))
            bad = ctx.trigger(foreign, cams)
            good = ctx.trigger(allowed, cams)
        finally:
            ctx.each([s for s in cams if s in saved], restore)
        rows = {s: AllowlistRow(foreign_activated=bad[s], allowed_activated=good[s]) for s in ctx.live(cams)}
        return StepResult.of(rows, foreign=foreign)

    run_steps(ctx, plan, list(ctx.cameras), step)


def _configure(con: ConsoleLink, allow: str) -> str:
    return con.command(f"CONFIG allow={allow}")


def measure(quantity: str, rows: list[AllowlistRow], _o: Options) -> Measurement:
    return count_with_control(quantity, [r.foreign_activated for r in rows], [r.allowed_activated for r in rows],
                              "foreign triggers", "an allowed emitter failed to start it")


def check(quantity: str, p: AllowlistParams, o: Options, bench: Bench) -> list[str]:
    if len(bench.emitters) < 2:
        return ["procedure: allowlist needs two emitters on the bench (a foreign one and an allowed control)"]
    return []


ALLOWLIST = Procedure(
    name="allowlist", summary="an emitter off the camera's allow-list does not start it", params=AllowlistParams,
    options=Options, row=AllowlistRow,
    quantities={"foreign_activations": Quantity(COUNT, "activations by the emitter not on the allow-list")},
    needs=("indicator", "console"), run=run, measure=measure, check=check)
