"""A lineage refreshed on a schedule by a real Celery beat process (the database scheduler) and a real
worker: a weekly refresh missed for three weeks runs once when beat is back, not three times."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from audit.models import AuditEvent
from monitoring.models import DataSource, MonitoringCheck
from monitoring.refresh import lineage_source_set
from monitoring.schedules import FREQUENCIES, cron_expression, stored_hour
from segplatform.errors import ApplicationError
from tests.conftest import ROOT, _database_url

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_an_administrator_schedules_a_refresh_in_the_portal_and_a_missed_one_runs_once(
    deployed, admin, login, client_database, celery_worker, tmp_path
):
    from segplatform.celery import app

    source = lineage_source_set(
        project=deployed.project,
        lineage="customers",
        url=client_database,
        table="customers",
        query="",
        user=admin,
    )
    client = login(admin)
    client.post(
        reverse("monitoring:lineage_schedule", args=[deployed.pk]), {"frequency": "weekly", "cron": ""}
    )
    source.refresh_from_db()
    task = PeriodicTask.objects.get(pk=source.schedule_id)
    crontab = task.crontab
    assert (
        f"{crontab.minute} {stored_hour(crontab.hour)} {crontab.day_of_month} {crontab.month_of_year} "
        f"{crontab.day_of_week}" == FREQUENCIES["weekly"]
    )
    page = client.get(reverse("monitoring:version_monitoring", args=[deployed.pk])).content.decode()
    assert 'id="schedule"' in page and "weekly" in page
    assert AuditEvent.objects.filter(action="lineage.schedule_set").count() == 1

    # Beat was down for three weeks: three Monday refreshes were missed.
    task.last_run_at = timezone.now() - timedelta(days=21)
    task.queue = app.conf.task_default_queue  # the test worker's own queue
    task.save()
    env = {**os.environ, "DATABASE_URL": _database_url(connection.settings_dict), "PYTHONUNBUFFERED": "1"}
    log = tmp_path / "beat.log"
    with log.open("w") as out:
        beat = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "segplatform",
                "beat",
                "--loglevel=INFO",
                "--max-interval=1",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 120
        while not MonitoringCheck.objects.exists() and time.monotonic() < deadline:
            time.sleep(1)
        assert MonitoringCheck.objects.exists(), log.read_text()[-3000:]
        time.sleep(8)  # beat keeps ticking every second: the missed runs must not follow
    finally:
        beat.terminate()
        beat.wait(timeout=20)
    assert MonitoringCheck.objects.count() == 1
    check = MonitoringCheck.objects.get()
    assert check.version == deployed and check.created_by is None
    refresh = AuditEvent.objects.get(action="lineage.refresh")
    assert refresh.actor_name == "scheduler" and refresh.details["check"] == check.pk
    assert DataSource.objects.get().schedule_id == task.pk


@pytest.mark.parametrize(
    ("frequency", "cron", "expected"),
    [
        ("monthly", "", "0 6 1 * *"),
        ("quarterly", "", "0 6 1 1,4,7,10 *"),
        ("cron", "30  5 * * 1-5", "30 5 * * 1-5"),
    ],
)
def test_frequencies_and_cron_expressions(frequency, cron, expected):
    assert cron_expression(frequency, cron) == expected


@pytest.mark.parametrize(
    ("frequency", "cron", "message"),
    [
        ("cron", "61 * * * *", "is not a cron expression"),
        ("cron", "@daily", "five fields"),
        ("hourly", "", "not a schedule"),
    ],
)
def test_a_wrong_schedule_is_refused_in_words(frequency, cron, message):
    with pytest.raises(ApplicationError, match=message):
        cron_expression(frequency, cron)
