"""Compile a fitted model into one SQL ``SELECT`` that labels customers inside a database.

Accepts a :class:`~segmentation.model.artefact.SegmentationModel` or a foundation
:class:`~segmentation.model.artefact.CentroidModel`. The statement evaluates exactly the arithmetic
documented in :mod:`segmentation.model.preprocess` and :mod:`segmentation.model.assigners`, in the
same order and in IEEE double precision, so a database labels every row exactly as the model's
``predict`` does. It is built as a sqlglot expression tree and generated for each dialect by
sqlglot; nothing here is written as dialect-specific text.

Portability details the statement takes care of:

* every numeric input column is quoted and cast to a double before any arithmetic, so NUMERIC
  or INTEGER columns compute exactly like floats in Python; categorical columns are cast to text
  and compared as they are (no trimming, no case folding);
* NULL (and NaN, where the engine can store it) is missing and takes the fill value; ``''`` is a
  missing category;
* the raw value is clipped by comparison before any arithmetic, so +/-Infinity and huge values
  map to the bounds, as ``np.clip`` does, and nothing overflows (bounds that could make any step
  overflow are refused when compiling);
* PostgreSQL raises an error when a division or product of non-zero doubles underflows to zero;
  where that can happen the statement yields the zero itself first;
* ``log1p`` is written ``LN(1 + p)``: every engine here calls the C library's ``log``, which the
  model uses too (NumPy's ``log1p`` and ``log`` would differ in the last bit);
* constants are written so every engine reads back the very same double (see :func:`literal_sql`);
* the cosine distance's row normalisation flushes coordinates below ``2**-500`` to zero before
  squaring, so nothing underflows, and uses ``SQRT``, correctly rounded in every engine (SQLite
  needs its math functions, 3.35+);
* ties go to the lowest label, like ``numpy.argmin``; no EXP is needed for mixtures;
* nothing overflows, divides by zero or casts text to a number, so the statement needs no
  setting in Spark (``spark``, ``databricks``): it is the same with ANSI mode on, Spark 4's
  default, or off. Spark's ``SQRT`` is correctly rounded, but its ``LN`` is Java's fdlibm
  ``StrictMath.log``, not the C library's: for a few values in a hundred it differs in the last
  bit, so a ``log1p`` column can move by one ulp there, which changes a label only for a customer
  within that ulp of a tie between segments (none of the hostile test rows is).

Each step is a CTE read by name by the next; in SQLite and DuckDB it is ``MATERIALIZED`` so a
planner never inlines steps into each other (the expression would grow exponentially, and
PostgreSQL's JIT once spent a quarter of an hour on such a query). In PostgreSQL each step is
instead a subquery fenced with ``OFFSET 0``, which the planner never pulls up either, but whose
rows stream through the steps rather than being written to a tuplestore at each: on 1,000,000
customers and a three-feature K-Means model, 1.7× a plain ``SELECT`` of the same shape instead of
4.1× (``bench/sql_scoring.py``). Spark has
no ``MATERIALIZED``; its optimiser inlines the steps but does not merge projections that would
repeat a costly expression, so its plans stay linear too.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
from sqlglot import exp

from ..clustering.reduction import UNIT_FLUSH
from ..errors import SegmentationError
from ..model.artefact import AnyModel, CentroidModel, SegmentationModel, as_segmentation_model
from ..model.assigners import GaussianMixtureAssigner, NearestExemplars
from ..model.columns import NumericColumn
from .literals import (
    DIALECTS,
    FENCED,
    MATERIALIZED,
    NO_UNDERFLOW_COORDINATE,
    SQUARE_NONZERO,
    guarded,
    literal_sql,
    quoted,
    sqlglot_dialect,
)
from .preprocess import PreprocessingSteps, case, named, sum_terms

__all__ = ["DIALECTS", "compile_scorer", "literal_sql"]

# Largest magnitude any intermediate value may reach: far from overflow, whatever the rounding.
_SAFE = 1e300


def _overflow_error() -> SegmentationError:
    return SegmentationError(
        "cannot compile this model to SQL: its clipping bounds are so wide that a distance "
        "could overflow a double"
    )


def _numeric_bound(column: NumericColumn) -> float:
    """Largest |feature| the column can yield; every step is monotone in the clipped value."""
    ends = [column.lower, column.upper]
    if column.transform == "quantile":
        spread = column.upper - column.lower
        if not all(math.isfinite(spread * abs(s)) for s in column.slopes):
            raise _overflow_error()
    t = column.transformed(np.asarray(ends, dtype=np.float64)).tolist()
    return max(abs(v - column.center) / column.scale for v in t) * column.weight


def _check_constants(model: SegmentationModel) -> None:
    """Refuse models whose SQL could overflow a double, where PostgreSQL would raise an error."""
    pre = model.preprocessor
    bounds = [_numeric_bound(c) for c in pre.numeric]
    bounds += [c.weight for c in pre.numeric if c.indicator]
    for column in pre.categorical:
        bounds += [max((s * column.weight for s in column.shares), default=0.0)] * len(column.outputs)
        if column.encoding == "onehot":
            bounds[-len(column.outputs) :] = [column.weight] * len(column.outputs)
    if model.projection is not None:
        mean = model.projection.mean
        bounds = [
            sum((b + abs(m)) * abs(c) for b, m, c in zip(bounds, mean, row, strict=True))
            for row in model.projection.components
        ]
    if model.normalisation is not None:
        # The sum of squares must stay finite; after dividing by the length every coordinate
        # lies in [-1, 1] (the length is at least each coordinate's magnitude).
        if not sum(b * b for b in bounds) < _SAFE:
            raise _overflow_error()
        bounds = [1.0] * len(bounds)
    assigner = model.assigner
    worst: list[float] = list(bounds)
    if isinstance(assigner, NearestExemplars):
        power = 2 if assigner.metric == "sqeuclidean" else 1
        worst += [
            sum((b + abs(e)) ** power for b, e in zip(bounds, row, strict=True)) for row in assigner.exemplars
        ]
    else:
        for k, (mean, factor) in enumerate(zip(assigner.means, assigner.precision_cholesky, strict=True)):
            whitened = [
                sum((bounds[j] + abs(mean[j])) * abs(factor[j][i]) for j in assigner.terms(k, i))
                for i in range(assigner.dimension)
            ]
            worst += [*whitened, 2 * abs(assigner.constants[k]) + sum(w * w for w in whitened)]
    if not all(math.isfinite(w) and w < _SAFE for w in worst):
        raise _overflow_error()


class _Compiler(PreprocessingSteps):
    """All the steps of one scorer: the preprocessing, then the space and the assignment."""

    def project(self) -> str:
        projection = self.model.projection
        if projection is None:
            return "f"
        columns = []
        for k, row in enumerate(projection.components):
            terms = [self.times(self.minus(f"f{j}", projection.mean[j]), c) for j, c in enumerate(row)]
            columns.append(named(sum_terms(terms), f"y{k}"))
        self.step("_seg_projected", columns)
        return "y"

    def normalise(self, prefix: str) -> str:
        """Rows scaled to unit length (:mod:`segmentation.clustering.reduction` fixes the arithmetic).

        Three steps so no expression is repeated: coordinates below ``UNIT_FLUSH`` become 0
        (no square or quotient can then underflow, which PostgreSQL would report as an error),
        the length is the square root of the squares added in order, and a zero length leaves
        the row at zero instead of dividing by it.
        """
        if self.model.normalisation is None:
            return prefix
        width = self.model.assigner.dimension
        flushed = []
        for j in range(width):
            y = quoted(f"{prefix}{j}")
            tiny = exp.LT(this=exp.Abs(this=y), expression=self.const(UNIT_FLUSH))
            flushed.append(named(case([(tiny, self.const(0.0))], y.copy()), f"v{j}"))
        self.step("_seg_flushed", flushed)
        squares: list[exp.Expression] = [
            exp.paren(exp.Mul(this=quoted(f"v{j}"), expression=quoted(f"v{j}"))) for j in range(width)
        ]
        length = named(exp.Sqrt(this=sum_terms(squares)), "length")
        self.step("_seg_length", [length, *(quoted(f"v{j}") for j in range(width))])
        zero = exp.EQ(this=quoted("length"), expression=self.const(0.0))
        units = [
            named(
                case(
                    [(zero.copy(), self.const(0.0))],
                    exp.Div(this=quoted(f"v{j}"), expression=quoted("length"), typed=True),
                ),
                f"u{j}",
            )
            for j in range(width)
        ]
        self.step("_seg_normalised", units)
        return "u"

    # -- assignment ---------------------------------------------------------------------------
    def nearest(self, prefix: str, assigner: NearestExemplars) -> None:
        distances = []
        for e, exemplar in enumerate(assigner.exemplars):
            terms: list[exp.Expression] = []
            for j, c in enumerate(exemplar):
                diff = self.minus(f"{prefix}{j}", c)
                if assigner.metric == "manhattan":
                    terms.append(exp.Abs(this=diff))
                    continue
                term: exp.Expression = exp.paren(exp.Mul(this=diff, expression=diff.copy()))
                if abs(c) < NO_UNDERFLOW_COORDINATE:
                    term = guarded(diff, SQUARE_NONZERO, term, self.dialect)
                terms.append(term)
            distances.append(named(sum_terms(terms) if terms else self.const(0.0), f"d{e}"))
        self.step("_seg_distances", distances)
        members = [[e for e, s in enumerate(assigner.segments) if s == k] for k in range(assigner.n_segments)]
        if any(len(m) > 1 for m in members):
            nearest = []
            for k, m in enumerate(members):
                d = [quoted(f"d{e}") for e in m]
                nearest.append(
                    named(d[0] if len(d) == 1 else exp.Least(this=d[0], expressions=d[1:]), f"s{k}")
                )
            self.step("_seg_nearest", nearest)
        else:
            self.steps[-1] = (
                "_seg_distances",
                [named(_unalias(distances[m[0]]), f"s{k}") for k, m in enumerate(members)],
            )
        radius = assigner.noise_radius_sq

        def chosen(k: int) -> exp.Expression:
            if radius is None:
                return exp.Literal.number(k)
            far = exp.GT(this=quoted(f"s{k}"), expression=self.const(radius[k]))
            return case([(far, exp.Literal.number(-1))], exp.Literal.number(k))

        self.label(exp.LTE, chosen)

    def mixture(self, prefix: str, assigner: GaussianMixtureAssigner) -> None:
        whitened = []
        for k, (mean, factor) in enumerate(zip(assigner.means, assigner.precision_cholesky, strict=True)):
            for i in range(assigner.dimension):
                terms = [
                    self.times(self.minus(f"{prefix}{j}", mean[j]), factor[j][i])
                    for j in assigner.terms(k, i)
                ]
                whitened.append(named(sum_terms(terms), f"w{k}_{i}"))
        self.step("_seg_whitened", whitened)
        scores = []
        for k, c in enumerate(assigner.constants):
            squares = []
            for i in range(assigner.dimension):
                w = quoted(f"w{k}_{i}")
                square = exp.paren(exp.Mul(this=w, expression=w.copy()))
                squares.append(guarded(w.copy(), SQUARE_NONZERO, square, self.dialect))
            scores.append(
                named(exp.Sub(this=self.const(2.0 * c), expression=exp.paren(sum_terms(squares))), f"s{k}")
            )
        self.step("_seg_scores", scores)
        self.label(exp.GTE, lambda k: exp.Literal.number(k))

    def label(self, better: type[exp.Binary], pick: Callable[[int], exp.Expression]) -> None:
        """The first segment whose ``s`` beats or ties every later one (``better``: <= or >=)."""
        count = self.model.n_segments
        label: exp.Expression = pick(count - 1)
        if count > 1:
            pairs: list[tuple[exp.Expr, exp.Expr]] = []
            for k in range(count - 1):
                wins = [better(this=quoted(f"s{k}"), expression=quoted(f"s{o}")) for o in range(k + 1, count)]
                pairs.append((exp.and_(*wins, copy=False), pick(k)))
            label = case(pairs, label)
        self.step("_seg_labels", [named(label, "segment")])


def _unalias(expression: exp.Expression) -> exp.Expression:
    return expression.this if isinstance(expression, exp.Alias) else expression


def compile_scorer(
    model: AnyModel,
    dialect: str,
    *,
    table: str = "customers",
    sources: Sequence[tuple[str, exp.Select]] = (),
) -> str:
    """One SQL ``SELECT`` that labels every row of ``table`` exactly as ``model.predict`` does.

    ``table`` is a table reference in the target dialect (it may be qualified, e.g.
    ``analytics.customers``) whose columns carry the model's input names; numbers are in
    numeric columns, categories in text columns, and blank cells are NULL. The statement
    returns the columns ``customer_id`` (the model's ``id_column``, unchanged), ``segment``
    (the 0-based integer label, ``-1`` for noise) and ``segment_name``, in no particular order.

    ``sources`` are CTEs ``(name, select)`` put before the model's steps, each reading the
    earlier ones; ``table`` then names one of them (how :mod:`segmentation.sql.features`
    feeds features computed from a transaction log). Without them the statement is unchanged.

    A model with ``normalisation="l2"`` (the cosine distance) needs the engine's ``SQRT``:
    built in for PostgreSQL, DuckDB, Snowflake, BigQuery and Spark; SQLite needs 3.35 or later compiled
    with its math functions (``SQLITE_ENABLE_MATH_FUNCTIONS``).
    Every engine's ``SQRT`` is IEEE's correctly rounded square root, as NumPy's is.

    Raises :class:`SegmentationError` for a dialect not in :data:`DIALECTS`, for a model with
    non-finite constants, or for one whose bounds could make a value overflow.
    """
    glot = sqlglot_dialect(dialect)
    if isinstance(model, CentroidModel):
        per_feature = (model.fill_values, model.lower, model.upper, model.centers, model.scales)
        values = [v for group in per_feature for v in group] + [c for r in model.centroids for c in r]
        if not all(math.isfinite(v) for v in values):
            raise SegmentationError("cannot compile a model with missing or infinite constants to SQL")
    general = as_segmentation_model(model)
    _check_constants(general)
    try:
        source_table = exp.to_table(table, dialect=glot)
    except Exception as error:  # sqlglot raises its own ParseError types
        raise SegmentationError(f"cannot read {table!r} as a table name: {error}") from None

    compiler = _Compiler(general, dialect)
    start = compiler.read(source_table)
    passing = compiler.prepare()
    compiler.standardise(compiler.transform(passing), passing)
    prefix = compiler.normalise(compiler.project())
    if isinstance(general.assigner, NearestExemplars):
        compiler.nearest(prefix, general.assigner)
    else:
        compiler.mixture(prefix, general.assigner)

    cid, segment = quoted("customer_id"), quoted("segment")
    name = exp.Case(this=segment)
    for k, segment_name in enumerate(general.segment_names):
        name.append("ifs", exp.If(this=exp.Literal.number(k), true=exp.Literal.string(segment_name)))
    if isinstance(general.assigner, NearestExemplars) and general.assigner.noise_radius_sq is not None:
        name.append("ifs", exp.If(this=exp.Literal.number(-1), true=exp.Literal.string(general.noise_name)))
    final = exp.select(cid, segment, named(name, "segment_name"))
    for cte_name, body in sources:
        final = final.with_(
            exp.to_identifier(cte_name),  # unquoted, as the sources refer to each other
            as_=body,
            materialized=dialect in MATERIALIZED or None,
            copy=False,
        )
    source: exp.Expression = start
    for cte_name, columns in compiler.steps:
        body = exp.select(cid.copy(), *columns, copy=False).from_(source, copy=False)
        if dialect in FENCED:
            source = body.offset(0, copy=False).subquery(exp.to_identifier(cte_name, True), copy=False)
            continue
        final = final.with_(
            exp.to_identifier(cte_name, True),
            as_=body,
            materialized=dialect in MATERIALIZED or None,
            copy=False,
        )
        source = exp.Table(this=exp.to_identifier(cte_name, True))
    return final.from_(source, copy=False).sql(dialect=glot)
