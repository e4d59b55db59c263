"""What was read, dropped and filled, and what a transaction log was turned into.

``data_quality`` is written by :func:`segmentation.pipeline._data_quality` from the reading
report of :mod:`segmentation.data.customer_table` (customer tables) or
:mod:`segmentation.data.transactions` (logs). The foundation wrote no ``data_quality``: only
the top-level ``rows``, ``rows_without_id``, ``missing_total`` and ``unparsable``, which are
the fallbacks here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import reading as r

TRANSACTION_COUNTS = (
    "events",
    "purchases",
    "refunds",
    "duplicate_rows",
    "duplicates_removed",
    "missing_timestamps",
    "unparseable_timestamps",
    "missing_amounts",
    "events_on_or_after_as_of",
    "customers_in_log",
    "customers",
    "customers_without_events_before_as_of",
)


@dataclass(frozen=True)
class DataQuality(r.Stored):
    """The data-quality report. ``recorded`` is false for versions that stored none; the
    figures then come from the top-level keys every version wrote.

    The transaction counts are 0 for a customer table.
    """

    recorded: bool = False
    input_kind: str = "customers"
    rows: int = 0
    rows_without_id: int = 0
    missing_feature_values: int = 0
    unparsable_cells: int = 0
    events: int = 0
    purchases: int = 0
    refunds: int = 0
    duplicate_rows: int = 0
    duplicates_removed: int = 0
    missing_timestamps: int = 0
    unparseable_timestamps: int = 0
    missing_amounts: int = 0
    events_on_or_after_as_of: int = 0
    customers_in_log: int = 0
    customers: int = 0
    customers_without_events_before_as_of: int = 0
    unparseable_timestamp_examples: tuple[str, ...] = ()
    dropped: dict[str, int] = field(default_factory=dict)  # reason -> rows, for logs
    # how the dropped ids were written ("NA" -> rows, "(blank)" -> rows); empty before it was kept
    missing_id_words: dict[str, int] = field(default_factory=dict)
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_transactions(self) -> bool:
        return self.input_kind == "transactions"

    @classmethod
    def from_metrics(cls, metrics: Mapping[str, Any]) -> DataQuality:
        stored = metrics.get("data_quality")
        d = r.mapping(stored)

        def count(key: str, fallback: Any = 0) -> int:
            return r.integer(d.get(key, fallback))

        return cls(
            recorded=isinstance(stored, Mapping),
            input_kind=r.text(d.get("input_kind"), r.text(metrics.get("input_kind"), "customers")),
            rows=count("rows", metrics.get("rows")),
            rows_without_id=count("rows_without_id", metrics.get("rows_without_id")),
            missing_feature_values=count("missing_feature_values", metrics.get("missing_total")),
            unparsable_cells=count("unparsable_cells", sum(r.counts(metrics.get("unparsable")).values())),
            unparseable_timestamp_examples=r.texts(d.get("unparseable_timestamp_examples")),
            dropped=r.counts(d.get("dropped")),
            # most frequent first (PostgreSQL's jsonb keeps no key order)
            missing_id_words=dict(
                sorted(r.counts(d.get("missing_id_words")).items(), key=lambda w: (-w[1], w[0]))
            ),
            raw=r.frozen_copy(dict(d)),
            **{key: count(key) for key in TRANSACTION_COUNTS},
        )


@dataclass(frozen=True)
class Affinity(r.Stored):
    """The category-share projection behind ``affinity_*`` features: one component row per
    feature, one column per category (sorted). An SQL scorer needs it to compute them."""

    categories: tuple[str, ...] = ()
    components: tuple[tuple[float, ...], ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Any) -> Affinity | None:
        d = r.mapping(data)
        if not d:
            return None
        return cls(
            categories=r.texts(d.get("categories")),
            components=tuple(r.numbers(row) for row in r.items(d.get("components"))),
            raw=r.frozen_copy(dict(d)),
        )


@dataclass(frozen=True)
class TransactionDetails:
    """How a transaction log became customer features; empty for a customer table.

    These keys sit at the top level of the stored metrics (``as_of``, ``feature_groups``...),
    so :meth:`RunMetrics.to_dict` carries them; this part has no JSON of its own.
    """

    as_of: str | None = None  # ISO date: events on or after it were ignored
    feature_groups: tuple[str, ...] = ()
    feature_groups_skipped: dict[str, str] = field(default_factory=dict)  # group -> why
    engineered_features: tuple[str, ...] = ()
    features_left_out: dict[str, str] = field(default_factory=dict)  # feature -> why
    affinity: Affinity | None = None  # absent before the projection was stored

    @property
    def as_of_date(self) -> dt.date | None:
        """``as_of`` as a date; None when absent or not an ISO date."""
        try:
            return None if self.as_of is None else dt.date.fromisoformat(self.as_of)
        except ValueError:
            return None

    @classmethod
    def from_metrics(cls, metrics: Mapping[str, Any]) -> TransactionDetails:
        return cls(
            as_of=r.optional_text(metrics.get("as_of")) or None,
            feature_groups=r.texts(metrics.get("feature_groups")),
            feature_groups_skipped=r.named_texts(metrics.get("feature_groups_skipped")),
            engineered_features=r.texts(metrics.get("engineered_features")),
            features_left_out=r.named_texts(metrics.get("features_left_out")),
            affinity=Affinity.from_dict(metrics.get("affinity")),
        )
