"""Per-customer aggregates of a clean event log, in two interchangeable engines.

The input is a lean frame of integer columns (:func:`lean_events`): ``customer`` (int32 code;
codes sort like the ids), ``t`` (seconds), ``cents``, ``refund``, ``m`` (calendar month index
since 1970-01) and, with categories, ``category`` (int32 code). Only events before the cut-off
are in it.

The hash aggregates (counts, sums, min/max) run in DuckDB or pandas and return the same
integers, so the choice is purely speed (measured in ``bench/features.py``, figures in
``bench/RESULTS.md``). Every column is a count, a min/max or a sum of integers, hence exact:
a multi-threaded engine cannot change a value by summing in another order.

The ordered statistics (gaps between consecutive purchases, distinct active months) need each
customer's events in time order. Sorting 10M events by (customer, time) costs seconds, so
:func:`ordered_statistics` partitions them by customer with two stable 16-bit radix passes,
which keep the time order of a log already sorted by time (as exports are); an unsorted log is
sorted by time first.

Columns of the customer table (one row a customer, sorted by code): ``customer``,
``n_purchases``, ``n_refunds``, ``spend`` (cents), ``first_any``, ``first_p``, ``last_p``
(seconds; the ``_p`` pair is missing without purchases), ``decayed`` (spend in 1/1000 cent,
each event weighted by 0.5 ** (age in days / half-life), rounded per event),
``w{30,90,180}_spend`` / ``_n`` (purchase spend and count in the last 30/90/180 days),
``q1``..``q4`` (spend by calendar quarter), then ``gap_sq`` (sum of squared gaps, seconds²)
and ``months`` (distinct calendar months with a purchase).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SECONDS_PER_DAY = 86_400
WINDOWS = (30, 90, 180)
DECAY_HALF_LIFE_DAYS = 90.0
DECAY_UNITS = 1000  # decayed spend kept in 1/1000 cent

ENGINES = ("duckdb", "pandas", "numpy")
# The numpy engine's dense customer × category table stays below this many cells.
DENSE_CELLS = 20_000_000
# Chosen by measurement on 10M events (bench/RESULTS.md): dense integer codes make
# np.bincount sums faster than hash aggregation in DuckDB or pandas.
DEFAULT_ENGINE = "numpy"
COLUMNS = (
    "customer",
    "n_purchases",
    "n_refunds",
    "spend",
    "first_any",
    "first_p",
    "last_p",
    "decayed",
    *[f"w{w}_{kind}" for w in WINDOWS for kind in ("spend", "n")],
    "q1",
    "q2",
    "q3",
    "q4",
)


def lean_events(
    customer: np.ndarray, t: np.ndarray, cents: np.ndarray, refund: np.ndarray, category: np.ndarray | None
) -> pd.DataFrame:
    """The integer frame both engines read (all arrays already restricted to before the cut-off)."""
    columns = {
        "customer": customer.astype(np.int32, copy=False),
        "t": t.astype(np.int64, copy=False),
        "cents": cents.astype(np.int64, copy=False),
        "refund": refund.astype(bool, copy=False),
        "m": t.astype("datetime64[s]").astype("datetime64[M]").astype(np.int32),
    }
    if category is not None:
        columns["category"] = category.astype(np.int32, copy=False)
    return pd.DataFrame(columns, copy=False)


def aggregate(
    events: pd.DataFrame, cutoff_day: int, *, engine: str = DEFAULT_ENGINE, categories: bool = False
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The customer table and (with ``categories``) the customer × category purchase table
    (``customer``, ``category``, ``cents``, ``n``), both sorted by their keys."""
    ordered = ordered_statistics(events)
    if engine == "duckdb":
        customers, by_category = _duckdb(events, cutoff_day, categories)
    elif engine == "pandas":
        customers, by_category = _pandas(events, cutoff_day, categories)
    elif engine == "numpy":
        customers, by_category = _numpy(events, cutoff_day, categories, ordered)
    else:
        raise ValueError(f"unknown aggregation engine {engine!r}; choose from {', '.join(ENGINES)}")
    customers = customers.sort_values("customer", kind="stable").reset_index(drop=True)
    codes = customers["customer"].to_numpy()
    customers["gap_sq"] = ordered["gap_sq"][codes]
    customers["months"] = ordered["months"][codes]
    if by_category is not None:
        by_category = by_category.sort_values(["customer", "category"], kind="stable").reset_index(drop=True)
        by_category = by_category.astype(
            {"customer": np.int32, "category": np.int32, "cents": np.int64, "n": np.int64}
        )
    return _integers(customers), by_category


def ordered_statistics(events: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per customer code: ``gap_sq``, the sum of squared gaps between consecutive purchases
    (seconds², float64 summed in a fixed order), ``months``, the number of distinct months with
    a purchase, and ``first_p`` / ``last_p``, the first and last purchase (-1 without one)."""
    purchases = ~events["refund"].to_numpy()
    customer = events["customer"].to_numpy()[purchases]
    t = events["t"].to_numpy()[purchases]
    month = events["m"].to_numpy()[purchases]
    size = int(events["customer"].max()) + 1 if len(events) else 0
    if len(t) > 1 and not (t[1:] >= t[:-1]).all():
        by_time = np.argsort(t, kind="stable")
        customer, t, month = customer[by_time], t[by_time], month[by_time]
    order = _partition(customer)
    # After a stable partition the codes are runs of each code: rebuild them rather than
    # gathering 10M values at random.
    counts = np.bincount(customer, minlength=size)
    customer = np.repeat(np.arange(size, dtype=np.int32), counts)
    t, month = t[order], month[order]
    same = customer[1:] == customer[:-1]
    gaps = (t[1:] - t[:-1])[same].astype(np.float64)
    gap_sq = np.bincount(customer[1:][same], weights=gaps * gaps, minlength=size)
    new_month = np.ones(len(customer), dtype=bool)
    new_month[1:] = ~same | (month[1:] != month[:-1])
    months = np.bincount(customer[new_month], minlength=size)
    first_p = np.full(size, -1, dtype=np.int64)
    last_p = np.full(size, -1, dtype=np.int64)
    if len(customer):
        starts = np.flatnonzero(np.concatenate(([True], ~same)))
        ends = np.concatenate((starts[1:] - 1, [len(customer) - 1]))
        first_p[customer[starts]] = t[starts]
        last_p[customer[ends]] = t[ends]
    return {"gap_sq": gap_sq, "months": months, "first_p": first_p, "last_p": last_p}


def _partition(codes: np.ndarray) -> np.ndarray:
    """A stable order by code: least-significant-digit radix sort in two 16-bit passes
    (NumPy's stable sort is a linear radix sort for 16-bit keys, a timsort for wider ones)."""
    codes = codes.astype(np.uint32, copy=False)
    order = np.argsort((codes & 0xFFFF).astype(np.uint16), kind="stable")
    high = (codes[order] >> 16).astype(np.uint16)
    return order[np.argsort(high, kind="stable")]


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
    # m counts months since 1970-01, so m % 12 is the month of the year from 0 (January).
    quarters = ",\n".join(
        f"coalesce(sum(cents) FILTER (NOT refund AND (m % 12) // 3 = {q - 1}), 0)::BIGINT AS q{q}"
        for q in range(1, 5)
    )
    decay = f"0.5 ** (({cutoff} - t) / {SECONDS_PER_DAY * DECAY_HALF_LIFE_DAYS!r})"
    customer_sql = f"""
        SELECT customer,
               count(*) FILTER (NOT refund) AS n_purchases,
               count(*) FILTER (refund) AS n_refunds,
               coalesce(sum(cents) FILTER (NOT refund), 0)::BIGINT AS spend,
               min(t) AS first_any,
               min(t) FILTER (NOT refund) AS first_p,
               max(t) FILTER (NOT refund) AS last_p,
               coalesce(sum(round(cents * {DECAY_UNITS} * {decay})::BIGINT) FILTER (NOT refund), 0)::BIGINT
                   AS decayed,
               {windows},
               {quarters}
        FROM events GROUP BY customer
    """
    with duckdb.connect() as con:
        con.execute("SET enable_progress_bar = false")
        con.register("events", events)
        customers = con.execute(customer_sql).df()
        by_category = None
        if categories:
            by_category = con.execute(
                """SELECT customer, category, sum(cents)::BIGINT AS cents, count(*) AS n
                   FROM events WHERE NOT refund GROUP BY customer, category"""
            ).df()
    return customers, by_category


def _numpy(
    events: pd.DataFrame, cutoff_day: int, categories: bool, ordered: dict[str, np.ndarray]
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Dense-code sums with ``np.bincount``. Its float64 sums of whole numbers are exact below
    2**53 (90 billion in cents) and run in a fixed order, so they equal the integer sums."""
    cutoff = cutoff_day * SECONDS_PER_DAY
    customer = events["customer"].to_numpy()
    size = int(customer.max()) + 1 if len(customer) else 0
    refund = events["refund"].to_numpy()
    t_all = events["t"].to_numpy()
    purchase = ~refund
    c = customer[purchase]
    t = t_all[purchase]
    cents = events["cents"].to_numpy()[purchase].astype(np.float64)

    def total(weights: np.ndarray | None = None) -> np.ndarray:
        return np.bincount(c, weights=weights, minlength=size)

    out: dict[str, np.ndarray] = {
        "n_purchases": np.bincount(c, minlength=size),
        "n_refunds": np.bincount(customer[refund], minlength=size),
        "spend": total(cents),
    }
    first_any = np.where(out["n_purchases"] > 0, ordered["first_p"], np.iinfo(np.int64).max)
    np.minimum.at(first_any, customer[refund], t_all[refund])
    out["first_any"] = first_any
    out["first_p"] = pd.array(np.where(out["n_purchases"] > 0, ordered["first_p"], 0), dtype="Int64")
    out["last_p"] = pd.array(np.where(out["n_purchases"] > 0, ordered["last_p"], 0), dtype="Int64")
    out["first_p"][out["n_purchases"] == 0] = pd.NA
    out["last_p"][out["n_purchases"] == 0] = pd.NA
    age = (cutoff - t) / (SECONDS_PER_DAY * DECAY_HALF_LIFE_DAYS)
    out["decayed"] = total(np.floor(cents * DECAY_UNITS * 0.5**age + 0.5))
    for w in WINDOWS:
        inside = (t >= cutoff - w * SECONDS_PER_DAY).astype(np.float64)
        out[f"w{w}_spend"] = total(cents * inside)
        out[f"w{w}_n"] = total(inside)
    quarter = (events["m"].to_numpy()[purchase] % 12) // 3
    by_quarter = np.bincount(c * 4 + quarter, weights=cents, minlength=size * 4).reshape(size, 4)
    for q in range(1, 5):
        out[f"q{q}"] = by_quarter[:, q - 1]
    present = np.flatnonzero(out["n_purchases"] + out["n_refunds"] > 0)
    customers = pd.DataFrame({"customer": present, **{k: v[present] for k, v in out.items()}})

    by_category = None
    if categories:
        category = events["category"].to_numpy()[purchase].astype(np.int64)
        width = int(category.max()) + 1 if len(category) else 1
        key = c.astype(np.int64) * width + category
        if size * width <= DENSE_CELLS:
            n = np.bincount(key, minlength=size * width)
            cells = np.flatnonzero(n)
            spent = np.bincount(key, weights=cents, minlength=size * width)[cells]
            n = n[cells]
        else:
            cells, inverse = np.unique(key, return_inverse=True)
            n = np.bincount(inverse)
            spent = np.bincount(inverse, weights=cents)
        by_category = pd.DataFrame(
            {"customer": cells // width, "category": cells % width, "cents": spent, "n": n}
        )
    return customers[list(COLUMNS)], by_category


def _pandas(
    events: pd.DataFrame, cutoff_day: int, categories: bool
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    cutoff = cutoff_day * SECONDS_PER_DAY
    refund = events["refund"].to_numpy()
    base = events.groupby("customer", sort=True).agg(first_any=("t", "min"), n_refunds=("refund", "sum"))
    p = events.loc[~refund]
    t = p["t"].to_numpy()
    cents = p["cents"].to_numpy()
    age = (cutoff - t) / (SECONDS_PER_DAY * DECAY_HALF_LIFE_DAYS)
    columns = {"customer": p["customer"].to_numpy(), "t": t, "cents": cents}
    # Round half away from zero, as DuckDB does (NumPy rounds half to even).
    columns["decayed"] = np.floor(cents * DECAY_UNITS * 0.5**age + 0.5).astype(np.int64)
    for w in WINDOWS:
        inside = t >= cutoff - w * SECONDS_PER_DAY
        columns[f"w{w}_spend"] = np.where(inside, cents, 0)
        columns[f"w{w}_n"] = inside.astype(np.int64)
    quarter = (p["m"].to_numpy() % 12) // 3
    for q in range(1, 5):
        columns[f"q{q}"] = np.where(quarter == q - 1, cents, 0)
    frame = pd.DataFrame(columns)
    grouped = frame.groupby("customer", sort=True)
    sums = grouped[[c for c in columns if c not in ("customer", "t", "cents")]].sum()
    purchases = grouped.agg(
        n_purchases=("t", "size"), spend=("cents", "sum"), first_p=("t", "min"), last_p=("t", "max")
    )
    customers = base.join(purchases.join(sums), how="left").reset_index()
    for column in customers.columns:
        if column not in ("customer", "first_p", "last_p"):
            customers[column] = customers[column].fillna(0)
    by_category = None
    if categories:
        by_category = (
            events.loc[~refund]
            .groupby(["customer", "category"], sort=True)["cents"]
            .agg(cents="sum", n="size")
            .reset_index()
        )
    return customers[list(COLUMNS)], by_category


def _integers(customers: pd.DataFrame) -> pd.DataFrame:
    """Counts and sums as int64 (gap_sq float64); first/last purchase as nullable Int64."""
    out = customers.copy()
    for column in out.columns:
        if column in ("first_p", "last_p"):
            out[column] = out[column].astype("Int64")
        elif column == "customer":
            out[column] = out[column].astype(np.int32)
        elif column != "gap_sq":
            out[column] = out[column].astype(np.int64)
    return out
