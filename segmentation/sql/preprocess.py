"""The preprocessing steps of a SQL scorer: read, fill and clip, encode, transform, standardise.

Part of :mod:`segmentation.sql.scorer` (which documents the portability rules), kept apart so each
module stays readable; every expression is a sqlglot tree, never dialect text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from sqlglot import exp

from ..model.artefact import SegmentationModel
from ..model.columns import CategoricalColumn
from .literals import (
    DOUBLE,
    double,
    guarded,
    is_missing,
    product_threshold,
    quoted,
    quotient_threshold,
)

_TEXT = exp.DataType.build("text")


class PreprocessingSteps:
    """The steps of one scorer up to standardised features; ``const`` writes a double, ``times``
    a guarded product. :class:`segmentation.sql.scorer._Compiler` adds the space and the assignment."""

    def __init__(self, model: SegmentationModel, dialect: str) -> None:
        self.model, self.dialect = model, dialect
        self.steps: list[tuple[str, list[exp.Expression]]] = []

    def const(self, value: float) -> exp.Expression:
        return double(value, self.dialect)

    def times(self, value: exp.Expression, constant: float) -> exp.Expression:
        """``value * constant``, yielding the zero itself where the product underflows."""
        if constant == 0.0:
            return self.const(0.0)
        product = exp.paren(exp.Mul(this=value, expression=self.const(constant)))
        threshold = product_threshold(constant)
        return guarded(value, threshold, product, self.dialect) if threshold > 5e-324 else product

    def minus(self, name: str, constant: float) -> exp.Expression:
        return exp.paren(exp.Sub(this=quoted(name), expression=self.const(constant)))

    def step(self, name: str, columns: Sequence[exp.Expression]) -> None:
        self.steps.append((name, list(columns)))

    # -- preprocessing ------------------------------------------------------------------------
    def read(self, table: exp.Table) -> exp.Subquery:
        pre = self.model.preprocessor
        columns = [named(quoted(self.model.id_column), "customer_id")]
        columns += [named(exp.cast(quoted(c.name), DOUBLE), f"x{j}") for j, c in enumerate(pre.numeric)]
        columns += [named(exp.cast(quoted(c.name), _TEXT), f"c{j}") for j, c in enumerate(pre.categorical)]
        return exp.select(*columns).from_(table).subquery(exp.to_identifier("_seg_input", True))

    def prepare(self) -> list[str]:
        """Fill and clip numbers; encode indicators and categories. Returns pass-through names."""
        pre, columns = self.model.preprocessor, []
        for j, c in enumerate(pre.numeric):
            x = quoted(f"x{j}")
            clipped = case(
                [
                    (is_missing(x, self.dialect), self.const(c.fill)),
                    (exp.GT(this=x.copy(), expression=self.const(c.upper)), self.const(c.upper)),
                    (exp.LT(this=x.copy(), expression=self.const(c.lower)), self.const(c.lower)),
                ],
                x.copy(),
            )
            columns.append(named(clipped, f"p{j}"))
        index = len(pre.numeric)
        for j, c in enumerate(pre.numeric):
            if c.indicator:
                flag = case(
                    [(is_missing(quoted(f"x{j}"), self.dialect), self.const(c.weight))], self.const(0.0)
                )
                columns.append(named(flag, f"f{index}"))
                index += 1
        for j, category in enumerate(pre.categorical):
            for expression in self.encode(category, quoted(f"c{j}")):
                columns.append(named(expression, f"f{index}"))
                index += 1
        self.step("_seg_prepared", columns)
        return [f"f{i}" for i in range(len(pre.numeric), index)]

    def encode(self, column: CategoricalColumn, c: exp.Expression) -> list[exp.Expression]:
        absent = exp.or_(
            exp.Is(this=c.copy(), expression=exp.Null()),
            exp.EQ(this=c.copy(), expression=exp.Literal.string("")),
        )
        zero, weight = self.const(0.0), self.const(column.weight)

        def equals(level: str) -> exp.Expression:
            return exp.EQ(this=c.copy(), expression=exp.Literal.string(level))

        if column.encoding == "frequency":
            shares = [s * column.weight for s in column.shares]
            pairs: list[tuple[exp.Expr, exp.Expr]] = [(absent, self.const(shares[-1]))]
            pairs += [
                (equals(level), self.const(share))
                for level, share in zip(column.levels, shares, strict=False)
            ]
            return [case(pairs, self.const(shares[-2]))]
        out: list[exp.Expression] = [
            case([(equals(level), weight.copy())], zero.copy()) for level in column.levels
        ]
        other: list[tuple[exp.Expr, exp.Expr]] = [(absent.copy(), zero.copy())]
        if column.levels:
            known = exp.In(this=c.copy(), expressions=[exp.Literal.string(v) for v in column.levels])
            other.append((known, zero.copy()))
        out.append(case(other, weight.copy()))
        out.append(case([(absent.copy(), weight.copy())], zero.copy()))
        return out

    def transform(self, passing: list[str]) -> str:
        """``t = LN(1 + p)`` or the quantile map where a column needs it; returns the input prefix."""
        numeric = self.model.preprocessor.numeric
        if all(c.transform in ("zscore", "robust") for c in numeric):
            return "p"
        columns = []
        for j, c in enumerate(numeric):
            p: exp.Expression = quoted(f"p{j}")
            if c.transform == "log1p":
                p = exp.Ln(this=exp.paren(exp.Add(this=self.const(1.0), expression=p)))
            elif c.transform == "quantile":
                pieces = [
                    exp.paren(
                        exp.Add(
                            this=self.const(c.levels[i]), expression=self.times(self.minus(f"p{j}", q), s)
                        )
                    )
                    for i, (q, s) in enumerate(zip(c.knots, c.slopes, strict=False))
                ]
                below = [exp.LT(this=quoted(f"p{j}"), expression=self.const(q)) for q in c.knots[1:-1]]
                p = (
                    case(list(zip(below, pieces[:-1], strict=True)), pieces[-1])
                    if len(pieces) > 1
                    else pieces[0]
                )
            columns.append(named(p, f"t{j}"))
        self.step("_seg_transformed", columns + [quoted(name) for name in passing])
        return "t"

    def standardise(self, prefix: str, passing: list[str]) -> None:
        columns = []
        for j, c in enumerate(self.model.preprocessor.numeric):
            offset = self.minus(f"{prefix}{j}", c.center)
            z: exp.Expression = exp.Div(this=offset, expression=self.const(c.scale), typed=True)
            threshold = quotient_threshold(c.scale)
            if threshold > 5e-324:
                z = guarded(offset, threshold, z, self.dialect)
            if c.weight != 1.0:
                z = self.times(exp.paren(z), c.weight)
            columns.append(named(z, f"f{j}"))
        self.step("_seg_standardised", columns + [quoted(name) for name in passing])


def case(pairs: Sequence[tuple[exp.Expr, exp.Expr]], default: exp.Expr) -> exp.Case:
    """``CASE WHEN c1 THEN v1 ... ELSE default END``, built without copying (sqlglot's ``when``
    copies the whole CASE at each branch, quadratic for a hundred quantile pieces)."""
    return exp.Case(ifs=[exp.If(this=c, true=v) for c, v in pairs], default=default)


def named(expression: exp.Expression, name: str) -> exp.Alias:
    # alias_ with a name always builds an Alias; sqlglot types it as its base class
    return cast(exp.Alias, exp.alias_(expression, name, quoted=True))


def _unalias(expression: exp.Expression) -> exp.Expression:
    return expression.this if isinstance(expression, exp.Alias) else expression


def sum_terms(terms: Sequence[exp.Expression]) -> exp.Expression:
    """Terms added left to right from the first, as Python sums them."""
    total = terms[0]
    for term in terms[1:]:
        total = exp.Add(this=total, expression=term)
    return total
