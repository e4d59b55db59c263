"""SQL scoring in PostgreSQL against a plain SELECT of the same rows from the same table.

    PYTHONPATH=. python bench/sql_scoring.py [--customers 1000000] [--database postgres://...] [--record]

A table of customers with three numeric columns (normal, skewed, normal) is loaded once; a
three-feature K-Means model is fitted on a 20,000-customer sample (its skewed column logged, as
the defaults decide). Timed, best of five, each fetching every row to the client:

- the baseline: ``SELECT customer_id, 0 AS segment, 'Group 1' AS segment_name FROM customers``,
  the scorer's own output shape read from the same table;
- the scorer as it was (each step a ``MATERIALIZED`` CTE) and as compiled now (each step a
  subquery fenced with ``OFFSET 0``); both label every customer identically (checked).

Not a test: timings depend on the machine's load; the figures go to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import psycopg  # noqa: E402

from bench.results import record  # noqa: E402
from segmentation import SegmentationSpec, segment  # noqa: E402
from segmentation.sql import scorer  # noqa: E402

TABLE = "bench_scoring_customers"


def load(connection: psycopg.Connection, customers: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "customer_id": [f"c{i:07d}" for i in range(customers)],
            "a": rng.normal(size=customers),
            "b": rng.gamma(2.0, size=customers),
            "c": rng.normal(size=customers),
        }
    )
    connection.execute(f"DROP TABLE IF EXISTS {TABLE}")
    connection.execute(
        f"CREATE TABLE {TABLE} (customer_id text, a double precision, b double precision, c double precision)"
    )
    with connection.cursor().copy(f"COPY {TABLE} FROM STDIN") as copy:
        for row in frame.itertuples(index=False):
            copy.write_row(row)
    connection.execute(f"VACUUM ANALYZE {TABLE}")
    return frame


def best(connection: psycopg.Connection, sql: str, repeats: int = 5) -> tuple[float, list]:
    times, rows = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(sql)
            rows = cursor.fetchall()
        times.append(time.perf_counter() - started)
    return min(times), rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument(
        "--database",
        default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
    )
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()
    load_before = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    with psycopg.connect(args.database, autocommit=True) as connection:
        frame = load(connection, args.customers)
        sample = frame.sample(20_000, random_state=0)
        spec = SegmentationSpec.from_dict(
            {
                "id_column": "customer_id",
                "numeric_columns": ["a", "b", "c"],
                "k_min": 3,
                "k_max": 3,
                "algorithms": ["kmeans"],
                "stability_resamples": 0,
            }
        )
        model = segment(sample, spec).model
        fenced = scorer.compile_scorer(model, "postgresql", table=TABLE)
        saved, scorer.FENCED = scorer.FENCED, ()  # type: ignore[attr-defined]
        try:
            materialised = scorer.compile_scorer(model, "postgresql", table=TABLE)
        finally:
            scorer.FENCED = saved  # type: ignore[attr-defined]
        plain = f"SELECT customer_id, 0 AS segment, 'Group 1' AS segment_name FROM {TABLE}"
        base, _ = best(connection, plain)
        old, old_rows = best(connection, materialised)
        new, new_rows = best(connection, fenced)
        assert sorted(old_rows) == sorted(new_rows), "the two scorers disagree"
        predicted = dict(zip(frame["customer_id"], model.predict(frame), strict=True))
        assert all(predicted[c] == s for c, s, _ in new_rows), "the scorer disagrees with predict"
        connection.execute(f"DROP TABLE {TABLE}")
    version = psycopg.connect(args.database).info.server_version
    text = "\n".join(
        [
            f"### {args.customers:,} customers, three-feature K-Means scorer ({dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC)",
            "",
            f"- machine: {platform.machine()}, nproc {os.cpu_count()}, PostgreSQL {version // 10000}.{version % 10000}, "
            f"load average before {load_before}; best of 5, every row fetched",
            f"- plain SELECT of the same shape: {base:.2f} s",
            f"- scorer with MATERIALIZED CTEs (before): {old:.2f} s, {old / base:.2f}x",
            f"- scorer with OFFSET 0 subqueries (now): {new:.2f} s, {new / base:.2f}x (the target is at most 2x)",
            "- both give every customer the label of the model's predict",
            "",
        ]
    )
    print(text)
    if args.record:
        record("sql_scoring", "SQL scoring in PostgreSQL (`bench/sql_scoring.py`)", text)


if __name__ == "__main__":
    main()
