"""Cohort tables against a reference that walks each customer's events one at a time with
pandas Periods (UTC), and the split by segment against the whole table."""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import pandas as pd
import pytest

from segmentation.errors import SegmentationError
from segmentation.lifecycle.cohorts import average_retention, cohort_table

AS_OF = dt.date(2026, 6, 15)
FREQ = {"month": "M", "week": "W-SUN", "quarter": "Q"}


def events() -> pd.DataFrame:
    """A random log in Berlin time with refunds and events after as_of, plus a refund-only
    customer, a refund before a first purchase, a free item and events at the as_of edge."""
    rng = np.random.default_rng(11)
    n = 4000
    stamps = pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 900 * 86400, n), unit="s")
    frame = pd.DataFrame(
        {
            "customer_id": rng.choice([f"c{i:03d}" for i in range(300)], n),
            "timestamp": stamps.tz_convert("Europe/Berlin"),
            "amount": (np.where(rng.random(n) < 0.12, -1.0, 1.0) * rng.gamma(2.0, 25.0, n)).round(2),
        }
    )
    edge = pd.DataFrame(
        {
            "customer_id": [
                "refunder",
                "refunder",
                "late",
                "late",
                "late",
                "free",
                "early_refund",
                "early_refund",
            ],
            "timestamp": pd.to_datetime(
                [
                    "2025-02-03 10:00:00",
                    "2025-05-03 10:00:00",
                    "2026-06-14 23:59:59",  # the last second before as_of (UTC): counts
                    "2026-06-15 00:00:00",  # as_of midnight: does not
                    "2026-07-01 00:00:00",
                    "2025-03-09 12:00:00",
                    "2025-01-20 12:00:00",
                    "2025-04-20 12:00:00",
                ],
                utc=True,
            ).tz_convert("Europe/Berlin"),
            "amount": [-30.0, -5.0, 12.0, 50.0, 70.0, 0.0, -40.0, 25.0],
        }
    )
    return pd.concat([frame, edge], ignore_index=True)


def reference(frame: pd.DataFrame, as_of: dt.date, period: str, labels: dict[str, int] | None = None):
    """Per customer, in plain loops: cohort, retained periods and net amount per period."""
    freq = FREQ[period]
    cutoff = pd.Timestamp(as_of, tz="UTC")
    last = pd.Period(cutoff.tz_localize(None) - pd.Timedelta(days=1), freq=freq)
    customers: dict[str, list[tuple[pd.Period, float]]] = {}
    for row in frame.itertuples():
        stamp = pd.Timestamp(row.timestamp).tz_convert("UTC")
        if stamp < cutoff:
            customers.setdefault(row.customer_id, []).append(
                (pd.Period(stamp.tz_localize(None), freq=freq), float(row.amount))
            )
    cohort = {}
    for customer, own in customers.items():
        bought = [p for p, amount in own if amount >= 0]
        if bought:
            cohort[customer] = min(bought)
    cells: dict[tuple, dict] = {}
    for customer, start in cohort.items():
        group = None if labels is None else labels.get(customer)
        for p, amount in customers[customer]:
            k = (p - start).n
            if k < 0:
                continue
            cell = cells.setdefault((group, start, k), {"buyers": set(), "revenue": 0.0})
            cell["revenue"] += amount
            if amount >= 0:
                cell["buyers"].add(customer)
    return cohort, cells, last


def label(p: pd.Period, period: str) -> str:
    return p.start_time.date().isoformat() if period == "week" else str(p)


@pytest.mark.parametrize("period", ["month", "week", "quarter"])
def test_retention_and_revenue_equal_a_customer_by_customer_reference(period):
    # given a log with refunds, tz-aware timestamps and events after as_of
    frame = events()
    # when
    table = cohort_table(frame, AS_OF, period, max_cohorts=1000, max_offsets=1000)
    # then every observed cell equals the reference, and nothing else is observed
    cohort, cells, last = reference(frame, AS_OF, period)
    starts = sorted(set(cohort.values()))
    assert table.cohorts == [label(p, period) for p in starts]
    assert table.customers == [sum(1 for c in cohort.values() if c == p) for p in starts]
    assert table.offsets == list(range((last - starts[0]).n + 1))
    assert table.older_customers == 0
    for i, start in enumerate(starts):
        for k in table.offsets:
            if start + k > last:
                assert math.isnan(table.retention[i, k]) and math.isnan(table.revenue[i, k])
                continue
            cell = cells.get((None, start, k), {"buyers": set(), "revenue": 0.0})
            assert table.retention[i, k] == len(cell["buyers"]) / table.customers[i]
            assert table.revenue[i, k] == pytest.approx(cell["revenue"], abs=1e-9)
            assert table.revenue_per_customer[i, k] == pytest.approx(cell["revenue"] / table.customers[i])
    assert (table.retention[:, 0] == 1.0).all()


def test_refund_only_customers_have_no_cohort_and_the_as_of_edge_is_exact():
    # given the edge customers alone
    frame = events()
    edge = frame[~frame["customer_id"].str.startswith("c")]
    # when
    table = cohort_table(edge, AS_OF, "month")
    # then the refund-only customer has no cohort, the refund before a first purchase and the
    # events from as_of midnight on count nowhere, and a free item is a purchase
    assert table.cohorts == ["2025-03", "2025-04", "2026-06"]
    assert table.customers == [1, 1, 1]
    assert np.nansum(table.revenue) == 25.0 + 12.0
    assert table.revenue[-1, 0] == 12.0
    assert table.retention[0, 0] == 1.0 and table.revenue[0, 0] == 0.0
    assert (
        sum(cohort_table(frame, AS_OF, "month", max_cohorts=1000).customers)
        == frame["customer_id"].nunique() - 1
    )


def test_cells_beyond_as_of_are_none_in_the_json_form():
    table = cohort_table(events(), AS_OF, "quarter")
    out = table.to_dict()
    json.dumps(out, allow_nan=False)
    assert list(out) == [
        "period",
        "cohorts",
        "offsets",
        "customers",
        "retention",
        "revenue",
        "revenue_per_customer",
        "older_customers",
        "by_segment",
        "unlabelled_customers",
    ]
    last = pd.Period(AS_OF - dt.timedelta(days=1), "Q")
    assert out["cohorts"][-1] == "2026Q2" and out["offsets"] == list(range(10))
    for cohort, retention, revenue in zip(out["cohorts"], out["retention"], out["revenue"], strict=True):
        # a cohort sees the periods from its own to the one holding as_of: a triangle
        seen = (last - pd.Period(cohort, "Q")).n + 1
        assert all(v is not None for v in retention[:seen]) and all(v is None for v in retention[seen:])
        assert all(v is None for v in revenue[seen:])
        assert retention[0] == 1.0


def test_the_split_by_segment_adds_up_to_the_whole_and_counts_the_unlabelled():
    # given labels for most customers, one unknown to the log and one missing
    frame = events()
    ids = sorted(frame["customer_id"].unique())
    rng = np.random.default_rng(5)
    labels = pd.DataFrame(
        {"customer_id": [*ids[:-20], "ghost"], "segment": [*rng.integers(0, 4, len(ids) - 20), 9]}
    )
    # when
    table = cohort_table(frame, AS_OF, "month", labels=labels, max_cohorts=1000)
    # then
    segments = sorted(table.by_segment)
    assert segments == [0, 1, 2, 3, 9]
    assert table.by_segment[9].customers == [0] * len(table.cohorts)
    cohort, _, _ = reference(frame, AS_OF, "month")
    assert table.unlabelled_customers == sum(1 for c in cohort if c not in set(labels["customer_id"]))
    # each cohort's customers are its segments' customers plus its unlabelled ones
    sizes = np.array([table.by_segment[s].customers for s in segments]).sum(axis=0)
    np.testing.assert_array_equal(sizes + _unlabelled_by_cohort(cohort, labels), table.customers)
    assert (
        sum(_unlabelled_by_cohort(cohort, labels)) == table.unlabelled_customers == 19
    )  # refunder has no cohort
    labelled = dict(zip(labels["customer_id"], labels["segment"], strict=True))
    _, cells, last = reference(frame, AS_OF, "month", labelled)
    starts = sorted(set(cohort.values()))
    for s in segments:
        part = table.by_segment[s]
        for i, start in enumerate(starts):
            for k in table.offsets:
                if start + k > last:
                    assert math.isnan(part.revenue[i, k])
                    continue
                cell = cells.get((s, start, k), {"buyers": set(), "revenue": 0.0})
                assert part.revenue[i, k] == pytest.approx(cell["revenue"], abs=1e-9)
                if part.customers[i]:
                    assert part.retention[i, k] == len(cell["buyers"]) / part.customers[i]
    out = table.to_dict()
    assert [b["segment"] for b in out["by_segment"]] == segments
    json.dumps(out, allow_nan=False)


def _unlabelled_by_cohort(cohort, labels) -> np.ndarray:
    known = set(labels["customer_id"])
    starts = sorted(set(cohort.values()))
    return np.array([sum(1 for c, p in cohort.items() if p == start and c not in known) for start in starts])


def test_max_cohorts_keeps_the_most_recent_and_counts_the_older_customers():
    frame = events()
    whole = cohort_table(frame, AS_OF, "month", max_cohorts=1000)
    table = cohort_table(frame, AS_OF, "month", max_cohorts=6, max_offsets=4)
    assert table.cohorts == whole.cohorts[-6:]
    assert table.customers == whole.customers[-6:]
    assert table.older_customers == sum(whole.customers[:-6])
    assert table.offsets == [0, 1, 2, 3]
    np.testing.assert_array_equal(table.retention, whole.retention[-6:, :4])
    np.testing.assert_allclose(table.revenue, whole.revenue[-6:, :4])


def test_average_retention_weights_each_cohort_by_its_customers():
    table = cohort_table(events(), AS_OF, "quarter")
    expected = []
    for k in table.offsets:
        rows = [i for i in range(len(table.cohorts)) if not math.isnan(table.retention[i, k])]
        retained = sum(table.retention[i, k] * table.customers[i] for i in rows)
        expected.append(retained / sum(table.customers[i] for i in rows))
    assert average_retention(table) == pytest.approx(expected)
    assert average_retention(table)[0] == 1.0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.drop(columns="amount"), "needs the column(s) amount"),
        (lambda f: f.assign(amount=-1.0), "no purchase"),
        (lambda f: f.assign(timestamp=pd.Timestamp("2030-01-01", tz="UTC")), "no purchase"),
        (lambda f: f.assign(timestamp="not a date"), "not a date"),
        (lambda f: f.assign(amount="x"), "no numeric amount"),
    ],
)
def test_bad_events_are_refused_with_a_message_naming_the_problem(change, message):
    with pytest.raises(SegmentationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        cohort_table(change(events()), AS_OF, "month")


def test_an_unknown_period_and_bad_labels_are_refused():
    frame = events()
    with pytest.raises(SegmentationError, match="unknown cohort period 'day'"):
        cohort_table(frame, AS_OF, "day")
    with pytest.raises(SegmentationError, match="more than once"):
        cohort_table(frame, AS_OF, labels=pd.DataFrame({"customer_id": ["c001", "c001"], "segment": [1, 2]}))
    with pytest.raises(SegmentationError, match="columns customer_id and segment"):
        cohort_table(frame, AS_OF, labels=pd.DataFrame({"customer_id": ["c001"]}))


def test_naive_timestamps_are_read_as_utc():
    frame = events()
    naive = frame.assign(timestamp=frame["timestamp"].dt.tz_convert("UTC").dt.tz_localize(None))
    assert cohort_table(naive, AS_OF, "week").to_dict() == cohort_table(frame, AS_OF, "week").to_dict()
