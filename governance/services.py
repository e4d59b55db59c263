"""Writes of the governance layer: segment versions."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from audit.services import audit_record
from projects.models import Project

from .lineage import lineage_parent
from .models import SegmentVersion


def version_create(
    *,
    project: Any,
    run: Any,
    spec: dict[str, Any],
    model: dict[str, Any],
    model_sha256: str,
    data_sha256: str,
    code_version: str,
    version_hash: str,
    metrics: dict[str, Any],
    profile: list[dict[str, Any]],
    user: AbstractBaseUser | None,
) -> SegmentVersion:
    """Freeze a run's result as the project's next version, parented on the latest version of
    the same data (:mod:`governance.lineage`), not on whatever the project made last."""
    with transaction.atomic():
        # Numbers are allocated under a lock on the project row, held until the caller commits.
        # Locking the latest version instead is not enough: under READ COMMITTED a second
        # transaction waits on that same old row and then computes the same number, and with no
        # version yet there is no row to lock at all. The read below runs after the lock is
        # granted, so it sees every version committed before. (SQLite serialises writers anyway.)
        # NO KEY UPDATE, not UPDATE: a row that references the project (an audit event, a run)
        # takes a KEY SHARE lock on it, and FOR UPDATE would block that for the whole deliverables
        # build while this transaction then waits for the audit chain's lock: a deadlock.
        Project.objects.select_for_update(no_key=True).filter(pk=project.pk).first()
        latest = SegmentVersion.objects.filter(project=project).order_by("-number").first()
        parent = _parent(project, run)
        version = SegmentVersion.objects.create(
            project=project,
            run=run,
            parent=parent,
            number=(latest.number + 1) if latest else 1,
            spec=spec,
            model=model,
            model_sha256=model_sha256,
            data_sha256=data_sha256,
            code_version=code_version,
            version_hash=version_hash,
            metrics=metrics,
            profile=profile,
            created_by=user,
        )
        audit_record(
            action="version.create",
            actor=user,
            project=project,
            obj=version,
            details={"version": version.label, "version_hash": version_hash},
        )
    return version


def _parent(project: Any, run: Any) -> SegmentVersion | None:
    """A retraining's deployed version (its diff then speaks of what the refresh replaces), else the
    latest version of the run's lineage."""
    if run is None:
        return None
    origin = run.origin if isinstance(run.origin, dict) else {}
    if origin.get("kind") == "retraining":
        deployed = SegmentVersion.objects.filter(project=project, pk=origin.get("deployed_version")).first()
        if deployed is not None:
            return deployed
    return lineage_parent(project=project, dataset=run.dataset)
