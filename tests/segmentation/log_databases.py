"""A messy generated transaction log, and the three databases a transaction scorer runs in.

Shared by the feature-SQL tests and the ``manage.py segment`` parity test. Nothing here needs
Django.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import duckdb
import numpy as np
import pandas as pd
import psycopg

from segmentation.synthetic.transactions import transaction_log

Runner = Callable[[str], pd.DataFrame]


def messy_log(n_customers: int, *, seed: int) -> pd.DataFrame:
    """A generated log with the quirks of real exports: refunds (negative amounts), rows
    without an id (NULL, blank, or NA / null / N/A), ids with spaces around them, exact duplicate rows, NULL,
    blank and padded categories, missing amounts, several events in the same second."""
    log, _ = transaction_log(n_customers, seed=seed)
    rng = np.random.default_rng(seed + 1)
    log = log.astype({"customer_id": object, "category": object})
    log["amount"] = np.round(log["amount"].to_numpy(), 2)
    n = len(log)

    def some(share: float) -> np.ndarray:
        return rng.random(n) < share

    log.loc[some(0.01), "customer_id"] = None
    log.loc[some(0.005), "customer_id"] = ""
    # the missing ids of R, Excel and database exports, written as words
    log.loc[some(0.005), "customer_id"] = "NA"
    log.loc[some(0.002), "customer_id"] = " null "
    log.loc[some(0.002), "customer_id"] = "N/A"
    padded = some(0.01) & log["customer_id"].notna().to_numpy()
    log.loc[padded, "customer_id"] = " " + log.loc[padded, "customer_id"].astype(str) + " "
    log.loc[some(0.02), "category"] = None
    log.loc[some(0.01), "category"] = ""
    padded = some(0.01) & log["category"].notna().to_numpy()
    log.loc[padded, "category"] = " " + log.loc[padded, "category"].astype(str)
    log.loc[some(0.005), "amount"] = np.nan
    twins = rng.choice(n, size=n // 50, replace=False)
    log = pd.concat([log, log.iloc[twins]], ignore_index=True)
    same_second = rng.choice(len(log), size=len(log) // 100, replace=False)
    copies = log.iloc[same_second].copy()
    copies["amount"] = copies["amount"] + 1.25
    return pd.concat([log, copies], ignore_index=True).sort_values(
        "timestamp", kind="stable", ignore_index=True
    )


def sqlite_runner(log: pd.DataFrame) -> Runner:
    """SQLite with the timestamps as ISO text."""
    connection = sqlite3.connect(":memory:")
    text = log.copy()
    text["timestamp"] = text["timestamp"].dt.strftime("%Y-%m-%d %H:%M:%S")
    text.to_sql("transactions", connection, index=False)
    return lambda sql: pd.read_sql_query(sql, connection)


def duckdb_runner(log: pd.DataFrame) -> Runner:
    """DuckDB with a TIMESTAMP column."""
    connection = duckdb.connect()
    connection.register("source_log", log)
    connection.execute("CREATE TABLE transactions AS SELECT * FROM source_log")
    connection.unregister("source_log")
    return lambda sql: connection.execute(sql).df()


def postgres_runner(connection: psycopg.Connection, log: pd.DataFrame) -> Runner:
    """A TEMPORARY table ``transactions`` (TEXT, TIMESTAMP, DOUBLE PRECISION, TEXT) filled by COPY."""
    connection.execute("DROP TABLE IF EXISTS pg_temp.transactions")
    connection.execute(
        "CREATE TEMPORARY TABLE transactions "
        "(customer_id TEXT, timestamp TIMESTAMP, amount DOUBLE PRECISION, category TEXT)"
    )
    with connection.cursor().copy("COPY transactions FROM STDIN") as copy:
        for row in log[["customer_id", "timestamp", "amount", "category"]].itertuples(index=False):
            copy.write_row(
                [
                    row.customer_id,
                    row.timestamp.to_pydatetime(),
                    None if np.isnan(row.amount) else float(row.amount),
                    row.category,
                ]
            )

    def run(sql: str) -> pd.DataFrame:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            names = [d.name for d in cursor.description]
            return pd.DataFrame(cursor.fetchall(), columns=names)

    return run
