"""Statistics the measurements need: quantiles with distribution-free CIs, binomial bounds, and a
probit fit of activation against log distance with profile-likelihood CIs.

Why probit on log distance: received power falls with 10 n log10(d) and the fade is roughly
normal in dB, so P(activate | d) = Phi(a + b ln d) is the physical shape of the curve.

Why profile likelihood for the radii: with the tens to hundreds of broadcasts a bench affords, the delta method's
symmetric interval on ln r95 covered the true radius in only about 89% of simulated runs at 95%
nominal (benchmarks/coverage_design.py); the likelihood-ratio interval follows the likelihood's
own skew. P(d)'s CI stays the delta method's on the linear predictor, and so does the quick radius
for decisions during a run (`radius_wald`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import optimize
from scipy import stats as sps

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Estimate:
    value: float
    low: float | None  # None: not bounded by the data (too few trials)
    high: float | None


def quantile_ci(samples: list[float] | np.ndarray, p: float, level: float = 0.95) -> Estimate:
    """Sample quantile with the order-statistic CI (exact binomial coverage >= level)."""
    x = np.sort(np.asarray(samples, dtype=float))
    n = len(x)
    if n == 0:
        raise ValueError("no samples")
    value = float(np.quantile(x, p, method="inverted_cdf"))
    alpha = (1 - level) / 2
    # ranks l, u (1-based) with P(X_(l) <= q_p) >= 1 - alpha and P(X_(u) >= q_p) >= 1 - alpha
    lo_rank = int(sps.binom.ppf(alpha, n, p))  # number of samples below the quantile, lower end
    hi_rank = int(sps.binom.ppf(1 - alpha, n, p)) + 1
    low = float(x[lo_rank - 1]) if lo_rank >= 1 else None
    high = float(x[hi_rank - 1]) if hi_rank <= n else None
    return Estimate(value, low, high)


def clopper_pearson(k: int, n: int, level: float = 0.95) -> Estimate:
    alpha = 1 - level
    low = 0.0 if k == 0 else float(sps.beta.ppf(alpha / 2, k, n - k + 1))
    high = 1.0 if k == n else float(sps.beta.ppf(1 - alpha / 2, k + 1, n - k))
    return Estimate(k / n if n else math.nan, low, high)


@dataclass(frozen=True)
class ProbitFit:
    """P(d) = Phi(a + b ln d); `cov` is the inverse Fisher information of (a, b); `x`, `y` the data
    (ln distance, activated) the profile-likelihood intervals are drawn from."""

    a: float
    b: float
    cov: np.ndarray
    n: int
    converged: bool
    x: np.ndarray
    y: np.ndarray

    def p(self, distance_ft: float | np.ndarray) -> np.ndarray:
        return np.asarray(sps.norm.cdf(self.a + self.b * np.log(distance_ft)))

    def p_ci(self, distance_ft: float, level: float = 0.95) -> Estimate:
        """P at a distance, with the delta method's CI of the linear predictor there."""
        g = np.array([1.0, math.log(distance_ft)])
        eta = self.a + self.b * g[1]
        se = math.sqrt(max(float(g @ self.cov @ g), 0.0))
        z = float(sps.norm.ppf(0.5 + level / 2))
        return Estimate(float(sps.norm.cdf(eta)), float(sps.norm.cdf(eta - z * se)), float(sps.norm.cdf(eta + z * se)))

    def distance(self, p: float) -> float:
        """Distance where P = p: the point alone, for choosing where to broadcast next."""
        return math.exp((float(sps.norm.ppf(p)) - self.a) / self.b)

    def radius(self, p: float, level: float = 0.95) -> Estimate:
        """Distance where P = p, with the likelihood-ratio CI of ln d there."""
        zp = float(sps.norm.ppf(p))
        x = (zp - self.a) / self.b
        low, high = self._interval(x, level, lambda theta: (zp, theta))
        return Estimate(math.exp(x), None if low is None else math.exp(low), None if high is None else math.exp(high))

    def radius_wald(self, p: float, level: float = 0.95) -> Estimate:
        """Distance where P = p, with the delta method's CI on ln d: cheap, for decisions during a run."""
        zp = float(sps.norm.ppf(p))
        x = (zp - self.a) / self.b
        g = np.array([-1 / self.b, -(zp - self.a) / self.b**2])
        se = math.sqrt(max(float(g @ self.cov @ g), 0.0))
        z = float(sps.norm.ppf(0.5 + level / 2))
        return Estimate(math.exp(x), math.exp(x - z * se), math.exp(x + z * se))

    def loglik(self) -> float:
        """The maximised log-likelihood of the fit's own data."""
        return self._loglik(self.a + self.b * self.x)

    # --- profile likelihood -------------------------------------------------------------
    def _loglik(self, eta: np.ndarray) -> float:
        cdf = np.clip(sps.norm.cdf(eta), 1e-300, None)
        sf = np.clip(sps.norm.sf(eta), 1e-300, None)
        return float(np.sum(self.y * np.log(cdf) + (1 - self.y) * np.log(sf)))

    def _profile(self, c: float, x_ref: float) -> float:
        """The log-likelihood maximised over the slope with the curve held to eta = c at ln d = x_ref."""
        res = optimize.minimize_scalar(lambda b: -self._loglik(c + b * (self.x - x_ref)), bounds=(-200.0, -1e-6),
                                       method="bounded", options={"xatol": 1e-7})
        return float(-res.fun)

    def _interval(self, centre: float, level: float, hold: Callable[[float], tuple[float, float]]
                  ) -> tuple[float | None, float | None]:
        """Where the profile's deviance reaches the chi-square quantile, either side of `centre`;
        None where it does not within 4 ln units (the data do not bound that side)."""
        top = self._loglik(self.a + self.b * self.x)
        crit = float(sps.chi2.ppf(level, 1))

        def excess(v: float) -> float:
            return 2 * (top - self._profile(*hold(v))) - crit

        ends: list[float | None] = []
        for sign in (-1.0, 1.0):
            step, inner, found = 0.05, centre, None
            while step <= 4.0:
                outer = centre + sign * step
                if excess(outer) > 0:
                    found = float(optimize.brentq(excess, min(inner, outer), max(inner, outer), xtol=1e-6))
                    break
                inner, step = outer, step * 2
            ends.append(found)
        return ends[0], ends[1]


def fit_probit(distance_ft: list[float] | np.ndarray, activated: list[bool] | np.ndarray) -> ProbitFit | None:
    """Maximum likelihood by Newton's method; None when the data cannot pin a falling curve
    (all one outcome, or no overlap yet that bounds the slope)."""
    d = np.asarray(distance_ft, dtype=float)
    y = np.asarray(activated, dtype=float)
    if len(d) < 4 or y.min() == y.max():
        return None
    x = np.column_stack([np.ones_like(d), np.log(d)])
    # start from a line through the median distance, falling over a factor of two
    beta = np.array([math.log(float(np.median(d))) * 2.0, -2.0])
    converged = False
    for _ in range(100):
        eta = np.clip(x @ beta, -8, 8)
        pdf = sps.norm.pdf(eta)
        cdf = np.clip(sps.norm.cdf(eta), 1e-12, 1 - 1e-12)
        score_w = pdf * (y - cdf) / (cdf * (1 - cdf))
        info_w = pdf**2 / (cdf * (1 - cdf))
        grad = x.T @ score_w
        info = (x * info_w[:, None]).T @ x
        try:
            step = np.linalg.solve(info, grad)
        except np.linalg.LinAlgError:
            return None
        if not np.all(np.isfinite(step)):
            return None
        # damped: never jump more than a unit on the probit scale at once
        scale = min(1.0, 3.0 / max(float(np.abs(step).max()), 1e-12))
        beta = beta + scale * step
        if float(np.abs(step).max()) < 1e-8:
            converged = True
            break
    if not converged or beta[1] >= 0 or abs(beta[1]) > 200:
        return None  # separated data: the slope runs off
    eta = np.clip(x @ beta, -8, 8)
    pdf = sps.norm.pdf(eta)
    cdf = np.clip(sps.norm.cdf(eta), 1e-12, 1 - 1e-12)
    info = (x * (pdf**2 / (cdf * (1 - cdf)))[:, None]).T @ x
    return ProbitFit(float(beta[0]), float(beta[1]), np.linalg.inv(info), len(d), converged, x[:, 1].copy(), y)
