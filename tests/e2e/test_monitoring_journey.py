"""A deployed segmentation kept alive, in a real browser with a real worker and a real SMTP server:
the reviewer deploys an approved version; the project administrator sets the client's PostgreSQL
table as its data source, a weekly schedule and who is e-mailed; the consultant refreshes; the
worker finds the planted drift, notifies in the portal and by e-mail, and starts a retraining run
whose version appears as a draft for review, while the deployed version stays deployed."""

from __future__ import annotations

import mailbox
import os
import subprocess
import time
import uuid

import pytest
from django.db import connection
from django.urls import reverse
from django_celery_beat.models import PeriodicTask

from governance.deployment import deployed_version
from governance.lifecycle import version_status, version_transition
from governance.models import SegmentVersion
from monitoring.models import MonitoringCheck
from tests.api.test_broker_down import broker  # noqa: F401  (shared fixture)
from tests.conftest import ROOT, _database_url, start_worker
from tests.monitoring.conftest import admin, client_database  # noqa: F401  (shared fixtures)
from tests.monitoring.test_alerts import smtp_server  # noqa: F401  (shared fixture)
from tests.projects.conftest import finished_run  # noqa: F401  (shared fixture)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SCREENS = ROOT / "var" / "screens"
OPS = "ops@client.example"


def _shot(session, label: str) -> None:  # type: ignore[no-untyped-def]
    SCREENS.mkdir(parents=True, exist_ok=True)
    session.page.screenshot(path=str(SCREENS / f"monitoring-{session.name}-{label}.png"), full_page=True)


def _until(condition, what: str, log, seconds: float = 180) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen:\n{log.read_text()[-3000:]}"
        time.sleep(0.3)


def test_a_refresh_from_postgresql_alerts_by_portal_and_mail_and_leaves_a_retraining_draft(
    open_session,
    finished_run,  # noqa: F811
    consultant,
    reviewer,
    admin,  # noqa: F811
    client_database,  # noqa: F811
    smtp_server,  # noqa: F811
    broker,  # noqa: F811
    settings,
    tmp_path,
):
    version = finished_run.version
    version_transition(version=version, action="submit", user=consultant, reason="")
    version_transition(
        version=version, action="approve", user=reviewer, reason="ok", override_reason="checked"
    )
    port, maildir = smtp_server
    queue = f"segplatform-test-{uuid.uuid4().hex[:8]}"
    broker(settings.CELERY_BROKER_URL, queue)
    log = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(connection.settings_dict),
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(port),
        "PYTHONUNBUFFERED": "1",
    }
    worker: subprocess.Popen = start_worker(env=env, log=log, queue=queue)
    monitoring_page = reverse("monitoring:version_monitoring", args=[version.pk])
    try:
        # The reviewer deploys the approved version on its page.
        rita = open_session("reviewer")
        rita.login(reviewer.username)
        rita.page.goto(reverse("governance:version_detail", args=[version.pk]))
        rita.page.click("#deploy-form button[type=submit]")
        rita.page.wait_for_selector("#deployed")
        assert "customers" in rita.page.locator("#deployed").inner_text()
        _shot(rita, "01-deployed")

        # The administrator sets the client's table, a weekly schedule and who is e-mailed.
        ada = open_session("admin")
        ada.login(admin.username)
        ada.page.goto(monitoring_page)
        ada.page.click("summary:has-text('Set the data source')")
        ada.page.fill("#id_url", client_database)
        ada.page.fill("#id_table", "public.customers")
        ada.page.click("#source-form button[type=submit]")
        ada.page.wait_for_selector("#source")
        assert client_database not in ada.page.content()  # the credentials are never shown again
        ada.page.click("summary:has-text('Refresh on a schedule')")
        ada.page.select_option("#id_frequency", "weekly")
        ada.page.click("#schedule-form button[type=submit]")
        ada.page.wait_for_selector("#schedule")
        assert "weekly" in ada.page.locator("#schedule").inner_text()
        ada.page.click("summary:has-text('Who hears of alerts')")
        ada.page.select_option("#id_level", "drift")
        ada.page.fill("#id_emails", OPS)
        ada.page.click("#alerts-form button[type=submit]")
        ada.page.wait_for_selector("text=Alert settings saved.")
        _shot(ada, "02-source-schedule-alerts")
        schedule = PeriodicTask.objects.get(task="monitoring.refresh_lineage")
        assert schedule.enabled and schedule.crontab.day_of_week == "1"

        # The consultant refreshes now; the worker pulls the table and monitors the deployed version.
        me = open_session("consultant")
        me.login(consultant.username)
        me.page.goto(monitoring_page)
        me.page.click("#refresh-form button[type=submit]")
        me.page.wait_for_selector("text=The refresh is queued")
        _until(MonitoringCheck.objects.exists, "the worker's check", log)
        me.page.goto(monitoring_page)
        assert me.page.locator("#overall-level").inner_text() == "Drift"
        assert (
            me.page.locator("#features tr[data-feature=avg_basket] td").last.inner_text().lower() == "drift"
        )
        assert me.page.locator("#retraining").count() == 1
        _shot(me, "03-drift")

        # The portal notification, and the e-mail the SMTP server received.
        assert me.page.locator("#notifications-link .badge").inner_text() == "1"
        me.page.click("#notifications-link")
        assert f"{version.label}: drift" in me.page.content() or "drift" in me.page.inner_text("main")
        _shot(me, "04-notification")
        _until(lambda: maildir.exists() and len(mailbox.Maildir(maildir)) > 0, "the alert e-mail", log, 30)
        mail = next(iter(mailbox.Maildir(maildir)))
        assert mail["To"] == OPS and mail["Subject"].endswith(f"{version.label}: drift")

        # The retraining run, done by the same worker, leaves a draft version for review.
        _until(lambda: SegmentVersion.objects.count() == 2, "the retraining version", log)
        draft = SegmentVersion.objects.exclude(pk=version.pk).get()
        assert version_status(draft) == "draft"
        assert deployed_version(project=version.project, lineage="customers") == version
        rita.page.goto(reverse("governance:version_detail", args=[draft.pk]))
        assert rita.page.locator("h1 .badge").inner_text().lower() == "draft"
        _shot(rita, "05-retraining-draft")
    finally:
        worker.kill()
        worker.wait()
