"""Reading customer tables and transaction logs from the files consultants actually receive:
CSV (delimiter and encoding detected), Parquet and XLSX."""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from ..errors import SegmentationError
from .limits import InputLimits, check_workbook
from .missing import MISSING_TOKENS

ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
DELIMITERS = ",;\t|"
SNIFF_CHARACTERS = 65536  # what the delimiter is guessed from
SNIFF_BYTES = 4 * SNIFF_CHARACTERS  # what screening a CSV decodes, for its header
RAGGED_LINES_NAMED = 3  # how many ragged lines a refusal lists


def text_encoding(raw: bytes) -> str | None:
    """``"utf-16"`` (it reads the BOM), ``"utf-16-le"``/``"utf-16-be"`` for UTF-16 text without
    a BOM, else None: the text is 8-bit and :func:`decode_text` tries its encodings in turn.

    Excel's "Unicode text" and many Windows tools write UTF-16 with a BOM. Without one, ASCII
    text in UTF-16 has a zero in every other byte, which no binary format keeps up for long.
    """
    if raw[:2] in UTF16_BOMS:
        return "utf-16"
    head = raw[:4096]
    if len(head) >= 4 and b"\x00" in head:
        even, odd = head[0::2], head[1::2]
        if odd.count(0) >= 0.9 * len(odd) and not even.count(0):
            return "utf-16-le"
        if even.count(0) >= 0.9 * len(even) and not odd.count(0):
            return "utf-16-be"
    return None


def decode_text(raw: bytes, *, final: bool = True) -> str:
    """Decode bytes as UTF-16 (told by its BOM or its zero bytes), or as UTF-8 (with or without
    BOM), falling back to Windows-1252 and Latin-1. With ``final`` false, ``raw`` is the start of
    a longer file: a character cut in two at its end is left out rather than refused."""
    wide = text_encoding(raw)
    if wide is not None:
        try:
            return codecs.getincrementaldecoder(wide)().decode(raw, final=final)
        except UnicodeDecodeError:
            raise SegmentationError("the file is not readable text (it is not valid UTF-16)") from None
    for encoding in ENCODINGS:
        try:
            return codecs.getincrementaldecoder(encoding)().decode(raw, final=final)
        except UnicodeDecodeError:
            continue
    raise SegmentationError("the file is not readable text")  # latin-1 decodes anything


def _binary_check(raw: bytes, name: str) -> None:
    if b"\x00" in raw[:4096] and text_encoding(raw) is None:
        raise SegmentationError(f"{name} is not a CSV file (it contains binary data)")


def duplicate_column_check(columns: Iterable[object], name: str) -> None:
    """Refuse two columns of one name (after trimming), naming it, rather than let pandas
    rename the second (``customer_id.1``) and offer it as a feature."""
    seen = Counter(str(c).strip() for c in columns)
    twice = [c for c, n in seen.items() if n > 1]
    if twice:
        both = "both" if seen[twice[0]] == 2 else f"all {seen[twice[0]]}"
        raise SegmentationError(
            f"{name} has columns with the same name: two columns are {both} called {twice[0]}: "
            "rename one and upload again"
        )


def read_csv_bytes(raw: bytes, *, name: str = "the file") -> pd.DataFrame:
    """Parse CSV bytes with the delimiter and encoding detected; every cell is read as text.

    Reading as text keeps identifiers exact (leading zeros, long numbers) and lets the engine
    decide which cells are numbers, so a stray word in a numeric column is a missing value
    rather than a failed upload.
    """
    if not raw.strip():
        raise SegmentationError(f"{name} is empty")
    _binary_check(raw, name)
    text = decode_text(raw)
    if not text.strip():
        raise SegmentationError(f"{name} is empty")
    delimiter = _delimiter(text)
    header = _header(text, delimiter)
    duplicate_column_check(header, name)
    try:
        frame = pd.read_csv(
            io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=False, skipinitialspace=True
        )
    except pd.errors.EmptyDataError:
        raise SegmentationError(f"{name} is empty") from None
    except pd.errors.ParserError:
        raise SegmentationError(_ragged_message(text, delimiter, name)) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.empty or len(frame.columns) < 2:
        raise SegmentationError(
            f"{name} has no data rows, or only one column: a customer table needs an id column "
            "and at least one numeric column"
        )
    duplicate_column_check(frame.columns, name)
    return frame.replace({"": pd.NA})


def _rows(text: str, delimiter: str) -> Iterable[list[str]]:
    return csv.reader(io.StringIO(text), delimiter=delimiter, skipinitialspace=True)


def _header(text: str, delimiter: str) -> list[str]:
    # pandas skips blank lines before the header, and so does this
    return [cell.strip() for cell in next((row for row in _rows(text, delimiter) if row), [])]


def _ragged_message(text: str, delimiter: str, name: str) -> str:
    """Which lines have more fields than the header, in words; pandas' own message names its
    tokenizer ("C error") and, with quoted line breaks, may count lines differently."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, skipinitialspace=True)
    width, ragged = 0, []
    try:
        for row in reader:
            if not row:
                continue
            if not width:
                width = len(row)
            elif len(row) > width:
                ragged.append((reader.line_num, len(row)))
                if len(ragged) > RAGGED_LINES_NAMED:
                    break
    except csv.Error:
        return (
            f"{name} could not be read as CSV near line {reader.line_num}: check the quotes on "
            "that line and upload again"
        )
    if not ragged:
        return (
            f"{name} could not be read as CSV: check that every line has as many fields as the "
            "header and that every quote is closed, then upload again"
        )
    line, fields = ragged[0]
    message = (
        f"{name} has a ragged row: line {line} has {fields} fields where the header has {width}: "
        "fix or remove that line and upload again"
    )
    if len(ragged) > 1:
        others = [str(n) for n, _ in ragged[1:RAGGED_LINES_NAMED]]
        more = " and more" if len(ragged) > RAGGED_LINES_NAMED else ""
        message += (
            f" (line {others[0]} too)"
            if len(others) == 1 and not more
            else (f" (lines {', '.join(others)}{more} too)")
        )
    return message


def _delimiter(text: str) -> str:
    try:
        return csv.Sniffer().sniff(text[:SNIFF_CHARACTERS], delimiters=DELIMITERS).delimiter
    except csv.Error:
        return ","


def screen_input(
    raw: bytes, name: str = "the file", *, limits: InputLimits | None = None
) -> list[str] | None:
    """What can be told of a file without reading its table, in a fraction of the time.

    Refuses what :func:`read_input` would refuse for its kind, its limits or its bytes: an empty
    or binary "CSV", a CSV header wider than the limits, a Parquet file whose footer declares
    more rows, columns or cells than they allow, and an XLSX that fails :func:`check_workbook`.
    Returns the column names when they come cheaply (a CSV's header, a Parquet file's schema),
    else None; a table may still be refused once read (its id column, its numbers).
    """
    limits = limits or InputLimits()
    kind = input_format(raw, name)
    if not raw or raw.isspace():
        raise SegmentationError(f"{name} is empty")
    if kind == "parquet":
        return _parquet_columns(raw, name, limits)
    if kind == "xlsx":
        check_workbook(raw, limits, label=name)
        return None
    _binary_check(raw, name)
    text = decode_text(raw[:SNIFF_BYTES], final=len(raw) <= SNIFF_BYTES)
    if len(raw) > SNIFF_BYTES:
        text = text[: text.rfind("\n") + 1]  # whole lines only: a header cut off says nothing
    columns = _header(text, _delimiter(text))
    if not any(columns):
        return None
    limits.check_shape(1, len(columns), label=name)
    duplicate_column_check(columns, name)
    return columns


def read_table(path: Path) -> pd.DataFrame:
    """Read a table from a CSV, Parquet or XLSX file."""
    return read_input(Path(path))


PARQUET_MAGIC = b"PAR1"
ZIP_MAGIC = b"PK\x03\x04"  # XLSX is a zip archive
PARQUET_SUFFIXES = {".parquet", ".pq"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
TEXT_SUFFIXES = {".csv", ".txt", ".tsv"}
NULLABLE_INTEGERS = {
    f"{sign}int{bits}": f"{sign.upper()}Int{bits}" for sign in ("", "u") for bits in (8, 16, 32, 64)
}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | PARQUET_SUFFIXES | EXCEL_SUFFIXES


def input_format(raw: bytes, name: str = "") -> str:
    """``"parquet"``, ``"xlsx"`` or ``"csv"``: by magic bytes first, the file name's suffix second.

    Magic bytes win because stored uploads keep an ``.enc`` name and because a mislabelled
    file is read for what it is.
    """
    if raw[:4] == PARQUET_MAGIC:
        return "parquet"
    if raw[:4] == ZIP_MAGIC:
        return "xlsx"
    suffix = Path(name.removesuffix(".enc")).suffix.lower()
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    if suffix in EXCEL_SUFFIXES:
        return "xlsx"
    return "csv"


def read_input(
    source: Path | str | bytes, name: str | None = None, *, limits: InputLimits | None = None
) -> pd.DataFrame:
    """Read a CSV, Parquet or XLSX table from a path or from bytes.

    CSV cells arrive as text (see :func:`read_csv_bytes`); Parquet and XLSX keep their typed
    columns (numbers, timestamps), and blank cells are missing in all three. ``limits`` (the
    defaults of :class:`InputLimits` when None) bound what the file may become: an XLSX is
    checked as a stream before it is parsed, every table's shape once read.
    """
    limits = limits or InputLimits()
    if isinstance(source, bytes):
        raw, label = source, name or "the file"
    else:
        path = Path(source)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise SegmentationError(f"cannot read {path}: {exc.strerror}") from None
        label = name or path.name
    kind = input_format(raw, label)
    if kind == "csv":
        table = read_csv_bytes(raw, name=label)
        limits.check_shape(len(table) + 1, len(table.columns), label=label)
        return table
    if not raw:
        raise SegmentationError(f"{label} is empty")
    if kind == "xlsx":
        check_workbook(raw, limits, label=label)
    else:
        _parquet_columns(raw, label, limits)  # the footer's shape, before any column is inflated
    frame = _read_parquet(raw, label) if kind == "parquet" else _read_excel(raw, label)
    limits.check_shape(len(frame) + 1, len(frame.columns), label=label)
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.empty or len(frame.columns) < 2:
        raise SegmentationError(f"{label} has no data rows, or only one column")
    duplicate_column_check(frame.columns, label)
    # Text cells that are blank are missing, as in a CSV.
    for column in frame.columns:
        if frame[column].dtype == object:
            cells = frame[column]
            blank = cells.map(lambda v: isinstance(v, str) and not v.strip())
            frame[column] = cells.mask(blank | cells.isna(), pd.NA)
    return frame


def id_text(cells: pd.Series, *, keep_missing_words: bool = False) -> pd.Series:
    """Customer ids as the platform compares them: text, trimmed, a blank cell or a missing
    token (``NA``, ``N/A``, ``null``, ``None``, ``-``: :mod:`segmentation.data.missing`) missing.

    Every part that matches ids (the engine's labels, joins with ``labels.csv``, erasure) reads
    them through this, so the integer 100001 of a Parquet or XLSX file and the CSV cell
    ``"100001"`` are the same customer.

    With ``keep_missing_words`` only blanks become missing and ``NA`` stays as written: a table
    handed to the engine keeps the words, so its data-quality report can say how the dropped ids
    were written (no customer id matches a missing word, so joins are the same either way).
    """
    text = cells.astype("string").str.strip()
    missing = text == "" if keep_missing_words else text.str.lower().isin(MISSING_TOKENS)
    return text.mask(missing.fillna(False), pd.NA)


def _parquet_columns(raw: bytes, label: str, limits: InputLimits) -> list[str]:
    """The columns a Parquet file's footer declares, refused past ``limits`` unread."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        footer = pq.ParquetFile(pa.BufferReader(raw))
        names = list(footer.schema_arrow.names)
        rows = footer.metadata.num_rows
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise SegmentationError(f"{label} is not a readable Parquet file: {exc}") from None
    limits.check_shape(rows + 1, len(names), label=label)
    duplicate_column_check(names, label)
    return [str(n).strip() for n in names]


def _read_parquet(raw: bytes, label: str) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(pa.BufferReader(raw))
        frame = table.to_pandas()
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise SegmentationError(f"{label} is not a readable Parquet file: {exc}") from None
    # pyarrow turns an integer column with a null into floats (100001 -> 100001.0) unless the
    # file carries pandas' own metadata: read such columns as nullable integers, from Arrow
    # directly so that ids beyond 2**53 stay exact.
    for name, column in zip(table.column_names, table.columns, strict=True):
        if (
            pa.types.is_integer(column.type)
            and column.null_count
            and name in frame.columns
            and frame[name].dtype.kind == "f"
        ):
            nullable = pd.api.types.pandas_dtype(NULLABLE_INTEGERS[str(column.type)])
            frame[name] = column.to_pandas(types_mapper={column.type: nullable}.get).set_axis(frame.index)
    return frame


def _read_excel(raw: bytes, label: str) -> pd.DataFrame:
    import zipfile

    try:
        # The first sheet holds the table; openpyxl reads dates as datetimes and numbers as numbers.
        frame = pd.read_excel(io.BytesIO(raw), sheet_name=0, engine="openpyxl")
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise SegmentationError(f"{label} is not a readable Excel (.xlsx) file: {exc}") from None
    if any(re.fullmatch(r".+\.\d+", str(c)) for c in frame.columns):
        # pandas renamed a repeated header ("customer_id.1"): read the header as written
        header = pd.read_excel(io.BytesIO(raw), sheet_name=0, engine="openpyxl", header=None, nrows=1)
        duplicate_column_check(header.iloc[0].dropna().tolist() if len(header) else [], label)
    # pandas turns a column of whole numbers with a blank cell into floats (17 -> 17.0); Excel
    # shows 17, and a CSV export of the sheet says 17: keep such columns whole (nullable).
    for column in frame.columns:
        cells = frame[column]
        if cells.dtype.kind == "f" and cells.isna().any():
            filled = cells.dropna()
            if len(filled) and bool(((filled % 1 == 0) & (filled.abs() <= 2**53)).all()):
                frame[column] = cells.astype("Int64")
    return frame
