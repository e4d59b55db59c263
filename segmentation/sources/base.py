"""The data sources a run pushes the feature work down to: what a source must do.

A source is an engine holding a transaction log. The engine's SQL (from
:mod:`segmentation.sql.features`) reads a table called ``transactions`` with the log's own
column names; each source makes that name point at its log (a temporary view), so the
generated SQL is run unchanged. Only result sets travel to Python, a batch at a time.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Protocol, runtime_checkable

import pandas as pd

from ..errors import SegmentationError

LOG_TABLE = "transactions"
DEFAULT_BATCH = 50_000
# A table a run writes: letters, digits and underscores, optionally schema-qualified, so the
# name can go into CREATE TABLE without quoting surprises.
_TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")


@runtime_checkable
class Source(Protocol):
    """An engine holding a transaction log, readable as the table ``transactions``."""

    dialect: str  # the sqlglot dialect of segmentation.sql ("duckdb", "postgresql", ...)

    def describe(self) -> str:
        """Where the log is, for metrics and messages (never a password)."""
        ...

    def batches(self, sql: str, size: int = DEFAULT_BATCH) -> Iterator[pd.DataFrame]:
        """The rows of ``sql``, streamed ``size`` at a time (the engine keeps the rest)."""
        ...

    def has_table(self, name: str) -> bool:
        """Whether the engine holds a table (or view) ``name``."""
        ...

    def write_table(self, name: str, sql: str, *, replace: bool = False, temporary: bool = False) -> None:
        """``CREATE TABLE name AS sql``; an existing table is replaced only when ``replace``.
        A ``temporary`` table lives as long as the source's connection."""
        ...

    def drop_table(self, name: str) -> None:
        """Drop the table ``name`` if it exists."""
        ...

    def write_parquet(self, sql: str, path: str) -> None:
        """Write the rows of ``sql`` to the Parquet file ``path``."""
        ...

    def close(self) -> None: ...


def checked_table_name(name: str, what: str = "labels table") -> str:
    if not _TABLE_NAME.match(name):
        raise SegmentationError(
            f"the {what} {name!r} is not a plain table name: use letters, digits and underscores, "
            "optionally as schema.table"
        )
    return name


def table_exists_error(name: str) -> SegmentationError:
    return SegmentationError(f"the table {name!r} already exists: choose another name or ask to replace it")


def parquet_by_batches(source: Source, sql: str, path: str, size: int = DEFAULT_BATCH) -> None:
    """Write ``sql``'s rows to Parquet from Python, a batch at a time (for engines without a
    Parquet writer of their own)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer = None
    try:
        for frame in source.batches(sql, size):
            table = pa.Table.from_pandas(frame, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema)
            writer.write_table(table.cast(writer.schema))
    finally:
        if writer is not None:
            writer.close()
