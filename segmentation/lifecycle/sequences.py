"""Per-customer activity sequences: purchases and spend per period, from each customer's first
purchase up to ``as_of``.

A customer's sequence starts in the period of their first purchase (so its first period always
has a purchase and a new customer looks new) and runs to the period holding ``as_of``; events
after ``as_of`` are left out. Periods are calendar periods of ``freq`` (``"M"``, months, by
default; any pandas period alias works).

The hidden Markov model reads :class:`Sequences`: one row a customer-period, in customer order
then time order, with two emissions — the purchase count (a Poisson in each state) and
``log1p(spend per purchase)`` in the period (a Gaussian in each state, read only when there are
purchases; 0 otherwise). Spend per purchase rather than per period keeps the two emissions
apart (a period's spend grows with its count), and its log makes it roughly Gaussian. Spend is
clipped at 0 first, so a period of net refunds counts its purchases at no spend.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import SegmentationError

EMISSIONS = ("purchases", "log1p_spend_per_purchase")
ACTIVITY_COLUMNS = ["customer_id", "period", "period_index", "purchases", "spend"]


@dataclass(frozen=True)
class Sequences:
    """The compact form: ``X[starts[i] : starts[i] + lengths[i]]`` is customer ``customer_ids[i]``."""

    customer_ids: np.ndarray
    X: np.ndarray  # (rows, 2): purchases, log1p(max(spend, 0) / purchases) (0 without purchases)
    lengths: np.ndarray  # periods per customer, each >= 1
    first_period: pd.PeriodIndex  # the period of each customer's first purchase
    freq: str

    @property
    def starts(self) -> np.ndarray:
        return np.concatenate([[0], np.cumsum(self.lengths)[:-1]]).astype(np.int64)

    def padded(self) -> tuple[np.ndarray, np.ndarray]:
        """(customers, max length, 2) emissions aligned at each customer's first period, and the
        (customers, max length) mask of the periods that exist."""
        return pad(self.X, self.lengths)


def pad(X: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows of consecutive sequences -> (sequences, longest, D) left-aligned, and the mask."""
    n, t = len(lengths), int(lengths.max()) if len(lengths) else 0
    mask = np.arange(t)[None, :] < lengths[:, None]
    out = np.zeros((n, t, X.shape[1]))
    out[mask] = X
    return out, mask


def _ordinals(stamps: pd.Series, freq: str) -> np.ndarray:
    return stamps.dt.to_period(freq).array.asi8.astype(np.int64)


def activity(events: pd.DataFrame, as_of: object, freq: str = "M") -> tuple[pd.DataFrame, Sequences]:
    """``events``: ``customer_id``, ``timestamp``, ``amount``. Returns the long table (one row a
    customer-period: ``customer_id``, ``period``, ``period_index`` counted from the first
    purchase, ``purchases``, ``spend``) and its :class:`Sequences`."""
    missing = [c for c in ("customer_id", "timestamp", "amount") if c not in events.columns]
    if missing:
        raise SegmentationError(f"The events need the columns {', '.join(missing)}.")
    stamps = pd.to_datetime(events["timestamp"], errors="coerce")
    if stamps.isna().any():
        raise SegmentationError(f"{int(stamps.isna().sum())} events have no readable timestamp.")
    amounts = pd.to_numeric(events["amount"], errors="coerce")
    if amounts.isna().any():
        raise SegmentationError(f"{int(amounts.isna().sum())} events have no numeric amount.")
    if events["customer_id"].isna().any():
        raise SegmentationError(f"{int(events['customer_id'].isna().sum())} events have no customer_id.")
    cutoff = pd.Timestamp(as_of)
    if stamps.dt.tz is not None:
        # periods are calendar periods of the events' own time zone
        zone = stamps.dt.tz
        cutoff = cutoff.tz_localize(zone) if cutoff.tzinfo is None else cutoff.tz_convert(zone)
        stamps, cutoff = stamps.dt.tz_localize(None), cutoff.tz_localize(None)
    elif cutoff.tzinfo is not None:
        cutoff = cutoff.tz_localize(None)
    keep = (stamps <= cutoff).to_numpy()
    if not keep.any():
        raise SegmentationError(f"No events on or before {cutoff.date()}.")
    frame = pd.DataFrame(
        {
            "customer_id": events["customer_id"].to_numpy()[keep],
            "ordinal": _ordinals(stamps[keep], freq),
            "amount": amounts.to_numpy(dtype=float)[keep],
        }
    )
    last = int(pd.Period(cutoff, freq=freq).ordinal)
    cells = frame.groupby(["customer_id", "ordinal"], sort=True)["amount"].agg(["size", "sum"])
    codes, ids = pd.factorize(cells.index.get_level_values("customer_id"), sort=True)
    ordinal = cells.index.get_level_values("ordinal").to_numpy()
    first = np.full(len(ids), np.iinfo(np.int64).max)
    np.minimum.at(first, codes, ordinal)
    lengths = (last - first + 1).astype(np.int64)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    rows = int(lengths.sum())
    purchases = np.zeros(rows, dtype=np.int64)
    spend = np.zeros(rows)
    position = starts[codes] + (ordinal - first[codes])
    purchases[position] = cells["size"].to_numpy()
    spend[position] = cells["sum"].to_numpy()
    customer = np.repeat(np.arange(len(ids)), lengths)
    index = np.arange(rows) - starts[customer]
    periods = pd.PeriodIndex.from_ordinals(first[customer] + index, freq=freq)
    table = pd.DataFrame(
        {
            "customer_id": np.asarray(ids)[customer],
            "period": periods,
            "period_index": index,
            "purchases": purchases,
            "spend": spend,
        },
        columns=ACTIVITY_COLUMNS,
    )
    per_purchase = np.divide(np.clip(spend, 0, None), purchases, out=np.zeros(rows), where=purchases > 0)
    X = np.column_stack([purchases.astype(float), np.log1p(per_purchase)])
    sequences = Sequences(
        customer_ids=np.asarray(ids),
        X=X,
        lengths=lengths,
        first_period=pd.PeriodIndex.from_ordinals(first, freq=freq),
        freq=freq,
    )
    return table, sequences


def from_arrays(customer_ids: np.ndarray, X: np.ndarray, lengths: np.ndarray, freq: str = "M") -> Sequences:
    """Sequences from emissions already in the model's space (simulations, tests)."""
    lengths = np.asarray(lengths, dtype=np.int64)
    if (lengths < 1).any() or int(lengths.sum()) != len(X):
        raise SegmentationError("Every sequence needs at least one period and the lengths must cover X.")
    return Sequences(
        customer_ids=np.asarray(customer_ids),
        X=np.asarray(X, dtype=float),
        lengths=lengths,
        first_period=pd.PeriodIndex.from_ordinals(np.zeros(len(lengths), dtype=np.int64), freq=freq),
        freq=freq,
    )
