"""A running run's heartbeat, and the reaper that fails runs whose worker died."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from audit.services import audit_record
from projects.models import SegmentationRun

logger = logging.getLogger(__name__)

REAP_TASK = "runs.reap"
WORKER_LOST = "the worker stopped while running this job"


@contextmanager
def heartbeat(run_id: int) -> Iterator[None]:
    """Beat for a run from a thread while the worker runs it, so that only a dead worker stops it.

    Progress reports beat too, but a long step (the deliverables of a large run) reports none.
    The thread has its own database connection; a beat that fails (a lock held by the run's own
    transaction) is skipped, the next one comes soon enough. Left after the run's transaction
    ends, so the thread never waits on a lock its own run holds.
    """
    stop = threading.Event()
    interval = max(1.0, settings.RUN_HEARTBEAT_TIMEOUT / 4)

    def beat() -> None:
        try:
            while not stop.wait(interval):
                try:
                    SegmentationRun.objects.filter(pk=run_id, status=SegmentationRun.Status.RUNNING).update(
                        heartbeat_at=timezone.now()
                    )
                except DatabaseError:
                    logger.debug("heartbeat of run %s skipped", run_id, exc_info=True)
        finally:
            connection.close()

    thread = threading.Thread(target=beat, name=f"run-{run_id}-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def runs_reap() -> int:
    """Fail the running runs whose worker stopped beating, with an audit event each; how many.

    A worker killed mid-run (out of memory, a node lost) leaves its run ``running`` forever
    otherwise. The update re-checks the heartbeat, so a run that beat meanwhile is left alone.
    """
    cutoff = timezone.now() - timedelta(seconds=settings.RUN_HEARTBEAT_TIMEOUT)
    # One test of staleness for the selection and for the re-check inside each update.
    silent = Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
    stale = SegmentationRun.objects.filter(status=SegmentationRun.Status.RUNNING).filter(silent)
    reaped = 0
    for run in stale.select_related("project"):
        with transaction.atomic():
            updated = (
                SegmentationRun.objects.filter(pk=run.pk, status=SegmentationRun.Status.RUNNING)
                .filter(silent)
                .update(
                    status=SegmentationRun.Status.FAILED,
                    progress=0,
                    step=SegmentationRun.Status.FAILED,
                    error=WORKER_LOST,
                    finished_at=timezone.now(),
                )
            )
            if updated:
                audit_record(
                    action="run.failed",
                    actor_name="reaper",
                    project=run.project,
                    obj=run,
                    details={
                        "error": WORKER_LOST,
                        "heartbeat_at": run.heartbeat_at.isoformat() if run.heartbeat_at else None,
                    },
                )
                reaped += 1
    return reaped
