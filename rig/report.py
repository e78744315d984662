"""What a purchasing committee reads: the traceability table and the plots, as HTML fragments and
PNG images that pytest-html embeds in a self-contained report.html."""

from __future__ import annotations

import base64
import html
import io
import math
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from scipy import stats as sps

from rig.campaign import Outcome
from rig.requirements import Requirement, judged_value

COLOURS = {"pass": "#1a7f37", "fail": "#cf222e", "error": "#9a6700", "not applicable": "#57606a"}


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _fmt(x: Any, units: str = "") -> str:
    if x is None:
        return "-"
    if isinstance(x, str):
        return x
    if not math.isfinite(x):
        return "no activation" if x > 0 else "-inf"
    text = f"{x:.4g}"
    return f"{text} {units}".strip()


def traceability(rows: list[tuple[Requirement, Outcome]]) -> str:
    head = ("<h2>Traceability</h2><table class='traceability' style='border-collapse:collapse'>"
            "<tr><th>Requirement</th><th>Camera</th><th>Text</th><th>Measured</th><th>Uncertainty</th>"
            "<th>Limit</th><th>Verdict</th><th>Notes</th></tr>")
    body = []
    for req, o in rows:
        m = o.measurement
        judged = ""
        if m is not None and req.judge != "estimate":
            bound = judged_value(req, m)
            judged = f" ({req.judge} bound {_fmt(bound, req.units)})"
        cells = [req.id, o.camera, req.text, (_fmt(m.value, req.units) if m else "-") + judged,
                 m.uncertainty if m else "-", req.limit.text(req.units), o.verdict, o.reason or (m.note if m else "")]
        style = f"color:{COLOURS[o.verdict]};font-weight:bold"
        tds = "".join(f"<td style='border:1px solid #ccc;padding:2px 6px{';' + style if i == 6 else ''}'>"
                      f"{html.escape(str(c))}</td>" for i, c in enumerate(cells))
        body.append(f"<tr>{tds}</tr>")
    return head + "".join(body) + "</table>"


def plot_for(req: Requirement, o: Outcome) -> str | None:
    m = o.measurement
    if m is None or not m.plot:
        return None
    if req.procedure == "latency":
        return latency_cdf(req, m.plot["samples_s"])
    if req.procedure == "coverage" and "a" in m.plot:
        return coverage_curve(req, m.plot)
    if req.procedure == "buffer" and m.plot.get("clips"):
        return buffer_timeline(m.plot["clips"][0])
    return None


def latency_cdf(req: Requirement, samples: list[float | None]) -> str:
    x = np.sort([s for s in samples if s is not None])
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    if len(x):
        ax.step(x, np.arange(1, len(x) + 1) / len(samples), where="post", label="measured")
    if req.limit.max is not None:
        ax.axvline(req.limit.max, color="#cf222e", ls="--", label=f"limit {req.limit.max:g} s")
    ax.axhline(0.95, color="grey", lw=0.8, ls=":")
    ax.set(xlabel="activation latency (s)", ylabel="fraction of trials", ylim=(0, 1.02),
           title=f"{req.id}: latency CDF ({len(samples)} trials)")
    ax.legend(loc="lower right", fontsize=8)
    return _png(fig)


def coverage_curve(req: Requirement, plot: dict[str, Any]) -> str:
    d = np.asarray(plot["distance_ft"], dtype=float)
    y = np.asarray(plot["activated"], dtype=float)
    a, b, cov = float(plot["a"]), float(plot["b"]), np.asarray(plot["cov"])
    grid = np.linspace(max(1.0, d.min() * 0.8), d.max() * 1.1, 200)
    g = np.column_stack([np.ones_like(grid), np.log(grid)])
    eta = a + b * np.log(grid)
    se = np.sqrt(np.einsum("ij,jk,ik->i", g, cov, g))
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    rng = np.random.default_rng(0)
    ax.scatter(d, y + rng.uniform(-0.03, 0.03, len(y)), s=10, alpha=0.6, label="broadcasts (jittered)")
    ax.plot(grid, sps.norm.cdf(eta), label="probit fit")
    ax.fill_between(grid, sps.norm.cdf(eta - 1.96 * se), sps.norm.cdf(eta + 1.96 * se), alpha=0.25,
                    label="95% CI")
    if "at_ft" in plot and req.limit.min is not None:
        ax.plot([plot["at_ft"]], [req.limit.min], "v", color="#cf222e", ms=9,
                label=f"requirement: P({plot['at_ft']:g} ft) >= {req.limit.min:g}")
    ax.set(xlabel="distance (ft)", ylabel="P(activate)", ylim=(-0.08, 1.08), title=f"{req.id}: coverage")
    ax.legend(loc="lower left", fontsize=7)
    return _png(fig)


def buffer_timeline(clip: dict[str, Any]) -> str:
    t = np.asarray(clip["timeline_s"], dtype=float)
    c = np.asarray(clip["counters"])
    rms = np.asarray(clip["audio_rms"], dtype=float)
    fig, ax = plt.subplots(figsize=(6.5, 3.0))
    ax.vlines(t, 0, 1, lw=0.6, color="#0969da", label="frames (filmed timecode)")
    gaps = np.nonzero(np.diff(c) != 1)[0]
    for i in gaps:
        ax.axvspan(t[i], t[i + 1], color="#cf222e", alpha=0.3)
    ax.axvline(0, color="black", lw=1.2, label="activation")
    ax.axvline(-float(clip["buffer_set_s"]), color="grey", ls="--", label="configured buffer start")
    ax.set(xlabel="time from activation (s)", yticks=[], title=f"buffer timeline ({len(gaps)} gaps)")
    ax2 = ax.twinx()
    if len(rms) == len(t):
        ax2.plot(t, rms, color="#bf8700", lw=1, label="audio RMS")
    ax2.set_ylabel("audio RMS")
    ax.legend(loc="upper left", fontsize=7)
    return _png(fig)
