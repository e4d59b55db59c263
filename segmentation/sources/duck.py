"""DuckDB sources: a table of a DuckDB file, and a folder of Parquet files read in place.

A Parquet log is never loaded into pandas: DuckDB scans the files and aggregates them within
``memory_limit``, spilling its hash tables and sorts to ``temp_directory`` when the log's
working set is larger (so a log bigger than memory is slower, not a failure). Results leave
DuckDB as Arrow record batches of a fixed size.
"""

from __future__ import annotations

import glob
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd

from ..errors import SegmentationError
from .base import DEFAULT_BATCH, LOG_TABLE, checked_table_name, table_exists_error

DEFAULT_MEMORY_LIMIT = "2GB"
# DuckDB gives each thread its own hash tables and sort runs; below about 1 GB a thread, two
# threads scoring a 3M-event log ran out of a 200 MB limit where one thread spilled and finished.
BYTES_PER_THREAD = 10**9
_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12}
_UNITS |= {"kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def memory_bytes(limit: str) -> int:
    """``"200MB"``, ``"2 GiB"``... in bytes; raises :class:`SegmentationError` for other text."""
    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*", limit)
    if not match or match.group(2).lower() not in _UNITS:
        raise SegmentationError(f"cannot read the memory limit {limit!r}: write it like '2GB' or '500MB'")
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


def default_threads(limit: str) -> int:
    """One thread a GB of the memory limit, at least one and at most the machine's cores."""
    return max(1, min(os.cpu_count() or 1, memory_bytes(limit) // BYTES_PER_THREAD))


def _quoted(name: str) -> str:
    return ".".join('"' + part.replace('"', '""') + '"' for part in name.split("."))


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class _DuckDB:
    dialect = "duckdb"
    connection: duckdb.DuckDBPyConnection

    def batches(self, sql: str, size: int = DEFAULT_BATCH) -> Iterator[pd.DataFrame]:
        reader = self.connection.sql(sql).to_arrow_reader(size)
        for batch in reader:
            yield batch.to_pandas()

    def write_table(self, name: str, sql: str, *, replace: bool = False, temporary: bool = False) -> None:
        checked_table_name(name)
        if temporary:
            self.connection.execute(f"CREATE OR REPLACE TEMP TABLE {_quoted(name)} AS {sql}")
            return
        if not replace and self.has_table(name):
            raise table_exists_error(name)
        verb = "CREATE OR REPLACE TABLE" if replace else "CREATE TABLE"
        self.connection.execute(f"{verb} {_quoted(name)} AS {sql}")

    def has_table(self, name: str) -> bool:
        found = self.connection.execute(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = ? AND table_schema = ?",
            [name.split(".")[-1], name.split(".")[0] if "." in name else "main"],
        ).fetchone()
        return bool(found and found[0])

    def drop_table(self, name: str) -> None:
        self.connection.execute(f"DROP TABLE IF EXISTS {_quoted(checked_table_name(name))}")

    def write_parquet(self, sql: str, path: str) -> None:
        self.connection.execute(f"COPY ({sql}) TO {_literal(str(path))} (FORMAT PARQUET)")

    def close(self) -> None:
        self.connection.close()


class DuckDBSource(_DuckDB):
    """The table ``table`` of the DuckDB file ``path`` (None: an in-memory database, for a
    caller that fills it). Labels written back go into the same file."""

    def __init__(self, path: str | os.PathLike[str] | None, *, table: str = LOG_TABLE) -> None:
        self.path = None if path is None else str(path)
        self.table = table
        if self.path is not None and not Path(self.path).is_file():
            raise SegmentationError(f"no DuckDB file at {self.path}: check the path")
        self.connection = duckdb.connect(self.path or ":memory:")
        if self.path is not None:
            tables = {
                row[0]
                for row in self.connection.execute(
                    "SELECT table_name FROM information_schema.tables"
                ).fetchall()
            }
            if table.split(".")[-1] not in tables:
                self.connection.close()
                raise SegmentationError(
                    f"the DuckDB file {self.path} has no table {table!r}; "
                    f"its tables are {', '.join(sorted(tables)) or 'none'}"
                )
        if table != LOG_TABLE:
            # A temporary view is found before the file's own tables, so the SQL's
            # ``transactions`` reads this table whatever else the file holds.
            self.connection.execute(f"CREATE TEMP VIEW {LOG_TABLE} AS SELECT * FROM {_quoted(table)}")

    def describe(self) -> str:
        return f"duckdb:{self.path or ':memory:'}:{self.table}"


class ParquetSource(_DuckDB):
    """Every ``*.parquet`` file under ``folder`` (recursively), or the files a glob names, read
    by an in-memory DuckDB limited to ``memory_limit`` that spills to ``temp_directory``
    (default: a fresh folder under the system's temporary directory), with ``threads``
    (default: one a GB of the limit, see :func:`default_threads`)."""

    def __init__(
        self,
        folder_or_glob: str | os.PathLike[str],
        *,
        memory_limit: str = DEFAULT_MEMORY_LIMIT,
        temp_directory: str | None = None,
        threads: int | None = None,
    ) -> None:
        text = str(folder_or_glob)
        pattern = os.path.join(text, "**", "*.parquet") if os.path.isdir(text) else text
        if not glob.glob(pattern, recursive=True):
            raise SegmentationError(
                f"no Parquet file matches {text}: give a folder holding *.parquet files or a glob"
            )
        self.pattern = pattern
        self.memory_limit = memory_limit
        self.temp_directory = temp_directory or tempfile.mkdtemp(prefix="seg-duckdb-")
        config: dict[str, str | bool | int | float | list[str]] = {
            "memory_limit": memory_limit,
            "temp_directory": self.temp_directory,
        }
        config["threads"] = threads or default_threads(memory_limit)
        try:
            self.connection = duckdb.connect(":memory:", config=config)
        except duckdb.Error as error:
            raise SegmentationError(f"DuckDB refused the settings {config}: {error}") from None
        # Order of rows is irrelevant to an aggregate; keeping it would hold whole partitions.
        self.connection.execute("SET preserve_insertion_order = false")
        self.connection.execute(
            f"CREATE VIEW {LOG_TABLE} AS SELECT * FROM read_parquet({_literal(pattern)}, union_by_name = true)"
        )

    def describe(self) -> str:
        return f"parquet:{self.pattern} (memory_limit {self.memory_limit})"

    def write_table(self, name: str, sql: str, *, replace: bool = False, temporary: bool = False) -> None:
        if temporary:
            super().write_table(name, sql, temporary=True)
            return
        raise SegmentationError(
            "a Parquet folder has no tables to write labels into: ask for a labels Parquet file instead"
        )
