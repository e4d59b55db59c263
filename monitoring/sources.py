"""Reading a lineage's current data from a PostgreSQL database: a table, or one read-only SELECT.

The URL is kept encrypted and never shown again. A query is parsed with sqlglot and must be a
single SELECT (no statements chained, no writes); it then runs in a ``READ ONLY`` transaction with a
statement timeout, so even a function with side effects cannot change the client's database. A
table name is quoted as an identifier, never pasted into SQL.
"""

from __future__ import annotations

import io
from typing import Any

import pandas as pd
import psycopg
import sqlglot
from psycopg import sql
from sqlglot import exp

from segplatform.errors import ApplicationError
from segplatform.storage import fernet

from .models import DataSource

STATEMENT_TIMEOUT_MS = 120_000
SUPPORTED_SCHEMES = ("postgres://", "postgresql://")


def checked_query(query: str) -> str:
    """The query when it is one SELECT; else an ApplicationError saying what is wrong."""
    try:
        statements = [s for s in sqlglot.parse(query, read="postgres") if s is not None]
    except sqlglot.errors.ParseError as exc:
        raise ApplicationError(
            f"the query cannot be read as PostgreSQL SQL: {exc.errors[0]['description']}"
        ) from None
    if len(statements) != 1:
        raise ApplicationError("give one SELECT statement, without a second statement after a semicolon")
    statement = statements[0]
    if not isinstance(statement, exp.Query) or any(
        isinstance(node, exp.Insert | exp.Update | exp.Delete | exp.Create | exp.Drop)
        for node in statement.walk()
    ):
        raise ApplicationError("the query must be a SELECT that only reads")
    return query.strip().rstrip(";")


def source_save(
    *, project: Any, lineage: str, url: str, table: str = "", query: str = "", user: Any = None
) -> DataSource:
    if not url.startswith(SUPPORTED_SCHEMES):
        raise ApplicationError("the connection URL must start with postgres:// or postgresql://")
    if bool(table.strip()) == bool(query.strip()):
        raise ApplicationError("give either a table or a query, not both and not neither")
    if query.strip():
        query = checked_query(query)
    source, _ = DataSource.objects.update_or_create(
        project=project,
        lineage=lineage,
        defaults={
            "url_encrypted": fernet().encrypt(url.encode()).decode(),
            "table": table.strip(),
            "query": query,
            "created_by": user,
        },
    )
    return source


def _select(source: DataSource) -> sql.Composable:
    if source.query:
        return sql.SQL(checked_query(source.query))
    parts = source.table.split(".")
    if not 1 <= len(parts) <= 2 or not all(parts):
        raise ApplicationError(f"'{source.table}' is not a table name: give table or schema.table")
    return sql.SQL("SELECT * FROM {}").format(sql.Identifier(*parts))


def source_read(source: DataSource) -> tuple[str, bytes]:
    """The source's rows as CSV bytes, named like the lineage's data so a refresh stays in its lineage."""
    url = fernet().decrypt(source.url_encrypted.encode()).decode()
    try:
        with psycopg.connect(url, connect_timeout=10) as connection:
            connection.read_only = True
            with connection.cursor() as cursor:
                cursor.execute(
                    sql.SQL("SET LOCAL statement_timeout = {}").format(sql.Literal(STATEMENT_TIMEOUT_MS))
                )
                cursor.execute(_select(source))
                columns = [d.name for d in cursor.description or []]
                frame = pd.DataFrame(cursor.fetchall(), columns=columns)
    except psycopg.Error as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ApplicationError(f"the data source could not be read: {message}") from None
    if frame.empty:
        raise ApplicationError("the data source returned no rows")
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return f"{source.lineage}.csv", buffer.getvalue().encode()
