"""Limits on what an input file may become once read, checked as a stream before it is parsed.

A few hundred kilobytes of XLSX can inflate to gigabytes (a zip bomb), or declare XML entities
that expand to billions of characters ("billion laughs"); parsing either would hold a process
for minutes. :func:`check_workbook` reads the zip's directory, then each part's prolog (where
entities are declared) and the first sheet's XML as streams, counting inflated bytes, rows,
columns and cells, and stops at the first limit passed, so a hostile file is refused after
reading a fraction of it.

Why these defaults: 512 MiB of inflated XML is several times what a full sheet of a million
customers with a dozen columns takes; ten million rows and a hundred million cells are well past
the largest client tables we segment, and far below what would exhaust a worker's memory. An
Excel sheet cannot hold more than 1,048,576 rows or 16,384 columns whatever the limits say.
"""

from __future__ import annotations

import codecs
import io
import itertools
import posixpath
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import IO
from xml.etree import ElementTree

from ..errors import SegmentationError

EXCEL_ROWS = 1_048_576
EXCEL_COLUMNS = 16_384
CHUNK = 1 << 20
WORKSHEETS = "xl/worksheets/"
CONTENT_TYPES = "[Content_Types].xml"
# openpyxl's workbook content types, in the order it prefers them.
WORKBOOK_TYPES = (
    "application/vnd.ms-excel.template.macroEnabled.main+xml",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml",
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
)
RELATIONSHIP_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
# How an XML parser tells a part's encoding from its first bytes (XML 1.0, appendix F); the
# UTF-32 marks come first, since UTF-32-LE's starts with UTF-16-LE's. None: never a spreadsheet.
BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
UNMARKED: dict[bytes, str | None] = {
    b"\x00\x00\x00<": "utf-32-be",
    b"<\x00\x00\x00": "utf-32-le",
    b"\x00<\x00?": "utf-16-be",
    b"<\x00?\x00": "utf-16-le",
    b"\x00\x00<\x00": None,
    b"\x00<\x00\x00": None,
    b"\x4c\x6f\xa7\x94": None,  # "<?xm" in EBCDIC
}
ENCODING_DECLARATION = re.compile(rb"<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z][A-Za-z0-9._-]*)[\"']")
# A row or cell element's opening tag, with or without a namespace prefix (``<row r="1">``,
# ``<x:c r="A1">``); ``<cols>`` and ``<rowBreaks>`` do not match.
OPENING = re.compile(r"<(?:\w+:)?(row|c)[\s>/]")
TAG_TAIL = 16  # characters kept between chunks, so a tag split across two is still seen once


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
    """Refuse an XLSX whose parts would inflate, expand or count past ``limits``.

    The sheet counted is the one pandas reads, found as openpyxl finds it: the workbook part
    named by ``[Content_Types].xml``, its first sheet in workbook order, that sheet's target
    in the workbook's relationships. When that chain is broken (openpyxl will refuse the file
    anyway), every worksheet part is counted, so a broken chain hides nothing.
    """
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
    try:
        # Every part, whatever its name: a relationship may point a parser at any of them.
        for member in members:
            with archive.open(member) as part:
                if _prolog_declares(part, label):
                    raise SegmentationError(
                        f"{label} declares XML entities, which a spreadsheet never needs: "
                        "save it again from Excel or as CSV"
                    )
        names = {member.filename for member in members}
        first = _first_sheet(archive, names)
        sheets = [first] if first else sorted(n for n in names if n.startswith(WORKSHEETS))
        # within what a sheet can hold, whatever the limits say
        sheet_limits = replace(
            limits, rows=min(limits.rows, EXCEL_ROWS), columns=min(limits.columns, EXCEL_COLUMNS)
        )
        for name in sheets:
            with archive.open(name) as sheet:
                _count_sheet(_decoded(sheet, label), sheet_limits, label)
    # A damaged member (bad CRC, cut short), an encrypted one, or one compressed unknowably.
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error, RuntimeError, NotImplementedError) as exc:
        raise SegmentationError(f"{label} is not a readable Excel (.xlsx) file: {exc}") from None


def _decoded(part: IO[bytes], label: str) -> Iterator[str]:
    """A part's text in chunks, decoded as an XML parser would decode it: a UTF-16 or UTF-32
    part hides no tag from a byte scan. Refuses an encoding a spreadsheet is never written in."""
    head = part.read(CHUNK)
    encoding = _xml_encoding(head, label)
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    chunk = head
    while chunk:
        yield decoder.decode(chunk)
        chunk = part.read(CHUNK)
    yield decoder.decode(b"", final=True)


def _xml_encoding(head: bytes, label: str) -> str:
    for mark, encoding in BYTE_ORDER_MARKS:
        if head.startswith(mark):
            return encoding
    unmarked = UNMARKED.get(head[:4], "")
    if unmarked is None:
        raise SegmentationError(
            f"{label} holds XML in an encoding a spreadsheet is never written in (EBCDIC or an "
            "unusual UCS-4 order): save it again from Excel or as CSV"
        )
    if unmarked:
        return unmarked
    declared = ENCODING_DECLARATION.match(head)
    if declared is None:
        return "utf-8"
    try:
        encoding = codecs.lookup(declared.group(1).decode("ascii")).name
    except LookupError:
        raise SegmentationError(
            f"{label} declares an XML encoding ({declared.group(1).decode('ascii')}) that cannot be "
            "read: save it again from Excel or as CSV"
        ) from None
    # A declaration read as ASCII was written in an ASCII-compatible encoding, whatever it says.
    return "utf-8" if encoding.startswith(("utf-16", "utf-32")) else encoding


def _prolog_declares(part: IO[bytes], label: str) -> bool:
    """Whether the part declares a DOCTYPE (where entities live) before its root element.

    Scans the prolog whatever its length (declaration, comments, processing instructions,
    white space) and stops at the root element, or at anything that is not XML markup (an
    image, say), so each part costs its prolog only.
    """
    text, closing = "", ""  # closing: the end of the comment or instruction being skipped
    chunks = _decoded(part, label)
    for chunk in chunks:
        text += chunk
        while True:
            if closing:
                end = text.find(closing)
                if end < 0:
                    text = text[-len(closing) :]  # a terminator split across chunks
                    break
                text, closing = text[end + len(closing) :], ""
            text = text.lstrip()
            if len(text) < 4:  # too short to tell "<!--" from "<!DOCTYPE": read on
                break
            if text.startswith("<!--"):
                text, closing = text[4:], "-->"
            elif text.startswith("<?"):
                text, closing = text[2:], "?>"
            else:
                return text.startswith("<!")
    return text.startswith("<!")


def _first_sheet(archive: zipfile.ZipFile, names: set[str]) -> str | None:
    """The member pandas reads as sheet 0, or None when the workbook does not say."""
    try:
        workbook = _workbook_part(archive, names)
        if workbook is None or workbook not in names:
            return None
        folder, base = posixpath.split(workbook)
        rels_name = posixpath.join(folder, "_rels", f"{base}.rels")
        if rels_name not in names:
            return None
        relationships = _relationships(archive, rels_name)
        for rel_id in _sheet_ids(archive, workbook):
            rel_type, target = relationships.get(rel_id, ("", ""))
            # openpyxl skips a sheet whose target is missing, and a chart sheet is no worksheet
            if target in names and "chartsheet" not in rel_type:
                return target
    except ElementTree.ParseError:
        return None
    return None


def _workbook_part(archive: zipfile.ZipFile, names: set[str]) -> str | None:
    if CONTENT_TYPES not in names:
        return None
    overrides: dict[str, str] = {}
    defaults: set[str] = set()
    for element in _elements(archive, CONTENT_TYPES):
        kind = element.get("ContentType", "")
        if _local(element.tag) == "Override" and kind in WORKBOOK_TYPES:
            overrides.setdefault(kind, element.get("PartName", ""))
        elif _local(element.tag) == "Default":
            defaults.add(kind)
    for kind in WORKBOOK_TYPES:  # openpyxl's order of preference
        if kind in overrides:
            return overrides[kind].removeprefix("/")
    return "xl/workbook.xml" if defaults & set(WORKBOOK_TYPES) else None


def _sheet_ids(archive: zipfile.ZipFile, workbook: str) -> Iterator[str]:
    """The relationship ids of the workbook's sheets, in workbook order (tab order)."""
    for element in _elements(archive, workbook):
        if _local(element.tag) == "sheet" and element.get(RELATIONSHIP_ID):
            yield element.get(RELATIONSHIP_ID, "")
        elif _local(element.tag) == "sheets":
            return  # the sheet list is over: the rest of the workbook is no concern here


def _relationships(archive: zipfile.ZipFile, rels_name: str) -> dict[str, tuple[str, str]]:
    """Each relationship id's type and target, the target resolved as openpyxl resolves it."""
    parent = posixpath.dirname(posixpath.dirname(rels_name))
    found: dict[str, tuple[str, str]] = {}
    for element in _elements(archive, rels_name):
        if _local(element.tag) != "Relationship" or element.get("TargetMode") == "External":
            continue
        target = element.get("Target", "")
        absolute = target.startswith("/")
        target = target[1:] if absolute else posixpath.normpath(posixpath.join(parent, target))
        found[element.get("Id", "")] = (element.get("Type", ""), target)
    return found


def _elements(archive: zipfile.ZipFile, name: str) -> Iterator[ElementTree.Element]:
    """The part's elements as each closes, cleared once seen: a large part is never held whole.
    Only called once every part's prolog was checked, so no entity can expand here."""
    with archive.open(name) as part:
        for _, element in ElementTree.iterparse(part, events=("end",)):
            yield element
            element.clear()


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _count_sheet(chunks: Iterator[str], limits: InputLimits, label: str) -> None:
    """Scan the sheet's XML for row and cell tags, never building a tree, and stop at the first
    limit passed: rows, the widest row's cells, all cells."""
    rows = cells = widest = in_row = 0
    carry = ""
    for chunk in itertools.chain(chunks, [None]):
        text = carry + (chunk or "")
        # A tag starting in the last few characters may be cut off: it waits for the next chunk.
        cut = len(text) if chunk is None else len(text) - TAG_TAIL
        for match in OPENING.finditer(text):
            if match.start() >= cut:
                break
            if match.group(1) == "row":
                rows += 1
                in_row = 0
            else:
                cells += 1
                in_row += 1
                widest = max(widest, in_row)
        carry = text[max(cut, 0) :]
        if chunk is None or rows > limits.rows or widest > limits.columns or cells > limits.cells:
            break
    limits.check_shape(rows, widest, label=label, cells=cells)
