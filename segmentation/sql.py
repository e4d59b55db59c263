"""Compile a fitted :class:`~segmentation.model.CentroidModel` into one SQL ``SELECT``.

The statement evaluates exactly the arithmetic documented in :mod:`segmentation.model`, in the
same order and in IEEE double precision, so a database labels every row exactly as
:meth:`CentroidModel.predict` does. It is built as a sqlglot expression tree and generated
for each dialect by sqlglot; nothing here is written as dialect-specific text.

Portability details the statement takes care of:

* every input column is quoted and cast to a double before any arithmetic, so NUMERIC or
  INTEGER columns compute exactly like floats in Python;
* NULL (and NaN, where the engine can store it) is missing and takes the fill value;
* the raw value is clipped by comparison before any arithmetic, so +/-Infinity and huge
  values map to the bounds, as ``np.clip`` does, and nothing overflows;
* PostgreSQL raises an error when a division or product of non-zero doubles underflows to
  zero; where that can happen the statement yields the zero itself first;
* constants are written so every engine reads back the very same double (see
  :func:`literal_sql`);
* ties go to the lowest label, like ``numpy.argmin``.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from decimal import Decimal

from sqlglot import exp

from .errors import SegmentationError
from .model import CentroidModel

DIALECTS = ("postgresql", "sqlite", "duckdb", "snowflake", "bigquery")
_SQLGLOT_NAME = {"postgresql": "postgres"}
_DOUBLE = exp.DataType.build("double")
_MATERIALIZED = ("postgresql", "sqlite", "duckdb")  # dialects with WITH ... AS MATERIALIZED
# Largest power of two written as an integer literal (fits a signed 64-bit integer).
_POW2_STEP = 62


def _smallest_positive(predicate: Callable[[float], bool]) -> float:
    """The smallest positive finite double ``u`` with ``predicate(u)``; predicate is monotone."""
    lo, hi = 1, 0x7FEFFFFFFFFFFFFF  # bit patterns of 5e-324 and of the largest finite double

    def of(bits: int) -> float:
        return float(struct.unpack("<d", struct.pack("<Q", bits))[0])

    while lo < hi:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if predicate(of(mid)) else (mid + 1, hi)
    return of(lo)


# |d| below this makes d*d round to exactly 0 (PostgreSQL: "value out of range: underflow").
_SQUARE_NONZERO = _smallest_positive(lambda u: u * u != 0.0)
# For a centroid coordinate at least this large, z - c is either exactly 0 or at least 2**-533
# (Sterbenz: close doubles differ by a multiple of their ulp), so its square never underflows.
_NO_UNDERFLOW_COORDINATE = 2.0**-480


def _sqlglot_dialect(dialect: str) -> str:
    if dialect not in DIALECTS:
        raise SegmentationError(
            f"unknown SQL dialect {dialect!r}; accepted dialects are: {', '.join(DIALECTS)}"
        )
    return _SQLGLOT_NAME.get(dialect, dialect)


def _number(text: str) -> exp.Literal:
    # Built directly: exp.Literal.number() re-formats negative numbers through Decimal.
    return exp.Literal(this=text, is_string=False)


def _double(value: float, dialect: str) -> exp.Expression:
    """An expression that evaluates to exactly the finite double ``value`` in ``dialect``."""
    if not math.isfinite(value):
        raise SegmentationError(f"cannot write the non-finite constant {value!r} in SQL")
    if dialect == "sqlite":
        # SQLite's decimal parser (3.40) is not correctly rounded; an integer times or over
        # powers of two is exact. Each intermediate value lies between the mantissa and the
        # result, so it is representable and no step rounds.
        fraction, exponent = math.frexp(abs(value))
        mantissa, exponent = int(fraction * 2.0**53), exponent - 53
        while mantissa and mantissa % 2 == 0:
            mantissa, exponent = mantissa // 2, exponent + 1
        sign = math.copysign(1.0, value) < 0 and mantissa > 0
        integer = _number(str(mantissa))
        node: exp.Expression = exp.cast(exp.Neg(this=integer) if sign else integer, _DOUBLE)
        while exponent and mantissa:
            step = min(_POW2_STEP, abs(exponent))
            factor = _number(str(2**step))
            node = (
                exp.Mul(this=node, expression=factor)
                if exponent > 0
                else exp.Div(this=node, expression=factor, typed=True)
            )
            exponent += -step if exponent > 0 else step
        return exp.paren(node) if isinstance(node, exp.Binary) else node
    # Shortest round-trip digits in scientific notation: every other engine parses this
    # correctly rounded as a double (DuckDB would read a plain decimal as DECIMAL first, and
    # PostgreSQL reads it as NUMERIC, which the cast then converts exactly).
    text = format(Decimal(repr(abs(value))).normalize(), "e")
    literal: exp.Expression = _number(text)
    if math.copysign(1.0, value) < 0 and value != 0:
        literal = exp.Neg(this=literal)
    return exp.cast(literal, _DOUBLE)


def literal_sql(value: float, dialect: str) -> str:
    """SQL text for the finite double ``value`` that ``dialect`` reads back bit for bit.

    PostgreSQL, DuckDB, Snowflake and BigQuery get a cast of a scientific-notation literal
    with the shortest round-trip digits, e.g. ``CAST(1.2345e-1 AS DOUBLE)``; SQLite gets an
    exact integer mantissa scaled by powers of two, e.g. ``(CAST(3 AS REAL) / 2)``.
    """
    return _double(value, dialect).sql(dialect=_sqlglot_dialect(dialect))


def _quoted(name: str) -> exp.Column:
    return exp.column(exp.to_identifier(name, quoted=True))


def _is_missing(x: exp.Expression, dialect: str) -> exp.Expression:
    """NULL, or NaN where the engine can store it (Python treats NaN as missing)."""
    if dialect == "sqlite":  # SQLite stores NaN as NULL
        return exp.Is(this=x, expression=exp.Null())
    if dialect == "bigquery":  # IEEE comparisons: NaN equals nothing
        nan: exp.Expression = exp.IsNan(this=x)
    else:  # PostgreSQL, DuckDB and Snowflake hold NaN equal to NaN
        nan = exp.EQ(this=x, expression=exp.cast(exp.Literal.string("NaN"), _DOUBLE))
    return exp.or_(exp.Is(this=x, expression=exp.Null()), nan)


def _bounds(model: CentroidModel, j: int) -> tuple[float, float, float]:
    """Effective ``(lower, upper, clipped fill)``; ``np.clip`` yields ``upper`` when lower > upper."""
    upper = model.upper[j]
    lower = min(model.lower[j], upper)
    return lower, upper, min(max(model.fill_values[j], lower), upper)


def _check_constants(model: CentroidModel) -> None:
    """Refuse models whose SQL could overflow a double, where PostgreSQL would raise an error.

    Every step is monotone in the clipped input, so evaluating the worst case at the bounds,
    with the same rounding, bounds every value the SQL can compute.
    """
    per_feature = (model.fill_values, model.lower, model.upper, model.centers, model.scales)
    values = [v for group in per_feature for v in group] + [c for r in model.centroids for c in r]
    if not all(math.isfinite(v) for v in values):
        raise SegmentationError("cannot compile a model with missing or infinite constants to SQL")
    worst = [0.0] * model.n_segments
    for j in range(len(model.features)):
        lower, upper, _ = _bounds(model, j)
        ends = [(b - model.centers[j]) / model.scales[j] for b in (lower, upper)]
        for k, centroid in enumerate(model.centroids):
            worst[k] = worst[k] + max((z - centroid[j]) * (z - centroid[j]) for z in ends)
    if not all(math.isfinite(w) for w in worst):
        raise SegmentationError(
            "cannot compile this model to SQL: its clipping bounds are so wide that a distance "
            "could overflow a double"
        )


def _guarded(value: exp.Expression, threshold: float, result: exp.Expression, dialect: str) -> exp.Case:
    """``CASE WHEN ABS(value) < threshold THEN 0 ELSE result END``."""
    small = exp.LT(this=exp.Abs(this=value), expression=_double(threshold, dialect))
    return exp.Case().when(small, _double(0.0, dialect)).else_(result)


def compile_scorer(model: CentroidModel, dialect: str, *, table: str = "customers") -> str:
    """One SQL ``SELECT`` that labels every row of ``table`` exactly as ``model.predict`` does.

    ``table`` is a table reference in the target dialect (it may be qualified, e.g.
    ``analytics.customers``) whose columns carry the model's input names; numbers are in
    numeric columns and blank cells are NULL. The statement returns the columns
    ``customer_id`` (the model's ``id_column``, unchanged), ``segment`` (the 0-based integer
    label) and ``segment_name``, in no particular order.

    Raises :class:`SegmentationError` for a dialect not in :data:`DIALECTS`, for a model with
    non-finite constants, or for one whose bounds could make a distance overflow.
    """
    glot = _sqlglot_dialect(dialect)
    _check_constants(model)
    try:
        source_table = exp.to_table(table, dialect=glot)
    except Exception as error:  # sqlglot raises its own ParseError types
        raise SegmentationError(f"cannot read {table!r} as a table name: {error}") from None
    n, k_count = len(model.features), model.n_segments
    cid = _quoted("customer_id")

    def named(expression: exp.Expression, name: str) -> exp.Alias:
        return exp.alias_(expression, name, quoted=True)

    def const(value: float) -> exp.Expression:
        return _double(value, dialect)

    # 1. read: quoted input names, cast to double.
    read = exp.select(
        named(_quoted(model.id_column), "customer_id"),
        *(named(exp.cast(_quoted(f), _DOUBLE), f"x{j}") for j, f in enumerate(model.features)),
    ).from_(source_table)

    # 2-3. fill missing, then clip by comparison (before any arithmetic, so inf maps to a bound).
    prepared = []
    for j in range(n):
        x, (lower, upper, fill) = _quoted(f"x{j}"), _bounds(model, j)
        case = exp.Case().when(_is_missing(x, dialect), const(fill))
        case = case.when(exp.GT(this=x, expression=const(upper)), const(upper))
        case = case.when(exp.LT(this=x, expression=const(lower)), const(lower))
        prepared.append(named(case.else_(x), f"p{j}"))

    # 4. z = (x - center) / scale, yielding 0 itself where the quotient underflows to 0.
    standardised = []
    for j in range(n):
        scale = model.scales[j]
        offset = exp.paren(exp.Sub(this=_quoted(f"p{j}"), expression=const(model.centers[j])))
        z: exp.Expression = exp.Div(this=offset, expression=const(scale), typed=True)
        threshold = _smallest_positive(lambda u, s=scale: u / s != 0.0)
        if threshold > 5e-324:
            z = _guarded(offset, threshold, z, dialect)
        standardised.append(named(z, f"z{j}"))

    # 5. squared distances, summed left to right from the first feature.
    distances = []
    for k, centroid in enumerate(model.centroids):
        total: exp.Expression | None = None
        for j, c in enumerate(centroid):
            diff = exp.paren(exp.Sub(this=_quoted(f"z{j}"), expression=const(c)))
            term: exp.Expression = exp.paren(exp.Mul(this=diff, expression=diff.copy()))
            if abs(c) < _NO_UNDERFLOW_COORDINATE:
                term = _guarded(diff, _SQUARE_NONZERO, term, dialect)
            total = term if total is None else exp.Add(this=total, expression=term)
        distances.append(named(total if total is not None else const(0.0), f"d{k}"))

    # 6. the first centroid with the smallest distance.
    label: exp.Expression = exp.Literal.number(k_count - 1)
    if k_count > 1:
        case = exp.Case()
        for k in range(k_count - 1):
            d = _quoted(f"d{k}")
            nearest = [exp.LTE(this=d, expression=_quoted(f"d{o}")) for o in range(k + 1, k_count)]
            case = case.when(exp.and_(*nearest), exp.Literal.number(k))
        label = case.else_(label)

    segment = _quoted("segment")
    name = exp.Case(this=segment)
    for k, segment_name in enumerate(model.segment_names):
        name = name.when(exp.Literal.number(k), exp.Literal.string(segment_name))

    # Each step is a CTE that its successor reads by name. Every step refers to its inputs
    # several times, so a planner that inlined the steps into each other (PostgreSQL and
    # SQLite flatten subqueries) would grow the expression exponentially: where the dialect
    # has it, MATERIALIZED keeps each step a computed-once relation.
    steps = [
        ("_seg_prepared", prepared, read.subquery(exp.to_identifier("_seg_input", True))),
        ("_seg_standardised", standardised, None),
        ("_seg_distances", distances, None),
        ("_seg_labels", [named(label, "segment")], None),
    ]
    final = exp.select(cid, segment, named(name, "segment_name"))
    source: exp.Expression | None = None
    for cte_name, columns, start in steps:
        body = exp.select(cid, *columns).from_(start if start is not None else source)
        final = final.with_(
            exp.to_identifier(cte_name, True), as_=body, materialized=dialect in _MATERIALIZED or None
        )
        source = exp.to_table(exp.to_identifier(cte_name, True))
    return final.from_(source).sql(dialect=glot)
