"""Trajectory features: the shape of each customer's activity over the recent periods, so a spec
can cluster customers on how they are changing (growing, fading, steady, bursty) and not only on
how much they bought (feature-based time-series clustering: each sequence summarised into a few
interpretable numbers, then clustered with the same validation as any other features).

From an events frame (``customer_id``, ``timestamp``, ``amount``) only events strictly before
``as_of`` (midnight, UTC) count, as in the feature step; tz-aware stamps are converted to UTC
and periods are UTC calendar periods, so a trajectory agrees with the ``rfm`` features read from
the same log. A refund (a negative amount) is no purchase; a purchase of amount 0 is one, as in
:mod:`segmentation.lifecycle.summary`.

The window is the ``window`` most recent *complete* periods (``"month"``, ``"week"`` (Monday to
Sunday) or ``"quarter"``) before ``as_of``: the period holding ``as_of`` is never complete (its
day ``as_of`` is not read), so the window ends with the period before it. Per customer and
period ``t`` of the window (0 the oldest, ``W - 1`` the latest), ``s_t = max(net amount, 0)``
(a period of net refunds spent nothing) and ``a_t = 1`` when the period holds a purchase.

A customer's observed part starts at the period of their first purchase when that falls inside
the window (before it the customer did not exist, and zeros there would read as growth), else
at the window's start; ``n`` is its length and means, sums and sds below run over it. A
customer whose first purchase lies in the incomplete current period has ``n = 0``: every
feature but ``trajectory_periods_since_active`` is then NaN (nothing observed yet).

- ``trajectory_active_share`` = Σ a_t / n.
- ``trajectory_spend_slope``: the least-squares slope of ``log1p(s_t)`` on ``t``,
  Σ (t − t̄)(y_t − ȳ) / Σ (t − t̄)², in log-spend per period; NaN when ``n < 3``.
- ``trajectory_recent_share`` = Σ s_t over the last ``ceil(W / 3)`` periods / Σ s_t over the
  window; NaN when the window holds no spend. It is read on the whole window, so a customer
  acquired lately scores high, as a growing one does.
- ``trajectory_spend_cv`` = population sd(s) / mean(s); NaN when the mean is 0.
- ``trajectory_autocorrelation``: the lag-1 sample autocorrelation
  Σ_{t<last} (s_t − s̄)(s_{t+1} − s̄) / Σ (s_t − s̄)² (statsmodels' ``acf``): positive for
  runs of activity, negative for alternation; NaN when ``n < 3`` or ``s`` is constant. This
  form, rather than the Pearson correlation of the lagged pairs, is defined for every
  non-constant sequence (a customer who bought only in the first of three periods has one).
- ``trajectory_periods_since_active``: ``W - 1 - (last t with a_t = 1)`` (0 = bought in the
  latest complete period); ``W`` when no period of the window holds a purchase.

:data:`RATIO_SCALE_TRAJECTORY` names the one ratio-scale count, ``periods_since_active`` (a
recency in periods, like ``recency_days``); the others are shares, slopes and ratios whose
zero and sign carry meaning, so they are z-scored, not logged.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from ..errors import SegmentationError

TRAJECTORY_COLUMNS = (
    "trajectory_active_share",
    "trajectory_spend_slope",
    "trajectory_recent_share",
    "trajectory_spend_cv",
    "trajectory_autocorrelation",
    "trajectory_periods_since_active",
)
RATIO_SCALE_TRAJECTORY = frozenset({"trajectory_periods_since_active"})
PERIODS = {"month": "M", "m": "M", "week": "W", "w": "W", "quarter": "Q", "q": "Q"}
DEFAULT_WINDOW = 12
MIN_PERIODS = 3  # a slope or an autocorrelation of fewer periods says nothing


def _freq(period: str) -> str:
    freq = PERIODS.get(str(period).lower())
    if freq is None:
        raise SegmentationError(
            f"Unknown trajectory period {period!r}; use 'month', 'week' or 'quarter' (or M, W, Q).",
            key="period",
        )
    return freq


def _window(window: object) -> int:
    if isinstance(window, bool) or not isinstance(window, int | np.integer) or window < MIN_PERIODS:
        raise SegmentationError(
            f"The trajectory window must be a whole number of periods, at least {MIN_PERIODS}; got {window!r}.",
            key="window",
        )
    return int(window)


def _cutoff(as_of: object) -> pd.Timestamp:
    if isinstance(as_of, dt.datetime) or not isinstance(as_of, dt.date):
        raise SegmentationError(
            f"as_of must be a date (datetime.date), not {type(as_of).__name__}; features read the "
            "events strictly before its midnight.",
            key="as_of",
        )
    return pd.Timestamp(as_of)


def _events(events: pd.DataFrame) -> tuple[np.ndarray, pd.Series, np.ndarray]:
    """Customer ids, naive UTC stamps and float amounts, or a message saying what is unusable."""
    missing = [c for c in ("customer_id", "timestamp", "amount") if c not in events.columns]
    if missing:
        raise SegmentationError(
            f"The events need the column(s) {', '.join(missing)}; they have {', '.join(map(str, events.columns))}."
        )
    if events["customer_id"].isna().any():
        raise SegmentationError(f"{int(events['customer_id'].isna().sum())} events have no customer_id.")
    stamps = pd.to_datetime(events["timestamp"], errors="coerce", utc=True)
    if stamps.isna().any():
        raise SegmentationError(f"{int(stamps.isna().sum())} events have no readable timestamp.")
    amounts = pd.to_numeric(events["amount"], errors="coerce")
    if amounts.isna().any():
        raise SegmentationError(f"{int(amounts.isna().sum())} events have no numeric amount.")
    return events["customer_id"].to_numpy(), stamps.dt.tz_localize(None), amounts.to_numpy(dtype=float)


def _matrices(
    events: pd.DataFrame, cutoff: pd.Timestamp, freq: str, window: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Sorted customer ids, (customers, window) net spend and purchase counts, and each
    customer's first observed column (``window`` when nothing of the window is observed)."""
    ids, stamps, amounts = _events(events)
    before = (stamps < cutoff).to_numpy()
    purchase = before & (amounts >= 0)
    if not purchase.any():
        raise SegmentationError(
            f"No purchase (amount 0 or more) before as_of {cutoff.date().isoformat()}; choose a later as_of."
        )
    # customers are those with a purchase; a customer with refunds only has no trajectory
    codes, customers = pd.factorize(ids[purchase], sort=True)
    ordinal = stamps.dt.to_period(freq).array.asi8
    last = pd.Period(cutoff, freq=freq).ordinal - 1
    start = last - window + 1
    first = np.full(len(customers), np.iinfo(np.int64).max)
    np.minimum.at(first, codes, ordinal[purchase])
    first_column = np.clip(first - start, 0, window)

    # refunds of customers without a purchase get code -1 and are left out
    code = pd.Index(customers).get_indexer(ids[before])
    column = ordinal[before] - start
    inside = (code >= 0) & (column >= 0) & (column < window)
    cell = code[inside] * window + column[inside]
    size = len(customers) * window
    spend = np.bincount(cell, weights=amounts[before][inside], minlength=size)
    bought = np.bincount(cell, weights=(amounts[before][inside] >= 0), minlength=size)
    shape = (len(customers), window)
    return np.asarray(customers), spend.reshape(shape), bought.reshape(shape), first_column


def _ceil_third(window: int) -> int:
    return -(-window // 3)


def _masked_mean(values: np.ndarray, mask: np.ndarray, n: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(mask, values, 0.0).sum(axis=1) / n


def _slope(y: np.ndarray, mask: np.ndarray, n: np.ndarray) -> np.ndarray:
    t = np.broadcast_to(np.arange(y.shape[1], dtype=float), y.shape)
    dt_ = np.where(mask, t - _masked_mean(t, mask, n)[:, None], 0.0)
    dy = np.where(mask, y - _masked_mean(y, mask, n)[:, None], 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = (dt_ * dy).sum(axis=1) / (dt_**2).sum(axis=1)
    return np.where(n >= MIN_PERIODS, slope, np.nan)


def _autocorrelation(s: np.ndarray, mask: np.ndarray, n: np.ndarray) -> np.ndarray:
    deviation = np.where(mask, s - _masked_mean(s, mask, n)[:, None], 0.0)
    # the observed part is a suffix of the window, so a pair is observed when its first is
    lagged = (deviation[:, :-1] * deviation[:, 1:]).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        acf = lagged / (deviation**2).sum(axis=1)
    # exact constancy: a mean of equal floats can miss them by an ulp and leave noise as a signal
    high = np.where(mask, s, -np.inf).max(axis=1)
    low = np.where(mask, s, np.inf).min(axis=1)
    return np.where((n >= MIN_PERIODS) & (high > low), acf, np.nan)


def trajectory_features(
    events: pd.DataFrame,
    *,
    as_of: dt.date,
    period: str = "month",
    window: int = DEFAULT_WINDOW,
) -> pd.DataFrame:
    """``customer_id`` and :data:`TRAJECTORY_COLUMNS` for every customer with a purchase
    before ``as_of``, sorted by ``customer_id``; formulas in the module docstring.

    ``period`` is ``"month"``, ``"week"`` or ``"quarter"`` (or ``M``, ``W``, ``Q``); ``window``
    the number of complete periods before ``as_of`` summarised (at least 3). Raises
    :class:`SegmentationError` for missing columns, unreadable stamps or amounts, a missing
    ``customer_id``, a bad period, window or ``as_of``, or no purchase before ``as_of``.
    """
    freq, window = _freq(period), _window(window)
    cutoff = _cutoff(as_of)
    customers, net, bought, first_column = _matrices(events, cutoff, freq, window)
    mask = np.arange(window)[None, :] >= first_column[:, None]
    n = mask.sum(axis=1).astype(float)
    s = np.clip(net, 0.0, None)
    active = bought > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        active_share = active.sum(axis=1) / n
        total = s.sum(axis=1)
        recent = s[:, window - _ceil_third(window) :].sum(axis=1) / np.where(total > 0, total, np.nan)
        mean = _masked_mean(s, mask, n)
        sd = np.sqrt(_masked_mean((s - mean[:, None]) ** 2, mask, n))
        cv = sd / np.where(mean > 0, mean, np.nan)
    # the first purchase in the reversed window is the latest one
    since = np.where(active.any(axis=1), np.argmax(active[:, ::-1], axis=1), window)
    return pd.DataFrame(
        {
            "customer_id": customers,
            "trajectory_active_share": active_share,
            "trajectory_spend_slope": _slope(np.log1p(s), mask, n),
            "trajectory_recent_share": recent,
            "trajectory_spend_cv": cv,
            "trajectory_autocorrelation": _autocorrelation(s, mask, n),
            "trajectory_periods_since_active": since.astype(np.int64),
        }
    )
