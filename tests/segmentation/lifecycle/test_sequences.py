"""Activity sequences: per customer and month from the first purchase to as_of, against a
reference built with pandas period ranges one customer at a time."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmentation.errors import SegmentationError
from segmentation.lifecycle.sequences import activity, from_arrays


def events() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 400
    return pd.DataFrame(
        {
            "customer_id": rng.choice([f"c{i:02d}" for i in range(30)], n),
            "timestamp": pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 700, n), unit="D"),
            "amount": rng.gamma(2.0, 30.0, n).round(2),
        }
    )


def reference(frame: pd.DataFrame, as_of: str) -> pd.DataFrame:
    frame = frame[frame["timestamp"] <= pd.Timestamp(as_of)].copy()
    frame["period"] = frame["timestamp"].dt.to_period("M")
    rows = []
    for customer, own in frame.groupby("customer_id"):
        for i, period in enumerate(pd.period_range(own["period"].min(), pd.Period(as_of, "M"), freq="M")):
            month = own[own["period"] == period]
            rows.append((customer, period, i, len(month), month["amount"].sum()))
    return pd.DataFrame(rows, columns=["customer_id", "period", "period_index", "purchases", "spend"])


def test_activity_is_every_month_from_the_first_purchase_to_as_of():
    frame = events()
    table, sequences = activity(frame, "2026-06-15")
    expected = reference(frame, "2026-06-15")
    pd.testing.assert_frame_equal(table, expected, check_dtype=False)
    assert (table.groupby("customer_id")["period"].max() == pd.Period("2026-06", "M")).all()
    # a customer's first month always holds a purchase: new customers look new
    assert (table.loc[table["period_index"] == 0, "purchases"] > 0).all()
    assert list(sequences.customer_ids) == sorted(frame["customer_id"].unique())
    assert sequences.lengths.sum() == len(table)
    np.testing.assert_allclose(sequences.X[:, 0], expected["purchases"])
    per_purchase = (expected["spend"] / expected["purchases"]).where(expected["purchases"] > 0, 0.0)
    np.testing.assert_allclose(sequences.X[:, 1], np.log1p(per_purchase))


def test_events_after_as_of_are_left_out_and_refunds_emit_zero():
    frame = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "b"],
            "timestamp": pd.to_datetime(["2026-01-10", "2026-03-02", "2026-03-20", "2026-05-01"]),
            "amount": [40.0, 10.0, -25.0, 99.0],
        }
    )
    table, sequences = activity(frame, "2026-04-30")
    assert table["customer_id"].tolist() == ["a"] * 4  # b's only purchase is after as_of
    assert table["purchases"].tolist() == [1, 0, 2, 0]
    assert table["spend"].tolist() == [40.0, 0.0, -15.0, 0.0]
    np.testing.assert_allclose(sequences.X[2], [2, 0.0])
    padded, mask = sequences.padded()
    assert padded.shape == (1, 4, 2) and mask.all()


def test_periods_are_the_events_own_calendar_months_and_weeks_work_too():
    frame = pd.DataFrame(
        {
            "customer_id": [7, 7],
            "timestamp": pd.to_datetime(["2026-01-31T23:30:00Z", "2026-03-01T10:00:00Z"]).tz_convert(
                "Asia/Tokyo"
            ),
            "amount": [10.0, 20.0],
        }
    )
    table, _ = activity(frame, pd.Timestamp("2026-03-01T12:00:00Z"))
    # 23:30 UTC on 31 January is already February in Tokyo
    assert table["period"].astype(str).tolist() == ["2026-02", "2026-03"]
    assert table["purchases"].tolist() == [1, 1]
    weekly, sequences = activity(events(), "2026-06-15", freq="W")
    assert (
        sequences.freq == "W" and (weekly.groupby("customer_id")["period_index"].diff().dropna() == 1).all()
    )


def test_unusable_events_get_a_clear_message():
    with pytest.raises(SegmentationError, match="columns amount"):
        activity(pd.DataFrame({"customer_id": [1], "timestamp": ["2026-01-01"]}), "2026-02-01")
    with pytest.raises(SegmentationError, match="No events on or before 2020-01-01"):
        activity(events(), "2020-01-01")
    with pytest.raises(SegmentationError, match="1 events have no customer_id"):
        activity(
            pd.DataFrame({"customer_id": [None], "timestamp": ["2026-01-01"], "amount": [1]}), "2026-02-01"
        )
    with pytest.raises(SegmentationError, match="at least one period"):
        from_arrays(np.array([1, 2]), np.zeros((3, 2)), np.array([3, 0]))
