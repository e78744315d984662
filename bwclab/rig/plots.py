"""The plots a purchasing committee reads, as base64 PNG for a self-contained report. matplotlib is
imported only when a plot is drawn."""

from __future__ import annotations

import base64
import io
from typing import Any

import numpy as np

from bwclab.rig.measurements import Limit, Measurement


def _png(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _axes(size: tuple[float, float]) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=size)


def latency_cdf(title: str, limit: Limit, m: Measurement) -> str | None:
    samples: list[float | None] = m.plot.get("samples_s", [])
    if not samples:
        return None
    x = np.sort([s for s in samples if s is not None])
    fig, ax = _axes((5.5, 3.2))
    if len(x):
        ax.step(x, np.arange(1, len(x) + 1) / len(samples), where="post", label="measured")
    if limit.max is not None:
        ax.axvline(limit.max, color="#cf222e", ls="--", label=f"limit {limit.max:g} s")
    ax.axhline(0.95, color="grey", lw=0.8, ls=":")
    ax.set(xlabel="activation latency (s)", ylabel="fraction of trials", ylim=(0, 1.02),
           title=f"{title}: latency CDF ({len(samples)} trials)")
    ax.legend(loc="lower right", fontsize=8)
    return _png(fig)


def coverage_curve(title: str, limit: Limit, m: Measurement) -> str | None:
    from scipy import stats as sps

    plot = m.plot
    if "a" not in plot:
        return None
    d = np.asarray(plot["distance_ft"], dtype=float)
    y = np.asarray(plot["activated"], dtype=float)
    a, b, cov = float(plot["a"]), float(plot["b"]), np.asarray(plot["cov"])
    grid = np.linspace(max(1.0, d.min() * 0.8), d.max() * 1.1, 200)
    g = np.column_stack([np.ones_like(grid), np.log(grid)])
    eta = a + b * np.log(grid)
    se = np.sqrt(np.einsum("ij,jk,ik->i", g, cov, g))
    fig, ax = _axes((5.5, 3.2))
    rng = np.random.default_rng(0)
    ax.scatter(d, y + rng.uniform(-0.03, 0.03, len(y)), s=10, alpha=0.6, label="broadcasts (jittered)")
    ax.plot(grid, sps.norm.cdf(eta), label="probit fit")
    ax.fill_between(grid, sps.norm.cdf(eta - 1.96 * se), sps.norm.cdf(eta + 1.96 * se), alpha=0.25, label="95% CI")
    if "at_ft" in plot and limit.min is not None:
        ax.plot([plot["at_ft"]], [limit.min], "v", color="#cf222e", ms=9,
                label=f"requirement: P({plot['at_ft']:g} ft) >= {limit.min:g}")
    ax.set(xlabel="distance (ft)", ylabel="P(activate)", ylim=(-0.08, 1.08), title=f"{title}: coverage")
    ax.legend(loc="lower left", fontsize=7)
    return _png(fig)


def buffer_timeline(title: str, limit: Limit, m: Measurement) -> str | None:
    clips = m.plot.get("clips") or []
    if not clips:
        return None
    clip = clips[0]
    t = np.asarray(clip["timeline_s"], dtype=float)
    c = np.asarray(clip["counters"])
    rms = np.asarray(clip["audio_rms"], dtype=float)
    fig, ax = _axes((6.5, 3.0))
    ax.vlines(t, 0, 1, lw=0.6, color="#0969da", label="frames (filmed timecode)")
    gaps = np.nonzero(np.diff(c) != 1)[0]
    for i in gaps:
        ax.axvspan(t[i], t[i + 1], color="#cf222e", alpha=0.3)
    ax.axvline(0, color="black", lw=1.2, label="activation")
    ax.axvline(-float(clip["buffer_set_s"]), color="grey", ls="--", label="configured buffer start")
    ax.set(xlabel="time from activation (s)", yticks=[], title=f"{title}: buffer timeline ({len(gaps)} gaps)")
    ax2 = ax.twinx()
    if len(rms) == len(t):
        ax2.plot(t, rms, color="#bf8700", lw=1, label="audio RMS")
    ax2.set_ylabel("audio RMS")
    ax.legend(loc="upper left", fontsize=7)
    return _png(fig)
