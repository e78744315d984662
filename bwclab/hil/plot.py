"""hil.png: per mapped camera, its simulated distance to each emitter the bench broadcast for, the
broadcasts, the critical moments, the observed activation and the model's 95% predictive interval."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from bwclab.hil.track import position_on
from bwclab.sim.model import ShiftResult


def hil_plot(hil: dict[str, Any], res: ShiftResult, path: Path) -> None:
    cams = hil["cameras"]
    w = hil["window"]
    fig = Figure(figsize=(11, 2.6 * max(1, len(cams)) + 0.6))
    axes = fig.subplots(max(1, len(cams)), 1, sharex=True, squeeze=False)[:, 0]
    tracks = hil["tracks"]
    step = max((w["end_s"] - w["start_s"]) / 600, 0.05)
    times = [w["start_s"] + k * step for k in range(int((w["end_s"] - w["start_s"]) / step) + 1)]
    crit = [i.critical_at for i in res.incidents if not math.isnan(i.critical_at)
            and w["start_s"] <= i.critical_at <= w["end_s"]]
    for ax, (serial, cam) in zip(axes, cams.items(), strict=False):
        o = cam["officer"]
        me = tracks.get(f"officer {o}")
        for b in hil["broadcasts"]:
            ax.axvspan(b["start_s"], b["end_s"], color="#ffd166", alpha=0.25, linewidth=0)
            them = tracks.get(b["holder"])
            if me and them:
                span = [t for t in times if b["start_s"] <= t <= b["end_s"]]
                d = [math.dist(position_on(me, t), position_on(them, t)) for t in span]
                ax.plot(span, d, label=f"to {b['trigger']} ({b['kind']})")
        for t in crit:
            ax.axvline(t, color="#6c757d", linestyle=":", linewidth=1.2)
        for a in cam["activations"]:
            lo, hi = (a.get("interval_s") or [None, None])
            if a.get("judged") and lo is not None and hi is not None:
                ax.axvspan(lo, hi, color="#90be6d", alpha=0.3, linewidth=0,
                           label="model's 95% interval" + (" (or none)" if a.get("none_plausible") else ""))
            if a.get("observed_s") is not None:
                ax.axvline(a["observed_s"], color="#d62828", linewidth=2, label="bench activation")
            if a.get("predicted_s") is not None:
                ax.axvline(a["predicted_s"], color="#2a9d8f", linestyle="--", linewidth=1.2, label="model's median")
        verdict = {True: "consistent with the model", False: "OUTSIDE the model's interval",
                   None: "not judged (the replay stopped early)"}[cam["consistent_with_model"]]
        ax.set_title(f"{serial} (officer {o}): {verdict}", fontsize=10, loc="left")
        ax.set_ylabel("distance (ft)")
        handles, labels = ax.get_legend_handles_labels()
        seen = dict(zip(labels, handles, strict=True))
        if seen:
            ax.legend(seen.values(), seen.keys(), fontsize=7, loc="upper right")
    axes[-1].set_xlabel("simulated time (s); dotted: critical moments; shaded: broadcasts")
    status = "valid" if hil["valid"] else f"INVALID: {hil['reason'][:120]}"
    fig.suptitle(f"{hil['scenario']} on {hil['bench']} at speed {hil['speed']:g} ({status})", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
