"""7. Power cut during a recording: after power returns, the clip in the dock holds the footage up to
the cut (its last frame within two frames of it), plays, and matches its sidecar's hash."""

from __future__ import annotations

import time
from typing import Any

from rig.clip import read_clip
from rig.interfaces import NotApplicable
from rig.procedures.base import Context, run_steps


def run(ctx: Context, key: str, trials: int, retries: int, trigger: str | None = None, record_s: float = 1.0,
        off_s: float = 0.5) -> None:
    emitter = ctx.emitter_for(trigger)
    cams = list(ctx.cameras)
    st = ctx.station
    for s in cams:
        if st.psu is None or ctx.bench.cameras[s].psu_channel is None:
            raise NotApplicable(f"camera {s} has no supply channel on this bench")
        if st.dock(s) is None:
            raise NotApplicable(f"camera {s} has no dock folder")

    def step(seq: int, cams: list[str]) -> dict[str, Any]:
        cams = ctx.ensure_idle(cams)
        ctx.all_near(cams)
        t0 = st.fire(emitter)
        edges = {s: st.wait_indicator(s, t0, ctx.window_s(emitter)) for s in cams}
        time.sleep(record_s)
        st.release(emitter)
        cuts = {s: st.power(s, False) for s in cams if edges[s] is not None}
        time.sleep(off_s)
        for s in cams:
            st.power(s, True)
        time.sleep(ctx.boot_wait_s if ctx.station.console_port(cams[0]) is None else 0.0)

        def clip(s: str) -> dict[str, Any]:
            if ctx.console(s) is not None:
                ctx.console_call(s, lambda c: c.wait_event("BOOT", ctx.boot_wait_s))
            if s not in cuts:
                return {"activated": False}
            mp4 = ctx.collect_clip(s, None, cuts[s])
            reading = read_clip(mp4)
            fps = float(reading.sidecar.get("fps") or 10)
            last = max((t for t in reading.times_ns if t >= 0), default=None)
            lost_s = None if last is None else (cuts[s] - last) / 1e9
            intact = reading.playable and reading.hash_ok and lost_s is not None and lost_s <= 2 / fps
            ctx.last_end_ns[s] = time.monotonic_ns()
            return {"activated": True, "clip": str(mp4.relative_to(ctx.out)), "playable": reading.playable,
                    "hash_ok": reading.hash_ok, "lost_s": lost_s, "intact": intact, "error": reading.error}

        return {"fired_ns": t0} | ctx.each(cams, clip)

    run_steps(ctx, key, trials, retries, cams, step)
