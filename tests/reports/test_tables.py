"""Tables open safely in a spreadsheet: text that looks like a formula stays text."""

from __future__ import annotations

import io

import pandas as pd
from openpyxl import load_workbook

from reports.tables import csv_bytes, xlsx_bytes

HOSTILE = pd.DataFrame(
    {
        "customer_id": ['=HYPERLINK("http://x")', "+44 20 7946 0000", "-12", "@SUM(A1)", "C100"],
        "segment": [0, 1, 2, 0, -1],
        "share": [0.5, 0.25, 0.125, 0.0625, -0.5],
    }
)


def test_csv_cells_that_would_run_as_formulas_get_an_apostrophe():
    text = csv_bytes(HOSTILE).decode()
    rows = pd.read_csv(io.StringIO(text), dtype={"customer_id": str})
    assert list(rows["customer_id"]) == [
        '\'=HYPERLINK("http://x")',
        "'+44 20 7946 0000",
        "'-12",
        "'@SUM(A1)",
        "C100",
    ]
    assert list(rows["segment"]) == [0, 1, 2, 0, -1]  # numbers, even negative, stay numbers


def test_xlsx_cells_are_text_never_formulas_and_numbers_stay_numbers():
    sheet = load_workbook(io.BytesIO(xlsx_bytes(HOSTILE, sheet="labels"))).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0] == ["customer_id", "segment", "share"]
    assert all(sheet.cell(row=r, column=1).data_type == "s" for r in range(2, 7))
    assert values[1][0] == '\'=HYPERLINK("http://x")'
    assert [row[1] for row in values[1:]] == [0, 1, 2, 0, -1]
    assert sheet.freeze_panes == "A2"


def test_a_table_is_refused_by_excel_exactly_past_the_sheet_limit():
    from reports.tables import EXCEL_MAX_ROWS, excel_refusal

    # a header plus 1,048,575 rows fill a sheet; one more row does not fit
    assert EXCEL_MAX_ROWS == 1_048_576
    assert excel_refusal(pd.DataFrame({"segment": range(EXCEL_MAX_ROWS - 1)})) is None
    refusal = excel_refusal(pd.DataFrame({"segment": range(EXCEL_MAX_ROWS)}))
    assert refusal is not None and "1,048,576 rows" in refusal and "the CSV holds every row" in refusal
    assert "16,384" in (excel_refusal(pd.DataFrame(columns=range(16_385))) or "")
