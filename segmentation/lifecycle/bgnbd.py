"""The BG/NBD purchase model (Fader, Hardie and Lee 2005, "Counting your customers the easy way").

While alive a customer buys at a Poisson rate λ (across customers Gamma(r, α)); after each repeat
purchase she drops out with probability p (across customers Beta(a, b)). From a customer's
``frequency`` x (repeat purchases), ``recency`` t_x and age ``T`` (weeks), the model gives the
probability she is still alive and the purchases to expect in the next t weeks:

- log-likelihood (paper, eq. 6): ln Γ(r+x) − ln Γ(r) + r ln α + ln B(a, b+x) − ln B(a, b)
  + ln[(α+T)^−(r+x) + [x>0] a/(b+x−1) (α+t_x)^−(r+x)];
- P(alive) (Fader, Hardie and Lee 2008, note 021): 1 / (1 + [x>0] a/(b+x−1) ((α+T)/(α+t_x))^(r+x));
- E[Y(t)] (paper, eq. 10): (a+b+x−1)/(a−1) [1 − ((α+T)/(α+T+t))^(r+x)
  ₂F₁(r+x, b+x; a+b+x−1; t/(α+T+t))] × P(alive).

On the CDNOW calibration summary: r = 0.243, α = 4.414, a = 0.793, b = 2.426, LL = −9582.4.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import betaln, gammaln, hyp2f1

from ..errors import SegmentationError
from .fitting import distinct_rows, maximise

NAMES = ("r", "alpha", "a", "b")


@dataclass(frozen=True)
class BGNBD:
    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    customers: int

    def params(self) -> dict[str, float]:
        return {"r": self.r, "alpha": self.alpha, "a": self.a, "b": self.b}

    def p_alive(self, frequency: np.ndarray, recency: np.ndarray, T: np.ndarray) -> np.ndarray:
        x, t_x, T = _arrays(frequency, recency, T)
        return 1.0 / (1.0 + _odds_dead(self.r, self.alpha, self.a, self.b, x, t_x, T))

    def expected_purchases(
        self, t: float, frequency: np.ndarray, recency: np.ndarray, T: np.ndarray
    ) -> np.ndarray:
        """Repeat purchases expected in the ``t`` weeks after ``T``, given the history."""
        x, t_x, T = _arrays(frequency, recency, T)
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        if t <= 0:
            return np.zeros_like(x)
        z = t / (alpha + T + t)
        hyp = hyp2f1(r + x, b + x, a + b + x - 1, z)
        growth = 1.0 - np.exp((r + x) * np.log((alpha + T) / (alpha + T + t))) * hyp
        return (a + b + x - 1) / (a - 1) * growth * self.p_alive(x, t_x, T)


def _arrays(*columns: np.ndarray) -> list[np.ndarray]:
    return [np.asarray(c, dtype=float) for c in columns]


def _odds_dead(
    r: float, alpha: float, a: float, b: float, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """P(dead) / P(alive) given the history: 0 for a customer without a repeat purchase."""
    with np.errstate(divide="ignore", invalid="ignore"):
        log_odds = np.log(a) - np.log(b + x - 1) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
    return np.where(x > 0, np.exp(np.minimum(log_odds, 700.0)), 0.0)


def log_likelihood(params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Each customer's log-likelihood at ``params`` (r, α, a, b)."""
    r, alpha, a, b = params
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x) - betaln(a, b)
    alive = -(r + x) * np.log(alpha + T)
    dead = np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) - (r + x) * np.log(alpha + t_x)
    return common + np.where(x > 0, np.logaddexp(alive, dead), alive)


def check_history(frequency: np.ndarray, recency: np.ndarray, T: np.ndarray, model: str) -> None:
    """Refuse a history no purchase model can be fitted to, naming what is wrong."""
    x, t_x, T = _arrays(frequency, recency, T)
    if len(x) == 0:
        raise SegmentationError(f"the {model} model needs customers; the summary has none")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(t_x)) and np.all(np.isfinite(T))):
        raise SegmentationError(f"the {model} model needs finite frequency, recency and T for every customer")
    if np.any(x < 0) or np.any(t_x < 0) or np.any(t_x > T) or np.any((x == 0) & (t_x != 0)):
        raise SegmentationError(
            f"the {model} model needs 0 ≤ recency ≤ T and recency 0 without a repeat purchase for every customer"
        )
    if not np.any(x > 0):
        raise SegmentationError(
            f"the {model} model needs repeat buyers: none of the {len(x):,} customers bought on a "
            "second day before as_of, so how often customers buy and drop out cannot be estimated; "
            "choose a later as_of or a longer log"
        )
    if not np.any(T > 0):
        raise SegmentationError(
            f"the {model} model needs customers observed for more than a day before as_of"
        )


def fit(frequency: np.ndarray, recency: np.ndarray, T: np.ndarray) -> BGNBD:
    """The BG/NBD parameters maximising the likelihood of the histories (times in weeks)."""
    check_history(frequency, recency, T, "BG/NBD")
    (x, t_x, age), weights, _ = distinct_rows(frequency, recency, T)
    params, ll = maximise(likelihood_on(x, t_x, age), weights, NAMES, "BG/NBD")
    r, alpha, a, b = (float(v) for v in params)
    return BGNBD(r=r, alpha=alpha, a=a, b=b, log_likelihood=ll, customers=len(np.asarray(frequency)))


def likelihood_on(x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """:func:`log_likelihood` on fixed histories, each special function evaluated once for each
    distinct frequency, recency and age (a log of 200,000 customers has a few hundred of each)."""
    xs, x_at = np.unique(x, return_inverse=True)
    recencies, recency_at = np.unique(t_x, return_inverse=True)
    ages, age_at = np.unique(T, return_inverse=True)
    repeat = x > 0

    def evaluate(params: np.ndarray) -> np.ndarray:
        r, alpha, a, b = params
        common = (gammaln(r + xs) - gammaln(r) + r * np.log(alpha) + betaln(a, b + xs) - betaln(a, b))[x_at]
        power = (r + xs)[x_at]
        alive = -power * np.log(alpha + ages)[age_at]
        dead = (np.log(a) - np.log(np.maximum(b + xs - 1, 1e-300)))[x_at] - power * np.log(alpha + recencies)[
            recency_at
        ]
        return common + np.where(repeat, np.logaddexp(alive, dead), alive)

    return evaluate
