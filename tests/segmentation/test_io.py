from __future__ import annotations

import pandas as pd
import pytest

from segmentation import SegmentationError, id_text, read_csv_bytes, read_input
from segmentation.data.io import input_format


def test_it_reads_semicolon_delimited_latin1_files():
    raw = "id;name;spend\n1;José;10,5\n2;Zoë;3\n".encode("latin-1")
    frame = read_csv_bytes(raw)
    assert list(frame.columns) == ["id", "name", "spend"]
    assert frame.loc[0, "name"] == "José"


def test_it_keeps_identifiers_exactly_as_written():
    frame = read_csv_bytes(b"id,spend\n00042,1\n12345678901234567890,2\n")
    assert list(frame["id"]) == ["00042", "12345678901234567890"]


def test_blank_cells_are_missing():
    frame = read_csv_bytes(b"id,spend\n1,\n2,3\n")
    assert frame["spend"].isna().tolist() == [True, False]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "is empty"),
        (b"   \n", "is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "not a CSV file"),
        (b"id,spend\n", "no data rows"),
        (b"justonecolumn\n1\n2\n", "only one column"),
    ],
)
def test_it_refuses_what_is_not_a_customer_table(raw, message):
    with pytest.raises(SegmentationError, match=message):
        read_csv_bytes(raw)


def _table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["C1", "C2", "C3"],
            "when": pd.to_datetime(["2024-01-05 00:00", "2024-02-10 13:30", "2024-03-01 00:00"]),
            "amount": [10.5, -3.0, 7.25],
            "note": ["a", "", None],
        }
    )


def test_it_reads_parquet_from_bytes_keeping_types(tmp_path):
    path = tmp_path / "log.parquet"
    _table().to_parquet(path)
    frame = read_input(path.read_bytes(), name="log.parquet")
    assert list(frame.columns) == ["customer_id", "when", "amount", "note"]
    assert pd.api.types.is_datetime64_any_dtype(frame["when"])
    assert frame["amount"].tolist() == [10.5, -3.0, 7.25]
    assert frame["note"].isna().tolist() == [False, True, True]


def test_it_reads_xlsx_from_a_path_keeping_dates_and_numbers(tmp_path):
    path = tmp_path / "log.xlsx"
    _table().to_excel(path, index=False)
    frame = read_input(path)
    assert frame["customer_id"].tolist() == ["C1", "C2", "C3"]
    assert frame["when"].iloc[1] == pd.Timestamp("2024-02-10 13:30")
    assert frame["amount"].tolist() == [10.5, -3.0, 7.25]


def test_the_format_is_recognised_by_content_even_under_a_stored_name(tmp_path):
    parquet, excel = tmp_path / "a.parquet", tmp_path / "b.xlsx"
    _table().to_parquet(parquet)
    _table().to_excel(excel, index=False)
    assert input_format(parquet.read_bytes(), "x.csv.enc") == "parquet"
    assert input_format(excel.read_bytes(), "x.csv.enc") == "xlsx"
    assert input_format(b"id;spend\n1;2\n", "x.csv.enc") == "csv"
    assert len(read_input(excel.read_bytes(), name="x.csv.enc")) == 3


def test_read_input_reads_semicolon_latin1_csv_as_text():
    raw = "id;name;spend\n1;José;10\n2;Zoë;3\n".encode("latin-1")
    frame = read_input(raw, name="c.csv")
    assert frame.loc[1, "name"] == "Zoë" and frame.loc[1, "spend"] == "3"


@pytest.mark.parametrize(
    ("name", "raw"), [("log.parquet", b"PAR1 broken PAR1"), ("log.xlsx", b"PK\x03\x04broken")]
)
def test_a_broken_parquet_or_xlsx_is_refused_with_its_name(name, raw):
    with pytest.raises(SegmentationError, match="log"):
        read_input(raw, name=name)


def _with_a_blank_id() -> pd.DataFrame:
    return pd.DataFrame(
        {"customer_id": pd.array([100001, None, 2**62 + 1], dtype="Int64"), "spend": [10.5, 3.0, None]}
    )


def _parquet_without_pandas_metadata(frame: pd.DataFrame) -> bytes:
    # as Spark, DuckDB or a warehouse export writes it: no pandas dtypes to restore
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None), buffer)
    return buffer.getvalue()


def test_whole_numbers_with_a_blank_cell_stay_whole_as_the_csv_says_them(tmp_path):
    frame = _with_a_blank_id()
    csv = read_input(frame.to_csv(index=False).encode())
    parquet = read_input(_parquet_without_pandas_metadata(frame))
    assert id_text(csv["customer_id"]).tolist() == ["100001", pd.NA, str(2**62 + 1)]
    assert id_text(parquet["customer_id"]).tolist() == ["100001", pd.NA, str(2**62 + 1)]  # exact

    # Excel holds every number as a double: whole ones up to 2**53 are exact
    path = tmp_path / "c.xlsx"
    frame.assign(customer_id=pd.array([100001, None, 2**53], dtype="Int64")).to_excel(path, index=False)
    excel = read_input(path)
    assert id_text(excel["customer_id"]).tolist() == ["100001", pd.NA, str(2**53)]
    # a column with fractions stays a column of floats
    assert parquet["spend"].dtype == excel["spend"].dtype == "float64"
