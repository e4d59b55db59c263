"""A project administrator sets who hears of alerts on the monitoring page; no one else can."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from monitoring.alerts import signature
from monitoring.models import AlertSettings
from projects.models import Membership
from projects.services import membership_add
from segplatform.storage import fernet
from tests.projects.conftest import quick_run  # noqa: F401  (shared fixture)

pytestmark = pytest.mark.django_db


def test_an_administrator_sets_addresses_and_a_signed_webhook_and_the_secret_is_shown_once(
    quick_run,  # noqa: F811
    consultant,
    make_user,
    login,
):
    version = quick_run.version
    admin = make_user("ada")
    membership_add(project=version.project, user=admin, role=Membership.Role.ADMIN)
    url = reverse("monitoring:alert_settings", args=[version.pk])
    page = reverse("monitoring:version_monitoring", args=[version.pk])
    assert 'id="alerts-form"' not in login(consultant).get(page).content.decode()
    assert login(consultant).post(url, {"level": "warning", "emails": "x@example.com"}).status_code == 403
    assert not AlertSettings.objects.exists()

    answer = login(admin).post(
        url,
        {
            "level": "warning",
            "emails": "ops@client.example, ops@client.example\nlead@consultancy.example",
            "webhook_url": "https://hooks.client.example/segments",
        },
        follow=True,
    )
    text = answer.content.decode()
    secret = re.search(r"shown this once: ([0-9a-f]{48})", text)
    assert secret, text
    row = AlertSettings.objects.get(project=version.project)
    assert (row.level, row.emails) == ("warning", ["ops@client.example", "lead@consultancy.example"])
    assert fernet().decrypt(row.webhook_secret_encrypted.encode()).decode() == secret.group(1)
    assert signature(secret.group(1), b"{}").startswith("sha256=")
    again = login(admin).get(page).content.decode()
    assert secret.group(1) not in again and "ops@client.example, lead@consultancy.example" in again
    assert AuditEvent.objects.get(action="monitoring.alert_settings").details == {
        "level": "warning",
        "emails": 2,
        "webhook": True,
        "new_webhook_secret": True,
    }

    # Saving again keeps the secret unless a new one is asked for.
    login(admin).post(url, {"level": "drift", "emails": "", "webhook_url": row.webhook_url})
    row.refresh_from_db()
    assert fernet().decrypt(row.webhook_secret_encrypted.encode()).decode() == secret.group(1)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"emails": "ops@client, not an address"}, "not an e-mail address: ops@client, not an address"),
        ({"webhook_url": "http://hooks.client.example/x"}, "the webhook must be an https:// URL"),
    ],
)
def test_bad_alert_settings_are_refused_with_what_to_fix_and_nothing_saved(
    quick_run,  # noqa: F811
    make_user,
    login,
    fields,
    message,
):
    version = quick_run.version
    admin = make_user("ada")
    membership_add(project=version.project, user=admin, role=Membership.Role.ADMIN)
    answer = login(admin).post(
        reverse("monitoring:alert_settings", args=[version.pk]), {"level": "drift", **fields}, follow=True
    )
    assert answer.status_code == 200 and message in answer.content.decode()
    assert not AlertSettings.objects.exists()
