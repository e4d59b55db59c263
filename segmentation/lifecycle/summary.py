"""Each customer's purchase history as the buy-till-you-die models read it, as of a date.

From an events frame (``customer_id``, ``timestamp``, ``amount``), only purchases strictly
before ``as_of`` (midnight, UTC) count, as in the feature step. A refund (a negative amount) is
no purchase; a purchase of amount 0 (a free item) is, as in the CDNOW log, where eight customers'
only order cost nothing. Purchases are counted on distinct days: two orders on one day are one
purchase occasion whose spend is their sum.

Per customer, in weeks (the models' unit):

- ``frequency``: repeat purchase days (distinct purchase days after the first);
- ``recency``: from the first purchase day to the last;
- ``T``: from the first purchase day to the last day observed, the day before ``as_of``;
- ``mean_repeat_spend``: the mean spend of the repeat purchase days (0 without a repeat).

With ``as_of`` 1997-10-01 the CDNOW 1/10th sample log gives exactly the published calibration
summary (Fader, Hardie and Lee 2005: 2,357 customers, ``T`` 38.86 weeks for a first purchase on
1997-01-01).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from ..data.transactions import Events
from ..errors import SegmentationError

DAYS_PER_WEEK = 7.0
COLUMNS = ("customer_id", "frequency", "recency", "T", "mean_repeat_spend")
_EPOCH = dt.date(1970, 1, 1)


def events_frame(events: Events) -> pd.DataFrame:
    """The platform's clean log (:class:`segmentation.data.transactions.Events`) as an events
    frame: refunds become negative amounts, cents become currency units."""
    frame = events.frame
    cents = frame["cents"].to_numpy(dtype=np.int64)
    return pd.DataFrame(
        {
            "customer_id": frame["customer_id"],
            "timestamp": pd.to_datetime(frame["t"].to_numpy(dtype=np.int64), unit="s"),
            "amount": np.where(frame["refund"].to_numpy(dtype=bool), -cents, cents) / 100.0,
        }
    )


def purchase_days(events: pd.DataFrame, start: dt.date | None, end: dt.date) -> pd.DataFrame:
    """One row a customer and purchase day in ``[start, end)``: ``customer_id``, ``day`` (days
    since 1970-01-01) and ``spend`` (the day's total); sorted by customer and day."""
    missing = [c for c in ("customer_id", "timestamp", "amount") if c not in events.columns]
    if missing:
        raise SegmentationError(
            f"the events frame needs the column(s) {', '.join(missing)}; it has {', '.join(map(str, events.columns))}"
        )
    try:
        stamps = pd.to_datetime(events["timestamp"], utc=True)
    except (ValueError, TypeError) as error:
        raise SegmentationError(
            f"the events' 'timestamp' column holds a value that is not a date: {error}"
        ) from None
    nanos = stamps.dt.tz_localize(None).to_numpy(dtype="datetime64[ns]").astype(np.int64)
    day = np.floor_divide(nanos, 86_400 * 1_000_000_000)
    amount = pd.to_numeric(events["amount"], errors="coerce").to_numpy(dtype=float)
    keep = (day < (end - _EPOCH).days) & (amount >= 0) & ~np.isnan(amount) & stamps.notna().to_numpy()
    if start is not None:
        keep &= day >= (start - _EPOCH).days
    days = pd.DataFrame(
        {"customer_id": events["customer_id"].to_numpy()[keep], "day": day[keep], "spend": amount[keep]}
    )
    grouped = days.groupby(["customer_id", "day"], sort=True, observed=True)["spend"].sum()
    return grouped.reset_index()


def summarise(events: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Per customer with a purchase before ``as_of``: the columns :data:`COLUMNS`."""
    days = purchase_days(events, None, as_of)
    if days.empty:
        raise SegmentationError(f"no purchase (amount 0 or more) before as_of {as_of.isoformat()}")
    customer = days["customer_id"].to_numpy()
    day = days["day"].to_numpy(dtype=np.int64)
    spend = days["spend"].to_numpy(dtype=float)
    starts = np.flatnonzero(np.r_[True, customer[1:] != customer[:-1]])
    counts = np.diff(np.r_[starts, len(day)])
    first = day[starts]
    last = day[starts + counts - 1]
    repeat_spend = np.add.reduceat(spend, starts) - spend[starts]
    frequency = counts - 1
    last_observed = (as_of - _EPOCH).days - 1
    return pd.DataFrame(
        {
            "customer_id": customer[starts],
            "frequency": frequency.astype(np.int64),
            "recency": (last - first) / DAYS_PER_WEEK,
            "T": (last_observed - first) / DAYS_PER_WEEK,
            "mean_repeat_spend": np.divide(
                repeat_spend, frequency, out=np.zeros(len(starts)), where=frequency > 0
            ),
        }
    )


def repeat_purchases_between(events: pd.DataFrame, start: dt.date, end: dt.date) -> pd.Series:
    """Purchase days each customer had in ``[start, end)`` (a holdout period), by customer id."""
    days = purchase_days(events, start, end)
    return days.groupby("customer_id", observed=True).size()
