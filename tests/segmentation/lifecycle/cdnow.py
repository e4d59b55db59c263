"""The CDNOW 1/10th sample (tests/segmentation/data/README.md) and independent reference figures:
the posterior expectations of the buy-till-you-die models computed by numerical integration over
the individual rates, not by the closed forms the engine uses."""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import integrate, special

DATA = Path(__file__).resolve().parents[1] / "data"
CALIBRATION_END = dt.date(1997, 10, 1)  # the calibration period is 1997-01-01 … 1997-09-30 (39 weeks)
HOLDOUT_END = dt.date(1998, 7, 1)  # the holdout period runs to 1998-06-30 (39 weeks more)


@cache
def published_summary() -> pd.DataFrame:
    """The published calibration summary: x, t_x, T (weeks) and zbar per customer."""
    return pd.read_csv(DATA / "cdnow_customers_summary_with_transactions.csv")


@cache
def raw_log() -> pd.DataFrame:
    return pd.read_csv(
        DATA / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["master_id", "customer_id", "date", "quantity", "amount"],
        dtype={"date": str},
    )


def events() -> pd.DataFrame:
    raw = raw_log()
    return pd.DataFrame(
        {
            "customer_id": raw["customer_id"],
            "timestamp": pd.to_datetime(raw["date"], format="%Y%m%d"),
            "amount": raw["amount"],
        }
    )


def bgnbd_posterior(params: dict[str, float], x: int, t_x: float, T: float, t: float) -> tuple[float, float]:
    """(P(alive), E[Y(t)]) for the BG/NBD model by integrating over λ ~ Gamma(r, α), p ~ Beta(a, b):
    E[Y(t) | λ, p, alive] = (1 − e^(−λpt)) / p (Fader, Hardie and Lee 2005, eq. 7)."""
    r, alpha, a, b = params["r"], params["alpha"], params["a"], params["b"]
    upper = (r + x + 60.0) / alpha

    # λ = v^(1/r) turns the Gamma density's λ^(r−1) dλ into dv / r, and p = u^(1/a) the Beta
    # density's p^(a−1) dp into du / a: no singularity at 0 for the quadrature.
    def pieces(v: float, u: float) -> tuple[float, float, float]:
        lam, p = v ** (1 / r), u ** (1 / a)
        # prior weights (the constant factors cancel in the ratios): e^(−αλ) (1−p)^(b−1)
        prior = np.exp(-alpha * lam) * (1 - p) ** (b - 1)
        alive = (1 - p) ** x * lam**x * np.exp(-lam * T)
        dead = p * (1 - p) ** (x - 1) * lam**x * np.exp(-lam * t_x) if x > 0 else 0.0
        future = -np.expm1(-lam * p * t) / p if p > 0 else lam * t
        return prior * (alive + dead), prior * alive, prior * alive * future

    options = {"epsabs": 0, "epsrel": 1e-10}
    total, alive, future = (
        integrate.dblquad(lambda u, v, k=k: pieces(v, u)[k], 0, upper**r, 0, 1, **options)[0]
        for k in range(3)
    )
    return alive / total, future / total


def pareto_posterior(params: dict[str, float], x: int, t_x: float, T: float, t: float) -> tuple[float, float]:
    """(P(alive), E[Y(t)]) for the Pareto/NBD model by integrating over λ ~ Gamma(r, α),
    μ ~ Gamma(s, β): E[Y(t) | λ, μ, alive] = λ/μ (1 − e^(−μt))."""
    r, alpha, s, beta = params["r"], params["alpha"], params["s"], params["beta"]

    def pieces(v: float, w: float) -> tuple[float, float, float]:
        lam, mu = v ** (1 / r), w ** (1 / s)
        prior = np.exp(-alpha * lam - beta * mu)
        alive = lam**x * np.exp(-(lam + mu) * T)
        dead = lam**x * mu / (lam + mu) * (np.exp(-(lam + mu) * t_x) - np.exp(-(lam + mu) * T))
        future = lam * -np.expm1(-mu * t) / mu if mu > 0 else lam * t
        return prior * (alive + dead), prior * alive, prior * alive * future

    lam_hi = ((r + x + 60.0) / alpha) ** r
    mu_hi = ((s + 60.0) / beta) ** s
    options = {"epsabs": 0, "epsrel": 1e-10}
    total, alive, future = (
        integrate.dblquad(lambda w, v, k=k: pieces(v, w)[k], 0, lam_hi, 0, mu_hi, **options)[0]
        for k in range(3)
    )
    return alive / total, future / total


def gamma_gamma_posterior(params: dict[str, float], x: int, zbar: float) -> tuple[float, float]:
    """(log density of z̄, E[p/ν | x, z̄]) by integrating over ν ~ Gamma(q, γ): given ν, the sum
    of x spends is Gamma(px, ν), so z̄ has density x · Gamma(px, ν)(x z̄)."""
    p, q, v = params["p"], params["q"], params["v"]

    def density(nu: float) -> float:
        log_prior = q * np.log(v) - special.gammaln(q) + (q - 1) * np.log(nu) - v * nu
        log_mean = (
            np.log(x) + px * np.log(nu) - special.gammaln(px) + (px - 1) * np.log(x * zbar) - nu * x * zbar
        )
        return float(np.exp(log_prior + log_mean))

    px = p * x
    total = integrate.quad(density, 0, np.inf, epsabs=0, epsrel=1e-11, limit=500)[0]
    spend = integrate.quad(lambda nu: p / nu * density(nu), 0, np.inf, epsabs=0, epsrel=1e-11, limit=500)[0]
    return float(np.log(total)), spend / total
