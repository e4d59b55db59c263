"""The Pareto/NBD purchase model (Schmittlein, Morrison and Colombo 1987), in the form of Fader
and Hardie's note 009 ("A note on deriving the Pareto/NBD model and related expressions", 2005).

While alive a customer buys at a Poisson rate λ (across customers Gamma(r, α)); her lifetime is
exponential with rate μ (across customers Gamma(s, β)). With x repeat purchases, recency t_x and
age T (weeks):

- likelihood: Γ(r+x) α^r β^s / Γ(r) × [1 / ((α+T)^(r+x) (β+T)^s) + s/(r+s+x) A₀], where, with
  (m, n) = (α, β) when α ≥ β and (β, α) otherwise, and c = s+1 or r+x accordingly,
  A₀ = ₂F₁(r+s+x, c; r+s+x+1; (m−n)/(m+t_x)) / (m+t_x)^(r+s+x) − the same at T;
- P(alive) = 1 / (1 + s/(r+s+x) (α+T)^(r+x) (β+T)^s A₀);
- E[Y(t)] = P(alive) (r+x)(β+T) / ((α+T)(s−1)) [1 − ((β+T)/(β+T+t))^(s−1)].

Everything is computed on a log scale: A₀ is a difference of two close terms for a customer seen
recently, and (α+T)^(r+x) overflows for a frequent one.

On the CDNOW calibration summary: r = 0.55, α = 10.58, s = 0.61, β = 11.67, LL = −9595.0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln, hyp2f1

from .bgnbd import check_history
from .fitting import distinct_rows, maximise

NAMES = ("r", "alpha", "s", "beta")


@dataclass(frozen=True)
class ParetoNBD:
    r: float
    alpha: float
    s: float
    beta: float
    log_likelihood: float
    customers: int

    def params(self) -> dict[str, float]:
        return {"r": self.r, "alpha": self.alpha, "s": self.s, "beta": self.beta}

    def p_alive(self, frequency: np.ndarray, recency: np.ndarray, T: np.ndarray) -> np.ndarray:
        x, t_x, T = (np.asarray(c, dtype=float) for c in (frequency, recency, T))
        r, alpha, s, beta = self.r, self.alpha, self.s, self.beta
        log_ratio = (
            np.log(s / (r + s + x))
            + (r + x) * np.log(alpha + T)
            + s * np.log(beta + T)
            + _log_a0(self, x, t_x, T)
        )
        return 1.0 / (1.0 + np.exp(np.minimum(log_ratio, 700.0)))

    def expected_purchases(
        self, t: float, frequency: np.ndarray, recency: np.ndarray, T: np.ndarray
    ) -> np.ndarray:
        """Repeat purchases expected in the ``t`` weeks after ``T``, given the history."""
        x, t_x, T = (np.asarray(c, dtype=float) for c in (frequency, recency, T))
        r, alpha, s, beta = self.r, self.alpha, self.s, self.beta
        if t <= 0:
            return np.zeros_like(x)
        # (1 − ((β+T)/(β+T+t))^(s−1)) / (s−1), continuous at s = 1 (where it is ln((β+T+t)/(β+T)))
        log_shrink = np.log((beta + T) / (beta + T + t))
        growth = -np.expm1((s - 1) * log_shrink) / (s - 1) if abs(s - 1) > 1e-12 else -log_shrink
        return self.p_alive(x, t_x, T) * (r + x) * (beta + T) / (alpha + T) * growth


def _log_a0(params: ParetoNBD | np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    if isinstance(params, ParetoNBD):
        r, alpha, s, beta = params.r, params.alpha, params.s, params.beta
    else:
        r, alpha, s, beta = (float(v) for v in params)
    rsx = r + s + x
    m, n = (alpha, beta) if alpha >= beta else (beta, alpha)
    c = np.full_like(x, s + 1) if alpha >= beta else r + x
    log_recent = np.log(hyp2f1(rsx, c, rsx + 1, (m - n) / (m + t_x))) - rsx * np.log(m + t_x)
    log_now = np.log(hyp2f1(rsx, c, rsx + 1, (m - n) / (m + T))) - rsx * np.log(m + T)
    # log(e^recent − e^now), recent ≥ now; −inf when t_x = T (the two terms cancel exactly)
    with np.errstate(divide="ignore"):
        return log_recent + np.log(-np.expm1(np.minimum(log_now - log_recent, 0.0)))


def log_likelihood(params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Each customer's log-likelihood at ``params`` (r, α, s, β)."""
    r, alpha, s, beta = params
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    dead = np.log(s / (r + s + x)) + _log_a0(params, x, t_x, T)
    return common + np.logaddexp(alive, dead)


def fit(frequency: np.ndarray, recency: np.ndarray, T: np.ndarray) -> ParetoNBD:
    """The Pareto/NBD parameters maximising the likelihood of the histories (times in weeks)."""
    check_history(frequency, recency, T, "Pareto/NBD")
    (x, t_x, age), weights, _ = distinct_rows(frequency, recency, T)
    params, ll = maximise(lambda p: log_likelihood(p, x, t_x, age), weights, NAMES, "Pareto/NBD")
    r, alpha, s, beta = (float(v) for v in params)
    return ParetoNBD(
        r=r, alpha=alpha, s=s, beta=beta, log_likelihood=ll, customers=len(np.asarray(frequency))
    )
