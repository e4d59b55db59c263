"""Helpers shared by the app tests: generated uploads and running a scorer in a database."""

from __future__ import annotations

import io
import sqlite3

import pandas as pd
import pytest

from segmentation.model.artefact import coerce_numeric
from segmentation.synthetic.customers import customer_table

NUMERIC = ["recency_days", "orders_per_year", "avg_basket", "tenure_months"]


def upload_csv(n: int = 400, seed: int = 11) -> tuple[bytes, pd.DataFrame]:
    frame, _ = customer_table(n, seed=seed)
    return frame.to_csv(index=False).encode(), frame


def typed_customers(frame: pd.DataFrame, numeric: list[str]) -> pd.DataFrame:
    """The table as a client's database holds it: numbers in numeric columns, NULL where blank."""
    typed = frame.copy()
    for column in numeric:
        typed[column] = coerce_numeric(frame[column])
    return typed


def score_in_sqlite(sql: str, customers: pd.DataFrame) -> pd.DataFrame:
    connection = sqlite3.connect(":memory:")
    customers.to_sql("customers", connection, index=False)
    result = pd.read_sql_query(sql, connection)
    connection.close()
    return result


def score_in_postgresql(sql: str, customers: pd.DataFrame, numeric: list[str]) -> pd.DataFrame:
    """Run a scorer in the test database's PostgreSQL, on a temporary ``customers`` table.

    Skips on the single-machine default (SQLite): CI runs the suite on PostgreSQL as well.
    """
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the PostgreSQL scorer needs DATABASE_URL to name a PostgreSQL database")

    columns = ", ".join(
        f'"{c}" DOUBLE PRECISION' if c in numeric else f'"{c}" TEXT' for c in customers.columns
    )
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE customers ({columns})")
        buffer = io.StringIO()
        customers.to_csv(buffer, index=False, header=False, na_rep="\\N")
        with cursor.cursor.copy("COPY customers FROM STDIN WITH (FORMAT csv, NULL '\\N')") as copy:
            copy.write(buffer.getvalue())
        cursor.execute(sql.rstrip().rstrip(";"))
        rows = cursor.fetchall()
        names = [d[0] for d in cursor.description]
        cursor.execute("DROP TABLE customers")
    return pd.DataFrame(rows, columns=names)


def rerun(run, user, **spec_changes):  # type: ignore[no-untyped-def]
    """``run``'s dataset segmented again in process, as the worker would, with ``spec_changes``."""
    from runs import services as run_services

    again = run_services.run_start(
        project=run.project, dataset=run.dataset, spec={**run.spec, **spec_changes}, user=user, enqueue=False
    )
    return run_services.run_execute(run_id=again.pk)


def labels_of(frame: pd.DataFrame) -> dict[str, int]:
    return {str(k): int(v) for k, v in zip(frame["customer_id"], frame["segment"], strict=True)}
