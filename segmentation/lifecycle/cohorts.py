"""Cohort analysis: the retention triangle, revenue per cohort and the same split by segment.

From an events frame (``customer_id``, ``timestamp``, ``amount``; a negative amount is a refund)
only events strictly before ``as_of`` (midnight, UTC) count, as in
:func:`segmentation.lifecycle.summary.purchase_days`: naive timestamps are read as UTC and
tz-aware ones are converted to UTC, so periods are calendar periods in UTC. A purchase is an
event of amount 0 or more (a free item is a purchase, a refund is not).

Definitions:

- a customer's **cohort** is the period of their first purchase before ``as_of``; a customer
  with only refunds has no cohort and is left out. Periods without a new customer have no row;
- **offset** ``k`` counts periods since the cohort period (0 = the acquisition period);
- a cell (cohort ``c``, offset ``k``) is **observed** when the period ``c + k`` starts before
  ``as_of``. The last observed period, the one holding the day before ``as_of``, is partial
  (it has only the days up to ``as_of``). Cells past it are missing (NaN, ``None`` in
  :meth:`Cohorts.to_dict`): the table is a triangle;
- ``retention[c][k]`` is the share of cohort ``c``'s customers with at least one purchase in
  period ``c + k``; ``retention[c][0]`` is 1 by construction;
- ``revenue[c][k]`` is the net amount (purchases minus refunds) of cohort ``c``'s customers in
  period ``c + k``, and ``revenue_per_customer`` is that over the cohort's size. A refund
  before a customer's first purchase belongs to no cell and is left out;
- ``customers[c]`` is the cohort's size.

Only the ``max_cohorts`` most recent cohorts and the first ``max_offsets`` offsets are kept;
``older_customers`` says how many customers were in the older cohorts left out.

The split by segment (``labels``: ``customer_id``, integer ``segment``) gives for each segment
the triangle of that segment's customers on the same cohorts and offsets, so the segments'
customers, retained customers and revenue add up to the whole table's, less the customers of
the kept cohorts without a label (``unlabelled_customers``).

Period labels: months ``"2024-03"``, quarters ``"2024Q1"``, weeks (Monday to Sunday, as ISO
weeks) the date of their Monday, ``"2024-02-26"``, which sorts and needs no ISO week-year rule.

Everything is vectorised (``np.bincount`` over cohort x offset cells), so 2.5 million events of
200,000 customers take about a second.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import SegmentationError

PERIODS = {"month": "M", "week": "W", "quarter": "Q"}
MAX_COHORTS = 24
MAX_OFFSETS = 24
_EPOCH = dt.date(1970, 1, 1)
_NANOS_PER_DAY = 86_400 * 1_000_000_000
# 1970-01-01 was a Thursday: shifting by 3 days makes weeks start on Monday
_WEEK_SHIFT = 3


@dataclass(frozen=True)
class SegmentCohorts:
    """One segment's triangle on the whole table's cohorts and offsets."""

    segment: int
    customers: list[int]
    retention: np.ndarray  # (cohorts, offsets); NaN where unobserved or the cohort is empty
    revenue: np.ndarray  # (cohorts, offsets); NaN where unobserved
    revenue_per_customer: np.ndarray

    def to_dict(self) -> dict[str, object]:
        return {
            "segment": self.segment,
            "customers": list(self.customers),
            "retention": _json_rows(self.retention),
            "revenue": _json_rows(self.revenue),
            "revenue_per_customer": _json_rows(self.revenue_per_customer),
        }


@dataclass(frozen=True)
class Cohorts:
    """The cohort table; rows are :attr:`cohorts` (oldest first), columns :attr:`offsets`."""

    period: str  # "month", "week" or "quarter"
    cohorts: list[str]
    offsets: list[int]
    customers: list[int]
    retention: np.ndarray  # (cohorts, offsets); NaN beyond the triangle
    revenue: np.ndarray
    revenue_per_customer: np.ndarray
    older_customers: int
    by_segment: dict[int, SegmentCohorts] = field(default_factory=dict)
    unlabelled_customers: int | None = None  # None when no labels were given

    def to_dict(self) -> dict[str, object]:
        """JSON-ready: plain lists, NaN as ``None``; segments in ascending order."""
        return {
            "period": self.period,
            "cohorts": list(self.cohorts),
            "offsets": list(self.offsets),
            "customers": list(self.customers),
            "retention": _json_rows(self.retention),
            "revenue": _json_rows(self.revenue),
            "revenue_per_customer": _json_rows(self.revenue_per_customer),
            "older_customers": self.older_customers,
            "by_segment": [self.by_segment[s].to_dict() for s in sorted(self.by_segment)],
            "unlabelled_customers": self.unlabelled_customers,
        }


def _json_rows(values: np.ndarray) -> list[list[float | None]]:
    return [[None if np.isnan(v) else float(v) for v in row] for row in values]


def average_retention(cohorts: Cohorts) -> list[float | None]:
    """Customer-weighted mean retention at each offset over the cohorts observed there (the
    retained customers over those cohorts' sizes); ``None`` at an offset no cohort reaches."""
    sizes = np.asarray(cohorts.customers, dtype=float)[:, None]
    observed = ~np.isnan(cohorts.retention)
    retained = np.where(observed, cohorts.retention * sizes, 0.0).sum(axis=0)
    weights = np.where(observed, sizes, 0.0).sum(axis=0)
    return [None if w == 0 else float(r / w) for r, w in zip(retained, weights, strict=True)]


def _period_key(period: str) -> str:
    if period not in PERIODS:
        raise SegmentationError(
            f"unknown cohort period {period!r}; use one of {', '.join(map(repr, PERIODS))}",
            key="period",
        )
    return PERIODS[period]


def _ordinals(days: np.ndarray, freq: str) -> np.ndarray:
    """Period numbers from days since 1970-01-01 (UTC): months and quarters since 1970-01,
    Monday-to-Sunday weeks since the week of 1970-01-01."""
    if freq == "W":
        return np.floor_divide(days + _WEEK_SHIFT, 7)
    months = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    return months if freq == "M" else np.floor_divide(months, 3)


def _label(ordinal: int, freq: str) -> str:
    if freq == "W":
        return (_EPOCH + dt.timedelta(days=7 * ordinal - _WEEK_SHIFT)).isoformat()
    if freq == "Q":
        return f"{1970 + ordinal // 4:04d}Q{ordinal % 4 + 1}"
    return f"{1970 + ordinal // 12:04d}-{ordinal % 12 + 1:02d}"


def _as_of_date(as_of: object) -> dt.date:
    if isinstance(as_of, dt.datetime):
        return as_of.date()
    if isinstance(as_of, dt.date):
        return as_of
    raise SegmentationError(f"as_of must be a date, not {type(as_of).__name__}", key="as_of")


def _read_events(events: pd.DataFrame, as_of: dt.date) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Customer ids, days since 1970-01-01 (UTC) and amounts of the events before ``as_of``."""
    missing = [c for c in ("customer_id", "timestamp", "amount") if c not in events.columns]
    if missing:
        raise SegmentationError(
            f"the events frame needs the column(s) {', '.join(missing)}; "
            f"it has {', '.join(map(str, events.columns)) or 'none'}"
        )
    try:
        stamps = pd.to_datetime(events["timestamp"], utc=True)
    except (ValueError, TypeError) as error:
        raise SegmentationError(
            f"the events' 'timestamp' column holds a value that is not a date: {error}"
        ) from None
    if stamps.isna().any():
        raise SegmentationError(
            f"{int(stamps.isna().sum())} events have no timestamp; drop them or fill them in"
        )
    amounts = pd.to_numeric(events["amount"], errors="coerce").to_numpy(dtype=float)
    if np.isnan(amounts).any():
        raise SegmentationError(
            f"{int(np.isnan(amounts).sum())} events have no numeric amount; drop them or fill them in"
        )
    if events["customer_id"].isna().any():
        raise SegmentationError(f"{int(events['customer_id'].isna().sum())} events have no customer_id")
    nanos = stamps.dt.tz_localize(None).to_numpy(dtype="datetime64[ns]").astype(np.int64)
    day = np.floor_divide(nanos, _NANOS_PER_DAY)
    keep = day < (as_of - _EPOCH).days
    return events["customer_id"].to_numpy()[keep], day[keep], amounts[keep]


def _segment_codes(labels: pd.DataFrame, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The segments (sorted) and each customer's index into them (-1 without a label)."""
    if not {"customer_id", "segment"} <= set(labels.columns):
        raise SegmentationError("the labels need the columns customer_id and segment", key="labels")
    if labels["customer_id"].duplicated().any():
        raise SegmentationError(
            f"the labels have {int(labels['customer_id'].duplicated().sum())} customers more than once; "
            "give each customer one segment",
            key="labels",
        )
    segment = pd.to_numeric(labels["segment"], errors="coerce")
    if segment.isna().any() or (segment != segment.round()).any():
        raise SegmentationError("the labels' segment column must hold whole numbers", key="labels")
    by_customer = pd.Series(segment.to_numpy(dtype=np.int64), index=labels["customer_id"].to_numpy())
    segments = np.unique(by_customer.to_numpy())
    matched = by_customer.reindex(ids)
    codes = np.full(len(ids), -1, dtype=np.int64)
    known = matched.notna().to_numpy()
    codes[known] = np.searchsorted(segments, matched.to_numpy()[known].astype(np.int64))
    return segments, codes


def _cells(
    group: np.ndarray, n_groups: int, k: np.ndarray, n_offsets: int, weights: np.ndarray | None = None
) -> np.ndarray:
    """Sum of ``weights`` (or a count) in each (group, offset) cell."""
    flat = np.bincount(group * n_offsets + k, weights=weights, minlength=n_groups * n_offsets)
    return flat.reshape(n_groups, n_offsets).astype(float)


def _triangle(
    sizes: np.ndarray, retained: np.ndarray, revenue: np.ndarray, observed: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Retention, revenue and revenue per customer with NaN beyond the triangle (and, for the
    shares, in cohorts without customers)."""
    size = sizes[..., None].astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(observed & (size > 0), retained / size, np.nan)
        per_customer = np.where(observed & (size > 0), revenue / size, np.nan)
    return share, np.where(observed, revenue, np.nan), per_customer


def cohort_table(
    events: pd.DataFrame,
    as_of: dt.date,
    period: str = "month",
    labels: pd.DataFrame | None = None,
    max_cohorts: int = MAX_COHORTS,
    max_offsets: int = MAX_OFFSETS,
) -> Cohorts:
    """The retention and revenue triangles of the ``max_cohorts`` most recent cohorts over
    ``max_offsets`` offsets, split by segment when ``labels`` are given (see the module's
    definitions). Refuses an unknown period, a frame without the three columns, events without
    a timestamp, amount or customer, and a log with no purchase before ``as_of``."""
    freq = _period_key(period)
    if max_cohorts < 1 or max_offsets < 1:
        raise SegmentationError("max_cohorts and max_offsets must be 1 or more")
    as_of = _as_of_date(as_of)
    customer_ids, day, amount = _read_events(events, as_of)
    purchase = amount >= 0
    if not purchase.any():
        raise SegmentationError(
            f"no purchase (amount 0 or more) before as_of {as_of.isoformat()}: no customer has a cohort; "
            "check as_of and the sign of the amounts",
            key="as_of",
        )
    codes, ids = pd.factorize(customer_ids, sort=True)
    ordinal = _ordinals(day, freq)
    last = int(_ordinals(np.array([(as_of - _EPOCH).days - 1]), freq)[0])

    no_cohort = np.iinfo(np.int64).max
    first = np.full(len(ids), no_cohort, dtype=np.int64)
    np.minimum.at(first, codes[purchase], ordinal[purchase])
    has_cohort = first != no_cohort
    starts = np.unique(first[has_cohort])
    kept = starts[-max_cohorts:]
    cohort_of = np.full(len(ids), -1, dtype=np.int64)
    in_kept = has_cohort & (first >= kept[0])
    cohort_of[in_kept] = np.searchsorted(kept, first[in_kept])
    older = int((has_cohort & ~in_kept).sum())

    n_cohorts, n_offsets = len(kept), min(max_offsets, last - int(kept[0]) + 1)
    observed = (kept[:, None] + np.arange(n_offsets)[None, :]) <= last
    # each event's cell; refunds before the first purchase and cells past max_offsets drop out
    k = ordinal - first[codes]
    cell = (cohort_of[codes] >= 0) & (k >= 0) & (k < n_offsets)
    event_customer, event_k = codes[cell], k[cell]
    event_amount, event_purchase = amount[cell], purchase[cell]
    # a customer counts once in a cell however often they bought in it
    bought = np.unique(event_customer[event_purchase] * n_offsets + event_k[event_purchase])
    bought_customer, bought_k = bought // n_offsets, bought % n_offsets

    def tables(group_of: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Cohort sizes, retained customers and revenue per (group x cohort, offset)."""
        member = group_of[in_kept] * n_cohorts + cohort_of[in_kept]
        sizes = np.bincount(member, minlength=n_groups * n_cohorts)
        retained_group = group_of[bought_customer] * n_cohorts + cohort_of[bought_customer]
        revenue_group = group_of[event_customer] * n_cohorts + cohort_of[event_customer]
        retained = _cells(retained_group, n_groups * n_cohorts, bought_k, n_offsets)
        revenue = _cells(revenue_group, n_groups * n_cohorts, event_k, n_offsets, event_amount)
        return sizes, retained, revenue

    sizes, retained, revenue = tables(np.zeros(len(ids), dtype=np.int64), 1)
    retention, revenue, per_customer = _triangle(sizes, retained, revenue, observed)

    by_segment: dict[int, SegmentCohorts] = {}
    unlabelled: int | None = None
    if labels is not None:
        segments, segment_of = _segment_codes(labels, np.asarray(ids))
        unlabelled = int((in_kept & (segment_of < 0)).sum())
        # the unlabelled customers go to one extra group, left out of the split
        group_of = np.where(segment_of < 0, len(segments), segment_of)
        all_sizes, all_retained, all_revenue = tables(group_of, len(segments) + 1)
        for s, segment in enumerate(segments):
            rows = slice(s * n_cohorts, (s + 1) * n_cohorts)
            share, money, money_each = _triangle(
                all_sizes[rows], all_retained[rows], all_revenue[rows], observed
            )
            by_segment[int(segment)] = SegmentCohorts(
                segment=int(segment),
                customers=[int(n) for n in all_sizes[rows]],
                retention=share,
                revenue=money,
                revenue_per_customer=money_each,
            )

    return Cohorts(
        period=period,
        cohorts=[_label(int(c), freq) for c in kept],
        offsets=list(range(n_offsets)),
        customers=[int(n) for n in sizes],
        retention=retention,
        revenue=revenue,
        revenue_per_customer=per_customer,
        older_customers=older,
        by_segment=by_segment,
        unlabelled_customers=unlabelled,
    )
