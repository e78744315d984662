"""7. Power cut during a recording: after power returns, the clip in the dock holds the footage up to
the cut (its last frame within two frames of it), plays, and matches its sidecar's hash."""

from __future__ import annotations

import time

from pydantic import Field

from bwclab.rig.clip import read_clip
from bwclab.rig.measurements import COUNT, Measurement, count
from bwclab.rig.procedures.base import ClipRow, Context, Plan, recorded, run_steps
from bwclab.rig.procedures.declare import Options, Procedure, Quantity, TriggerParams
from bwclab.rig.trials import StepResult


class PowercutParams(TriggerParams):
    record_s: float = Field(default=1.0, gt=0, le=600)
    off_s: float = Field(default=0.5, gt=0, le=600)


class PowercutRow(ClipRow):
    playable: bool = False
    hash_ok: bool = False
    lost_s: float | None = None
    intact: bool = False
    error: str = ""


def run(ctx: Context, plan: Plan, p: PowercutParams) -> None:
    emitter = ctx.emitter_for(p.trigger)
    st = ctx.station

    def step(seq: int, cams: list[str]) -> StepResult:
        cams = ctx.ready_near(cams)
        fired = ctx.record_a_while(emitter, cams, p.record_s)
        cuts = {s: st.power(s, False) for s in cams if fired.edges[s] is not None}
        time.sleep(p.off_s)
        for s in cams:
            st.power(s, True)
        time.sleep(ctx.boot_wait_s if ctx.station.console_port(cams[0]) is None else 0.0)

        def clip(s: str) -> PowercutRow:
            if ctx.console(s) is not None:
                ctx.console_call(s, lambda c: c.wait_event("BOOT", ctx.boot_wait_s))
            if s not in cuts:
                return PowercutRow(activated=False)
            got = ctx.collect_clip(s, None, fired.dock_before[s])
            reading = read_clip(got.path)
            fps = float(reading.sidecar.get("fps") or 10)
            last = max((t for t in reading.times_ns if t >= 0), default=None)
            lost_s = None if last is None else (cuts[s] - last) / 1e9
            intact = reading.playable and reading.hash_ok and lost_s is not None and lost_s <= 2 / fps
            ctx.last_end_ns[s] = time.monotonic_ns()
            return PowercutRow.model_validate(ClipRow.taken(got, ctx.out) | {
                "playable": reading.playable, "hash_ok": reading.hash_ok, "lost_s": lost_s, "intact": intact,
                "error": reading.error})

        return StepResult.of(ctx.each(cams, clip), fired_ns=fired.fired_ns, emitter=emitter)

    run_steps(ctx, plan, list(ctx.cameras), step)


def measure(quantity: str, rows: list[PowercutRow], _o: Options) -> Measurement:
    clips = recorded(rows, "the camera never activated before the power cut")
    lost = ", ".join("unplayable" if r.lost_s is None else f"{r.lost_s:.3f} s" for r in clips)
    bad = [r for r in clips if not r.intact]
    note = "; ".join(f"playable={r.playable} hash_ok={r.hash_ok} {r.error}".strip() for r in bad)
    m = count(quantity, [0 if r.intact else 1 for r in clips], "power cuts", note)
    m.uncertainty += f"; footage lost before the cut: {lost}"
    return m


POWERCUT = Procedure(
    name="powercut", summary="a power cut mid-recording leaves a playable clip up to the cut",
    params=PowercutParams, options=Options, row=PowercutRow,
    quantities={"damaged_clips": Quantity(COUNT, "clips unplayable, failing their hash, or short of the cut")},
    needs=("indicator", "psu", "dock"), run=run, measure=measure, instruments=("psu",))
