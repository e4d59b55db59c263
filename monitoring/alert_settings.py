"""A project's alert settings, set by its administrator in the portal: the level that alerts, the
addresses e-mailed, and an optional signed webhook."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from audit.services import audit_record
from projects import access

from .alerts import webhook_secret_set
from .models import AlertSettings


def alert_settings_for(project: Any) -> AlertSettings:
    """The project's settings, or the defaults (drift only, no address, no webhook) unsaved."""
    return AlertSettings.objects.filter(project=project).first() or AlertSettings(project=project)


def alert_settings_save(
    *,
    project: Any,
    level: str,
    emails: list[str],
    webhook_url: str,
    new_webhook_secret: bool,
    user: Any,
    request: Any = None,
) -> tuple[AlertSettings, str]:
    """Save who hears of alerts: (the settings, a new webhook secret shown once, or "").

    A webhook gets a secret when it is first set or when the administrator asks for a new one;
    removing the webhook removes its secret. Audited with the addresses counted, not listed.
    """
    access.require(user, project, "manage_alerts")
    secret = ""
    with transaction.atomic():
        row, _ = AlertSettings.objects.select_for_update().get_or_create(project=project)
        row.level, row.emails, row.webhook_url = level, emails, webhook_url
        if not webhook_url:
            row.webhook_secret_encrypted = ""
        row.save()
        if webhook_url and (new_webhook_secret or not row.webhook_secret_encrypted):
            secret = webhook_secret_set(row)
        audit_record(
            action="monitoring.alert_settings",
            actor=user,
            project=project,
            obj=row,
            request=request,
            details={
                "level": level,
                "emails": len(emails),
                "webhook": bool(webhook_url),
                "new_webhook_secret": bool(secret),
            },
        )
    return row, secret
