"""One SQL ``SELECT`` that repeats :func:`segmentation.experiments.assignment.assign` in a database.

It reads the scorer's output (columns ``customer_id`` and ``segment``) and returns ``customer_id``,
``segment`` and ``arm`` in ``assign``'s order::

    ROW_NUMBER() OVER (PARTITION BY segment ORDER BY MD5(salt || customer_id), customer_id) - 1

is each customer's position in its segment, and ``CASE MOD(position, block)`` deals the arms by
the block pattern. Built as a sqlglot expression tree, as :mod:`segmentation.sql.scorer` is.

Where the dialects differ:

* PostgreSQL and DuckDB: ``MD5`` is lowercase hex; both keys are ordered ``COLLATE "C"``, the
  bytewise order Python's string order matches (a locale's collation would fold case and
  ignore spaces). PostgreSQL hashes the text in the database's encoding: UTF-8 is assumed.
* Snowflake: ``MD5`` is lowercase hex and strings compare by their UTF-8 bytes unless the column
  was given a collation; BigQuery: ``TO_HEX(MD5(...))`` (its ``MD5`` returns bytes) and strings
  compare by code point. Neither is run by this project's tests.
* SQLite has no MD5 function: the assignment cannot be repeated there.
"""

from __future__ import annotations

from sqlglot import exp

from ..errors import SegmentationError
from ..sql.literals import quoted, sqlglot_dialect
from .arms import Arm
from .assignment import block_pattern

BYTEWISE = ("postgresql", "duckdb")  # dialects where COLLATE "C" is the bytewise order


def compile_assignment(arms: tuple[Arm, ...], *, salt: str, dialect: str, table: str = "scored") -> str:
    """The ``SELECT`` giving every row of ``table`` its arm exactly as ``assign`` does.

    ``table``: a table reference in the target dialect (it may be qualified) with columns
    ``customer_id`` (text; other types are cast to text) and ``segment`` (int). Raises
    :class:`SegmentationError` for SQLite, which has no MD5 function, and for an unknown dialect.
    """
    glot = sqlglot_dialect(dialect)
    if dialect == "sqlite":
        raise SegmentationError(
            "SQLite has no MD5 function, so it cannot repeat the assignment; repeat it in "
            "PostgreSQL or DuckDB, or read each customer's arm from assignment.csv",
            key="dialect",
        )
    pattern = block_pattern(arms)
    try:
        source = exp.to_table(table, dialect=glot)
    except Exception as error:  # sqlglot raises its own ParseError types
        raise SegmentationError(f"cannot read {table!r} as a table name: {error}") from None

    text_id = exp.cast(quoted("customer_id"), exp.DataType.build("text"))
    key: exp.Expression = exp.MD5(this=exp.DPipe(this=exp.Literal.string(salt), expression=text_id))

    def bytewise(value: exp.Expression) -> exp.Expression:
        if dialect in BYTEWISE:
            return exp.Collate(this=value, expression=exp.to_identifier("C", quoted=True))
        return value

    order = exp.Order(
        expressions=[exp.Ordered(this=bytewise(key)), exp.Ordered(this=bytewise(text_id.copy()))]
    )
    number = exp.Window(this=exp.RowNumber(), partition_by=[quoted("segment")], order=order)
    position = exp.alias_(exp.Sub(this=number, expression=exp.Literal.number(1)), "position", quoted=True)
    numbered = exp.select(quoted("customer_id"), quoted("segment"), position).from_(source)

    arm = exp.Case(this=exp.Mod(this=quoted("position"), expression=exp.Literal.number(len(pattern))))
    for k, name in enumerate(pattern):
        arm.append("ifs", exp.If(this=exp.Literal.number(k), true=exp.Literal.string(name)))
    final = (
        exp.select(quoted("customer_id"), quoted("segment"), exp.alias_(arm, "arm", quoted=True))
        .from_(exp.Table(this=exp.to_identifier("_exp_positions", quoted=True)))
        .with_(exp.to_identifier("_exp_positions", quoted=True), as_=numbered)
        .order_by(exp.Ordered(this=quoted("segment")), exp.Ordered(this=quoted("position")))
    )
    return final.sql(dialect=glot)
