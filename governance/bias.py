"""The bias record of a version: the engine's audit of its segments, stored with the version."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pandas as pd

from segmentation.protection.fairness import bias_audit

from .models import BiasAudit


@dataclass(frozen=True)
class BiasResult:
    """The audit as the engine returned it: the table by protected group and the findings."""

    table: pd.DataFrame
    findings: dict[str, Any]


def bias_audit_record(
    *, version: Any, labels: pd.DataFrame, attributes: pd.DataFrame | None, features: pd.DataFrame | None
) -> BiasResult | None:
    """Audit a fresh version whose spec names protected columns, store the record, return the audit.

    The protected columns come from the run's ``attributes`` (carried beside the features by the
    engine, one row a customer, for customer tables and transaction logs alike, whatever the
    upload's format), never from the model's features, so they cannot have influenced the clustering.
    """
    spec = version.segmentation_spec
    protected = list(spec.protected_columns)
    if not protected or attributes is None:
        return None
    feature_names = [c for c in (features.columns if features is not None else []) if c != "customer_id"]
    joined = labels[["customer_id", "segment"]].astype({"customer_id": str})
    joined = joined.merge(
        attributes[["customer_id", *protected]].astype({"customer_id": str}), on="customer_id", how="left"
    )
    if feature_names:
        joined = joined.merge(
            features[["customer_id", *feature_names]].astype({"customer_id": str}),
            on="customer_id",
            how="left",
        )
    table, findings = bias_audit(
        joined["segment"], joined[protected], joined[feature_names], random_state=spec.random_state
    )
    BiasAudit.objects.create(
        version=version,
        protected_columns=protected,
        rows=json.loads(table.to_json(orient="records")),
        findings=findings,
    )
    return BiasResult(table=table, findings=findings)
