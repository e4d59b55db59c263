"""A lineage's refresh schedule: weekly, monthly, quarterly or a cron expression, kept by
django-celery-beat's database scheduler so it is edited in the portal, never in a file.

Beat runs a missed refresh once when it comes back (a crontab entry whose last run is older than its
latest due time is due once, not once per missed time), so a worker or beat down for three weeks
refreshes once, not three times. Times are UTC.
"""

from __future__ import annotations

import json
from typing import Any

from crontab import CronSlices
from django.db import transaction
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from audit.services import audit_record
from projects import access
from segplatform.errors import ApplicationError

from .models import DataSource
from .tasks import REFRESH_TASK

# Monday, the first of the month, the first of each quarter; at 06:00 UTC, before a working day.
FREQUENCIES = {"weekly": "0 6 * * 1", "monthly": "0 6 1 * *", "quarterly": "0 6 1 1,4,7,10 *"}


def cron_expression(frequency: str, cron: str = "") -> str:
    """The five-field cron expression of a frequency, or the user's own, checked."""
    if frequency in FREQUENCIES:
        return FREQUENCIES[frequency]
    if frequency != "cron":
        raise ApplicationError(f"'{frequency}' is not a schedule: choose weekly, monthly, quarterly or cron")
    expression = " ".join(cron.split())
    if len(expression.split()) != 5 or not CronSlices.is_valid(expression):
        raise ApplicationError(
            f"'{cron}' is not a cron expression: give five fields, minute hour day month weekday (e.g. '0 6 * * 1')"
        )
    return expression


def lineage_schedule_set(
    *, source: DataSource, frequency: str, cron: str = "", user: Any, request: Any = None
) -> PeriodicTask:
    """Refresh ``source``'s lineage on a schedule (project administrators); replaces its schedule."""
    access.require(user, source.project, "manage_sources")
    expression = cron_expression(frequency, cron)
    minute, hour, day_of_month, month_of_year, day_of_week = expression.split()
    with transaction.atomic():
        # django-celery-beat (2.8+) leaves a crontab entry whose hour is a plain number out of the
        # schedule outside two hours of the current hour, so a refresh missed while beat was down
        # would wait for the next day's window. The same hour as a range ("6-6") keeps the entry in
        # the schedule, and beat runs a missed refresh once, as soon as it is back.
        hour = f"{hour}-{hour}" if hour.isdigit() else hour
        crontab, _ = CrontabSchedule.objects.get_or_create(
            minute=minute,
            hour=hour,
            day_of_month=day_of_month,
            month_of_year=month_of_year,
            day_of_week=day_of_week,
            timezone="UTC",
        )
        task, _ = PeriodicTask.objects.update_or_create(
            name=f"refresh project {source.project_id} lineage {source.lineage}",
            defaults={
                "task": REFRESH_TASK,
                "args": json.dumps([source.pk]),
                "crontab": crontab,
                "enabled": True,
            },
        )
        source.schedule = task
        source.save(update_fields=["schedule"])
        audit_record(
            action="lineage.schedule_set",
            actor=user,
            project=source.project,
            obj=source,
            request=request,
            details={"lineage": source.lineage, "frequency": frequency, "cron": expression},
        )
    return task


def schedule_words(source: DataSource) -> str:
    """The schedule in words for the monitoring page."""
    task = source.schedule
    if task is None or not task.enabled or task.crontab is None:
        return ""
    c = task.crontab
    expression = f"{c.minute} {stored_hour(c.hour)} {c.day_of_month} {c.month_of_year} {c.day_of_week}"
    named = next((name for name, value in FREQUENCIES.items() if value == expression), "")
    return f"{named or 'on the cron expression'} ({expression}, UTC)"


def stored_hour(hour: str) -> str:
    """The hour as the user wrote it: "6" for the stored "6-6"."""
    start, dash, end = hour.partition("-")
    return start if dash and start == end and start.isdigit() else hour
