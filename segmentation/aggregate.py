"""Per-customer aggregates of a clean event log, in two interchangeable engines.

Both engines return the same integer table, so the choice between them is purely a matter of
speed (measured in ``bench/features.py``, figures in ``bench/RESULTS.md``). Every column is a
count, a min/max or a sum of integers (cents, seconds), hence exact: a multi-threaded engine
cannot change a value by summing in another order.

Columns of the customer table (one row a customer with an event before the cut-off, sorted by
``customer_id``): ``n_purchases``, ``n_refunds``, ``spend`` (cents), ``first_any``,
``first_p``, ``last_p`` (seconds; the ``_p`` pair is missing without purchases), ``gap_sq``
(sum of squared gaps in seconds² between consecutive purchases), ``months`` (distinct
calendar months with a purchase), ``decayed`` (spend in 1/1000 cent, each event weighted by
0.5 ** (age in days / half-life), rounded per event), ``w{30,90,180}_spend`` / ``_n`` (purchase
spend and count in the last 30/90/180 days) and ``q1``..``q4`` (spend by calendar quarter).

The category table has ``customer_id``, ``category``, ``cents`` and ``n`` for purchases.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SECONDS_PER_DAY = 86_400
WINDOWS = (30, 90, 180)
DECAY_HALF_LIFE_DAYS = 90.0
DECAY_UNITS = 1000  # decayed spend kept in 1/1000 cent

ENGINES = ("duckdb", "pandas")
# Chosen by measurement on 10M events (bench/RESULTS.md).
DEFAULT_ENGINE = "duckdb"


def aggregate(
    events: pd.DataFrame, cutoff_day: int, *, engine: str = DEFAULT_ENGINE, categories: bool = False
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The customer table and (with ``categories``) the customer × category table.

    ``cutoff_day`` counts days since 1970-01-01: only events before its midnight are read.
    """
    if engine == "duckdb":
        customers, by_category = _duckdb(events, cutoff_day, categories)
    elif engine == "pandas":
        customers, by_category = _pandas(events, cutoff_day, categories)
    else:
        raise ValueError(f"unknown aggregation engine {engine!r}; choose from {', '.join(ENGINES)}")
    customers = customers.sort_values("customer_id", kind="stable").reset_index(drop=True)
    if by_category is not None:
        by_category = by_category.sort_values(["customer_id", "category"], kind="stable").reset_index(
            drop=True
        )
    return customers, by_category


def _duckdb(
    events: pd.DataFrame, cutoff_day: int, categories: bool
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    import duckdb

    cutoff = cutoff_day * SECONDS_PER_DAY
    windows = ",\n".join(
        f"coalesce(sum(cents) FILTER (NOT refund AND t >= {cutoff - w * SECONDS_PER_DAY}), 0)::BIGINT AS w{w}_spend, "
        f"count(*) FILTER (NOT refund AND t >= {cutoff - w * SECONDS_PER_DAY}) AS w{w}_n"
        for w in WINDOWS
    )
    quarters = ",\n".join(
        f"coalesce(sum(cents) FILTER (NOT refund AND q = {q}), 0)::BIGINT AS q{q}" for q in range(1, 5)
    )
    decay = f"0.5 ** (({cutoff} - t) / {SECONDS_PER_DAY * DECAY_HALF_LIFE_DAYS!r})"
    customer_sql = f"""
        WITH e AS MATERIALIZED (
            SELECT customer_id, t, cents, refund,
                   year(make_timestamp(t * 1000000)) * 12 + month(make_timestamp(t * 1000000)) AS ym,
                   quarter(make_timestamp(t * 1000000)) AS q,
                   round(cents * {DECAY_UNITS} * {decay})::BIGINT AS decayed
            FROM events WHERE t < {cutoff}
        ),
        gaps AS (
            SELECT customer_id, sum(g * g)::BIGINT AS gap_sq FROM (
                SELECT customer_id, t - lag(t) OVER (PARTITION BY customer_id ORDER BY t) AS g
                FROM e WHERE NOT refund
            ) GROUP BY customer_id
        ),
        agg AS (
            SELECT customer_id,
                   count(*) FILTER (NOT refund) AS n_purchases,
                   count(*) FILTER (refund) AS n_refunds,
                   coalesce(sum(cents) FILTER (NOT refund), 0)::BIGINT AS spend,
                   min(t) AS first_any,
                   min(t) FILTER (NOT refund) AS first_p,
                   max(t) FILTER (NOT refund) AS last_p,
                   count(DISTINCT ym) FILTER (NOT refund) AS months,
                   coalesce(sum(decayed) FILTER (NOT refund), 0)::BIGINT AS decayed,
                   {windows},
                   {quarters}
            FROM e GROUP BY customer_id
        )
        SELECT agg.*, coalesce(gaps.gap_sq, 0)::BIGINT AS gap_sq
        FROM agg LEFT JOIN gaps USING (customer_id)
    """
    with duckdb.connect() as con:
        con.register("events", events)
        customers = con.execute(customer_sql).df()
        by_category = None
        if categories:
            by_category = con.execute(
                f"""SELECT customer_id, category, sum(cents)::BIGINT AS cents, count(*) AS n
                    FROM events WHERE t < {cutoff} AND NOT refund GROUP BY customer_id, category"""
            ).df()
    return _integers(customers), by_category


def _pandas(
    events: pd.DataFrame, cutoff_day: int, categories: bool
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    cutoff = cutoff_day * SECONDS_PER_DAY
    e = events.loc[events["t"].to_numpy() < cutoff, ["customer_id", "t", "cents", "refund"]]
    refund = e["refund"].to_numpy()
    base = e.groupby("customer_id", sort=True).agg(first_any=("t", "min"), n_refunds=("refund", "sum"))
    p = e.loc[~refund]
    t = p["t"].to_numpy()
    cents = p["cents"].to_numpy()
    stamps = t.astype("datetime64[s]")
    months = stamps.astype("datetime64[M]").astype(np.int64)
    month_of_year = months % 12
    age_days = (cutoff - t) / (SECONDS_PER_DAY * DECAY_HALF_LIFE_DAYS)
    columns = {
        "customer_id": p["customer_id"].to_numpy(),
        "t": t,
        "cents": cents,
        "decayed": np.round(cents * DECAY_UNITS * 0.5**age_days).astype(np.int64),
        "ym": months,
    }
    for w in WINDOWS:
        inside = t >= cutoff - w * SECONDS_PER_DAY
        columns[f"w{w}_spend"] = np.where(inside, cents, 0)
        columns[f"w{w}_n"] = inside.astype(np.int64)
    for q in range(1, 5):
        columns[f"q{q}"] = np.where(month_of_year // 3 == q - 1, cents, 0)
    frame = pd.DataFrame(columns)
    grouped = frame.groupby("customer_id", sort=True)
    sums = grouped[[c for c in columns if c not in ("customer_id", "t", "ym", "cents")]].sum()
    purchases = grouped.agg(
        n_purchases=("t", "size"),
        spend=("cents", "sum"),
        first_p=("t", "min"),
        last_p=("t", "max"),
        months=("ym", "nunique"),
    )
    ordered = frame[["customer_id", "t"]].sort_values(["customer_id", "t"], kind="stable")
    gap = ordered.groupby("customer_id", sort=True)["t"].diff()
    purchases["gap_sq"] = (gap * gap).groupby(ordered["customer_id"]).sum().astype(np.int64)
    customers = base.join(purchases.join(sums), how="left").reset_index()
    for column in customers.columns:
        if column not in ("customer_id", "first_p", "last_p"):
            customers[column] = customers[column].fillna(0)
    by_category = None
    if categories:
        c = events.loc[(events["t"].to_numpy() < cutoff) & ~events["refund"].to_numpy()]
        by_category = (
            c.groupby(["customer_id", "category"], sort=True)["cents"]
            .agg(cents="sum", n="size")
            .reset_index()
        )
    order = [
        "customer_id",
        "n_purchases",
        "n_refunds",
        "spend",
        "first_any",
        "first_p",
        "last_p",
        "months",
        "decayed",
        *[f"w{w}_{kind}" for w in WINDOWS for kind in ("spend", "n")],
        *[f"q{q}" for q in range(1, 5)],
        "gap_sq",
    ]
    return _integers(customers[order]), by_category


def _integers(customers: pd.DataFrame) -> pd.DataFrame:
    """Counts and sums as int64; first/last purchase as nullable Int64 (missing without purchases)."""
    out = customers.copy()
    for column in out.columns:
        if column == "customer_id":
            continue
        if column in ("first_p", "last_p"):
            out[column] = out[column].astype("Int64")
        else:
            out[column] = out[column].astype(np.int64)
    return out
