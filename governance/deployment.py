"""Deploying a version: the approved version of a lineage that scoring, monitoring and refresh use.

A lineage (:mod:`governance.lineage`) has at most one open deployment; deploying another of its
versions ends the current one in the same transaction. Only approved versions are deployed, by a
reviewer or a project administrator, and every deployment is audited.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from audit.services import audit_record
from projects import access
from projects.models import Project
from segplatform.errors import ApplicationError

from .lifecycle import version_status
from .lineage import lineage_key
from .models import Deployment, SegmentVersion, VersionStatusChange


def version_lineage(version: SegmentVersion) -> str:
    if version.run is None or version.run.dataset_id is None:
        raise ApplicationError(f"{version.label} has no run on a dataset, so it belongs to no lineage")
    return lineage_key(version.run.dataset.name)


def version_deploy(*, version: SegmentVersion, user: Any, request: HttpRequest | None = None) -> Deployment:
    """Deploy ``version`` for its lineage, ending the lineage's current deployment."""
    access.require(user, version.project, "deploy")
    if version_status(version) != VersionStatusChange.Status.APPROVED:
        raise ApplicationError(
            f"only an approved version can be deployed; {version.label} is {version_status(version)}"
        )
    lineage = version_lineage(version)
    with transaction.atomic():
        Project.objects.select_for_update().filter(pk=version.project_id).first()  # one deploy at a time
        current = Deployment.objects.filter(
            project=version.project, lineage=lineage, ended_at__isnull=True
        ).first()
        if current is not None and current.version_id == version.pk:
            raise ApplicationError(f"{version.label} is already the deployed version of its lineage")
        if current is not None:
            current.ended_at = timezone.now()
            current.save(update_fields=["ended_at"])
        deployment = Deployment.objects.create(
            project=version.project, lineage=lineage, version=version, deployed_by=user
        )
        audit_record(
            action="version.deploy",
            actor=user,
            project=version.project,
            obj=version,
            request=request,
            details={"lineage": lineage, "replaces": current.version.label if current is not None else None},
        )
    return deployment


def deployed_version(*, project: Project, lineage: str) -> SegmentVersion | None:
    """The version deployed for ``lineage`` now, or None."""
    deployment = (
        Deployment.objects.filter(project=project, lineage=lineage, ended_at__isnull=True)
        .select_related("version")
        .first()
    )
    return deployment.version if deployment is not None else None


def version_deployment(version: SegmentVersion) -> Deployment | None:
    """The version's open deployment, if it is the deployed one."""
    return Deployment.objects.filter(version=version, ended_at__isnull=True).first()
