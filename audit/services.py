"""Writing the audit trail: one append at a time, chained onto the last event."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import connection, models, transaction
from django.http import HttpRequest
from django.utils import timezone

from .chain import CURRENT_SCHEME, GENESIS, event_hash
from .models import AuditEvent

# Any constant works: it only has to be the same for every writer of the audit chain.
AUDIT_CHAIN_LOCK = 7_321_001


def audit_chain_key() -> bytes:
    return settings.AUDIT_CHAIN_KEY.encode()


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
            scheme=CURRENT_SCHEME,
            hash=event_hash(
                previous_hash=previous,
                created_at=created_at,
                ip_address=ip,
                scheme=CURRENT_SCHEME,
                key=audit_chain_key(),
                **fields,
            ),
        )
    return event
