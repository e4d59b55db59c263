"""An upload's profile: customers or events and why, each column's kind and role; and the files
consultants receive read whatever their encoding, with ragged rows and repeated names refused
in words."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest

from segmentation import SegmentationError, read_csv_bytes, read_input
from segmentation.data.io import screen_input
from segmentation.data.profile import TableProfile, profile_table
from segmentation.synthetic.customers import customer_table
from segmentation.synthetic.transactions import transaction_log

ACCENTED = ["José Müller", "Zoë Ærøskøbing", "Renée Françoise", "Íñigo Peña"]


def as_upload(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame as an upload reads it: through a CSV, every cell text."""
    return read_csv_bytes(frame.to_csv(index=False).encode())


def test_a_customer_table_is_one_row_per_customer_with_numbers_as_features_and_region_a_category():
    table, _ = customer_table(300, seed=3)

    profile = profile_table(as_upload(table), "customer_id")

    assert (profile.kind, profile.customers, profile.duplicate_ids) == ("customers", 300, 0)
    assert profile.reason == "each of the 300 rows has its own customer_id"
    assert profile.sentence == "300 customers"
    columns = {c.name: c for c in profile.columns}
    assert (columns["customer_id"].kind, columns["customer_id"].role) == ("id", "id")
    assert columns["customer_id"].examples == []  # ids are personal data: never shown
    assert (columns["region"].kind, columns["region"].role, columns["region"].distinct) == (
        "category",
        "categorical",
        4,
    )
    assert {c: columns[c].role for c in ("recency_days", "avg_basket", "tenure_months")} == dict.fromkeys(
        ("recency_days", "avg_basket", "tenure_months"), "feature"
    )
    # about 1% of the synthetic table's numbers are blank, as exports are
    assert 0 < columns["recency_days"].missing_share < 0.05
    assert len(columns["region"].examples) == 3


def test_a_transaction_log_is_recognised_with_its_time_and_amount_and_the_reason_in_words():
    log, _ = transaction_log(120, seed=4)
    log["order_no"] = range(100_000, 100_000 + len(log))  # an order number is no feature
    frame = as_upload(log)

    profile = profile_table(frame, "customer_id")

    customers = frame["customer_id"].nunique()
    assert profile.kind == "events" and profile.customers == customers == 120
    assert profile.reason == (
        f"customer_id repeats: {len(frame):,} rows for {customers:,} customers, and timestamp holds dates"
    )
    assert profile.sentence == f"{len(frame):,} events from 120 customers"
    assert (profile.timestamp_column, profile.amount_column, profile.category_column) == (
        "timestamp",
        "amount",
        "category",
    )
    roles = {c.name: (c.kind, c.role) for c in profile.columns}
    assert roles["order_no"] == ("id", "ignore")
    assert roles["timestamp"] == ("date", "timestamp") and roles["amount"] == ("number", "amount")
    # what the dataset stores is JSON, and reads back as the same profile
    assert TableProfile.from_dict(json.loads(json.dumps(profile.as_dict()))) == profile


def test_repeated_ids_without_dates_are_a_customer_table_with_duplicates_named():
    table, _ = customer_table(50, seed=5)
    doubled = pd.concat([table, table.iloc[[3, 3, 7]]], ignore_index=True)

    profile = profile_table(as_upload(doubled), "customer_id")

    assert profile.kind == "customers" and profile.duplicate_ids == 2
    first = table.loc[3, "customer_id"]
    assert profile.duplicate_examples[0] == (first, 3)
    assert f"such as '{first}', 3 times" in profile.reason and "no column holds dates" in profile.reason


def test_personal_data_gets_no_examples_and_look_alike_roles_are_suggested():
    frame = pd.DataFrame(
        {
            "customer_id": [f"C{i}" for i in range(40)],
            "email": [f"person{i}@example.com" for i in range(40)],
            "gender": ["F", "M"] * 20,
            "churned": ["yes", "no", "no", "no"] * 10,
            "spend": [str(10 + i) for i in range(40)],
        }
    )

    columns = {c.name: c for c in profile_table(frame, "customer_id").columns}

    assert columns["email"].pii == "email" and columns["email"].examples == []
    assert columns["email"].role == "ignore"
    assert columns["gender"].role == "protected-candidate"
    assert (columns["churned"].kind, columns["churned"].role) == ("flag", "outcome-candidate")


@pytest.mark.parametrize(
    "encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "cp1252", "latin-1"]
)
def test_accented_names_survive_every_common_encoding(encoding):
    text = "customer_id,name,spend\n" + "".join(f"C{i},{n},{i * 10}\n" for i, n in enumerate(ACCENTED))
    raw = text.encode(encoding)

    assert list(read_input(raw, name="people.csv")["name"]) == ACCENTED
    assert screen_input(raw, "people.csv") == ["customer_id", "name", "spend"]


def test_a_ragged_row_is_named_by_its_line_in_plain_words():
    raw = b"customer_id,spend,visits,region\n" + b"".join(b"C%d,%d,3,North\n" % (i, i) for i in range(5))
    raw += b"C9,12,4,South,extra\n"  # line 7: the header, five rows, then this one

    with pytest.raises(SegmentationError) as refusal:
        read_input(raw, name="'visits.csv'")

    assert str(refusal.value) == (
        "'visits.csv' has a ragged row: line 7 has 5 fields where the header has 4: "
        "fix or remove that line and upload again"
    )
    assert "C error" not in str(refusal.value)


def parquet_with_repeated_column() -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = io.BytesIO()
    pq.write_table(pa.table([pa.array([1, 2]), pa.array([3, 4])], names=["customer_id", "customer_id"]), out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("twice.csv", b"customer_id,spend,customer_id\nC1,2,C1\nC2,3,C2\n"),
        ("twice.csv", b"customer_id,spend, customer_id \nC1,2,C1\n"),  # the same once trimmed
        ("twice.parquet", None),
    ],
)
def test_two_columns_of_one_name_are_refused_by_name_never_renamed(name, raw):
    raw = raw if raw is not None else parquet_with_repeated_column()
    expected = "two columns are both called customer_id: rename one"

    for read in (read_input, screen_input):
        with pytest.raises(SegmentationError, match=expected):
            read(raw, name)


def test_a_log_without_an_amount_suggests_quantity_times_unit_price_and_ignores_its_codes():
    lines = [
        (
            f"5{36365 + i // 3}",
            f"{85123 + i % 7}",
            str(1 + i % 5),
            f"12/{1 + i % 28:02d}/2010 08:26",
            "2.55",
            f"{17850 + i % 9}",
        )
        for i in range(90)
    ]
    frame = pd.DataFrame(
        lines, columns=["InvoiceNo", "StockCode", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID"]
    )

    profile = profile_table(frame, "CustomerID")

    assert profile.kind == "events" and profile.customers == 9
    assert (profile.timestamp_column, profile.amount_column) == ("InvoiceDate", None)
    assert (profile.quantity_column, profile.unit_price_column) == ("Quantity", "UnitPrice")
    roles = {c.name: c.role for c in profile.columns}
    assert roles["InvoiceNo"] == roles["StockCode"] == "ignore"
