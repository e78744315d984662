"""Plots of a run: officers against time, and what got covered and why not."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure
from matplotlib.patches import Patch

from bwclab.sim.metrics import CAUSES, OfficerOnScene
from bwclab.sim.model import ShiftResult

STATUS_COLOURS = {"patrol": "#d9d9d9", "responding": "#f4a261", "on_scene": "#457b9d", "duty": "#a8dadc"}
MAX_ROWS = 60


def timeline_plot(res: ShiftResult, path: Path) -> None:
    n = min(res.scenario.fleet.officers, MAX_ROWS)
    end_h = res.scenario.duration_s / 3600
    fig = Figure(figsize=(11, max(3.0, 0.18 * n + 1.5)))
    ax = fig.subplots()
    for s in res.statuses:
        if s.officer < n:
            ax.broken_barh([(s.start_s / 3600, (s.end_s - s.start_s) / 3600)], (s.officer - 0.4, 0.8),
                           color=STATUS_COLOURS[s.status], linewidth=0)
    for o, cam in enumerate(res.body_cams[:n]):
        for r in cam.recordings:
            stop = r.ended_at if r.ended_at is not None else res.scenario.duration_s
            ax.broken_barh([(r.activated_at / 3600, (stop - r.activated_at) / 3600)], (o - 0.15, 0.3),
                           color="#d62828", linewidth=0)
            ax.broken_barh([(r.video_from / 3600, (r.activated_at - r.video_from) / 3600)], (o - 0.15, 0.3),
                           color="#f28482", linewidth=0)
    handles = [Patch(color=c) for c in STATUS_COLOURS.values()]
    handles += [Patch(color="#d62828"), Patch(color="#f28482")]
    labels = [*list(STATUS_COLOURS), "recording", "pre-event buffer"]
    ax.legend(handles, labels, loc="upper center", ncol=5, bbox_to_anchor=(0.5, -0.08), frameon=False)
    ax.set_xlim(0, end_h)
    ax.set_ylim(-1, n)
    ax.invert_yaxis()
    ax.set_xlabel("hours into the shift")
    ax.set_ylabel("officer")
    shown = f" (first {n} of {res.scenario.fleet.officers})" if n < res.scenario.fleet.officers else ""
    ax.set_title(f"{res.scenario.name}: officers against time{shown}")
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def coverage_plot(res: ShiftResult, rows: list[OfficerOnScene], summary: dict[str, Any], path: Path) -> None:
    fig = Figure(figsize=(11, 4))
    (ax1, ax2) = fig.subplots(1, 2)
    missed = summary["missed"]
    names = list(CAUSES)
    means = [missed[c]["mean"] or 0.0 for c in names]
    lows = [m - (missed[c]["ci_low"] if missed[c]["ci_low"] is not None else m) for m, c in zip(means, names,
                                                                                               strict=True)]
    highs = [(missed[c]["ci_high"] if missed[c]["ci_high"] is not None else m) - m for m, c in zip(means, names,
                                                                                                   strict=True)]
    ax1.barh(names, means, xerr=[lows, highs], color="#e76f51", capsize=2)
    ax1.set_xlabel(f"officers a shift whose video missed the moment (mean of {summary['reps']}, 95% CI)")
    rate = summary["figures"]["capture_rate"]
    shown = "n/a" if rate["mean"] is None else f"{rate['mean']:.1%}"
    ci = "" if rate["ci_low"] is None else f" [{rate['ci_low']:.1%}, {rate['ci_high']:.1%}]"
    ax1.set_title(f"Capture rate {shown}{ci}")
    ctx = res.scenario.metrics.context_s
    present = [r for r in rows if r.present_at_critical]
    reach = []
    crit = {i.number: i.critical_at for i in res.incidents}
    for r in present:
        before = -60.0 if math.isnan(r.video_from_s) else crit[r.incident] - r.video_from_s
        reach.append(max(-60.0, min(130.0, before)))
    if reach:
        ax2.hist(reach, bins=38, range=(-60, 130), color="#457b9d")
    ax2.axvline(ctx, color="k", linestyle="--", label=f"context needed ({ctx:g} s)")
    ax2.set_xlabel("video before the critical moment (s), first replication; -60 = none")
    ax2.set_ylabel("officers on scene")
    ax2.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def sweep_plots(summary: list[dict[str, Any]], keys: list[str], out: Path) -> list[Path]:
    """Capture rate against each varied key, one line per combination of the other keys."""
    paths = []
    for key in keys:
        others = [k for k in keys if k != key]
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for row in summary:
            groups.setdefault(tuple(row[k] for k in others), []).append(row)
        fig = Figure(figsize=(7, 4.5))
        ax = fig.subplots()
        for label, rows in groups.items():
            rows = sorted(rows, key=lambda r: _num(r[key]))
            x = [_num(r[key]) for r in rows]
            y = [r["capture_rate_mean"] for r in rows]
            lo = [r["capture_rate_mean"] - r["capture_rate_ci_low"] for r in rows]
            hi = [r["capture_rate_ci_high"] - r["capture_rate_mean"] for r in rows]
            name = ", ".join(f"{k}={v}" for k, v in zip(others, label, strict=True)) or "capture rate"
            ax.errorbar(x, y, yerr=[lo, hi], marker="o", capsize=3, label=name)
        ax.set_xlabel(key)
        ax.set_ylabel("capture rate (mean, 95% CI)")
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        path = out / f"capture_vs_{key.replace('.', '_')}.png"
        fig.savefig(path, dpi=90)
        paths.append(path)
    return paths


def _num(v: Any) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan
