"""A project's audit trail for reviewers, as CSV and as PDF (WeasyPrint)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone

from .models import AuditEvent
from .selectors import audit_chain_check
from .services import audit_record

COLUMNS = [
    "id",
    "created_at",
    "actor",
    "action",
    "what",
    "object_type",
    "object_id",
    "ip_address",
    "details",
    "previous_hash",
    "hash",
]


def _events(project: Any) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(project=project).order_by("id"))


def _row(event: AuditEvent) -> list[Any]:
    return [
        event.pk,
        event.created_at.isoformat(),
        event.actor_name or "system",
        event.action,
        event.action_label,
        event.object_type,
        event.object_id,
        event.ip_address or "",
        json.dumps(event.details, sort_keys=True, default=str),
        event.previous_hash,
        event.hash,
    ]


def audit_trail_export(*, project: Any, fmt: str, user: Any, request: HttpRequest | None = None) -> bytes:
    """The project's events, oldest first, with the whole chain's verification result."""
    events = _events(project)
    count, broken = audit_chain_check()
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(_row(e) for e in events)
        data = buffer.getvalue().encode()
    elif fmt == "pdf":
        from weasyprint import HTML  # heavy import, needed only here

        html = render_to_string(
            "audit/trail_pdf.html",
            {
                "project": project,
                "events": events,
                "generated": timezone.now(),
                "chain_count": count,
                "broken": broken,
                "user": user,
            },
        )
        data = HTML(string=html).write_pdf()
    else:
        raise ValueError(f"unknown format {fmt!r}")
    audit_record(
        action="audit.export",
        actor=user,
        project=project,
        request=request,
        details={"format": fmt, "events": len(events)},
    )
    return data
