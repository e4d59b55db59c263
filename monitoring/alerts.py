"""Alerts: a check at or above its project's alert level reaches people, on three channels.

- the portal: a notification for every member of the project;
- e-mail: Django's mail framework to the project's alert addresses;
- a webhook: the check as JSON, POSTed with ``X-Segplatform-Signature: sha256=<HMAC of the body>``
  keyed with the project's webhook secret, so the receiver can tell it came from the platform.

Rate limit: one lineage's alerts on one channel go out at most once in
``ALERT_MIN_INTERVAL_SECONDS``, unless the level rises (a warning, then a drift, both alert); a
suppressed alert is recorded as such. A channel that fails (SMTP refused, the webhook times out)
is recorded with the reason and never fails the check. Every alert is an audit event.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import urllib.error
import urllib.request
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import timezone

from audit.services import audit_record
from governance.lineage import lineage_key
from segmentation.monitoring.levels import LEVELS
from segplatform.storage import fernet

from .models import Alert, AlertSettings, MonitoringCheck, Notification

SIGNATURE_HEADER = "X-Segplatform-Signature"


def webhook_secret_set(settings_row: AlertSettings) -> str:
    """A new webhook secret for the project, stored encrypted; returned once, for the receiver."""
    secret = os.urandom(24).hex()
    settings_row.webhook_secret_encrypted = fernet().encrypt(secret.encode()).decode()
    settings_row.save(update_fields=["webhook_secret_encrypted"])
    return secret


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _lineage(version: Any) -> str:
    run = version.run
    return lineage_key(run.dataset.name) if run is not None and run.dataset_id else f"version {version.pk}"


def _suppressed(check: MonitoringCheck, channel: str) -> bool:
    """True when this channel already alerted this lineage at this level or higher, recently."""
    since = timezone.now() - timedelta(seconds=settings.ALERT_MIN_INTERVAL_SECONDS)
    recent = (
        Alert.objects.filter(
            monitoring_check__version__project=check.version.project,
            channel=channel,
            status=Alert.Status.SENT,
            created_at__gte=since,
        )
        .exclude(monitoring_check=check)
        .select_related("monitoring_check__version__run__dataset")
    )
    lineage, rank = _lineage(check.version), LEVELS.index(check.overall_level)
    return any(
        _lineage(a.monitoring_check.version) == lineage
        and LEVELS.index(a.monitoring_check.overall_level) >= rank
        for a in recent
    )


def _message(check: MonitoringCheck) -> tuple[str, str, str]:
    version = check.version
    levels = ", ".join(f"{name} {level}" for name, level in check.result["levels"].items() if level != "none")
    moved = [f["feature"] for f in check.result["features"] if f["level"] != "none"]
    subject = f"[Segplatform] {version.project.name} {version.label}: {check.overall_level}"
    link = reverse("monitoring:version_monitoring", args=[version.pk])
    text = (
        f"Monitoring of {version.label} ({version.project.name}) on {check.created_at:%Y-%m-%d %H:%M} UTC: "
        f"overall {check.overall_level} ({levels})."
        + (f" Features that moved: {', '.join(moved)}." if moved else "")
        + f" The figures are on the version's monitoring page: {link}"
    )
    return subject, text, link


def _record(check: MonitoringCheck, channel: str, status: str, target: str, detail: str = "") -> Alert:
    alert = Alert.objects.create(
        monitoring_check=check, channel=channel, status=status, target=target, detail=detail
    )
    audit_record(
        action="monitoring.alert",
        actor_name="platform",
        project=check.version.project,
        obj=check.version,
        details={
            "check": check.pk,
            "channel": channel,
            "status": status,
            "target": target,
            "level": check.overall_level,
        },
    )
    return alert


def _webhook(check: MonitoringCheck, row: AlertSettings, text: str, link: str) -> tuple[str, str]:
    body = json.dumps(
        {
            "project": check.version.project.name,
            "version": check.version.label,
            "version_hash": check.version.version_hash,
            "check": check.pk,
            "overall_level": check.overall_level,
            "levels": check.result["levels"],
            "message": text,
            "monitoring_page": link,
        },
        sort_keys=True,
    ).encode()
    secret = (
        fernet().decrypt(row.webhook_secret_encrypted.encode()).decode()
        if row.webhook_secret_encrypted
        else ""
    )
    request = urllib.request.Request(
        row.webhook_url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", SIGNATURE_HEADER: signature(secret, body)},
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.WEBHOOK_TIMEOUT_SECONDS) as response:
            return Alert.Status.SENT, f"HTTP {response.status}"
    except urllib.error.HTTPError as exc:
        return Alert.Status.FAILED, f"the webhook answered HTTP {exc.code}"
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        return Alert.Status.FAILED, f"the webhook could not be reached: {getattr(exc, 'reason', exc)}"


def alerts_send(check: MonitoringCheck) -> list[Alert]:
    """Send the check's alerts, if its level reaches the project's alert level; never raises."""
    row, _ = AlertSettings.objects.get_or_create(project=check.version.project)
    if LEVELS.index(check.overall_level) < LEVELS.index(row.level):
        return []
    subject, text, link = _message(check)
    sent: list[Alert] = []
    members = [m.user for m in check.version.project.memberships.select_related("user")]
    channels = [(Alert.Channel.PORTAL, ", ".join(u.get_username() for u in members))]
    if row.emails:
        channels.append((Alert.Channel.EMAIL, ", ".join(row.emails)))
    if row.webhook_url:
        channels.append((Alert.Channel.WEBHOOK, row.webhook_url))
    for channel, target in channels:
        if _suppressed(check, channel):
            sent.append(
                _record(
                    check,
                    channel,
                    Alert.Status.SUPPRESSED,
                    target,
                    "an alert of this level went out recently",
                )
            )
            continue
        if channel == Alert.Channel.PORTAL:
            Notification.objects.bulk_create(
                [Notification(user=u, monitoring_check=check, message=text) for u in members]
            )
            status, detail = Alert.Status.SENT, f"{len(members)} member(s)"
        elif channel == Alert.Channel.EMAIL:
            try:
                send_mail(subject, text, settings.DEFAULT_FROM_EMAIL, list(row.emails))
                status, detail = Alert.Status.SENT, ""
            except OSError as exc:  # smtplib's errors are OSErrors
                status, detail = (
                    Alert.Status.FAILED,
                    f"the mail server refused or could not be reached: {exc}",
                )
        else:
            status, detail = _webhook(check, row, text, link)
        sent.append(_record(check, channel, status, target, detail))
    return sent
