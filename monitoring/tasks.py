"""Celery tasks: load ids, call one service, nothing else."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from celery.signals import worker_ready

from segplatform.errors import ApplicationError

from .models import DataSource
from .refresh_jobs import EXECUTE_TASK, refresh_execute, refresh_request, refreshes_dispatch, refreshes_reap

REFRESH_TASK = "monitoring.refresh_lineage"
TEND_TASK = "monitoring.tend_refreshes"
logger = logging.getLogger(__name__)


@shared_task(name=REFRESH_TASK)
def refresh_lineage(source_id: int) -> int | None:
    """A scheduled refresh of the source's lineage, run here; returns the refresh's id (None when refused).

    A refresh already under way (someone pressed "Refresh now") is the scheduled one: no second pull.
    """
    source = DataSource.objects.select_related("project").filter(pk=source_id).first()
    if source is None:
        return None
    try:
        refresh, created = refresh_request(
            project=source.project, lineage=source.lineage, user=None, trigger="schedule", send=False
        )
    except ApplicationError as exc:  # nothing deployed any more: said, not retried blindly
        logger.warning("refresh of %s (%s) refused: %s", source.lineage, source.project, exc.message)
        return None
    if created:
        refresh_execute(refresh.pk)
    return refresh.pk


@shared_task(name=EXECUTE_TASK, acks_late=True, reject_on_worker_lost=True)
def execute_refresh(refresh_id: int) -> None:
    refresh_execute(refresh_id)


@shared_task(name=TEND_TASK)
def tend_refreshes() -> None:
    """Every minute (beat): requeue or fail refreshes whose worker died, send those the broker missed."""
    refreshes_reap()
    refreshes_dispatch()


@worker_ready.connect
def dispatch_refreshes_on_worker_start(**_: Any) -> None:
    refreshes_dispatch()
