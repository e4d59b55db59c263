"""What each customer did after ``as_of``: the out-of-time window of a transaction log.

Features read only events before ``as_of`` (:mod:`segmentation.data.features`); the events on
or after it are a future the segments never saw, so they can check whether the segments
foretell behaviour. The window runs from ``as_of`` (midnight UTC, included) to the day of the
log's last event (included): the whole observed future, the same calendar days for every
customer, so segments are compared over equal time. A fixed horizon would throw away the later
events without making the comparison fairer.

Measured for every customer with an event before ``as_of`` (the customers the features
describe):

- ``bought_again``: 1 when the customer made at least one purchase in the window, else 0. A
  customer with no later event, or with refunds only, did not come back.
- ``spend_after_as_of``: the purchase amounts in the window, refunds excluded as
  ``monetary_total`` excludes them (a refund is not negative spend there either); 0 for a
  customer who did not come back.

Customers first seen in the window have no segment; they are counted (``new_customers``), not
measured. When the log ends before ``as_of`` there is no window, and :attr:`FutureBehaviour.reason`
says why in words.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .aggregate import SECONDS_PER_DAY

EPOCH = dt.date(1970, 1, 1)
OUT_OF_TIME_OUTCOMES = ("bought_again", "spend_after_as_of")
CUSTOMER_TABLE_REASON = (
    "the upload is a customer table, not a transaction log: there are no later events to check "
    "the segments against"
)


@dataclass(frozen=True)
class FutureBehaviour:
    """The window after ``as_of`` and each customer's behaviour in it.

    window : JSON-ready facts of the window (``possible``, ``reason``, ``as_of``,
        ``window_start``, ``window_end``, ``window_days``, ``customers``, ``customers_returned``,
        ``events_in_window``, ``new_customers``); dates as ISO text, None where undefined.
    frame : ``customer_id`` and the :data:`OUT_OF_TIME_OUTCOMES`, one row per customer with an
        event before ``as_of``; None when there is no window.
    """

    window: dict[str, Any]
    frame: pd.DataFrame | None

    @property
    def possible(self) -> bool:
        return bool(self.window["possible"])


def not_possible(reason: str, *, as_of: dt.date | None = None) -> FutureBehaviour:
    """No out-of-time check, and why (a customer table, or a log that ends before ``as_of``)."""
    return FutureBehaviour(window=_window(possible=False, reason=reason, as_of=as_of), frame=None)


def behaviour_after(events: pd.DataFrame, *, as_of: dt.date) -> FutureBehaviour:
    """Each customer's purchases on or after ``as_of`` in a clean log.

    ``events`` is :class:`segmentation.data.transactions.Events` ``.frame`` (``customer_id`` as a
    Categorical, ``t`` seconds, ``cents``, ``refund``).
    """
    t = events["t"].to_numpy()
    cutoff = (as_of - EPOCH).days * SECONDS_PER_DAY
    later = t >= cutoff
    last_day = EPOCH + dt.timedelta(days=int(t.max()) // SECONDS_PER_DAY) if len(t) else None
    if not later.any() or last_day is None:
        ends = f"on {last_day.isoformat()}" if last_day is not None else "without a dated event"
        return not_possible(
            f"the log ends {ends}, before 'as_of' ({as_of.isoformat()}), so no later behaviour can be "
            "measured: set 'as_of' earlier than the last events to hold them out as the check",
            as_of=as_of,
        )
    codes = events["customer_id"].cat.codes.to_numpy()
    names = np.asarray(events["customer_id"].cat.categories, dtype=object)
    size = len(names)
    before = np.bincount(codes[~later], minlength=size) > 0
    purchase = later & ~events["refund"].to_numpy()
    bought = np.bincount(codes[purchase], minlength=size)
    cents = np.bincount(codes[purchase], weights=events["cents"].to_numpy()[purchase], minlength=size)
    seen_later = np.bincount(codes[later], minlength=size) > 0
    measured = np.flatnonzero(before)
    frame = pd.DataFrame(
        {
            "customer_id": names[measured],
            "bought_again": (bought[measured] > 0).astype(float),
            # whole cents summed exactly (below 2**53), then read in the log's currency
            "spend_after_as_of": np.round(cents[measured]) / 100,
        }
    )
    window = _window(
        possible=True,
        reason=None,
        as_of=as_of,
        end=last_day,
        customers=len(measured),
        returned=int((bought[measured] > 0).sum()),
        events=int(np.isin(codes[later], measured).sum()),
        new=int((seen_later & ~before).sum()),
    )
    return FutureBehaviour(window=window, frame=frame)


def _window(
    *,
    possible: bool,
    reason: str | None,
    as_of: dt.date | None,
    end: dt.date | None = None,
    customers: int = 0,
    returned: int = 0,
    events: int = 0,
    new: int = 0,
) -> dict[str, Any]:
    return {
        "possible": possible,
        "reason": reason,
        "as_of": None if as_of is None else as_of.isoformat(),
        "window_start": None if end is None or as_of is None else as_of.isoformat(),
        "window_end": None if end is None else end.isoformat(),
        "window_days": 0 if end is None or as_of is None else (end - as_of).days + 1,
        "customers": customers,
        "customers_returned": returned,
        "events_in_window": events,
        "new_customers": new,
    }
