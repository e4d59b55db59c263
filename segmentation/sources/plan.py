"""What a source run computes in the engine: the feature groups, their SQL, the features kept.

The SQL is :mod:`segmentation.sql.features`' (exact to Python's features); this module picks
the groups it can compute, selects their columns, and chooses the clustered features from
per-column figures the engine computes over every customer, by the rules of
:mod:`segmentation.data.customer_table` (a feature undefined or constant for everyone is left
out; so is an indicator of a group not asked for, or one flagging under 1% of customers).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from sqlglot import exp

from ..data.aggregate import SECONDS_PER_DAY
from ..data.customer_table import INDICATOR_GROUPS, RARE_INDICATOR
from ..data.features import CORE, GROUP_COLUMNS
from ..errors import SegmentationError
from ..spec import SegmentationSpec
from ..sql.features import EPOCH, FEATURES_CTE, INDICATORS, feature_ctes
from ..sql.literals import sqlglot_dialect

# The groups the feature SQL computes, in the order Python engineers them.
SQL_GROUPS = ("rfm", "temporal", "windows", "diversity", "seasonality")
# The groups that need the whole log in Python (an SVD of every customer's shares, the
# lifecycle models' fits over every event).
PYTHON_GROUPS = ("affinity", "clv", "trajectory")
PYTHON_ONLY = (
    "the feature group(s) {names} need the whole log in Python and cannot run inside a source: "
    "run on a file instead (manage.py segment), or leave them out of 'features'"
)


def source_groups(spec: SegmentationSpec) -> tuple[tuple[str, ...], dict[str, str]]:
    """The groups a source run computes and, for the default, those it leaves out and why."""
    skipped: dict[str, str] = {}
    if spec.features is None:
        chosen = [g for g in SQL_GROUPS if g != "diversity" or spec.category_column]
        for group in PYTHON_GROUPS[:2]:
            skipped[group] = "needs the whole log in Python: not computed inside a source"
        if not spec.category_column:
            skipped["diversity"] = "the spec names no 'category_column'"
        return tuple(chosen), skipped
    refused = [g for g in spec.features if g in PYTHON_GROUPS]
    if refused:
        raise SegmentationError(PYTHON_ONLY.format(names=", ".join(refused)), key="features")
    if "diversity" in spec.features and not spec.category_column:
        raise SegmentationError(
            "the 'diversity' feature group needs product categories: set 'category_column'", key="features"
        )
    return tuple(g for g in SQL_GROUPS if g in spec.features), skipped


def candidate_columns(groups: Sequence[str]) -> tuple[str, ...]:
    """The features of ``groups`` then the indicators, in Python's order."""
    columns: list[str] = []
    for group in groups:
        columns += [c for c in GROUP_COLUMNS[group] if c not in columns]
    return (*columns, *INDICATORS)


def features_sql(spec: SegmentationSpec, as_of: dt.date, dialect: str, groups: Sequence[str]) -> str:
    """``customer_id``, the always-present core features and those of ``groups``, one row a
    customer with an event before ``as_of``, over the table ``transactions``."""
    columns = list(dict.fromkeys([*CORE, *candidate_columns(groups)]))
    select = exp.select("customer_id", *(exp.column(c, quoted=True) for c in columns)).from_(FEATURES_CTE)
    for name, body in feature_ctes(spec, as_of, dialect):
        select = select.with_(name, as_=body, copy=False)
    return select.sql(dialect=sqlglot_dialect(dialect))


def last_event_sql(spec: SegmentationSpec, dialect: str) -> str:
    """The epoch second of the log's last valid event (for the default ``as_of``)."""
    # The rows CTE casts and cleans exactly as the features do; the date is only a placeholder.
    ctes = feature_ctes(spec, dt.date(9999, 12, 31), dialect)
    select = exp.select("MAX(t) AS last_t").from_("_seg_floored")
    for name, body in ctes[:2]:  # _seg_rows, _seg_floored (ids written NA, null... removed)
        select = select.with_(name, as_=body, copy=False)
    return select.sql(dialect=sqlglot_dialect(dialect))


def default_as_of(last_second: int | None) -> dt.date:
    """The day after the last event, as :func:`segmentation.data.transactions.default_as_of`."""
    if last_second is None:
        raise SegmentationError("the source's log has no event with an id, a time and an amount")
    return EPOCH + dt.timedelta(days=int(last_second) // SECONDS_PER_DAY + 1)


def summary_sql(table: str, columns: Sequence[str], dialect: str = "duckdb") -> str:
    """One row: for each column its count of values, minimum, maximum and mean."""
    parts = []
    for i, column in enumerate(columns):
        # Quoted by the dialect: in Spark a double-quoted name is a string literal.
        q = exp.column(column, quoted=True)
        parts += [
            exp.alias_(exp.Count(this=q.copy()), f"c{i}"),
            exp.alias_(exp.Min(this=q.copy()), f"lo{i}"),
            exp.alias_(exp.Max(this=q.copy()), f"hi{i}"),
            exp.alias_(exp.Avg(this=exp.cast(q.copy(), "double")), f"m{i}"),
        ]
    return exp.select(*parts).from_(table).sql(dialect=sqlglot_dialect(dialect))


def usable_columns(
    columns: Sequence[str], summary: Mapping[str, object], groups: Sequence[str], excluded: Sequence[str]
) -> tuple[list[str], dict[str, str]]:
    """The clustered features and why each other one is left out (``summary``: one row of
    :func:`summary_sql`)."""
    usable, left_out = [], {}
    for i, column in enumerate(columns):
        count, low, high, mean = (summary[f"{k}{i}"] for k in ("c", "lo", "hi", "m"))
        if column in excluded:
            left_out[column] = "left out by the spec's 'excluded_features'"
        elif not count:
            left_out[column] = "undefined for every customer"
        elif low == high:
            left_out[column] = "the same for every customer"
        elif column in INDICATOR_GROUPS and INDICATOR_GROUPS[column] not in groups:
            left_out[column] = f"indicator of the '{INDICATOR_GROUPS[column]}' group, which was not asked for"
        elif column in INDICATOR_GROUPS and float(mean) < RARE_INDICATOR:  # type: ignore[arg-type]
            left_out[column] = "flags fewer than 1% of customers: it would dominate the distances"
        else:
            usable.append(column)
    unknown = [c for c in excluded if c not in columns]
    if unknown:
        raise SegmentationError(
            f"'excluded_features' names {', '.join(unknown)}, which is not a feature computed in the source; "
            f"the features are {', '.join(columns)}",
            key="excluded_features",
        )
    if not usable:
        raise SegmentationError(
            "every feature is undefined or the same for all customers, so there is nothing to segment on"
        )
    return usable, left_out
