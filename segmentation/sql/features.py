"""Compile the transaction-to-feature step into SQL, so a scorer reads a raw transaction log.

:func:`compile_transaction_scorer` returns one ``SELECT`` over a table ``transactions`` with the
log's own column names: CTEs clean the log and compute, as of the version's date (written into
the SQL as a literal), the engineered features the fitted model reads, and feed them to the
model scorer of :mod:`segmentation.sql.scorer`. The arithmetic is that of
:mod:`segmentation.data.transactions`, :mod:`segmentation.data.aggregate` and
:mod:`segmentation.data.features`, in the same order:

* amounts become whole cents with NumPy's rounding (half to even) written as comparisons with
  ``FLOOR``; times are whole seconds (``BIGINT``); every count and sum over them is an integer
  sum, so the database's summation order cannot change a value;
* each feature is then the same IEEE double division (or ``SQRT``) of those integers that
  Python performs; ``decayed_spend`` rounds ``cents * 1000 * POWER(0.5, age)`` per event, the
  C library's ``pow`` NumPy calls too; ``category_entropy`` rounds each term
  ``-(p * (LN(p) / ln 2))`` to a multiple of 2**-44 bits, so its sum is exact in any order.
  (Spark's ``POWER`` and ``LN`` are Java's fdlibm, a last bit away from the C library's now and
  then; the rounding to whole units absorbs that unless a value sits on a rounding boundary.)

* ``affinity_k`` projects each customer's spend shares onto the SVD components fitted with the
  version (stored in its metrics as ``affinity``), summed category by category in sorted order
  as :func:`segmentation.data.features._affinity` does; a category unseen at fitting counts for 0.

Not compiled (the caller falls back to a scorer over a feature table, and says so): the
affinity features of a version without a stored projection (made before it was stored), and
models that cluster carried attribute columns.

Differences from Python a client should know: ids and categories are trimmed of spaces only;
timestamps are read as UTC (PostgreSQL ``timestamp`` without time zone; ISO text in SQLite;
in Spark a ``TIMESTAMP`` column whatever the session's time zone, text or ``TIMESTAMP_NTZ`` in
the session's zone, which must then be UTC);
``drop_duplicates`` removes rows identical in every column (``SELECT DISTINCT *``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

import sqlglot
from sqlglot import exp

from ..data.aggregate import DECAY_HALF_LIFE_DAYS, DECAY_UNITS, SECONDS_PER_DAY, WINDOWS
from ..data.features import ENTROPY_BITS, LN2
from ..data.missing import MISSING_TOKENS
from ..data.transactions import NO_CATEGORY
from ..errors import SegmentationError
from ..model.artefact import AnyModel, as_segmentation_model
from ..spec import SegmentationSpec
from .literals import double, sqlglot_dialect
from .scorer import compile_scorer

Affinity = Mapping[str, Any]  # {"categories": [name, ...], "components": [[c, ...], ...]}
EPOCH = dt.date(1970, 1, 1)
TABLE = "transactions"
FEATURES_CTE = "_seg_features"
INDICATORS = ("no_purchases", "interval_missing", "momentum_missing", "no_spend")
# Features computed below, in SQL, exactly as in Python.
COMPILED = frozenset(
    {
        "recency_days",
        "frequency",
        "monetary_total",
        "monetary_mean",
        "refund_rate",
        "tenure_days",
        "active_months",
        "interval_mean_days",
        "interval_std_days",
        "decayed_spend",
        *[f"{kind}_{w}d" for w in WINDOWS for kind in ("spend", "count")],
        "momentum_90d",
        "q4_share",
        "top_quarter_share",
        "category_count",
        "category_entropy",
        *INDICATORS,
    }
)


def _affinity_names(affinity: Affinity | None) -> set[str]:
    return {f"affinity_{i + 1}" for i in range(len(affinity["components"]))} if affinity else set()


def unsupported_features(model: AnyModel, affinity: Affinity | None = None) -> list[str]:
    """The features the model reads that this module cannot compute in SQL (empty: it can).

    ``affinity`` is the version's stored projection (``metrics["affinity"]``); without it the
    ``affinity_*`` features cannot be computed."""
    pre = as_segmentation_model(model).preprocessor
    known = COMPILED | _affinity_names(affinity)
    names = [c.name for c in pre.numeric if c.name not in known]
    return names + [c.name for c in pre.categorical]


def _q(name: str) -> str:
    """An identifier in DuckDB syntax (the template's dialect), quoted."""
    return '"' + name.replace('"', '""') + '"'


def _d(value: float | int) -> str:
    """A constant as a double: exact for the small integers and halves used here."""
    return f"CAST({value!r} AS DOUBLE)"


def _affinity_sql(affinity: Affinity | None) -> tuple[str, str, str, str]:
    """(CTEs, join, feature columns, joined columns) projecting shares onto the components;
    ``SEG_CONST(i)`` stands for the i-th constant of :func:`_affinity_constants`."""
    if not affinity:
        return "", "", "", ""
    names = affinity["categories"]
    pivot = ", ".join(
        f"SUM(CASE WHEN cat = '{str(name).replace(chr(39), chr(39) * 2)}' THEN share ELSE {_d(0)} END) AS s{j}"
        for j, name in enumerate(names)
    )
    constant = 0
    sums = []
    for i, _row in enumerate(affinity["components"]):
        total = _d(0)
        for j in range(len(names)):
            total = f"({total} + s{j} * SEG_CONST({constant}))"
            constant += 1
        sums.append(f"{total} AS a{i}")
    ctes = (
        f", _seg_pivot AS (SELECT cid, {pivot} FROM _seg_shares GROUP BY cid)"
        f", _seg_affinity AS (SELECT cid, {', '.join(sums)} FROM _seg_pivot)"
    )
    count = len(affinity["components"])
    columns = "".join(
        f"CASE WHEN spend > 0 THEN a{i} END AS {_q(f'affinity_{i + 1}')},\n" for i in range(count)
    )
    joined = "".join(f", f.a{i} AS a{i}" for i in range(count))
    return ctes, "LEFT JOIN _seg_affinity AS f ON c.cid = f.cid", columns, joined


def _affinity_constants(affinity: Affinity | None) -> list[float]:
    return [float(c) for row in affinity["components"] for c in row] if affinity else []


def _template(spec: SegmentationSpec, cutoff_day: int, with_category: bool, affinity: Affinity | None) -> str:
    ident, ts = _q(spec.id_column), _q(spec.timestamp_column or "")
    if spec.amount_column:
        amount = f"CAST({_q(spec.amount_column)} AS DOUBLE)"
        negative = f"{amount} < 0"
        if spec.quantity_column:
            negative += f" OR CAST({_q(spec.quantity_column)} AS DOUBLE) < 0"
    else:
        quantity = f"CAST({_q(spec.quantity_column or '')} AS DOUBLE)"
        price = f"CAST({_q(spec.unit_price_column or '')} AS DOUBLE)"
        amount, negative = f"{quantity} * {price}", f"{quantity} < 0 OR {price} < 0"
    source = f"(SELECT DISTINCT * FROM {TABLE})" if spec.drop_duplicates else TABLE
    category = "''"
    if with_category and spec.category_column:
        category = f"COALESCE(NULLIF(TRIM(CAST({_q(spec.category_column)} AS TEXT)), ''), '{NO_CATEGORY}')"
    affinity_ctes, affinity_join, affinity_columns, affinity_joined = _affinity_sql(affinity)
    cutoff = cutoff_day * SECONDS_PER_DAY
    decay_seconds = SECONDS_PER_DAY * DECAY_HALF_LIFE_DAYS
    p = "r = 0"  # a purchase
    windows = ",\n".join(
        f"SUM(CASE WHEN {p} AND t >= {cutoff - w * SECONDS_PER_DAY} THEN cents ELSE 0 END) AS w{w}_spend, "
        f"SUM(CASE WHEN {p} AND t >= {cutoff - w * SECONDS_PER_DAY} THEN 1 ELSE 0 END) AS w{w}_n"
        for w in WINDOWS
    )
    quarters = ",\n".join(
        f"SUM(CASE WHEN {p} AND mon BETWEEN {3 * q + 1} AND {3 * q + 3} THEN cents ELSE 0 END) AS q{q + 1}"
        for q in range(4)
    )
    day = f"FLOOR(CAST(last_p AS DOUBLE) / {_d(SECONDS_PER_DAY)})"
    first_day = f"FLOOR(CAST(first_any AS DOUBLE) / {_d(SECONDS_PER_DAY)})"
    mean_gap = "(CAST(last_p - first_p AS DOUBLE) / CAST(n - 1 AS DOUBLE))"
    mean_square = "(CAST(gap_sq AS DOUBLE) / CAST(n - 1 AS DOUBLE))"
    mean = "(CAST(spend AS DOUBLE) / CAST(n AS DOUBLE))"
    half = _d(0.5)
    scale = _d(2**ENTROPY_BITS)
    # An id written NA, null, None or - is no customer, as in the pandas cleaning.
    missing_ids = ", ".join(f"'{token}'" for token in sorted(MISSING_TOKENS))
    feature_windows = ",\n".join(
        f"CAST(w{w}_spend AS DOUBLE) / {_d(100)} AS {_q(f'spend_{w}d')}, "
        f"CAST(w{w}_n AS DOUBLE) AS {_q(f'count_{w}d')}"
        for w in WINDOWS
    )
    return f"""
WITH _seg_rows AS (
  SELECT TRIM(CAST({ident} AS TEXT)) AS cid, SEG_EPOCH({ts}) AS t,
         SEG_YEAR({ts}) * 12 + SEG_MONTH({ts}) AS m, SEG_MONTH({ts}) AS mon,
         ABS({amount}) * {_d(100)} AS v, CASE WHEN {negative} THEN 1 ELSE 0 END AS r, {category} AS cat
  FROM {source} AS _seg_log
  WHERE {ident} IS NOT NULL AND {ts} IS NOT NULL AND ({amount}) IS NOT NULL
), _seg_floored AS (
  SELECT cid, t, m, mon, r, cat, v, FLOOR(v) AS f FROM _seg_rows WHERE LOWER(cid) NOT IN ({missing_ids}) AND t < {cutoff}
), _seg_events AS (
  SELECT cid, t, m, mon, r, cat,
         CAST(CASE WHEN v - f > {half} THEN f + 1 WHEN v - f < {half} THEN f
                   WHEN f - 2 * FLOOR(f / 2) = 0 THEN f ELSE f + 1 END AS BIGINT) AS cents
  FROM _seg_floored
), _seg_gaps AS (
  SELECT cid, t - LAG(t) OVER (PARTITION BY cid ORDER BY t) AS g FROM _seg_events WHERE {p}
), _seg_gap_sums AS (
  SELECT cid, SUM(g * g) AS gap_sq FROM _seg_gaps GROUP BY cid
), _seg_customers AS (
  SELECT e.cid AS cid,
         SUM(CASE WHEN {p} THEN 1 ELSE 0 END) AS n, SUM(r) AS n_refunds,
         SUM(CASE WHEN {p} THEN cents ELSE 0 END) AS spend,
         MIN(t) AS first_any, MIN(CASE WHEN {p} THEN t END) AS first_p, MAX(CASE WHEN {p} THEN t END) AS last_p,
         SUM(CASE WHEN {p} THEN FLOOR(CAST(cents AS DOUBLE) * {_d(DECAY_UNITS)}
             * POWER({half}, CAST({cutoff} - t AS DOUBLE) / {_d(decay_seconds)}) + {half}) ELSE {_d(0)} END)
             AS decayed,
         {windows},
         {quarters},
         COUNT(DISTINCT CASE WHEN {p} THEN m END) AS months,
         COUNT(DISTINCT CASE WHEN {p} THEN cat END) AS categories
  FROM _seg_events AS e GROUP BY e.cid
), _seg_by_category AS (
  SELECT cid, cat, SUM(cents) AS cents FROM _seg_events WHERE {p} GROUP BY cid, cat
), _seg_shares AS (
  SELECT b.cid AS cid, b.cat AS cat, CASE WHEN k.spend > 0 THEN CAST(b.cents AS DOUBLE) / CAST(k.spend AS DOUBLE)
                            ELSE {_d(0)} END AS share
  FROM _seg_by_category AS b JOIN _seg_customers AS k ON b.cid = k.cid
), _seg_entropy AS (
  SELECT cid, SUM(CASE WHEN share > 0 THEN CAST(FLOOR(-(share * (LN(share) / SEG_LN2())) * {scale} + {half})
                                           AS BIGINT) ELSE 0 END) AS entropy
  FROM _seg_shares GROUP BY cid
){affinity_ctes}, _seg_joined AS (
  SELECT c.*, COALESCE(s.gap_sq, 0) AS gap_sq, COALESCE(h.entropy, 0) AS entropy{affinity_joined}
  FROM _seg_customers AS c LEFT JOIN _seg_gap_sums AS s ON c.cid = s.cid
  LEFT JOIN _seg_entropy AS h ON c.cid = h.cid {affinity_join}
), {FEATURES_CTE} AS (
  SELECT cid AS "customer_id",
    CASE WHEN n > 0 THEN {_d(cutoff_day)} - {day} END AS "recency_days",
    CAST(n AS DOUBLE) AS "frequency",
    CAST(spend AS DOUBLE) / {_d(100)} AS "monetary_total",
    CASE WHEN n > 0 THEN (CASE WHEN {mean} - FLOOR({mean}) > {half} THEN FLOOR({mean}) + 1
                               WHEN {mean} - FLOOR({mean}) < {half} THEN FLOOR({mean})
                               WHEN FLOOR({mean}) - 2 * FLOOR(FLOOR({mean}) / 2) = 0 THEN FLOOR({mean})
                               ELSE FLOOR({mean}) + 1 END) / {_d(100)} END AS "monetary_mean",
    CAST(n_refunds AS DOUBLE) / CAST(n + n_refunds AS DOUBLE) AS "refund_rate",
    {_d(cutoff_day)} - {first_day} AS "tenure_days",
    CAST(months AS DOUBLE) AS "active_months",
    CASE WHEN n > 1 THEN {mean_gap} / {_d(SECONDS_PER_DAY)} END AS "interval_mean_days",
    CASE WHEN n > 1 THEN SQRT(GREATEST({mean_square} - {mean_gap} * {mean_gap}, {_d(0)}))
         / {_d(SECONDS_PER_DAY)} END AS "interval_std_days",
    CAST(decayed AS DOUBLE) / {_d(DECAY_UNITS * 100)} AS "decayed_spend",
    {feature_windows},
    CASE WHEN w180_spend > 0 THEN CAST(w90_spend - (w180_spend - w90_spend) AS DOUBLE)
         / CAST(w180_spend AS DOUBLE) END AS "momentum_90d",
    CASE WHEN spend > 0 THEN CAST(q4 AS DOUBLE) / CAST(spend AS DOUBLE) END AS "q4_share",
    CASE WHEN spend > 0 THEN CAST(GREATEST(q1, q2, q3, q4) AS DOUBLE) / CAST(spend AS DOUBLE) END
      AS "top_quarter_share",
    CAST(categories AS DOUBLE) AS "category_count",
    CASE WHEN spend > 0 THEN CAST(entropy AS DOUBLE) / {scale} END AS "category_entropy",
    {affinity_columns}
    CASE WHEN n = 0 THEN 1 ELSE 0 END AS "no_purchases",
    CASE WHEN n < 2 THEN 1 ELSE 0 END AS "interval_missing",
    CASE WHEN w180_spend = 0 THEN 1 ELSE 0 END AS "momentum_missing",
    CASE WHEN spend = 0 THEN 1 ELSE 0 END AS "no_spend"
  FROM _seg_joined
)
SELECT * FROM {FEATURES_CTE}
"""


def _time_functions(dialect: str) -> dict[str, Callable[[exp.Expression], exp.Expression]]:
    """Epoch seconds (floored), year and month of a timestamp column, per dialect."""
    bigint = exp.DataType.build("bigint")

    def whole(value: exp.Expression) -> exp.Expression:
        return exp.cast(exp.Floor(this=value), bigint)

    if dialect == "sqlite":  # ISO text; strftime reads it (and converts an offset to UTC)

        def strftime(fmt: str) -> Callable[[exp.Expression], exp.Expression]:
            return lambda ts: exp.cast(
                exp.Anonymous(this="STRFTIME", expressions=[exp.Literal.string(fmt), ts]), bigint
            )

        return {"SEG_EPOCH": strftime("%s"), "SEG_YEAR": strftime("%Y"), "SEG_MONTH": strftime("%m")}
    if dialect in ("spark", "databricks"):
        return _spark_time_functions()
    epoch: dict[str, Callable[[exp.Expression], exp.Expression]] = {
        "postgresql": lambda ts: whole(exp.Extract(this=exp.var("EPOCH"), expression=ts)),
        "duckdb": lambda ts: whole(exp.Anonymous(this="EPOCH", expressions=[ts])),
        "snowflake": lambda ts: exp.cast(exp.Extract(this=exp.var("EPOCH_SECOND"), expression=ts), bigint),
        "bigquery": lambda ts: exp.UnixSeconds(this=exp.cast(ts, exp.DataType.build("timestamp"))),
    }
    return {
        "SEG_EPOCH": epoch[dialect],
        "SEG_YEAR": lambda ts: exp.cast(exp.Extract(this=exp.var("YEAR"), expression=ts), bigint),
        "SEG_MONTH": lambda ts: exp.cast(exp.Extract(this=exp.var("MONTH"), expression=ts), bigint),
    }


def _spark_time_functions() -> dict[str, Callable[[exp.Expression], exp.Expression]]:
    """Spark's ``TIMESTAMP`` is an instant: ``UNIX_SECONDS`` reads it without the session time
    zone, and year and month come from the UTC day number (``DATE_FROM_UNIX_DATE``) rather than
    ``EXTRACT``, which would read them in the session's zone. Text and ``TIMESTAMP_NTZ`` columns
    are cast to ``TIMESTAMP`` in the session's zone, so those need a session in UTC."""

    def epoch(ts: exp.Expression) -> exp.Expression:
        return exp.UnixSeconds(this=exp.cast(ts, exp.DataType.build("timestamp")))

    def utc_date(ts: exp.Expression) -> exp.Expression:
        # FLOOR, not integer division, so a day before 1970 is the day before, as in Python.
        day = exp.Floor(this=exp.Div(this=epoch(ts), expression=exp.Literal.number(SECONDS_PER_DAY)))
        return exp.Anonymous(
            this="DATE_FROM_UNIX_DATE", expressions=[exp.cast(day, exp.DataType.build("int"))]
        )

    bigint = exp.DataType.build("bigint")
    return {
        "SEG_EPOCH": epoch,
        "SEG_YEAR": lambda ts: exp.cast(exp.Extract(this=exp.var("YEAR"), expression=utc_date(ts)), bigint),
        "SEG_MONTH": lambda ts: exp.cast(exp.Extract(this=exp.var("MONTH"), expression=utc_date(ts)), bigint),
    }


def feature_ctes(
    spec: SegmentationSpec, as_of: dt.date, dialect: str, affinity: Affinity | None = None
) -> list[tuple[str, exp.Select]]:
    """The CTEs ``(name, select)`` computing the features from ``transactions``; the last,
    ``_seg_features``, has ``customer_id`` and every feature of :data:`COMPILED`."""
    sqlglot_dialect(dialect)  # refuses an unknown dialect
    if not spec.timestamp_column:
        raise SegmentationError("a transaction scorer needs the spec's 'timestamp_column'")
    if affinity and not spec.category_column:
        raise SegmentationError("the affinity features need the spec's 'category_column'")
    template = _template(spec, (as_of - EPOCH).days, bool(spec.category_column), affinity)
    tree = sqlglot.parse_one(template, read="duckdb")
    constants = _affinity_constants(affinity)
    functions = _time_functions(dialect)

    def replace(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Anonymous) and str(node.this).upper() == "SEG_CONST":
            return double(constants[int(node.expressions[0].this)], dialect)
        if isinstance(node, exp.Anonymous) and str(node.this).upper() == "SEG_LN2":
            return double(LN2, dialect)
        if isinstance(node, exp.Anonymous) and str(node.this).upper() in functions:
            return functions[str(node.this).upper()](node.expressions[0])
        return node

    tree = tree.transform(replace, copy=False)
    return [(cte.alias, cte.this) for cte in tree.args["with_"].expressions]


def compile_transaction_scorer(
    model: AnyModel,
    dialect: str,
    *,
    spec: SegmentationSpec,
    as_of: dt.date,
    affinity: Affinity | None = None,
) -> str:
    """One SQL ``SELECT`` labelling every customer of the table ``transactions`` (the log's own
    column names) with an event before ``as_of``, as ``manage.py segment`` labels them.
    ``affinity`` is the version's stored projection, needed when the model reads ``affinity_*``.

    Raises :class:`SegmentationError` when the model reads a feature not compiled to SQL
    (see :func:`unsupported_features`) or for an unknown dialect.
    """
    missing = unsupported_features(model, affinity)
    if missing:
        raise SegmentationError(
            f"cannot compile the feature(s) {', '.join(missing)} to SQL; score a feature table instead"
        )
    uses_affinity = any(n.startswith("affinity_") for n in as_segmentation_model(model).features)
    ctes = feature_ctes(spec, as_of, dialect, affinity if uses_affinity else None)
    return compile_scorer(model, dialect, table=FEATURES_CTE, sources=ctes)
