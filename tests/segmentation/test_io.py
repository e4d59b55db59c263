from __future__ import annotations

import pytest

from segmentation import SegmentationError, read_csv_bytes


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
