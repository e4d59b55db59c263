"""Refreshes as worker jobs: asked for once per lineage at a time, sent through an outbox, claimed
by one worker, beating while they run, and requeued or failed by the reaper when their worker dies.

The refresh itself (pull, monitor, retrain on drift) is :func:`monitoring.refresh.lineage_refresh`;
this module only decides who runs it, when, and what the people who asked for it are told.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from kombu.exceptions import KombuError

from audit.services import audit_record
from governance.deployment import deployed_version
from projects import access
from segplatform.celery import app as celery_app
from segplatform.errors import ApplicationError
from segplatform.heartbeat import beating

from .models import DataSource, Refresh
from .refresh import lineage_refresh

logger = logging.getLogger(__name__)

EXECUTE_TASK = "monitoring.execute_refresh"
WORKER_LOST = "the worker stopped while refreshing this lineage"
UNEXPECTED = "The refresh stopped on an unexpected error. It has been logged; please try again or ask an administrator."


def refresh_under_way(*, project: Any, lineage: str) -> Refresh | None:
    return Refresh.objects.filter(project=project, lineage=lineage, status__in=Refresh.UNDER_WAY).first()


def refresh_request(
    *, project: Any, lineage: str, user: Any, trigger: str, request: Any = None, send: bool = True
) -> tuple[Refresh, bool]:
    """Ask a worker to refresh the lineage: (the refresh, whether this call created it).

    What can be known before the worker starts is checked here, so the person asking hears it at
    once: the right to refresh, a deployed version, a data source. A refresh already under way is
    returned instead of a second one. ``user`` None is the scheduler.
    """
    if user is not None:
        access.require(user, project, "upload")
    if deployed_version(project=project, lineage=lineage) is None:
        raise ApplicationError(f"no version is deployed for '{lineage}': deploy an approved version first")
    if not DataSource.objects.filter(project=project, lineage=lineage).exists():
        raise ApplicationError(
            f"'{lineage}' has no data source to refresh from: a project administrator sets one"
        )
    try:
        with transaction.atomic():
            refresh = Refresh.objects.create(
                project=project, lineage=lineage, trigger=trigger, requested_by=user
            )
            audit_record(
                action="lineage.refresh_requested",
                actor=user,
                actor_name="" if user is not None else "scheduler",
                project=project,
                obj=refresh,
                request=request,
                details={"lineage": lineage, "trigger": trigger},
            )
    except IntegrityError:  # one under way already (the partial unique constraint)
        existing = refresh_under_way(project=project, lineage=lineage)
        if existing is None:  # it finished between the insert and this read: ask again
            return refresh_request(
                project=project, lineage=lineage, user=user, trigger=trigger, request=request, send=send
            )
        return existing, False
    if send:
        transaction.on_commit(lambda: refresh_send(refresh.pk))
    return refresh, True


def refresh_send(refresh_id: int) -> bool:
    """Hand a refresh to the broker; False, with it left in the outbox, when the broker is down."""
    try:
        celery_app.send_task(EXECUTE_TASK, args=[refresh_id], retry=False)
    except (KombuError, OSError):
        logger.warning("refresh %s was not sent; it waits for refreshes_dispatch", refresh_id, exc_info=True)
        return False
    Refresh.objects.filter(pk=refresh_id).update(awaiting_dispatch=False)
    return True


def refreshes_dispatch() -> tuple[int, int]:
    """Send the queued refreshes the broker has not taken, oldest first: (sent, still waiting)."""
    waiting = list(
        Refresh.objects.filter(status=Refresh.Status.QUEUED, awaiting_dispatch=True)
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)
    )
    sent = 0
    for refresh_id in waiting:
        if not refresh_send(refresh_id):
            break
        sent += 1
    return sent, len(waiting) - sent


def refresh_execute(refresh_id: int) -> Refresh | None:
    """Run a queued refresh on this worker; None when another worker has it or it is no longer queued."""
    claimed = Refresh.objects.filter(pk=refresh_id, status=Refresh.Status.QUEUED).update(
        status=Refresh.Status.RUNNING, started_at=timezone.now(), heartbeat_at=timezone.now()
    )
    if not claimed:
        return None
    refresh = Refresh.objects.select_related("project", "requested_by").get(pk=refresh_id)
    mine = Refresh.objects.filter(pk=refresh_id, status=Refresh.Status.RUNNING, attempts=refresh.attempts)
    outcome: dict[str, Any]
    with beating(
        lambda: mine.update(heartbeat_at=timezone.now()),
        interval=max(1.0, settings.RUN_HEARTBEAT_TIMEOUT / 4),
        name=f"refresh-{refresh_id}",
    ):
        try:
            check = lineage_refresh(
                project=refresh.project, lineage=refresh.lineage, user=refresh.requested_by
            )
            outcome = {"status": Refresh.Status.DONE, "monitoring_check": check}
        except ApplicationError as exc:
            outcome = {"status": Refresh.Status.FAILED, "error": exc.message}
        except Exception:
            logger.exception("refresh %s failed unexpectedly", refresh_id)
            outcome = {"status": Refresh.Status.FAILED, "error": UNEXPECTED}
    mine.update(finished_at=timezone.now(), **outcome)
    refresh.refresh_from_db()
    if refresh.status == Refresh.Status.FAILED:
        audit_record(
            action="lineage.refresh_failed",
            actor=refresh.requested_by,
            actor_name="" if refresh.requested_by else "scheduler",
            project=refresh.project,
            obj=refresh,
            details={"lineage": refresh.lineage, "error": refresh.error},
        )
    return refresh


def refreshes_reap() -> int:
    """Requeue (``RUN_LOST_RETRIES`` times) or fail the running refreshes whose worker stopped beating."""
    cutoff = timezone.now() - timedelta(seconds=settings.RUN_HEARTBEAT_TIMEOUT)
    silent = Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
    reaped = 0
    for refresh in (
        Refresh.objects.filter(status=Refresh.Status.RUNNING).filter(silent).select_related("project")
    ):
        same = Refresh.objects.filter(
            pk=refresh.pk, status=Refresh.Status.RUNNING, attempts=refresh.attempts
        ).filter(silent)
        retry = refresh.attempts <= max(0, settings.RUN_LOST_RETRIES)
        try:
            with transaction.atomic():
                if retry:
                    changed = same.update(
                        status=Refresh.Status.QUEUED,
                        started_at=None,
                        heartbeat_at=None,
                        awaiting_dispatch=True,
                        attempts=F("attempts") + 1,
                    )
                else:
                    changed = same.update(
                        status=Refresh.Status.FAILED, error=WORKER_LOST, finished_at=timezone.now()
                    )
                if changed:
                    audit_record(
                        action="lineage.refresh_retried" if retry else "lineage.refresh_failed",
                        actor_name="reaper",
                        project=refresh.project,
                        obj=refresh,
                        details={
                            "lineage": refresh.lineage,
                            "error": WORKER_LOST,
                            "attempts": refresh.attempts,
                        },
                    )
        except DatabaseError:
            logger.warning("reaping refresh %s failed; the next round retries it", refresh.pk, exc_info=True)
            continue
        if changed:
            reaped += 1
            if retry:
                refresh_send(refresh.pk)
    return reaped
