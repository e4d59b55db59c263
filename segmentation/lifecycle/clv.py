"""Customer lifetime value from the BG/NBD purchase model and the Gamma-Gamma spend model.

For a horizon of H days and an annual discount rate d, a customer's value is the discounted sum
over weekly steps k = 1 … ⌈H/7⌉, ending at t_k = min(7k, H) days:

    CLV = Σ_k E[spend] × (E[Y(t_k)] − E[Y(t_(k−1))]) / (1 + d)^(t_k / 365.25)

with E[Y(t)] the BG/NBD purchases expected in t after ``as_of`` and E[spend] the Gamma-Gamma
conditional expected spend (spend independent of frequency, the Gamma-Gamma assumption). Times
are weeks throughout; the features are ``p_alive``, ``expected_purchases_<H>`` and ``clv_<H>``.

:func:`holdout_check` is the calibration/holdout test of the purchase model: fitted on the log
before ``as_of``, its expected purchases over ``[as_of, holdout_end)`` against the purchase
days the customers actually had then, in total and by calibration frequency (0, 1, … 6, 7+).
:func:`clv_for_log` is the whole ``clv`` feature group of a log: features and ``metrics.json``
entry, with the holdout check whenever the log runs past ``as_of``.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import SegmentationError
from ..spec import MAX_CLV_HORIZON_DAYS as MAX_HORIZON_DAYS
from . import bgnbd, gamma_gamma
from .fitting import distinct_rows
from .summary import DAYS_PER_WEEK, repeat_purchases_between, summarise

DAYS_PER_YEAR = 365.25

# Below this many repeat buyers the purchase model's four parameters are not pinned down.
MIN_REPEAT_CUSTOMERS = 20
TOP_FREQUENCY = 7  # the holdout table groups 7 or more calibration repeat purchases


@dataclass(frozen=True)
class ClvModel:
    purchases: bgnbd.BGNBD
    spend: gamma_gamma.GammaGamma | gamma_gamma.PooledSpend


def fit_clv(summary: pd.DataFrame) -> ClvModel:
    """Both models fitted on a :func:`segmentation.lifecycle.summary.summarise` table."""
    purchases = bgnbd.fit(summary["frequency"], summary["recency"], summary["T"])
    spend = gamma_gamma.fit_or_pool(summary["frequency"], summary["mean_repeat_spend"])
    return ClvModel(purchases=purchases, spend=spend)


def check_horizon(horizon_days: object, discount_rate: object) -> tuple[int, float]:
    if (
        isinstance(horizon_days, bool)
        or not isinstance(horizon_days, int)
        or not 1 <= horizon_days <= MAX_HORIZON_DAYS
    ):
        raise SegmentationError(
            f"'clv_horizon_days' must be a whole number of days from 1 to {MAX_HORIZON_DAYS:,}",
            key="clv_horizon_days",
        )
    if (
        isinstance(discount_rate, bool)
        or not isinstance(discount_rate, int | float)
        or not 0 <= discount_rate < 1
    ):
        raise SegmentationError(
            "'clv_discount_rate' must be an annual rate from 0 up to (not including) 1, such as 0.1 for 10%",
            key="clv_discount_rate",
        )
    return horizon_days, float(discount_rate)


def discounted_purchases(
    model: bgnbd.BGNBD, horizon_days: int, discount_rate: float, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(expected purchases over the horizon, their discounted sum over weekly steps) per customer."""
    ends = np.minimum(np.arange(1, math.ceil(horizon_days / DAYS_PER_WEEK) + 1) * DAYS_PER_WEEK, horizon_days)
    previous = np.zeros(len(x))
    discounted = np.zeros(len(x))
    for end in ends:
        cumulative = model.expected_purchases(end / DAYS_PER_WEEK, x, t_x, T)
        discounted += (cumulative - previous) / (1.0 + discount_rate) ** (end / DAYS_PER_YEAR)
        previous = cumulative
    return previous, discounted


def clv_features(
    summary: pd.DataFrame, horizon_days: int, discount_rate: float, model: ClvModel | None = None
) -> pd.DataFrame:
    """``customer_id``, ``p_alive``, ``expected_purchases_<H>`` and ``clv_<H>`` per customer of
    ``summary`` (fitting both models on it unless ``model`` is given)."""
    horizon_days, discount_rate = check_horizon(horizon_days, discount_rate)
    model = model or fit_clv(summary)
    # Customers with the same history get the same figures: compute each distinct history once.
    columns = [summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T")]
    (x, t_x, T), _, index = distinct_rows(*columns)
    expected, discounted = discounted_purchases(model.purchases, horizon_days, discount_rate, x, t_x, T)
    spend = model.spend.expected_spend(summary["frequency"], summary["mean_repeat_spend"])
    return pd.DataFrame(
        {
            "customer_id": summary["customer_id"].to_numpy(),
            "p_alive": model.purchases.p_alive(x, t_x, T)[index],
            f"expected_purchases_{horizon_days}": expected[index],
            f"clv_{horizon_days}": discounted[index] * spend,
        }
    )


def holdout_check(
    events: pd.DataFrame,
    as_of: dt.date,
    holdout_end: dt.date,
    model: bgnbd.BGNBD | None = None,
    summary: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """Expected against actual purchase days in ``[as_of, holdout_end)`` for the customers who
    bought before ``as_of``, the purchase model fitted on the log before ``as_of`` (unless given)."""
    if holdout_end <= as_of:
        raise SegmentationError(
            f"the holdout period must end after as_of ({as_of.isoformat()}); it ends {holdout_end.isoformat()}"
        )
    summary = summarise(events, as_of) if summary is None else summary
    model = model or bgnbd.fit(summary["frequency"], summary["recency"], summary["T"])
    weeks = (holdout_end - as_of).days / DAYS_PER_WEEK
    predicted = model.expected_purchases(weeks, summary["frequency"], summary["recency"], summary["T"])
    later = repeat_purchases_between(events, as_of, holdout_end)
    actual = later.reindex(summary["customer_id"].to_numpy(), fill_value=0).to_numpy(dtype=float)
    group = np.minimum(summary["frequency"].to_numpy(), TOP_FREQUENCY)
    by_frequency = []
    for value in np.unique(group):
        chosen = group == value
        by_frequency.append(
            {
                "frequency": f"{TOP_FREQUENCY}+" if value == TOP_FREQUENCY else str(int(value)),
                "customers": int(chosen.sum()),
                "predicted_mean": float(predicted[chosen].mean()),
                "actual_mean": float(actual[chosen].mean()),
            }
        )
    return {
        "as_of": as_of.isoformat(),
        "holdout_end": holdout_end.isoformat(),
        "weeks": weeks,
        "customers": len(summary),
        "predicted": float(predicted.sum()),
        "actual": float(actual.sum()),
        "mean_absolute_error": float(np.abs(predicted - actual).mean()),
        "by_frequency": by_frequency,
    }


def clv_metrics(model: ClvModel, holdout: dict[str, Any] | None = None) -> dict[str, Any]:
    """``metrics.json`` → ``clv``: the fitted parameters (weeks), the purchase model's
    log-likelihood, the customers it was fitted on and, when the log runs past ``as_of``, the
    calibration/holdout check (:func:`holdout_check`)."""
    metrics: dict[str, Any] = {
        "time_unit": "weeks",
        "bgnbd": model.purchases.params(),
        "gamma_gamma": model.spend.params() if isinstance(model.spend, gamma_gamma.GammaGamma) else None,
        "log_likelihood": float(model.purchases.log_likelihood),
        "customers": model.purchases.customers,
    }
    if isinstance(model.spend, gamma_gamma.PooledSpend):
        metrics["pooled_spend"] = {
            "mean": model.spend.mean,
            "customers": model.spend.customers,
            "reason": f"{model.spend.reason}; every customer is valued at the repeat buyers' pooled mean spend",
        }
    if holdout is not None:
        metrics["holdout"] = holdout
    return metrics


def clv_for_log(
    events: pd.DataFrame, as_of: dt.date, horizon_days: int, discount_rate: float
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The ``clv`` feature group of a log as of ``as_of`` and its ``metrics.json`` entry: both
    models fitted on the purchases before ``as_of``; when the log has purchases on or after it,
    the holdout check runs to the day after the last of them."""
    horizon_days, discount_rate = check_horizon(horizon_days, discount_rate)
    summary = summarise(events, as_of)
    repeaters = int((summary["frequency"] > 0).sum())
    if repeaters < MIN_REPEAT_CUSTOMERS:
        raise SegmentationError(
            f"only {repeaters} customer(s) bought on more than one day before as_of; the purchase "
            f"model needs at least {MIN_REPEAT_CUSTOMERS}"
        )
    model = fit_clv(summary)
    features = clv_features(summary, horizon_days, discount_rate, model)
    stamps = pd.to_datetime(events["timestamp"], utc=True)
    amounts = pd.to_numeric(events["amount"], errors="coerce")
    later = stamps[(amounts >= 0).to_numpy() & (stamps >= pd.Timestamp(as_of, tz="UTC")).to_numpy()]
    holdout = None
    if not later.empty:
        holdout_end = later.max().date() + dt.timedelta(days=1)
        holdout = holdout_check(events, as_of, holdout_end, model.purchases, summary)
    return features, clv_metrics(model, holdout)
