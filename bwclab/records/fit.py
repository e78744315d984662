"""The statistics of a calibration, each figure with its 95% interval: a Poisson rate, a share (Wilson, widened
by the design effect of clustering within officers), a lognormal fitted by maximum likelihood (its mean's
interval by Cox's method), a mean (t interval), and how much officers differ in pressing (a random-effects
logistic model)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import optimize, stats

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


# How much officers differ in starting the camera by hand, on the scenario's own scale (`officer_spread_logit`):
# a random-effects logistic model, each officer's responses of type t pressed with probability
# sigmoid(a_t + sd z), z standard normal per officer, fitted by maximum likelihood, each officer's z integrated out
# by adaptive Gauss-Hermite quadrature (the nodes centred on that officer's mode and scaled by its curvature, so
# an officer with thousands of responses is integrated as well as one with ten); the sd's 95% interval by profile
# likelihood (deviance within chi-square(1)'s 3.84, which is conservative at sd = 0, the edge of the range).

MAX_SPREAD = 5.0  # the scenario's upper bound for officer_spread_logit
_LEVEL = 20.0  # a type's logit level is kept within +/- this (a type every officer always or never presses)
_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(15)
_LOG_WEIGHTS = np.log(_WEIGHTS) + _NODES**2 / 2
_PROFILE_CUT = float(stats.chi2.ppf(0.95, 1)) / 2  # on the negative log-likelihood

SPREAD_METHOD = ("random-effects logistic model (a level per call type, a normal officer propensity on the logit "
                 "scale), maximum likelihood by adaptive Gauss-Hermite quadrature; 95% interval by profile "
                 "likelihood")


def _officer_counts(pressed: NDArray[np.bool_], kind: NDArray[np.int64],
                    officer: NDArray[np.int64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Presses and responses, (officers, types), over the types and officers that have any response."""
    _, who = np.unique(officer, return_inverse=True)
    _, what = np.unique(kind, return_inverse=True)
    n = np.zeros((int(who.max(initial=-1)) + 1, int(what.max(initial=-1)) + 1))
    k = np.zeros_like(n)
    np.add.at(n, (who, what), 1.0)
    np.add.at(k, (who, what), pressed.astype(float))
    return k, n


def _log_sigmoid(x: NDArray[np.float64]) -> NDArray[np.float64]:
    out: NDArray[np.float64] = -np.logaddexp(0.0, -x)
    return out


def _spread_nll(levels: NDArray[np.float64], spread: float, k: NDArray[np.float64],
                miss: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
    """Minus the log-likelihood and its gradient (levels, then the spread); per officer, h(z) = log P(its presses
    | z) + log phi(z), integrated as s * sum_q w_q exp(h(m + s x_q) + x_q^2 / 2) about h's mode m,
    s = 1 / sqrt(-h''(m)) (the gradient with the nodes held where they are)."""
    n = k + miss
    m = np.zeros(k.shape[0])
    for _ in range(40):  # Newton on the concave h
        p = 1.0 / (1.0 + np.exp(-(levels[None, :] + spread * m[:, None])))
        grad = spread * np.sum(k - n * p, axis=1) - m
        curv = spread * spread * np.sum(n * p * (1.0 - p), axis=1) + 1.0
        step = np.clip(grad / curv, -2.0, 2.0)
        m += step
        if np.max(np.abs(step)) < 1e-8:
            break
    p = 1.0 / (1.0 + np.exp(-(levels[None, :] + spread * m[:, None])))
    scale = 1.0 / np.sqrt(spread * spread * np.sum(n * p * (1.0 - p), axis=1) + 1.0)
    z = m[:, None] + scale[:, None] * _NODES[None, :]  # (officers, nodes)
    eta = levels[None, :, None] + spread * z[:, None, :]  # (officers, types, nodes)
    h = (np.einsum("it,itq->iq", k, _log_sigmoid(eta)) + np.einsum("it,itq->iq", miss, _log_sigmoid(-eta))
         - z * z / 2 - 0.5 * math.log(2 * math.pi) + _LOG_WEIGHTS[None, :])
    top = h.max(axis=1, keepdims=True)
    w = np.exp(h - top)
    total = w.sum(axis=1)
    post = w / total[:, None]  # each node's share of the officer's likelihood
    resid = k[:, :, None] - n[:, :, None] / (1.0 + np.exp(-eta))  # (officers, types, nodes)
    d_levels = np.einsum("iq,itq->t", post, resid)
    d_spread = float(np.einsum("iq,itq,iq->", post, resid, z))
    value = -float(np.sum(np.log(scale) + top[:, 0] + np.log(total)))
    return value, -np.append(d_levels, d_spread)


def _spread_profile(spread: float, start: NDArray[np.float64], k: NDArray[np.float64],
                    miss: NDArray[np.float64]) -> float:
    """The negative log-likelihood at this spread, the levels re-fitted."""

    def f(a: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        value, grad = _spread_nll(a, spread, k, miss)
        return value, grad[:-1]

    got = optimize.minimize(f, start, jac=True, method="L-BFGS-B", bounds=[(-_LEVEL, _LEVEL)] * len(start))
    return float(got.fun)


def officer_spread(pressed: NDArray[np.bool_], kind: NDArray[np.int64], officer: NDArray[np.int64]) -> Figure:
    """The sd of officers' propensity to press, logit scale, from each response's press (or none), call type and
    officer: {mean, ci_low, ci_high, n (officers), responses, method}; no figure from fewer than two officers."""
    k, n = _officer_counts(pressed, kind, officer)
    out: Figure = {"mean": None, "ci_low": None, "ci_high": None, "n": k.shape[0], "responses": int(n.sum()),
                   "method": SPREAD_METHOD}
    if k.shape[0] < 2:
        return out
    miss = n - k
    share = np.clip(k.sum(axis=0) / n.sum(axis=0), 1e-4, 1 - 1e-4)
    start = np.log(share / (1 - share))
    both = optimize.minimize(lambda x: _spread_nll(x[:-1], float(x[-1]), k, miss), np.append(start, 0.5), jac=True,
                             method="L-BFGS-B", bounds=[(-_LEVEL, _LEVEL)] * len(start) + [(0.0, MAX_SPREAD)])
    best, floor = float(both.x[-1]), float(both.fun)
    levels = np.asarray(both.x[:-1], dtype=np.float64)
    at_zero = _spread_profile(0.0, start, k, miss)
    if at_zero < floor:  # the joint search stopped short of the edge
        best, floor = 0.0, at_zero

    def excess(s: float) -> float:
        return _spread_profile(s, levels, k, miss) - floor - _PROFILE_CUT

    low = 0.0 if at_zero - floor <= _PROFILE_CUT else float(optimize.brentq(excess, 0.0, best, xtol=1e-3))
    high = MAX_SPREAD if excess(MAX_SPREAD) <= 0 else float(optimize.brentq(excess, best, MAX_SPREAD, xtol=1e-3))
    out.update(mean=round(best, 4), ci_low=round(low, 4), ci_high=round(high, 4))
    return out
