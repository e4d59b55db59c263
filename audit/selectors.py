"""Reads of the audit trail."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from .chain import ChainBreak, first_break
from .models import AuditEvent

CHAIN_FIELDS = (
    "id",
    "previous_hash",
    "hash",
    "created_at",
    "actor_id",
    "actor_name",
    "action",
    "project_id",
    "object_type",
    "object_id",
    "details",
    "ip_address",
    "scheme",
)


def audit_chain_check() -> tuple[int, ChainBreak | None]:
    """How many events the chain holds, and its first broken link (``None`` when intact)."""
    rows = AuditEvent.objects.order_by("id").values(*CHAIN_FIELDS)
    count = 0

    def counted():  # type: ignore[no-untyped-def]
        nonlocal count
        for row in rows.iterator(chunk_size=2000):
            count += 1
            yield row

    broken = first_break(counted(), key=settings.AUDIT_CHAIN_KEY.encode())
    return count, broken


def audit_events_for_project(project: Any) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(project=project).select_related("actor")
