"""A PostgreSQL table as a source: the features are computed by the server.

Rows come back through a server-side (named) cursor, ``size`` at a time, so neither the
client nor the driver holds a whole result set. The log's table is made visible as
``transactions`` by a temporary view, which PostgreSQL finds before any schema's tables.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd

from ..errors import SegmentationError
from .base import DEFAULT_BATCH, LOG_TABLE, checked_table_name, parquet_by_batches, table_exists_error


def _quoted(name: str) -> str:
    return ".".join('"' + part.replace('"', '""') + '"' for part in name.split("."))


def _without_password(dsn: str) -> str:
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    try:
        parts = conninfo_to_dict(dsn)
    except Exception:  # psycopg's ProgrammingError for a malformed string
        return "postgresql:<unreadable dsn>"
    parts.pop("password", None)
    return make_conninfo("", **{k: v for k, v in parts.items() if v is not None})


class PostgresSource:
    """The table ``table`` (``name`` or ``schema.name``) of the PostgreSQL database ``dsn``;
    ``connection`` may be an open psycopg connection instead (then ``dsn`` is not used)."""

    dialect = "postgresql"

    def __init__(self, dsn: str | None, table: str = LOG_TABLE, *, connection: Any = None) -> None:
        import psycopg

        checked_table_name(table, "log table")
        self.dsn, self.table = dsn or "", table
        if connection is None:
            try:
                connection = psycopg.connect(self.dsn)
            except psycopg.Error as error:
                raise SegmentationError(
                    f"cannot connect to PostgreSQL at {_without_password(self.dsn)}: {str(error).strip()}"
                ) from None
        self.connection = connection
        found = connection.execute("SELECT to_regclass(%s)", [table]).fetchone()
        if not found or found[0] is None:
            raise SegmentationError(f"PostgreSQL has no table {table!r}: check the name after '#'")
        if table != LOG_TABLE:
            connection.execute(f"DROP VIEW IF EXISTS pg_temp.{LOG_TABLE}")
            connection.execute(f"CREATE TEMPORARY VIEW {LOG_TABLE} AS SELECT * FROM {_quoted(table)}")
        connection.commit()
        self._cursors = 0

    def describe(self) -> str:
        return f"postgresql:{_without_password(self.dsn)}#{self.table}"

    def batches(self, sql: str, size: int = DEFAULT_BATCH) -> Iterator[pd.DataFrame]:
        self._cursors += 1
        # A server-side cursor lives in a transaction (also under autocommit).
        with (
            self.connection.transaction(),
            self.connection.cursor(name=f"seg_stream_{self._cursors}") as cursor,
        ):
            cursor.itersize = size
            cursor.execute(sql)
            names: list[str] | None = None
            while rows := cursor.fetchmany(size):
                if names is None:
                    names = [d.name for d in cursor.description or []]
                yield pd.DataFrame(rows, columns=names)

    def write_table(self, name: str, sql: str, *, replace: bool = False, temporary: bool = False) -> None:
        checked_table_name(name)
        if temporary:
            self.connection.execute(f"DROP TABLE IF EXISTS pg_temp.{_quoted(name)}")
            self.connection.execute(f"CREATE TEMPORARY TABLE {_quoted(name)} AS {sql}")
            self.connection.commit()
            return
        if self.has_table(name):
            if not replace:
                raise table_exists_error(name)
            self.connection.execute(f"DROP TABLE {_quoted(name)}")
        self.connection.execute(f"CREATE TABLE {_quoted(name)} AS {sql}")
        self.connection.commit()

    def has_table(self, name: str) -> bool:
        found = self.connection.execute("SELECT to_regclass(%s)", [name]).fetchone()
        return bool(found and found[0] is not None)

    def drop_table(self, name: str) -> None:
        self.connection.execute(f"DROP TABLE IF EXISTS {_quoted(checked_table_name(name))}")
        self.connection.commit()

    def write_parquet(self, sql: str, path: str) -> None:
        parquet_by_batches(self, sql, path)

    def close(self) -> None:
        # Dropped here, not left to the session's end: the server removes a closed session's
        # temporary objects later, and until then the log's table cannot be dropped.
        if self.table != LOG_TABLE and not self.connection.closed:
            self.connection.execute(f"DROP VIEW IF EXISTS pg_temp.{LOG_TABLE}")
            self.connection.commit()
        self.connection.close()
