"""Constants and small expressions that every SQL dialect evaluates to the very same double.

Used by :mod:`segmentation.sql.scorer`; nothing here is written as dialect-specific text except where
a dialect needs its own literal form (SQLite's decimal parser is not correctly rounded).
"""

from __future__ import annotations

import functools
import math
import struct
from collections.abc import Callable
from decimal import Decimal

from sqlglot import exp

from ..errors import SegmentationError

# Spark and Databricks (Spark SQL with its own catalog) share one generator and the same arithmetic.
DIALECTS = ("postgresql", "sqlite", "duckdb", "snowflake", "bigquery", "spark", "databricks")
_SQLGLOT_NAME = {"postgresql": "postgres"}
DOUBLE = exp.DataType.build("double")
MATERIALIZED = ("postgresql", "sqlite", "duckdb")  # dialects with WITH ... AS MATERIALIZED
# Dialects whose model steps are subqueries fenced with OFFSET 0 rather than materialised CTEs.
FENCED = ("postgresql",)
# Largest power of two written as an integer literal (fits a signed 64-bit integer).
_POW2_STEP = 62


def smallest_positive(predicate: Callable[[float], bool]) -> float:
    """The smallest positive finite double ``u`` with ``predicate(u)``; predicate is monotone."""
    lo, hi = 1, 0x7FEFFFFFFFFFFFFF  # bit patterns of 5e-324 and of the largest finite double

    def of(bits: int) -> float:
        return float(struct.unpack("<d", struct.pack("<Q", bits))[0])

    while lo < hi:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if predicate(of(mid)) else (mid + 1, hi)
    return of(lo)


# |d| below this makes d*d round to exactly 0 (PostgreSQL: "value out of range: underflow").
SQUARE_NONZERO = smallest_positive(lambda u: u * u != 0.0)
# For a centroid coordinate at least this large, z - c is either exactly 0 or at least 2**-533
# (Sterbenz: close doubles differ by a multiple of their ulp), so its square never underflows.
NO_UNDERFLOW_COORDINATE = 2.0**-480


def sqlglot_dialect(dialect: str) -> str:
    if dialect not in DIALECTS:
        raise SegmentationError(
            f"unknown SQL dialect {dialect!r}; accepted dialects are: {', '.join(DIALECTS)}"
        )
    return _SQLGLOT_NAME.get(dialect, dialect)


def _number(text: str) -> exp.Literal:
    # Built directly: exp.Literal.number() re-formats negative numbers through Decimal.
    return exp.Literal(this=text, is_string=False)


def double(value: float, dialect: str) -> exp.Expression:
    """An expression that evaluates to exactly the finite double ``value`` in ``dialect``."""
    value = float(value)  # a NumPy scalar's repr is not a number
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
        node: exp.Expression = exp.cast(exp.Neg(this=integer) if sign else integer, DOUBLE)
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
    # correctly rounded as a double (DuckDB would read a plain decimal as DECIMAL first,
    # PostgreSQL reads it as NUMERIC, which the cast then converts exactly, and Spark reads an
    # exponent literal as a DOUBLE with Java's correctly rounded parser).
    text = format(Decimal(repr(abs(value))).normalize(), "e")
    literal: exp.Expression = _number(text)
    if math.copysign(1.0, value) < 0 and value != 0:
        literal = exp.Neg(this=literal)
    return exp.cast(literal, DOUBLE)


def literal_sql(value: float, dialect: str) -> str:
    """SQL text for the finite double ``value`` that ``dialect`` reads back bit for bit.

    PostgreSQL, DuckDB, Snowflake, BigQuery, Spark and Databricks get a cast of a scientific-notation literal
    with the shortest round-trip digits, e.g. ``CAST(1.2345e-1 AS DOUBLE)``; SQLite gets an
    exact integer mantissa scaled by powers of two, e.g. ``(CAST(3 AS REAL) / 2)``.
    """
    return double(value, dialect).sql(dialect=sqlglot_dialect(dialect))


def quoted(name: str) -> exp.Column:
    return exp.column(exp.to_identifier(name, quoted=True))


def is_missing(x: exp.Expression, dialect: str) -> exp.Expr:
    """NULL, or NaN where the engine can store it (Python treats NaN as missing)."""
    if dialect == "sqlite":  # SQLite stores NaN as NULL
        return exp.Is(this=x, expression=exp.Null())
    if dialect == "bigquery":  # IEEE comparisons: NaN equals nothing
        nan: exp.Expression = exp.IsNan(this=x)
    else:  # PostgreSQL, DuckDB, Snowflake and Spark hold NaN equal to NaN
        nan = exp.EQ(this=x, expression=exp.cast(exp.Literal.string("NaN"), DOUBLE))
    return exp.or_(exp.Is(this=x, expression=exp.Null()), nan)


def guarded(value: exp.Expression, threshold: float, result: exp.Expression, dialect: str) -> exp.Case:
    """``CASE WHEN ABS(value) < threshold THEN 0 ELSE result END``.

    PostgreSQL raises an error when a product or quotient of non-zero doubles underflows to
    zero; the guard yields that zero itself first, the value Python computes.
    """
    small = exp.LT(this=exp.Abs(this=value.copy()), expression=double(threshold, dialect))
    return exp.Case(ifs=[exp.If(this=small, true=double(0.0, dialect))], default=result)


@functools.lru_cache(maxsize=65536)
def product_threshold(constant: float) -> float:
    """Smallest ``u > 0`` with ``u * constant != 0``: below it the product underflows to zero."""
    return smallest_positive(lambda u: u * constant != 0.0)


@functools.lru_cache(maxsize=65536)
def quotient_threshold(constant: float) -> float:
    """Smallest ``u > 0`` with ``u / constant != 0``."""
    return smallest_positive(lambda u: u / constant != 0.0)
