"""Tables for operational systems: CSV and XLSX that a spreadsheet can open safely.

A text cell that begins with ``=``, ``+``, ``-`` or ``@`` would be run as a formula by Excel,
LibreOffice or Google Sheets ("CSV injection"); such cells get a leading apostrophe, the
convention spreadsheets read as "this is text". Numbers are left as numbers.
"""

from __future__ import annotations

import io

import pandas as pd

# The engine's rule list escapes its CSV the same way: one implementation serves both.
from segmentation.explain.rules import csv_cell as escape_cell


def escaped(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells can no longer start a formula."""
    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(escape_cell)
    safe.columns = [escape_cell(str(c)) for c in safe.columns]
    return safe


def csv_bytes(frame: pd.DataFrame) -> bytes:
    return escaped(frame).to_csv(index=False, lineterminator="\n").encode()


# An Excel sheet holds at most 1,048,576 rows (the header is one) and 16,384 columns.
EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLUMNS = 16_384


def excel_refusal(frame: pd.DataFrame) -> str | None:
    """Why ``frame`` cannot be one Excel sheet, or None when it can (checked before writing)."""
    if len(frame) + 1 > EXCEL_MAX_ROWS:
        return (
            f"not written: {len(frame):,} rows and a header are more than the {EXCEL_MAX_ROWS:,} rows an "
            "Excel sheet holds; the CSV holds every row"
        )
    if len(frame.columns) > EXCEL_MAX_COLUMNS:
        return (
            f"not written: {len(frame.columns):,} columns are more than the {EXCEL_MAX_COLUMNS:,} an "
            "Excel sheet holds; the CSV holds every column"
        )
    return None


def xlsx_bytes(frame: pd.DataFrame, *, sheet: str) -> bytes:
    """One sheet with a frozen, bold header row and columns sized to their content.

    Call :func:`excel_refusal` first: a frame too large for a sheet fails here after the work."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    safe = escaped(frame)
    book = Workbook()
    table = book.active
    table.title = sheet[:31]
    table.append(list(safe.columns))
    for row in safe.itertuples(index=False):
        table.append([None if pd.isna(v) else (v.item() if hasattr(v, "item") else v) for v in row])
    for cell in table[1]:
        cell.font = Font(bold=True)
    table.freeze_panes = "A2"
    for index, column in enumerate(safe.columns, start=1):
        width = max([len(str(column)), *(len(str(v)) for v in safe[column].head(500))])
        table.column_dimensions[get_column_letter(index)].width = min(60, width + 2)
    # openpyxl reads any string beginning with "=" as a formula; escaping above made sure none
    # does, and marking every text cell as a string keeps it that way.
    for row in table.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
