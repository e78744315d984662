"""Console link and device clock, for the whole run.

`console`: the link stays clean: no noise bytes, no lost port, no retried command, counted over
every exchange the run made plus `span_s` of steady queries. `clock`: the device clock's drift
against the host, from the console offset at the start of the run and after at least `span_s`.
"""

from __future__ import annotations

import time

from pydantic import Field

from bwclab.rig.measurements import COUNT, PPM, Measurement, count
from bwclab.rig.procedures.base import Context, Plan, run_steps
from bwclab.rig.procedures.declare import Options, Params, Procedure, Quantity
from bwclab.rig.trials import Row, StepResult


class SpanParams(Params):
    span_s: float = Field(default=5.0, gt=0, le=86_400)


class ConsoleRow(Row):
    queries: int
    failed: int
    noise_bytes: int
    retried: int
    stale: int = 0
    open: bool


class ClockRow(Row):
    span_s: float
    drift_ppm: float
    u_ppm: float


def run_console(ctx: Context, plan: Plan, p: SpanParams) -> None:
    def step(seq: int, cams: list[str]) -> StepResult:
        queries = {s: 0 for s in cams}
        failed = {s: 0 for s in cams}
        end = time.monotonic() + p.span_s
        while time.monotonic() < end:
            for s in cams:
                queries[s] += 1
                try:
                    ctx.console_call(s, lambda c: c.identity())
                except Exception:
                    failed[s] += 1
            time.sleep(0.1)
        rows = {}
        for s in cams:
            con = ctx.console(s)
            rows[s] = ConsoleRow(queries=queries[s], failed=failed[s] + ctx.console_errors.get(s, 0),
                                 noise_bytes=con.noise_bytes if con is not None else 0,
                                 retried=con.retried if con is not None else 0,
                                 stale=con.stale if con is not None else 0, open=con is not None)
        return StepResult.of(rows)

    run_steps(ctx, plan, list(ctx.cameras), step)


OFFSET_SAMPLES = 25  # the offset is read from the quickest of these round trips: on a busy host most are slow


def run_clock(ctx: Context, plan: Plan, p: SpanParams) -> None:
    def first(s: str) -> None:
        if s not in ctx.clock0:
            t = time.monotonic_ns()
            off, rtt = ctx.console_call(s, lambda c: c.clock_offset_ns(OFFSET_SAMPLES))
            ctx.clock0[s] = (t, off, rtt)

    def drift(s: str) -> ClockRow:
        t0, off0, rtt0 = ctx.clock0[s]
        t1 = time.monotonic_ns()
        off1, rtt1 = ctx.console_call(s, lambda c: c.clock_offset_ns(OFFSET_SAMPLES))
        return ClockRow(span_s=(t1 - t0) / 1e9, drift_ppm=(off1 - off0) / (t1 - t0) * 1e6,
                        u_ppm=(rtt0 + rtt1) / 2 / (t1 - t0) * 1e6)

    def step(seq: int, cams: list[str]) -> StepResult:
        ctx.each(cams, first)
        cams = ctx.live(cams)
        if cams:
            wait = p.span_s - (time.monotonic_ns() - max(ctx.clock0[s][0] for s in cams)) / 1e9
            if wait > 0:
                time.sleep(wait)
        return StepResult.of(ctx.each(cams, drift))

    run_steps(ctx, plan, list(ctx.cameras), step)


def measure_console(quantity: str, rows: list[ConsoleRow], _o: Options) -> Measurement:
    last = rows[-1]
    return count(quantity, [last.failed + last.noise_bytes + last.retried + last.stale], "runs",
                 f"failed exchanges {last.failed}, noise bytes {last.noise_bytes}, retried commands {last.retried}, "
                 f"stale replies {last.stale}, over the run and {last.queries} extra queries")


def measure_clock(quantity: str, rows: list[ClockRow], _o: Options) -> Measurement:
    worst = max(rows, key=lambda r: abs(r.drift_ppm))
    drift = abs(worst.drift_ppm)
    return Measurement(quantity, drift, "ppm", len(rows), drift - worst.u_ppm, drift + worst.u_ppm,
                       uncertainty=f"+/-{worst.u_ppm:.1f} ppm over {worst.span_s:.1f} s",
                       lower95=drift - worst.u_ppm, upper95=drift + worst.u_ppm)


CONSOLE = Procedure(
    name="console", summary="the console link stays clean for the whole run", params=SpanParams, options=Options,
    row=ConsoleRow,
    quantities={"console_faults": Quantity(COUNT, "failed exchanges, noise bytes, retries, stale replies")},
    needs=("console",), run=run_console, measure=measure_console)

CLOCK = Procedure(
    name="clock", summary="device clock drift against the host", params=SpanParams, options=Options, row=ClockRow,
    quantities={"drift_ppm": Quantity(PPM, "device clock drift")}, needs=("console",), run=run_clock,
    measure=measure_clock)
