"""The statistics of a calibration, each figure with its 95% interval: a Poisson rate, a share (Wilson, widened
by the design effect of clustering within officers), a lognormal fitted by maximum likelihood (its mean's
interval by Cox's method), a mean (t interval)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import stats

Z = float(stats.norm.ppf(0.975))

Figure = dict[str, Any]


def _r(x: float | None, digits: int = 6) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), digits)


def rate(count: float, exposure: float) -> Figure:
    """Events per unit of exposure, with the exact (Garwood) Poisson interval."""
    if exposure <= 0:
        return {"mean": None, "ci_low": None, "ci_high": None, "n": int(count)}
    lo = stats.chi2.ppf(0.025, 2 * count) / 2 if count > 0 else 0.0
    hi = stats.chi2.ppf(0.975, 2 * count + 2) / 2
    return {"mean": _r(count / exposure), "ci_low": _r(lo / exposure), "ci_high": _r(hi / exposure), "n": int(count)}


def design_effect(hits: NDArray[np.bool_], clusters: NDArray[np.int64]) -> float:
    """How much clustering (responses of one officer alike) widens a share's variance beyond the binomial's:
    the ratio of the cluster-robust variance of the ratio estimator to the binomial one, at least 1."""
    n = len(hits)
    if n < 2:
        return 1.0
    p = float(hits.mean())
    if p <= 0.0 or p >= 1.0:
        return 1.0
    _, inv = np.unique(clusters, return_inverse=True)
    g = int(inv.max()) + 1
    if g < 2:
        return 1.0
    k = np.bincount(inv, weights=hits.astype(float))
    m = np.bincount(inv).astype(float)
    robust = g / (g - 1) * float(np.sum((k - p * m) ** 2)) / n**2
    return max(1.0, robust / (p * (1 - p) / n))


def share(hits: NDArray[np.bool_], clusters: NDArray[np.int64] | None = None) -> Figure:
    """The share of hits with a Wilson interval, on the effective sample size n / design effect when the hits
    come in clusters."""
    n = len(hits)
    if n == 0:
        return {"mean": None, "ci_low": None, "ci_high": None, "n": 0}
    p = float(np.mean(hits))
    deff = design_effect(hits, clusters) if clusters is not None else 1.0
    ne = n / deff
    centre = (p + Z * Z / (2 * ne)) / (1 + Z * Z / ne)
    half = Z / (1 + Z * Z / ne) * math.sqrt(p * (1 - p) / ne + Z * Z / (4 * ne * ne))
    out: Figure = {"mean": _r(p), "ci_low": _r(max(0.0, centre - half)), "ci_high": _r(min(1.0, centre + half)),
                   "n": n}
    if clusters is not None:
        out["design_effect"] = _r(deff, 3)
    return out


def mean_t(x: NDArray[np.float64]) -> Figure:
    n = len(x)
    if n == 0:
        return {"mean": None, "ci_low": None, "ci_high": None, "n": 0}
    m = float(np.mean(x))
    if n < 2:
        return {"mean": _r(m), "ci_low": None, "ci_high": None, "n": 1}
    half = float(stats.t.ppf(0.975, n - 1) * np.std(x, ddof=1) / math.sqrt(n))
    return {"mean": _r(m), "ci_low": _r(m - half), "ci_high": _r(m + half), "n": n}


def lognormal(x: NDArray[np.float64]) -> Figure:
    """A lognormal fitted to positive values by maximum likelihood: its mean with Cox's interval (on log(mean) =
    mu + sigma^2 / 2), its coefficient of variation and median, and mu, sigma themselves."""
    x = x[np.isfinite(x) & (x > 0)]
    n = len(x)
    if n < 2:
        return {"mean": _r(float(x[0])) if n else None, "ci_low": None, "ci_high": None, "n": n}
    logs = np.log(x)
    mu, s2 = float(np.mean(logs)), float(np.var(logs, ddof=1))
    centre = mu + s2 / 2
    half = float(stats.t.ppf(0.975, n - 1)) * math.sqrt(s2 / n + s2 * s2 / (2 * (n - 1)))
    return {"mean": _r(math.exp(centre)), "ci_low": _r(math.exp(centre - half)), "ci_high": _r(math.exp(centre + half)),
            "n": n, "cv": _r(math.sqrt(math.expm1(s2))), "median": _r(math.exp(mu)), "mu": _r(mu),
            "sigma": _r(math.sqrt(s2))}


def quantiles(x: NDArray[np.float64], qs: tuple[float, ...] = (0.1, 0.5, 0.9)) -> dict[str, float | None]:
    x = x[np.isfinite(x)]
    if len(x) == 0:
        return {f"p{round(q * 100)}": None for q in qs}
    return {f"p{round(q * 100)}": _r(float(v)) for q, v in zip(qs, np.quantile(x, qs), strict=True)}


def lognormal_dist(fitted: Figure, digits: int = 3) -> dict[str, Any] | None:
    """The scenario's way of writing a fitted lognormal: {dist: lognormal, mean, cv}."""
    if fitted.get("cv") is None or not fitted.get("mean"):
        return None
    return {"dist": "lognormal", "mean": round(float(fitted["mean"]), digits),
            "cv": max(round(float(fitted["cv"]), digits), 10.0**-digits)}
