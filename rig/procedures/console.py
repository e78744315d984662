"""Console link and device clock, for the whole run.

`console`: the link stays clean: no noise bytes, no lost port, no retried command, counted over
every exchange the run made plus `span_s` of steady queries. `clock`: the device clock's drift
against the host, from the console offset at the start of the run and after at least `span_s`.
"""

from __future__ import annotations

import time
from typing import Any

from rig.procedures.base import Context, run_steps


def run_console(ctx: Context, key: str, trials: int, retries: int, span_s: float = 5.0) -> None:
    cams = list(ctx.cameras)

    def step(seq: int, cams: list[str]) -> dict[str, Any]:
        queries = {s: 0 for s in cams}
        failed = {s: 0 for s in cams}
        end = time.monotonic() + span_s
        while time.monotonic() < end:
            for s in cams:
                queries[s] += 1
                try:
                    ctx.console_call(s, lambda c: c.identity())
                except Exception:
                    failed[s] += 1
            time.sleep(0.1)
        out: dict[str, Any] = {}
        for s in cams:
            con = ctx.console(s)
            out[s] = {"queries": queries[s], "failed": failed[s] + ctx.console_errors.get(s, 0),
                      "noise_bytes": con.noise_bytes if con is not None else 0,
                      "retried": con.retried if con is not None else 0, "open": con is not None}
        return out

    for s in cams:
        ctx.need_console(s)
    run_steps(ctx, key, trials, retries, cams, step)


def run_clock(ctx: Context, key: str, trials: int, retries: int, span_s: float = 10.0) -> None:
    cams = list(ctx.cameras)

    def first(s: str) -> None:
        if s not in ctx.clock0:
            t = time.monotonic_ns()
            off, rtt = ctx.console_call(s, lambda c: c.clock_offset_ns())
            ctx.clock0[s] = (t, off, rtt)

    def drift(s: str) -> dict[str, float]:
        t0, off0, rtt0 = ctx.clock0[s]
        t1 = time.monotonic_ns()
        off1, rtt1 = ctx.console_call(s, lambda c: c.clock_offset_ns())
        return {"span_s": (t1 - t0) / 1e9, "drift_ppm": (off1 - off0) / (t1 - t0) * 1e6,
                "u_ppm": (rtt0 + rtt1) / 2 / (t1 - t0) * 1e6}

    def step(seq: int, cams: list[str]) -> dict[str, Any]:
        ctx.each(cams, first)
        cams = ctx.live(cams)
        if cams:
            wait = span_s - (time.monotonic_ns() - max(ctx.clock0[s][0] for s in cams)) / 1e9
            if wait > 0:
                time.sleep(wait)
        return dict(ctx.each(cams, drift))

    for s in cams:
        ctx.need_console(s)
    run_steps(ctx, key, trials, retries, cams, step)
