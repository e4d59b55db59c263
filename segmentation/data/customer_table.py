"""From whatever was uploaded to the customer table a segmentation clusters.

A customer table passes through as it is. A transaction log is cleaned
(:mod:`segmentation.data.transactions`) and turned into engineered features
(:mod:`segmentation.data.features`) as of the spec's date; the clustering then sees a customer
table keyed by ``customer_id`` whose numeric columns are the usable features.

Protected and outcome columns are carried beside the features (``attributes``) for bias audits
and external validation, and are never clustering features unless the spec says so. A log's
events on or after ``as_of`` become each customer's later behaviour (``future``), the
out-of-time check of :mod:`segmentation.data.future`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from ..errors import SegmentationError
from ..lifecycle.features import lifecycle_features
from ..lifecycle.summary import events_frame
from ..model.artefact import coerce_numeric
from ..spec import SegmentationSpec
from .features import customer_features
from .future import CUSTOMER_TABLE_REASON, FutureBehaviour, behaviour_after, not_possible
from .io import id_text
from .missing import missing_words
from .transactions import clean_transactions, default_as_of

FEATURE_ID = "customer_id"


@dataclass(frozen=True)
class CustomerTable:
    """What the clustering needs, and what the run reports beside it.

    frame : one row a customer; the id column of ``clustering_spec`` plus its numeric columns
        (and, for transactions, the protected and outcome columns).
    clustering_spec : the spec the clustering runs with: for transactions, the id column is
        ``customer_id`` and ``numeric_columns`` the usable engineered features.
    features : ``customer_id`` plus every feature before scaling (the ``features.csv`` deliverable).
    attributes : ``customer_id`` plus protected and outcome columns (empty when none).
    quality : the data-quality report (``metrics.json`` key ``data_quality``).
    details : further metrics (as-of date, feature groups, features left out and why).
    future : what each customer did on or after ``as_of`` (a log), or why that is unknown.
    events : a log's events as the lifecycle models read them (``customer_id``, ``timestamp``,
        ``amount`` with refunds negative; every event, those after ``as_of`` too), else None.
    """

    frame: pd.DataFrame
    clustering_spec: SegmentationSpec
    features: pd.DataFrame
    attributes: pd.DataFrame
    quality: dict[str, Any]
    details: dict[str, Any]
    future: FutureBehaviour = field(default_factory=lambda: not_possible(CUSTOMER_TABLE_REASON))
    events: pd.DataFrame | None = None


def build_customer_table(frame: pd.DataFrame, spec: SegmentationSpec) -> CustomerTable:
    """Check the input against the spec and build the customer table; raises
    :class:`SegmentationError` with a readable message when it cannot."""
    if spec.is_transactions:
        return _from_transactions(frame, spec)
    return _from_customers(frame, spec)


def _from_customers(frame: pd.DataFrame, spec: SegmentationSpec) -> CustomerTable:
    absent = [c for c in spec.referenced_columns() if c not in frame.columns]
    if absent:
        raise SegmentationError(
            f"column(s) not found in the data: {', '.join(absent)}; "
            f"the data has {', '.join(map(str, frame.columns))}"
        )
    ids = id_text(frame[spec.id_column])
    has_id = (ids.notna() & (ids != "")).to_numpy(dtype=bool)
    features = pd.DataFrame({FEATURE_ID: ids[has_id].to_numpy()})
    for column in spec.numeric_columns:
        features[column] = coerce_numeric(frame[column]).to_numpy()[has_id]
    for column in spec.categorical_columns:
        features[column] = frame[column].to_numpy()[has_id]
    carried = [*spec.protected_columns, *spec.outcome_columns]
    attributes = pd.DataFrame({FEATURE_ID: ids[has_id].to_numpy()})
    for column in dict.fromkeys(carried):
        attributes[column] = frame[column].to_numpy()[has_id]
    quality = {
        "input_kind": "customers",
        "rows": len(frame),
        "rows_without_id": int((~has_id).sum()),
        "missing_id_words": missing_words(frame[spec.id_column][~has_id]) if not has_id.all() else {},
    }
    excluded = set(spec.excluded_features)
    clustering_spec = replace(
        spec,
        numeric_columns=tuple(c for c in spec.numeric_columns if c not in excluded),
        categorical_columns=tuple(c for c in spec.categorical_columns if c not in excluded),
    )
    return CustomerTable(
        frame=frame,
        clustering_spec=clustering_spec,
        features=features,
        attributes=attributes,
        quality=quality,
        details={"input_kind": "customers"},
    )


def _from_transactions(frame: pd.DataFrame, spec: SegmentationSpec) -> CustomerTable:
    carried = list(dict.fromkeys([*spec.protected_columns, *spec.outcome_columns]))
    absent = [c for c in carried if c not in frame.columns]
    if absent:
        raise SegmentationError(f"column(s) not found in the transaction log: {', '.join(absent)}")
    events = clean_transactions(frame, spec)
    as_of = spec.as_of_date or default_as_of(events)
    table = customer_features(events.frame, as_of=as_of, groups=spec.features, random_state=spec.random_state)
    log = events_frame(events)
    lifecycle = lifecycle_features(
        log,
        as_of=as_of,
        asked=spec.features,
        horizon_days=spec.clv_horizon_days,
        discount_rate=spec.clv_discount_rate,
        period=spec.lifecycle_period,
    )
    features = _with_lifecycle(table.frame, lifecycle.frame)
    feature_columns = (*table.feature_columns, *lifecycle.clustered, *lifecycle.profiled)
    quality = dict(events.quality)
    after = int((events.frame["t"].to_numpy() >= (as_of - _EPOCH).days * 86_400).sum())
    quality["events_on_or_after_as_of"] = after
    quality["customers_in_log"] = int(events.frame["customer_id"].nunique())
    quality["customers"] = len(features)
    quality["customers_without_events_before_as_of"] = quality["customers_in_log"] - len(features)

    usable, left_out = [], {}
    for column in feature_columns:
        values = features[column].to_numpy(dtype=float)
        present = values[~np.isnan(values)]
        if column in lifecycle.profiled:
            left_out[column] = "a prediction of the CLV model: profiled and delivered, never clustered on"
        elif column in spec.excluded_features:
            left_out[column] = "left out by the spec's 'excluded_features'"
        elif present.size == 0:
            left_out[column] = "undefined for every customer"
        elif np.all(present == present[0]):
            left_out[column] = "the same for every customer"
        elif column in INDICATOR_GROUPS and INDICATOR_GROUPS[column] not in table.groups:
            left_out[column] = f"indicator of the '{INDICATOR_GROUPS[column]}' group, which was not asked for"
        elif column in INDICATOR_GROUPS and present.mean() < RARE_INDICATOR:
            # standardised, a flag on 0.6% of customers sits ~13 SD out and dominates every
            # distance, so the clustering splits on it; it stays in features.csv
            left_out[column] = "flags fewer than 1% of customers: it would dominate the distances"
        else:
            usable.append(column)
    unknown = [c for c in spec.excluded_features if c not in feature_columns]
    if unknown:
        raise SegmentationError(
            f"'excluded_features' names {', '.join(unknown)}, which is not a feature engineered from this log; "
            f"the features are {', '.join(feature_columns)}"
        )
    if not usable and spec.excluded_features:
        raise SegmentationError("'excluded_features' leaves no feature to cluster on: keep at least one")
    if not usable:
        raise SegmentationError(
            "every engineered feature is the same for all customers, so there is nothing to segment on: "
            "check the log covers several customers with different purchases before 'as_of'"
        )

    attributes = _attributes(frame, spec, carried, features[FEATURE_ID])
    clustering_frame = features[[FEATURE_ID, *usable]].merge(attributes, on=FEATURE_ID, how="left")
    clustering_spec = replace(
        spec,
        id_column=FEATURE_ID,
        numeric_columns=tuple(usable),
        input_kind="customers",
        timestamp_column=None,
        amount_column=None,
        quantity_column=None,
        unit_price_column=None,
        category_column=None,
        features=None,
    )
    details = {
        "input_kind": "transactions",
        "as_of": as_of.isoformat(),
        "feature_groups": [*table.groups, *lifecycle.groups],
        "feature_groups_skipped": {**table.skipped, **lifecycle.skipped},
        "engineered_features": [c for c in features.columns if c != FEATURE_ID],
        "features_left_out": left_out,
    }
    if table.affinity is not None:
        details["affinity"] = table.affinity  # what an SQL scorer projects the shares onto
    if lifecycle.clv is not None:
        details["clv"] = lifecycle.clv
    return CustomerTable(
        frame=clustering_frame,
        clustering_spec=clustering_spec,
        features=features,
        attributes=attributes,
        quality=quality,
        details=details,
        future=behaviour_after(events.frame, as_of=as_of),
        events=log,
    )


def _with_lifecycle(features: pd.DataFrame, lifecycle: pd.DataFrame) -> pd.DataFrame:
    """The engineered features with the lifecycle columns beside them, row for row."""
    if len(lifecycle.columns) <= 1:
        return features
    extra = lifecycle.set_index("customer_id").reindex(np.asarray(features[FEATURE_ID], dtype=object))
    out = features.copy()
    for column in extra.columns:
        out[column] = extra[column].to_numpy()
    return out


# Missingness indicators and the feature group whose features they explain.
INDICATOR_GROUPS = {
    "no_purchases": "rfm",
    "no_spend": "rfm",
    "interval_missing": "temporal",
    "momentum_missing": "windows",
}
RARE_INDICATOR = 0.01

_EPOCH = pd.Timestamp("1970-01-01").date()


def _attributes(
    frame: pd.DataFrame, spec: SegmentationSpec, carried: list[str], customers: pd.Series
) -> pd.DataFrame:
    """One value per customer of each protected/outcome column: the last filled one in the log."""
    out = pd.DataFrame({FEATURE_ID: customers.to_numpy()})
    if not carried:
        return out
    ids = id_text(frame[spec.id_column])
    rows = frame.loc[ids.notna() & (ids != ""), carried].copy()
    rows[FEATURE_ID] = ids[rows.index].astype(object)
    last = rows.groupby(FEATURE_ID, sort=False)[carried].last()
    return out.merge(last, left_on=FEATURE_ID, right_index=True, how="left")
