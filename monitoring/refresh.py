"""A refresh of a lineage: pull its data source, monitor the deployed version on it, and on drift
start a retraining run whose version waits as a draft for review. Nothing is deployed by a refresh."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from audit.services import audit_record
from governance.deployment import deployed_version
from projects import access
from runs.services import run_start
from segplatform.errors import ApplicationError

from .document import TEST_NAMES
from .models import DataSource, MonitoringCheck
from .services import current_dataset_upload, monitoring_check
from .sources import source_read, source_save


def lineage_source_set(
    *, project: Any, lineage: str, url: str, table: str, query: str, user: Any, request: Any = None
) -> DataSource:
    """Set (or replace) the lineage's data source; project administrators only; audited without the URL."""
    access.require(user, project, "manage_sources")
    with transaction.atomic():
        source = source_save(project=project, lineage=lineage, url=url, table=table, query=query, user=user)
        audit_record(
            action="lineage.source_set",
            actor=user,
            project=project,
            obj=source,
            request=request,
            details={"lineage": lineage, "table": source.table, "query": bool(source.query)},
        )
    return source


def lineage_refresh(*, project: Any, lineage: str, user: Any = None, request: Any = None) -> MonitoringCheck:
    """Pull, score and monitor; on drift, queue a retraining run on the pulled data.

    ``user`` None is the scheduler (beat): the platform acts on the project's own settings.
    """
    if user is not None:
        access.require(user, project, "upload")
    version = deployed_version(project=project, lineage=lineage)
    if version is None:
        raise ApplicationError(f"no version is deployed for '{lineage}': deploy an approved version first")
    source = DataSource.objects.filter(project=project, lineage=lineage).first()
    if source is None:
        raise ApplicationError(
            f"'{lineage}' has no data source to refresh from: a project administrator sets one"
        )
    name, content = source_read(source)
    actor_name = "" if user is not None else "scheduler"
    dataset = current_dataset_upload(
        version=version, name=name, content=content, user=user, actor_name=actor_name
    )
    check = monitoring_check(
        version=version, dataset=dataset, user=user, actor_name=actor_name, request=request
    )
    if check.overall_level == "drift":
        # The spec the deployed version was asked with: the field's defaults are decided afresh on the new data.
        spec = version.run.spec if version.run is not None else version.spec
        check.retraining_run = run_start(
            project=project,
            dataset=dataset,
            spec=spec,
            user=None,
            request=request,
            origin=_retraining_origin(version, check),
        )
        check.save(update_fields=["retraining_run"])
    audit_record(
        action="lineage.refresh",
        actor=user,
        actor_name=actor_name,
        project=project,
        obj=version,
        request=request,
        details={
            "lineage": lineage,
            "check": check.pk,
            "overall_level": check.overall_level,
            "retraining_run": check.retraining_run_id,
        },
    )
    return check


def _retraining_origin(version: Any, check: MonitoringCheck) -> dict[str, Any]:
    """Why a retraining run exists, for its version's deck and report: the check's drift.json in brief."""
    drift = check.result
    return {
        "kind": "retraining",
        "deployed_version": version.pk,
        "deployed_label": version.label,
        "check": check.pk,
        "checked_at": check.created_at.isoformat(),
        "overall_level": check.overall_level,
        "drifted_features": [
            {
                "feature": f["feature"],
                "level": f["level"],
                "test": f["test"],
                "test_name": TEST_NAMES.get(f["test"], f["test"]),
                "statistic": f["statistic"],
            }
            for f in drift["features"]
            if f["level"] in ("drift", "warning")
        ],
        "segment_shares": [
            {
                "segment": r["segment"],
                "name": r["name"],
                "reference_share": r["reference_share"],
                "current_share": r["current_share"],
            }
            for r in drift["segment_shares"]["segments"]
        ],
    }
