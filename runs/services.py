"""The upload -> run -> version workflow.

``run_execute`` is the one code path of a segmentation: the Celery task, the portal, the API
and ``manage.py segment`` all end up in it.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from audit.services import audit_record
from governance.bias import bias_audit_record
from governance.pii_review import privacy_gate
from governance.services import version_create
from projects import access
from projects.models import Dataset, Project, SegmentationRun
from reports.services import deliverables_build
from segmentation import (
    SegmentationError,
    SegmentationSpec,
    SpecError,
    check_bounds,
    segment,
    version_hash,
)
from segmentation import __version__ as engine_version
from segplatform.errors import ApplicationError

from . import outbox

# Uploads live in runs/datasets.py; the workflow's entry points stay importable from here.
from .datasets import dataset_ready_check, dataset_upload, upload_size_check  # noqa: F401
from .liveness import heartbeat

logger = logging.getLogger(__name__)

# Writing progress on every callback would hammer the database on fast steps.
PROGRESS_INTERVAL_SECONDS = 0.5


class RunCancelled(Exception):
    pass


def _require(user: AbstractBaseUser | None, project: Project, action: str) -> None:
    """The role table's word on ``action`` (404 outside the project, 403 for a role that may not).
    No user is the command line: an operator with the database in hand, outside the role table."""
    if user is not None:
        access.require(user, project, action)


def run_start(
    *,
    project: Project,
    dataset: Dataset,
    spec: dict[str, Any],
    user: AbstractBaseUser | None,
    request: HttpRequest | None = None,
    enqueue: bool = True,
    origin: dict[str, Any] | None = None,
) -> SegmentationRun:
    """Check a spec against the dataset and queue the run on a worker (after commit).

    ``origin`` says why the run was started when not by hand (a retraining after drift); the
    deck and report of its version say so."""
    _require(user, project, "run")
    if dataset.project_id != project.pk:
        raise ApplicationError("that dataset belongs to another project")
    dataset_ready_check(dataset)
    privacy_gate(dataset)
    try:
        parsed = SegmentationSpec.from_dict(spec)
    except SpecError as exc:
        raise ApplicationError(str(exc), field="spec") from None
    unknown = [c for c in parsed.referenced_columns() if c not in dataset.columns]
    if unknown:
        raise ApplicationError(f"'{dataset.name}' has no column(s) {', '.join(unknown)}", field="spec")
    try:
        check_bounds(k_min=parsed.k_min, k_max=parsed.k_max, rows=dataset.row_count)
    except SegmentationError as exc:
        raise ApplicationError(str(exc), field=exc.key or "spec") from None
    with transaction.atomic():
        run = SegmentationRun.objects.create(
            project=project,
            dataset=dataset,
            spec=parsed.to_dict(),
            created_by=user,
            awaiting_dispatch=enqueue,
            origin=origin or {},
        )
        audit_record(
            action="run.start",
            actor=user,
            project=project,
            obj=run,
            request=request,
            details={"dataset": dataset.pk, "spec": run.spec},
        )
        if enqueue:
            transaction.on_commit(lambda: outbox.enqueue(run.pk))
    return run


def run_cancel(*, run: SegmentationRun, user: AbstractBaseUser, request: HttpRequest | None = None) -> None:
    """Ask a queued or running run to stop; the worker stops at its next progress report."""
    _require(user, run.project, "cancel")
    with transaction.atomic():
        updated = SegmentationRun.objects.filter(
            pk=run.pk, status__in=[SegmentationRun.Status.QUEUED, SegmentationRun.Status.RUNNING]
        ).update(status=SegmentationRun.Status.CANCELLED, finished_at=timezone.now(), step="cancelled")
        if not updated:
            raise ApplicationError("this run has already finished")
        audit_record(action="run.cancel", actor=user, project=run.project, obj=run, request=request)


def run_execute(*, run_id: int) -> SegmentationRun:
    """Segment a run's dataset, freeze the result as a version and write its deliverables.

    Failures the user can fix end the run as failed with a readable message; a cancelled
    run stops at the next progress report. Never raises for either.
    """
    claimed = SegmentationRun.objects.filter(pk=run_id, status=SegmentationRun.Status.QUEUED).update(
        status=SegmentationRun.Status.RUNNING,
        started_at=timezone.now(),
        heartbeat_at=timezone.now(),
        progress=1,
        step="starting",
    )
    run = SegmentationRun.objects.select_related("project", "dataset", "created_by").get(pk=run_id)
    if not claimed:  # already taken by another worker, finished, or cancelled
        return run
    with heartbeat(run_id):
        _execute(run)
    run.refresh_from_db()
    return run


def _execute(run: SegmentationRun) -> None:
    run_id = run.pk
    try:
        spec = SegmentationSpec.from_dict(run.spec)
        frame = run.dataset.read_table()
        result = segment(frame, spec, progress=_progress_reporter(run.pk))
        # The version keeps the resolved spec: which columns were logged and whether PCA ran,
        # as the engine decided them for this data (the run keeps what the user asked).
        spec = result.spec
        _report(run.pk, "writing deliverables", 0.9)
        with transaction.atomic():
            version = version_create(
                project=run.project,
                run=run,
                spec=spec.to_dict(),
                model=result.model.to_dict(),
                model_sha256=result.model.sha256,
                data_sha256=run.dataset.sha256,
                code_version=engine_version,
                version_hash=version_hash(
                    spec=spec.to_dict(), model_sha256=result.model.sha256, data_sha256=run.dataset.sha256
                ),
                metrics=result.metrics,
                profile=result.profile.to_dict(orient="records"),
                user=run.created_by,
            )
            # Recorded before the deliverables, so the deck and the report can present it.
            bias = bias_audit_record(
                version=version,
                labels=result.labels,
                attributes=result.attributes,
                features=result.features,
                clustered=result.clustered_features,
            )
            deliverables_build(
                version=version,
                labels=result.labels,
                features=result.features,
                rules=result.rules,
                bias=bias,
                lifecycle=result.lifecycle,
            )
            if not _finish(run, SegmentationRun.Status.SUCCEEDED, step="done"):
                raise RunCancelled()  # cancelled at the last moment: keep no version
    except RunCancelled:
        pass
    except SegmentationError as exc:
        _finish(run, SegmentationRun.Status.FAILED, error=str(exc))
    except Exception:
        logger.exception("run %s failed unexpectedly", run_id)
        _finish(
            run,
            SegmentationRun.Status.FAILED,
            error="The run stopped on an unexpected error. It has been logged; please try again "
            "or contact the platform administrators with the run number.",
        )


def _finish(run: SegmentationRun, status: str, *, step: str = "", error: str = "") -> bool:
    # Only the attempt this worker claimed: after a requeue (runs.liveness) it is another's.
    updated = SegmentationRun.objects.filter(
        pk=run.pk, status=SegmentationRun.Status.RUNNING, attempts=run.attempts
    ).update(
        status=status,
        progress=100 if status == SegmentationRun.Status.SUCCEEDED else 0,
        step=step or status,
        error=error,
        finished_at=timezone.now(),
    )
    if updated:
        audit_record(
            action=f"run.{status}",
            actor_name="worker",
            project=run.project,
            obj=run,
            details={"error": error} if error else {},
        )
    return bool(updated)


def _report(run_id: int, step: str, fraction: float) -> None:
    updated = SegmentationRun.objects.filter(pk=run_id, status=SegmentationRun.Status.RUNNING).update(
        step=step[:200], progress=max(1, min(99, int(fraction * 100))), heartbeat_at=timezone.now()
    )
    if not updated:
        raise RunCancelled()


def _progress_reporter(run_id: int) -> Any:
    last = 0.0

    def report(step: str, fraction: float) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last >= PROGRESS_INTERVAL_SECONDS or fraction >= 1.0:
            last = now
            _report(run_id, step, fraction)

    return report
