"""8. Sleep: a sleeping camera does not activate on a trigger (documented behaviour); after WAKE the
same trigger starts it again (a control, so a deaf camera cannot pass)."""

from __future__ import annotations

from bwclab.rig.measurements import COUNT, Measurement, count_with_control
from bwclab.rig.procedures.base import Context, Plan, run_steps
from bwclab.rig.procedures.declare import Options, Procedure, Quantity, TriggerParams
from bwclab.rig.trials import Row, StepResult


class SleepRow(Row):
    asleep_activated: bool
    awake_activated: bool


def run(ctx: Context, plan: Plan, p: TriggerParams) -> None:
    emitter = ctx.emitter_for(p.trigger)

    def step(seq: int, cams: list[str]) -> StepResult:
        cams = ctx.ready_near(cams)
        try:
            ctx.each(cams, lambda s: ctx.console_call(s, lambda c: c.command("SLEEP")))
            asleep = ctx.trigger(emitter, cams)
        finally:
            ctx.each(cams, lambda s: ctx.console_call(s, lambda c: c.command("WAKE")))
        awake = ctx.trigger(emitter, cams)
        return StepResult.of({s: SleepRow(asleep_activated=asleep[s], awake_activated=awake[s])
                              for s in ctx.live(cams)}, emitter=emitter)

    run_steps(ctx, plan, list(ctx.cameras), step)


def measure(quantity: str, rows: list[SleepRow], _o: Options) -> Measurement:
    return count_with_control(quantity, [r.asleep_activated for r in rows], [r.awake_activated for r in rows],
                              "triggers while asleep", "awake it failed to start")


SLEEP = Procedure(
    name="sleep", summary="a sleeping camera ignores triggers; awake, it starts", params=TriggerParams,
    options=Options, row=SleepRow, quantities={"activations_asleep": Quantity(COUNT, "activations while asleep")},
    needs=("indicator", "console"), run=run, measure=measure)
