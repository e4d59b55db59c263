"""Cleaning a messy transaction log: what is kept, what is dropped, and the report of why."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from segmentation import SegmentationError, SegmentationSpec
from segmentation.data.transactions import clean_transactions, default_as_of, parse_timestamps


def spec(**overrides):  # type: ignore[no-untyped-def]
    data = {
        "id_column": "cust",
        "input_kind": "transactions",
        "timestamp_column": "when",
        "amount_column": "amount",
    }
    return SegmentationSpec.from_dict({**data, **overrides})


def log(rows: list[tuple[str | None, str | None, str | None]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["cust", "when", "amount"], dtype=object)


def test_rows_without_a_customer_id_are_dropped_and_counted():
    events = clean_transactions(
        log([("A", "2024-01-01", "5"), (None, "2024-01-01", "5"), ("  ", "2024-01-02", "1")]), spec()
    )
    assert events.frame["customer_id"].tolist() == ["A"]
    assert events.quality["rows_without_id"] == 2
    assert events.quality["dropped"]["no customer id"] == 2


def test_duplicates_are_counted_and_kept_unless_the_spec_drops_them():
    rows = [
        ("A", "2024-01-01", "5"),
        ("A", "2024-01-01", "5"),
        ("A", "2024-01-01", "5"),
        ("B", "2024-01-01", "5"),
    ]
    kept = clean_transactions(log(rows), spec())
    assert (kept.quality["duplicate_rows"], kept.quality["duplicates_removed"], len(kept.frame)) == (2, 0, 4)
    dropped = clean_transactions(log(rows), spec(drop_duplicates=True))
    assert (dropped.quality["duplicate_rows"], dropped.quality["duplicates_removed"], len(dropped.frame)) == (
        2,
        2,
        2,
    )


def test_negative_amounts_and_quantities_are_refunds_not_purchases():
    frame = pd.DataFrame(
        {
            "cust": ["A", "A", "A"],
            "when": ["2024-01-01"] * 3,
            "qty": [2, -1, 3],
            "price": ["2.50", "2.50", "1"],
        }
    )
    events = clean_transactions(
        frame, spec(amount_column=None, quantity_column="qty", unit_price_column="price")
    )
    assert events.frame["refund"].tolist() == [False, True, False]
    assert events.frame["cents"].tolist() == [500, 250, 300]  # refunds keep their absolute value
    assert (events.quality["refunds"], events.quality["purchases"]) == (1, 2)


def test_timestamps_in_several_formats_are_read_and_bad_cells_reported():
    rows = [
        ("A", "2024-03-05", "1"),
        ("A", "2024-03-05T10:30:00", "1"),
        ("A", "25/12/2024", "1"),
        ("A", "05.03.2024", "1"),
        ("A", "5 Mar 2024", "1"),
        ("A", "next tuesday", "1"),
        ("A", "", "1"),
    ]
    events = clean_transactions(log(rows), spec())
    days = pd.to_datetime(events.frame["t"], unit="s").dt.strftime("%Y-%m-%d %H:%M").tolist()
    assert days == [
        "2024-03-05 00:00",
        "2024-03-05 10:30",
        "2024-12-25 00:00",
        "2024-03-05 00:00",
        "2024-03-05 00:00",
    ]
    assert events.quality["unparseable_timestamps"] == 1
    assert events.quality["unparseable_timestamp_examples"] == ["next tuesday"]
    assert events.quality["missing_timestamps"] == 1


def test_slash_dates_are_read_month_first_when_the_column_says_so():
    seconds, _, unparsed = parse_timestamps(pd.Series(["12/31/2024", "01/02/2024"]), "when")
    assert not unparsed.any()
    assert pd.to_datetime(seconds, unit="s").strftime("%Y-%m-%d").tolist() == ["2024-12-31", "2024-01-02"]


def test_a_column_where_no_date_parses_is_a_clear_error():
    with pytest.raises(SegmentationError, match="no date in 'when' could be read"):
        clean_transactions(log([("A", "soon", "1"), ("B", "later", "2")]), spec())


def test_rows_without_an_amount_are_dropped_and_counted():
    events = clean_transactions(log([("A", "2024-01-01", "n/a"), ("A", "2024-01-02", "3")]), spec())
    assert events.quality["missing_amounts"] == 1 and len(events.frame) == 1


def test_typed_timestamps_with_a_time_zone_are_converted_to_utc():
    frame = pd.DataFrame(
        {
            "cust": ["A"],
            "when": pd.to_datetime(["2024-01-01 01:00"]).tz_localize("Europe/Berlin"),
            "amount": [1.0],
        }
    )
    events = clean_transactions(frame, spec())
    assert pd.Timestamp(int(events.frame["t"].iloc[0]), unit="s") == pd.Timestamp("2024-01-01 00:00")


def test_the_default_as_of_is_the_day_after_the_last_event():
    events = clean_transactions(log([("A", "2024-01-01", "1"), ("B", "2024-06-30 23:59", "1")]), spec())
    assert default_as_of(events) == dt.date(2024, 7, 1)


def test_a_missing_column_is_named():
    with pytest.raises(SegmentationError, match="column\\(s\\) not found in the transaction log: amount"):
        clean_transactions(log([("A", "2024-01-01", "1")]).drop(columns="amount"), spec())
