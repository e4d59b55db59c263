"""The Gamma-Gamma spend model (Fader, Hardie and Lee 2005, "RFM and CLV"; Fader and Hardie's
note 025, "The Gamma-Gamma model of monetary value", 2013).

A customer's purchases have spends Gamma(p, ν) around her mean p/ν, and ν is Gamma(q, γ) across
customers (spend independent of how often one buys). Fitted on the repeat buyers from x (repeat
purchases) and z̄ (their mean spend):

- log-likelihood: ln Γ(px+q) − ln Γ(px) − ln Γ(q) + q ln γ + (px−1) ln z̄ + px ln x − (px+q) ln(γ + x z̄);
- conditional expected spend: p (γ + x z̄) / (px + q − 1), a weighted mean of the population mean
  pγ/(q−1) and the customer's own z̄ (for a customer without repeat purchases, the population mean).

On the 946 CDNOW repeat buyers: p = 6.25, q = 3.74, γ (``v``) = 15.44.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import digamma, gammaln

from ..errors import SegmentationError
from .fitting import distinct_rows, maximise

NAMES = ("p", "q", "v")


@dataclass(frozen=True)
class GammaGamma:
    p: float
    q: float
    v: float
    log_likelihood: float
    customers: int  # the repeat buyers the model was fitted on

    def params(self) -> dict[str, float]:
        return {"p": self.p, "q": self.q, "v": self.v}

    def expected_spend(self, frequency: np.ndarray, mean_spend: np.ndarray) -> np.ndarray:
        """Each customer's expected spend a purchase, given x repeat purchases with mean ``mean_spend``."""
        x = np.asarray(frequency, dtype=float)
        z = np.where(x > 0, np.asarray(mean_spend, dtype=float), 0.0)
        if self.q <= 1 and np.any(x == 0):
            raise SegmentationError(
                f"the spend model has no finite population mean (q = {self.q:.3g} ≤ 1): spend varies too "
                "much between customers to value those without a repeat purchase"
            )
        return self.p * (self.v + x * z) / (self.p * x + self.q - 1)


@dataclass(frozen=True)
class PooledSpend:
    """The Gamma-Gamma model's limit when customers' mean spends differ no more than chance
    (q and γ grow without bound, ν the same for everyone): every customer's expected spend a
    purchase is the repeat buyers' pooled mean, their total repeat spend over their repeat
    purchase days."""

    mean: float
    customers: int
    reason: str

    def params(self) -> dict[str, float]:
        return {"mean": self.mean}

    def expected_spend(self, frequency: np.ndarray, mean_spend: np.ndarray) -> np.ndarray:
        return np.full(len(np.asarray(frequency)), self.mean)


def fit_or_pool(frequency: np.ndarray, mean_spend: np.ndarray) -> GammaGamma | PooledSpend:
    """:func:`fit`, or the pooled mean when the data cannot tell customers' spend levels apart."""
    try:
        return fit(frequency, mean_spend)
    except SegmentationError as error:
        x = np.asarray(frequency, dtype=float)
        z = np.asarray(mean_spend, dtype=float)
        buyers = (x > 0) & np.isfinite(z) & (z > 0)
        if not buyers.any():
            raise
        mean = float((x[buyers] * z[buyers]).sum() / x[buyers].sum())
        return PooledSpend(mean=mean, customers=int(buyers.sum()), reason=str(error))


def log_likelihood(params: np.ndarray, x: np.ndarray, z: np.ndarray) -> np.ndarray:
    p, q, v = params
    px = p * x
    return (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(v)
        + (px - 1) * np.log(z)
        + px * np.log(x)
        - (px + q) * np.log(v + x * z)
    )


def gradient(params: np.ndarray, x: np.ndarray, z: np.ndarray) -> np.ndarray:
    """d log-likelihood / d (p, q, v), one row a (x, z̄)."""
    p, q, v = params
    px = p * x
    shared = digamma(px + q)
    log_total = np.log(v + x * z)
    return np.column_stack(
        [
            x * (shared - digamma(px) + np.log(z) + np.log(x) - log_total),
            shared - digamma(q) + np.log(v) - log_total,
            q / v - (px + q) / (v + x * z),
        ]
    )


def fit(frequency: np.ndarray, mean_spend: np.ndarray) -> GammaGamma:
    """The Gamma-Gamma parameters from the repeat buyers with a positive mean spend."""
    x = np.asarray(frequency, dtype=float)
    z = np.asarray(mean_spend, dtype=float)
    buyers = (x > 0) & np.isfinite(z) & (z > 0)
    if not buyers.any():
        raise SegmentationError(
            "the spend model needs repeat buyers with a positive spend: no customer spent anything on a "
            "second purchase day before as_of"
        )
    if np.unique(z[buyers]).size < 2:
        raise SegmentationError(
            "the spend model needs repeat buyers whose mean spends differ: every repeat buyer has the same one"
        )
    (xs, zs), weights, _ = distinct_rows(x[buyers], z[buyers])
    params, ll = maximise(
        lambda prm: log_likelihood(prm, xs, zs),
        weights,
        NAMES,
        "Gamma-Gamma spend",
        gradient=lambda prm: gradient(prm, xs, zs),
    )
    p, q, v = (float(value) for value in params)
    return GammaGamma(p=p, q=q, v=v, log_likelihood=ll, customers=int(buyers.sum()))
