"""Reading customer tables from the files consultants actually receive."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from .errors import SegmentationError

ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")
DELIMITERS = ",;\t|"


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
    sample = text[:65536]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        delimiter = ","
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


def read_table(path: Path) -> pd.DataFrame:
    """Read a customer table from a CSV file."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise SegmentationError(f"cannot read {path}: {exc.strerror}") from None
    return read_csv_bytes(raw, name=Path(path).name)
