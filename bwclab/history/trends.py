"""`trends.html`: one self-contained page (plots inline as PNG data, no script, no network) of the history.

Per requirement and camera: the value with its CI run by run, the limit, the band of the baseline last night
was actually judged against (a regressed night stays out of it until accepted), firmware changes marked,
regressions flagged. Then last night against the baseline, the changes people accepted, and the bench's health.
"""

from __future__ import annotations

import base64
import html
import io
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from bwclab.core.outfolder import atomic_write
from bwclab.history.drift import Drift
from bwclab.history.record import RunRecord
from bwclab.history.store import Acceptance

STYLE = """body{font-family:sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}.regressed{background:#fdd}.better{background:#dfd}
.bad{color:#b00}img{max-width:100%;border:1px solid #eee}"""


def _png(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def band(runs: list[RunRecord], requirement: str, camera: str, baseline: set[str]) -> tuple[float, float] | None:
    """The lowest and highest value the baseline's nights measured for a requirement on a camera."""
    vals = [r.value for run in runs if run.run_id in baseline for r in run.results
            if r.requirement == requirement and r.camera == camera and r.value is not None and math.isfinite(r.value)]
    return (min(vals), max(vals)) if vals else None


def plot(runs: list[RunRecord], requirement: str, camera: str, baseline: set[str],
         flagged: dict[str, Drift]) -> str | None:
    xs, ys, los, his, marks, better = [], [], [], [], [], []
    limit_min = limit_max = None
    units = ""
    prev_fw = None
    fig, ax = plt.subplots(figsize=(7.5, 2.8))
    for i, run in enumerate(runs):
        r = next((r for r in run.results if r.requirement == requirement and r.camera == camera), None)
        fw = run.firmware(camera)
        if prev_fw is not None and fw != prev_fw:
            ax.axvline(i, color="tab:purple", ls=":", lw=1)
            ax.annotate(f"firmware {fw}", (i, 1.0), xycoords=("data", "axes fraction"), fontsize=7,
                        color="tab:purple", rotation=90, va="top", ha="right")
        prev_fw = fw if fw is not None else prev_fw
        if r is None or r.value is None or not math.isfinite(r.value):
            continue
        xs.append(i)
        ys.append(r.value)
        los.append(r.value - r.ci_low if r.ci_low is not None and math.isfinite(r.ci_low) else 0.0)
        his.append(r.ci_high - r.value if r.ci_high is not None and math.isfinite(r.ci_high) else 0.0)
        limit_min, limit_max, units = r.limit_min, r.limit_max, r.units
        d = flagged.get(run.run_id)
        if d is not None and d.verdict == "regressed":
            marks.append((i, r.value))
        elif d is not None and d.verdict == "better":
            better.append((i, r.value))
    if not xs:
        plt.close(fig)
        return None
    got = band(runs, requirement, camera, baseline)
    if got is not None:
        ax.axhspan(*got, color="tab:green", alpha=0.15, label="baseline used, its range")
    ax.errorbar(xs, ys, yerr=[los, his], fmt="o-", ms=4, lw=1, capsize=2, color="tab:blue", label="value, 95% CI")
    for lim in (limit_min, limit_max):
        if lim is not None:
            ax.axhline(lim, color="tab:red", lw=1, ls="--", label="limit")
    if marks:
        ax.plot([m[0] for m in marks], [m[1] for m in marks], "rX", ms=11, label="regressed")
    if better:
        ax.plot([m[0] for m in better], [m[1] for m in better], "g^", ms=9, label="better")
    ax.set_xticks(range(len(runs)), [f"{run.id}\n{run.started[5:10]}" for run in runs], fontsize=7)
    ax.set_xlim(-0.5, len(runs) - 0.5)
    ax.set_ylabel(units)
    ax.set_title(f"{requirement} on {camera}", fontsize=10)
    ax.legend(fontsize=7, loc="best")
    return _png(fig)


def page(runs: list[RunRecord], baseline: list[RunRecord], drifts_by_run: dict[str, list[Drift]],
         last: RunRecord | None, accepted: dict[int, Acceptance] | None = None) -> str:
    """`drifts_by_run`: each run's comparison with its own baseline (flags where a regression happened);
    `baseline`: the runs last night was judged against; `accepted`: people's acceptances, by run number."""
    e = html.escape
    base_ids = {r.run_id for r in baseline}
    flagged: dict[tuple[str, str], dict[str, Drift]] = {}
    for run_id, ds in drifts_by_run.items():
        for d in ds:
            flagged.setdefault((d.requirement, d.camera), {})[run_id] = d
    drifts = drifts_by_run.get(last.run_id, []) if last is not None else []
    pairs = list(dict.fromkeys((r.requirement, r.camera) for run in runs for r in run.results))
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>bwclab trends</title><style>{STYLE}</style>"
             "</head><body><h1>bwclab trends</h1>",
             f"<p>{len(runs)} runs; baseline: {', '.join(str(r.id) for r in baseline) or 'none'}; last night: "
             f"{e(str(last.id)) + ' (' + e(last.started) + ')' if last else 'none'}</p>"]
    if last is not None:
        rate = (f"<p>Judged at a false-alarm rate of {drifts[0].alpha:g} a night (Holm over its tests).</p>"
                if drifts else "")
        parts.append(f"<h2>Last night against the baseline</h2>{rate}<table><tr><th>requirement</th><th>camera</th>"
                     "<th>firmware</th><th>drift</th><th>effect [95% CI]</th><th>p (Holm)</th><th>test</th>"
                     "<th>between nights</th><th>note</th></tr>")
        for d in drifts:
            eff = "" if d.effect is None else f"{d.effect:+.4g} [{d.ci_low:+.4g}, {d.ci_high:+.4g}] {d.units}"
            p = "" if d.p_adjusted is None else f"{d.p_adjusted:.3g}"
            parts.append(f"<tr class='{d.verdict}'><td>{e(d.requirement)}</td><td>{e(d.camera)}</td>"
                         f"<td>{e(last.firmware(d.camera) or '')}</td><td>{d.verdict}</td><td>{e(eff)}</td>"
                         f"<td>{p}</td><td>{e(d.test)}</td><td>{e(d.between_nights)}</td><td>{e(d.note)}</td></tr>")
        parts.append("</table>")
    parts.append("<h2>Requirements over time</h2>")
    shown = ", ".join(str(r.id) for r in baseline)
    for req, cam in pairs:
        png = plot(runs, req, cam, base_ids, flagged.get((req, cam), {}))
        if png is not None:
            got = band(runs, req, cam, base_ids)
            units = next((r.units for run in runs for r in run.results if (r.requirement, r.camera) == (req, cam)), "")
            caption = (f"baseline band (runs {shown}): {got[0]:.4g} to {got[1]:.4g} {units}" if got is not None
                       else "no baseline band: the baseline has no value here")
            parts.append(f"<h3>{e(req)} on {e(cam)}</h3><img alt='{e(req)} on {e(cam)}' "
                         f"src='data:image/png;base64,{png}'><p class='band'>{e(caption)}</p>")
    if accepted and any(run.id in accepted for run in runs):
        parts.append("<h2>Changes accepted</h2><p>A night that regressed joins later baselines only once a person "
                     "accepts its change.</p><table><tr><th>run</th><th>started</th><th>accepted by</th><th>when</th>"
                     "<th>reason</th></tr>")
        started = {run.id: run.started for run in runs}
        for rid, a in sorted(accepted.items()):
            if rid not in started:
                continue  # a run of another spec: not on this page
            parts.append(f"<tr><td>{rid}</td><td>{e(started.get(rid, ''))}</td><td>{e(a.by)}</td><td>{e(a.at)}</td>"
                         f"<td>{e(a.reason)}</td></tr>")
        parts.append("</table>")
    parts.append("<h2>Bench health</h2><table><tr><th>run</th><th>started</th><th>verdict</th><th>trials</th>"
                 "<th>errored attempts</th><th>retried steps</th><th>errors by device</th><th>calibration overdue</th>"
                 "<th>bench lost</th></tr>")
    for run in runs:
        devs = ", ".join(f"{k}: {v}" for k, v in sorted(run.errors_by_device.items()))
        bad = " class='bad'" if run.lost or run.overdue else ""
        parts.append(f"<tr{bad}><td>{run.id}</td><td>{e(run.started)}</td><td>{e(run.verdict)}</td>"
                     f"<td>{run.trials}</td><td>{run.errored_attempts}</td><td>{run.retried_steps}</td>"
                     f"<td>{e(devs)}</td><td>{e(', '.join(run.overdue))}</td><td>{e(run.lost)}</td></tr>")
    parts.append("</table></body></html>")
    return "\n".join(parts)


def write_page(path: Path, runs: list[RunRecord], baseline: list[RunRecord], drifts_by_run: dict[str, list[Drift]],
               last: RunRecord | None, accepted: dict[int, Acceptance] | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, page(runs, baseline, drifts_by_run, last, accepted))
    return path
