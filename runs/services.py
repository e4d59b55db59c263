"""The upload -> run -> version workflow.

``run_execute`` is the one code path of a segmentation: the Celery task, the portal, the API
and ``manage.py segment`` all end up in it.
"""

from __future__ import annotations

import hashlib
import logging
import time
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.base import ContentFile
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from audit.services import audit_record
from governance.bias import bias_audit_record
from governance.pii_review import privacy_gate, privacy_review_open
from governance.services import version_create
from projects import access
from projects.models import Dataset, Project, SegmentationRun, upload_limits
from reports.services import deliverables_build
from segmentation import (
    SegmentationError,
    SegmentationSpec,
    SpecError,
    check_bounds,
    read_input,
    segment,
    version_hash,
)
from segmentation import __version__ as engine_version
from segmentation.data.io import SUPPORTED_SUFFIXES
from segplatform.errors import ApplicationError

from . import outbox
from .liveness import heartbeat
from .schema import guess_id_column, infer_schema

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


def upload_size_check(name: str, size: int) -> None:
    """Refuse a file past ``MAX_UPLOAD_BYTES``: the form, the API and the service say it alike."""
    if size > settings.MAX_UPLOAD_BYTES:
        limit = settings.MAX_UPLOAD_BYTES // (1024 * 1024)
        raise ApplicationError(
            f"'{PurePath(name).name}' is larger than the {limit} MB limit for an upload: "
            "split it into several files, or save it as Parquet, which is smaller than CSV",
            field="file",
        )


def dataset_upload(
    *,
    project: Project,
    name: str,
    content: bytes,
    id_column: str | None,
    user: AbstractBaseUser | None,
    request: HttpRequest | None = None,
) -> Dataset:
    """Validate an uploaded customer table or transaction log and store it encrypted.

    Accepts CSV (.csv, .txt, .tsv), Parquet and XLSX; the stored bytes are the upload's.
    Refuses, with a message naming the problem: a file of another kind, an empty file, a
    table without the chosen id column, or one without any numeric column to cluster on.
    """
    _require(user, project, "upload")
    name = PurePath(name or "upload.csv").name
    if PurePath(name).suffix.lower() not in SUPPORTED_SUFFIXES:
        raise ApplicationError(
            f"'{name}' is not a CSV file, nor Parquet or Excel: upload a .csv, .parquet or .xlsx file",
            field="file",
        )
    upload_size_check(name, len(content))
    try:
        frame = read_input(content, name=f"'{name}'", limits=upload_limits())
    except SegmentationError as exc:
        raise ApplicationError(str(exc), field="file") from None

    id_column = (id_column or "").strip() or guess_id_column(frame)
    if id_column not in frame.columns:
        raise ApplicationError(
            f"'{name}' has no column named '{id_column}'; its columns are {', '.join(frame.columns)}",
            field="id_column",
        )
    schema = infer_schema(frame)
    if not any(c["kind"] == "numeric" and c["name"] != id_column for c in schema):
        raise ApplicationError(
            f"'{name}' has no numeric columns besides the id column '{id_column}': "
            "segmentation needs at least one column of numbers",
            field="file",
        )
    dataset = Dataset(
        project=project,
        name=name,
        sha256=hashlib.sha256(content).hexdigest(),
        size_bytes=len(content),
        row_count=len(frame),
        id_column=id_column,
        schema=schema,
        uploaded_by=user,
    )
    try:
        _dataset_store(dataset, content, frame=frame, user=user, request=request)
    except BaseException:
        # The file is written before the row commits: a failed commit must not leave it behind.
        if dataset.file.name:
            dataset.file.storage.delete(dataset.file.name)
        raise
    return dataset


def _dataset_store(
    dataset: Dataset,
    content: bytes,
    *,
    frame: Any,
    user: AbstractBaseUser | None,
    request: HttpRequest | None,
) -> None:
    project, name = dataset.project, dataset.name
    with transaction.atomic():
        dataset.file.save(name, ContentFile(content), save=False)
        dataset.save()
        # PII detection opens the privacy review; runs wait until the consultant confirms it.
        privacy_review_open(dataset=dataset, frame=frame)
        audit_record(
            action="dataset.upload",
            actor=user,
            project=project,
            obj=dataset,
            request=request,
            details={"name": name, "sha256": dataset.sha256, "rows": dataset.row_count},
        )


def run_start(
    *,
    project: Project,
    dataset: Dataset,
    spec: dict[str, Any],
    user: AbstractBaseUser | None,
    request: HttpRequest | None = None,
    enqueue: bool = True,
) -> SegmentationRun:
    """Check a spec against the dataset and queue the run on a worker (after commit)."""
    _require(user, project, "run")
    if dataset.project_id != project.pk:
        raise ApplicationError("that dataset belongs to another project")
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
                version=version, labels=result.labels, attributes=result.attributes, features=result.features
            )
            deliverables_build(
                version=version, labels=result.labels, features=result.features, rules=result.rules, bias=bias
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
