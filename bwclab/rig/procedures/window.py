"""3. Broadcast window: a camera brought into range at a delay after the trigger activates while the
broadcast is still on, and not once it has ended. Delays are fractions of the emitter's nominal
broadcast duration; the cameras start parked out of range."""

from __future__ import annotations

import time

from bwclab.rig.measurements import FRACTION, Measurement, fraction
from bwclab.rig.procedures.base import Context, Plan, run_steps
from bwclab.rig.procedures.declare import Options, Procedure, Quantity, TriggerParams
from bwclab.rig.trials import Row, StepResult

FRACTIONS = (0.25, 0.5, 1.25)


class WindowRow(Row):
    activated: bool
    expected: bool


def run(ctx: Context, plan: Plan, p: TriggerParams) -> None:
    emitter = ctx.emitter_for(p.trigger)
    st = ctx.station
    broadcast_s = float(ctx.bench.broadcast_s(emitter))

    def step(seq: int, cams: list[str]) -> StepResult:
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
        rows = {}
        for s in cams:
            edge = st.wait_indicator(s, t0, max(deadline - time.monotonic(), 0.0))
            rows[s] = WindowRow(activated=edge is not None, expected=delay < broadcast_s)
        ctx.finish_step(emitter, {s: r.activated for s, r in rows.items()})
        return StepResult.of(rows, fired_ns=t0, delay_s=(moved - t0) / 1e9, broadcast_s=broadcast_s)

    run_steps(ctx, plan, list(ctx.cameras), step)
    ctx.all_near(ctx.cameras)


def measure(quantity: str, rows: list[WindowRow], _o: Options) -> Measurement:
    return fraction(quantity, [r.activated == r.expected for r in rows], "trials as expected")


WINDOW = Procedure(
    name="window", summary="a camera brought into range activates while the broadcast is on, not after",
    params=TriggerParams, options=Options, row=WindowRow,
    quantities={"fraction_as_expected": Quantity(FRACTION, "trials that activated iff the broadcast was still on")},
    needs=("indicator",), run=run, measure=measure)
