"""Writes of the governance layer: the audit trail and segment versions."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import connection, models, transaction
from django.http import HttpRequest
from django.utils import timezone

from .chain import GENESIS, event_hash
from .models import AuditEvent, SegmentVersion

# Any constant works: it only has to be the same for every writer of the audit chain.
AUDIT_CHAIN_LOCK = 7_321_001


def _lock_chain() -> None:
    """Serialise appends so two writers never chain onto the same predecessor."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [AUDIT_CHAIN_LOCK])
    # SQLite takes a write lock for the whole transaction (IMMEDIATE mode): nothing to add.


def audit_record(
    *,
    action: str,
    actor: AbstractBaseUser | AnonymousUser | None = None,
    project: Any = None,
    obj: models.Model | None = None,
    details: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
    actor_name: str = "",
) -> AuditEvent:
    """Append one event to the hash-chained audit trail, inside the caller's transaction."""
    user = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    name = actor_name or (user.get_username() if user is not None else "")
    ip = request.META.get("REMOTE_ADDR") if request is not None else None
    with transaction.atomic():
        _lock_chain()
        last = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
        previous = last or GENESIS
        created_at = timezone.now()
        fields = {
            "actor_id": user.pk if user is not None else None,
            "actor_name": name,
            "action": action,
            "project_id": project.pk if project is not None else None,
            "object_type": obj._meta.model_name if obj is not None else "",
            "object_id": str(obj.pk) if obj is not None else "",
            # Stored as JSON and read back as JSON: hash exactly what a verifier will read.
            "details": json.loads(json.dumps(details or {}, default=str)),
        }
        event = AuditEvent.objects.create(
            **fields,
            created_at=created_at,
            ip_address=ip,
            previous_hash=previous,
            hash=event_hash(previous_hash=previous, created_at=created_at, **fields),
        )
    return event


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
    """Freeze a run's result as the project's next version, parented on its latest one."""
    with transaction.atomic():
        latest = (
            SegmentVersion.objects.select_for_update().filter(project=project).order_by("-number").first()
        )
        version = SegmentVersion.objects.create(
            project=project,
            run=run,
            parent=latest,
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
