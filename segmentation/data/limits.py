"""Limits on what an input file may become once read, checked as a stream before it is parsed.

A few hundred kilobytes of XLSX can inflate to gigabytes (a zip bomb), or declare XML entities
that expand to billions of characters ("billion laughs"); parsing either would hold a process
for minutes. :func:`check_workbook` reads only the zip's directory and then streams the first
sheet's XML, counting inflated bytes, rows, columns and cells, and stops at the first limit
passed, so a hostile file is refused after reading a fraction of it.

Why these defaults: 512 MiB of inflated XML is several times what a full sheet of a million
customers with a dozen columns takes; ten million rows and a hundred million cells are well past
the largest client tables we segment, and far below what would exhaust a worker's memory. An
Excel sheet cannot hold more than 1,048,576 rows or 16,384 columns whatever the limits say.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, replace
from typing import IO

from ..errors import SegmentationError

EXCEL_ROWS = 1_048_576
EXCEL_COLUMNS = 16_384
CHUNK = 1 << 20
# An entity declaration is how "billion laughs" expands; a spreadsheet never needs one.
DECLARATION = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)
SHEET_PATH = re.compile(r"xl/worksheets/sheet\d+\.xml")
# A row or cell element's opening tag, with or without a namespace prefix (``<row r="1">``,
# ``<x:c r="A1">``); ``<cols>`` and ``<rowBreaks>`` do not match.
OPENING = re.compile(rb"<(?:\w+:)?(row|c)[\s>/]")
TAG_TAIL = 16  # bytes kept between chunks, so a tag split across two is still seen once


@dataclass(frozen=True)
class InputLimits:
    """The most an input may hold once inflated and read (``rows`` counts the header too)."""

    inflated_bytes: int = 512 * 1024 * 1024
    rows: int = 10_000_000
    columns: int = EXCEL_COLUMNS
    cells: int = 100_000_000

    def check_shape(self, rows: int, columns: int, *, label: str, cells: int | None = None) -> None:
        """Refuse a table of ``rows`` (header included) by ``columns`` beyond a limit; ``cells``
        when known (a sheet's filled cells), else rows times columns."""
        if rows > self.rows:
            raise SegmentationError(
                f"{label} has more than {self.rows:,} rows, the most an upload may hold: "
                "split it into several files or upload a sample"
            )
        if columns > self.columns:
            raise SegmentationError(
                f"{label} has more than {self.columns:,} columns, the most an upload may hold: "
                "keep only the columns the segmentation needs"
            )
        if (rows * columns if cells is None else cells) > self.cells:
            raise SegmentationError(
                f"{label} has more than {self.cells:,} cells, the most an upload may hold: "
                "keep only the columns the segmentation needs, or upload a sample of the rows"
            )


def check_workbook(raw: bytes, limits: InputLimits, *, label: str) -> None:
    """Refuse an XLSX whose parts would inflate, expand or count past ``limits``."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise SegmentationError(f"{label} is not a readable Excel (.xlsx) file: {exc}") from None
    # The directory declares each part's inflated size, and zipfile never inflates past it.
    declared = sum(member.file_size for member in members)
    if declared > limits.inflated_bytes:
        raise SegmentationError(
            f"{label} would inflate to {declared:,} bytes, more than the {limits.inflated_bytes:,} an "
            "upload may: save the sheet as CSV, or split it into several files"
        )
    for member in members:
        if member.filename.endswith((".xml", ".rels")):
            with archive.open(member) as part:
                if DECLARATION.search(part.read(4096)):
                    raise SegmentationError(
                        f"{label} declares XML entities, which a spreadsheet never needs: "
                        "save it again from Excel or as CSV"
                    )
    sheets = sorted((m for m in members if SHEET_PATH.fullmatch(m.filename)), key=_sheet_number)
    if sheets:
        with archive.open(sheets[0]) as sheet:
            # within what a sheet can hold, whatever the limits say
            sheet_limits = replace(
                limits, rows=min(limits.rows, EXCEL_ROWS), columns=min(limits.columns, EXCEL_COLUMNS)
            )
            _count_sheet(sheet, sheet_limits, label)


def _sheet_number(member: zipfile.ZipInfo) -> int:
    return int(re.sub(r"\D", "", member.filename.rsplit("/", 1)[-1]) or 0)


def _count_sheet(sheet: IO[bytes], limits: InputLimits, label: str) -> None:
    """Scan the sheet's XML for row and cell tags, never building a tree, and stop at the first
    limit passed: rows, the widest row's cells, all cells."""
    rows = cells = widest = in_row = 0
    carry = b""
    while True:
        chunk = sheet.read(CHUNK)
        text = carry + chunk
        # A tag starting in the last few bytes may be cut off: it waits for the next chunk.
        cut = len(text) - TAG_TAIL if chunk else len(text)
        for match in OPENING.finditer(text):
            if match.start() >= cut:
                break
            if match.group(1) == b"row":
                rows += 1
                in_row = 0
            else:
                cells += 1
                in_row += 1
                widest = max(widest, in_row)
        carry = text[max(cut, 0) :]
        if not chunk or rows > limits.rows or widest > limits.columns or cells > limits.cells:
            break
    limits.check_shape(rows, widest, label=label, cells=cells)
