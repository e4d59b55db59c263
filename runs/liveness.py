"""A running run's heartbeat, and the reaper that requeues or fails runs whose worker died."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import F, Q
from django.utils import timezone

from audit.services import audit_record
from projects.models import SegmentationRun
from segplatform.heartbeat import beating

from .outbox import enqueue

logger = logging.getLogger(__name__)

REAP_TASK = "runs.reap"
WORKER_LOST = "the worker stopped while running this job"


@contextmanager
def heartbeat(run_id: int) -> Iterator[None]:
    """Beat for a run while the worker runs it, so that only a dead worker stops it.

    Progress reports beat too, but a long step (the deliverables of a large run) reports none.
    """
    # A stalled worker that wakes after its run was requeued must not beat for the next attempt.
    attempt = SegmentationRun.objects.filter(pk=run_id).values_list("attempts", flat=True).first()
    alive = SegmentationRun.objects.filter(pk=run_id, status=SegmentationRun.Status.RUNNING, attempts=attempt)
    with beating(
        lambda: alive.update(heartbeat_at=timezone.now()),
        interval=max(1.0, settings.RUN_HEARTBEAT_TIMEOUT / 4),
        name=f"run-{run_id}",
    ):
        yield


def runs_reap() -> int:
    """Requeue or fail the running runs whose worker stopped beating, with an audit event each.

    A worker killed mid-run (out of memory, a node lost) leaves its run ``running`` forever
    otherwise. A run is put back in the queue ``RUN_LOST_RETRIES`` times (``run.retried``), then
    failed with ``WORKER_LOST`` (``run.failed``). The update re-checks the heartbeat, so a run
    that beat meanwhile is left alone. Returns how many runs were requeued or failed.
    """
    cutoff = timezone.now() - timedelta(seconds=settings.RUN_HEARTBEAT_TIMEOUT)
    # One test of staleness for the selection and for the re-check inside each update.
    silent = Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
    stale = SegmentationRun.objects.filter(status=SegmentationRun.Status.RUNNING).filter(silent)
    reaped = 0
    for run in stale.select_related("project"):
        try:
            if run.attempts <= max(0, settings.RUN_LOST_RETRIES):
                if _requeue(run, silent):
                    # After the commit, so a worker that takes it at once sees it queued.
                    enqueue(run.pk)
                    reaped += 1
            elif _fail(run, silent):
                reaped += 1
        except DatabaseError:
            # A worker that was only stalled may be committing this very run (a deadlock the
            # database breaks by aborting one side): the next round sees what it left.
            logger.warning("reaping run %s failed; the next round retries it", run.pk, exc_info=True)
    return reaped


def _requeue(run: SegmentationRun, silent: Q) -> bool:
    """Put a lost run back in the queue as if new: nothing of the lost attempt is kept.

    The lost attempt committed nothing but its progress: the version, its bias record and its
    deliverables are written in one transaction at the end, which died with the worker.
    ``awaiting_dispatch`` is set first, so a broker that is down now loses nothing either.
    """
    with transaction.atomic():
        updated = (
            SegmentationRun.objects.filter(
                pk=run.pk, status=SegmentationRun.Status.RUNNING, attempts=run.attempts
            )
            .filter(silent)
            .update(
                status=SegmentationRun.Status.QUEUED,
                progress=0,
                step="",
                error="",
                started_at=None,
                heartbeat_at=None,
                finished_at=None,
                celery_task_id="",
                awaiting_dispatch=True,
                attempts=F("attempts") + 1,
            )
        )
        if updated:
            audit_record(
                action="run.retried",
                actor_name="reaper",
                project=run.project,
                obj=run,
                details={"reason": WORKER_LOST, "attempt": run.attempts + 1, **_last_beat(run)},
            )
    return bool(updated)


def _fail(run: SegmentationRun, silent: Q) -> bool:
    with transaction.atomic():
        updated = (
            SegmentationRun.objects.filter(
                pk=run.pk, status=SegmentationRun.Status.RUNNING, attempts=run.attempts
            )
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
                details={"error": WORKER_LOST, "attempts": run.attempts, **_last_beat(run)},
            )
    return bool(updated)


def _last_beat(run: SegmentationRun) -> dict[str, str | None]:
    return {"heartbeat_at": run.heartbeat_at.isoformat() if run.heartbeat_at else None}
