"""The bias record of a version: the engine's audit of its segments, stored with the version."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pandas as pd

from segmentation.protection.fairness import bias_audit
from segmentation.protection.mitigation import side_by_side

from .models import BiasAudit, Mitigation, SegmentVersion
from .selectors import version_stored_labels


@dataclass(frozen=True)
class BiasResult:
    """The audit as the engine returned it: the table by protected group and the findings."""

    table: pd.DataFrame
    findings: dict[str, Any]


def bias_audit_record(
    *,
    version: Any,
    labels: pd.DataFrame,
    attributes: pd.DataFrame | None,
    features: pd.DataFrame | None,
    clustered: tuple[str, ...] | None = None,
) -> BiasResult | None:
    """Audit a fresh version whose spec names protected columns, store the record, return the audit.

    The protected columns come from the run's ``attributes`` (carried beside the features by the
    engine, one row a customer, for customer tables and transaction logs alike, whatever the
    upload's format), never from the model's features, so they cannot have influenced the clustering.
    The proxy check reads the features the clustering saw (``clustered``; every feature when None).
    A version made by a mitigation run also stores the comparison with the version it mitigates.
    """
    spec = version.segmentation_spec
    protected = list(spec.protected_columns)
    if not protected or attributes is None:
        return None
    names = [c for c in (features.columns if features is not None else []) if c != "customer_id"]
    feature_names = names if clustered is None else [c for c in names if c in clustered]
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
    mitigation = Mitigation.objects.filter(run_id=version.run_id).select_related("source").first()
    if mitigation is not None:
        findings["mitigation"] = _compared_with_source(mitigation, version, table, findings, labels)
        # The deck and the report list the findings: the comparison reaches them there too.
        findings["findings"] = [
            f"Mitigation run, side by side with {findings['mitigation']['source_label']}:",
            *findings["mitigation"]["summary"],
            *findings["findings"],
        ]
    BiasAudit.objects.create(
        version=version,
        protected_columns=protected,
        rows=json.loads(table.to_json(orient="records")),
        findings=findings,
    )
    return BiasResult(table=table, findings=findings)


def _quality(version: SegmentVersion) -> dict[str, Any]:
    view = version.metrics_view
    return {"k": view.selected.k, "silhouette": view.silhouette}


def _compared_with_source(
    mitigation: Mitigation,
    version: SegmentVersion,
    table: pd.DataFrame,
    findings: dict[str, Any],
    labels: pd.DataFrame,
) -> dict[str, Any]:
    source = mitigation.source
    audit = BiasAudit.objects.filter(version=source).first()
    comparison = side_by_side(
        dropped=list(mitigation.dropped_features),
        before_rows=pd.DataFrame(audit.rows if audit else [], columns=table.columns),
        before_findings=audit.findings if audit else {},
        after_rows=table,
        after_findings=findings,
        before_labels=version_stored_labels(source),
        after_labels=labels,
        before_quality=_quality(source),
        after_quality=_quality(version),
    )
    return {"source_version": source.number, "source_label": source.label, **comparison}
