"""Reading customer tables and transaction logs from the files consultants actually receive:
CSV (delimiter and encoding detected), Parquet and XLSX."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from ..errors import SegmentationError
from .limits import InputLimits, check_workbook

ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")
DELIMITERS = ",;\t|"
SNIFF_CHARACTERS = 65536  # what the delimiter is guessed from
SNIFF_BYTES = 4 * SNIFF_CHARACTERS  # what screening a CSV decodes, for its header


def decode_text(raw: bytes) -> str:
    """Decode bytes as UTF-8 (with or without BOM), falling back to Windows-1252 and Latin-1."""
    for encoding in ENCODINGS:
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SegmentationError("the file is not readable text")  # latin-1 decodes anything


def read_csv_bytes(raw: bytes, *, name: str = "the file") -> pd.DataFrame:
    """Parse CSV bytes with the delimiter and encoding detected; every cell is read as text.

    Reading as text keeps identifiers exact (leading zeros, long numbers) and lets the engine
    decide which cells are numbers, so a stray word in a numeric column is a missing value
    rather than a failed upload.
    """
    if not raw.strip():
        raise SegmentationError(f"{name} is empty")
    if b"\x00" in raw[:4096]:
        raise SegmentationError(f"{name} is not a CSV file (it contains binary data)")
    text = decode_text(raw)
    delimiter = _delimiter(text)
    try:
        frame = pd.read_csv(
            io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=False, skipinitialspace=True
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise SegmentationError(f"{name} is not a readable CSV file: {exc}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.empty or len(frame.columns) < 2:
        raise SegmentationError(
            f"{name} has no data rows, or only one column: a customer table needs an id column "
            "and at least one numeric column"
        )
    if len(set(frame.columns)) != len(frame.columns):
        raise SegmentationError(f"{name} has two columns with the same name")
    return frame.replace({"": pd.NA})


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
    if b"\x00" in raw[:4096]:
        raise SegmentationError(f"{name} is not a CSV file (it contains binary data)")
    sample = raw[:SNIFF_BYTES]
    if len(raw) > SNIFF_BYTES:
        # whole lines only, so no character is cut in two
        sample = sample[: sample.rfind(b"\n") + 1]
    text = decode_text(sample)
    rows = csv.reader(io.StringIO(text), delimiter=_delimiter(text), skipinitialspace=True)
    # pandas skips blank lines before the header; a header cut off by the sample says nothing
    header = next((row for row in rows if row), [])
    columns = [cell.strip() for cell in header]
    if not any(columns):
        return None
    limits.check_shape(1, len(columns), label=name)
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
    if len(set(frame.columns)) != len(frame.columns):
        raise SegmentationError(f"{label} has two columns with the same name")
    # Text cells that are blank are missing, as in a CSV.
    for column in frame.columns:
        if frame[column].dtype == object:
            cells = frame[column]
            blank = cells.map(lambda v: isinstance(v, str) and not v.strip())
            frame[column] = cells.mask(blank | cells.isna(), pd.NA)
    return frame


def id_text(cells: pd.Series) -> pd.Series:
    """Customer ids as the platform compares them: text, trimmed, a blank cell missing.

    Every part that matches ids (the engine's labels, joins with ``labels.csv``, erasure) reads
    them through this, so the integer 100001 of a Parquet or XLSX file and the CSV cell
    ``"100001"`` are the same customer.
    """
    text = cells.astype("string").str.strip()
    return text.mask(text == "", pd.NA)


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
    # pandas turns a column of whole numbers with a blank cell into floats (17 -> 17.0); Excel
    # shows 17, and a CSV export of the sheet says 17: keep such columns whole (nullable).
    for column in frame.columns:
        cells = frame[column]
        if cells.dtype.kind == "f" and cells.isna().any():
            filled = cells.dropna()
            if len(filled) and bool(((filled % 1 == 0) & (filled.abs() <= 2**53)).all()):
                frame[column] = cells.astype("Int64")
    return frame
