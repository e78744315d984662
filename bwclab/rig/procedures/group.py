"""5. Group activation: one trigger starts every camera on the bench in range (all of them, not only
the cameras under certification)."""

from __future__ import annotations

from bwclab.rig.measurements import FRACTION, Measurement, fraction
from bwclab.rig.procedures.base import Context, Plan, run_steps
from bwclab.rig.procedures.declare import Options, Procedure, Quantity, TriggerParams
from bwclab.rig.trials import Row, StepResult


class GroupRow(Row):
    activated: bool


def run(ctx: Context, plan: Plan, p: TriggerParams) -> None:
    emitter = ctx.emitter_for(p.trigger)
    st = ctx.station

    def step(seq: int, cams: list[str]) -> StepResult:
        cams = ctx.ready_near(cams)
        t0 = st.fire(emitter)
        seen = ctx.see_activations(emitter, t0, cams)
        ctx.finish_step(emitter, seen)
        return StepResult.of({s: GroupRow(activated=on) for s, on in seen.items()}, fired_ns=t0, emitter=emitter)

    run_steps(ctx, plan, list(ctx.bench.cameras), step)


def measure(quantity: str, rows: list[GroupRow], _o: Options) -> Measurement:
    return fraction(quantity, [r.activated for r in rows], "group triggers started it")


GROUP = Procedure(
    name="group", summary="one trigger starts every camera on the bench", params=TriggerParams, options=Options,
    row=GroupRow, quantities={"fraction_activated": Quantity(FRACTION, "group triggers that started the camera")},
    needs=("indicator",), run=run, measure=measure)
