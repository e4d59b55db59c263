"""Uploads: screening a file in the request, reading it in full inline or on a worker.

A small upload is read in the request, as it always was, and is ready on arrival. A large one
would hold the web process for as long as pandas takes to read it, so the request only screens
it (kind, size, the stream limits, the header when that is cheap), stores it encrypted as
``checking`` and hands its reading to the worker (``datasets.inspect``), which makes it ``ready``
or ``rejected``. A check the broker did not take waits in the outbox, as a run does.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

import pandas as pd
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.base import ContentFile
from django.db import transaction
from django.http import HttpRequest
from kombu.exceptions import KombuError

from audit.services import audit_record
from governance.pii_review import privacy_review_open
from projects import access
from projects.models import Dataset, Project, upload_limits
from segmentation import SegmentationError, read_input
from segmentation.data.io import SUPPORTED_SUFFIXES, screen_input
from segmentation.data.profile import TableProfile, profile_table
from segplatform.celery import app as celery_app
from segplatform.errors import ApplicationError

from .schema import guess_id_column, infer_schema

logger = logging.getLogger(__name__)

INSPECT_TASK = "datasets.inspect"
UNEXPECTED = (
    "The file could not be checked because of an unexpected error. It has been logged; please "
    "upload it again or contact the platform administrators with the dataset number."
)


@dataclass(frozen=True)
class Inspection:
    """What reading a whole table found: it passed every check of an upload."""

    frame: pd.DataFrame
    id_column: str
    schema: list[dict[str, Any]]
    profile: TableProfile


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
    inline: bool | None = None,
) -> Dataset:
    """Validate an uploaded customer table or transaction log and store it encrypted.

    Accepts CSV (.csv, .txt, .tsv), Parquet and XLSX; the stored bytes are the upload's.
    Refuses, with a message naming the problem: a file of another kind, an empty file, one past
    the size or stream limits, a table without the chosen id column, one without any numeric
    column to cluster on, or a customer table whose ids repeat (a log's ids repeat by nature:
    the table's profile tells the two apart and is kept on the dataset). A file up to ``DATASET_INLINE_CHECK_BYTES`` (or any, with
    ``inline=True``, as the command line asks) is read here and returned ready; a larger one is
    screened, returned ``checking`` and read on a worker, which may still reject it.
    """
    if user is not None:
        access.require(user, project, "upload")
    name = PurePath(name or "upload.csv").name
    if PurePath(name).suffix.lower() not in SUPPORTED_SUFFIXES:
        raise ApplicationError(
            f"'{name}' is not a CSV file, nor Parquet or Excel: upload a .csv, .parquet or .xlsx file",
            field="file",
        )
    upload_size_check(name, len(content))
    if inline is None:
        inline = len(content) <= settings.DATASET_INLINE_CHECK_BYTES
    dataset = Dataset(
        project=project,
        name=name,
        sha256=hashlib.sha256(content).hexdigest(),
        size_bytes=len(content),
        uploaded_by=user,
    )
    inspection = None
    if inline:
        inspection = dataset_read(content, name=name, id_column=id_column)
        dataset.row_count = len(inspection.frame)
        dataset.id_column = inspection.id_column
        dataset.schema = inspection.schema
        dataset.profile = inspection.profile.as_dict()
    else:
        _screen(content, name=name, id_column=id_column)
        dataset.status = Dataset.Status.CHECKING
        dataset.awaiting_dispatch = True
        dataset.row_count, dataset.id_column, dataset.schema = 0, (id_column or "").strip(), []
    try:
        _dataset_store(dataset, content, inspection=inspection, user=user, request=request)
    except BaseException:
        # The file is written before the row commits: a failed commit must not leave it behind.
        if dataset.file.name:
            dataset.file.storage.delete(dataset.file.name)
        raise
    return dataset


def _screen(content: bytes, *, name: str, id_column: str | None) -> None:
    try:
        columns = screen_input(content, name=f"'{name}'", limits=upload_limits())
    except SegmentationError as exc:
        raise ApplicationError(str(exc), field="file") from None
    id_column = (id_column or "").strip()
    if columns is not None and id_column and id_column not in columns:
        raise _no_id_column(name, id_column, columns)


def _no_id_column(name: str, id_column: str, columns: Any) -> ApplicationError:
    return ApplicationError(
        f"'{name}' has no column named '{id_column}'; its columns are {', '.join(map(str, columns))}",
        field="id_column",
    )


def dataset_read(content: bytes, *, name: str, id_column: str | None) -> Inspection:
    """Read a whole table and check it as an upload is checked; ApplicationError if it fails."""
    try:
        frame = read_input(content, name=f"'{name}'", limits=upload_limits())
    except SegmentationError as exc:
        raise ApplicationError(str(exc), field="file") from None
    id_column = (id_column or "").strip() or guess_id_column(frame)
    if id_column not in frame.columns:
        raise _no_id_column(name, id_column, frame.columns)
    schema = infer_schema(frame)
    if not any(c["kind"] == "numeric" and c["name"] != id_column for c in schema):
        raise ApplicationError(
            f"'{name}' has no numeric columns besides the id column '{id_column}': "
            "segmentation needs at least one column of numbers",
            field="file",
        )
    profile = profile_table(frame, id_column)
    if not profile.is_events and profile.duplicate_ids:
        raise _duplicate_ids(name, profile)
    return Inspection(frame=frame, id_column=id_column, schema=schema, profile=profile)


def _duplicate_ids(name: str, profile: TableProfile) -> ApplicationError:
    examples = ", ".join(
        f"'{value}' {'twice' if times == 2 else f'{times} times'}"
        for value, times in profile.duplicate_examples
    )
    count = profile.duplicate_ids
    return ApplicationError(
        f"'{name}' is a customer table whose ids repeat: {count:,} "
        f"{'id appears' if count == 1 else 'ids appear'} more than once in '{profile.id_column}' "
        f"({'' if count == 1 else 'such as '}{examples}), and a customer table needs one row per "
        "customer. Remove or merge "
        "the duplicate rows and upload again; if the file is a transaction log (one row per "
        "event), it needs a column with each event's date.",
        field="file",
    )


def _dataset_store(
    dataset: Dataset,
    content: bytes,
    *,
    inspection: Inspection | None,
    user: AbstractBaseUser | None,
    request: HttpRequest | None,
) -> None:
    project, name = dataset.project, dataset.name
    with transaction.atomic():
        dataset.file.save(name, ContentFile(content), save=False)
        dataset.save()
        if inspection is not None:
            # PII detection opens the privacy review; runs wait until the consultant confirms it.
            privacy_review_open(dataset=dataset, frame=inspection.frame)
        audit_record(
            action="dataset.upload",
            actor=user,
            project=project,
            obj=dataset,
            request=request,
            details={
                "name": name,
                "sha256": dataset.sha256,
                "rows": dataset.row_count,
                "status": dataset.status,
                **({"table": inspection.profile.kind} if inspection is not None else {}),
            },
        )
        if inspection is None:
            transaction.on_commit(lambda: dataset_enqueue(dataset.pk))


def dataset_inspect(*, dataset_id: int) -> Dataset:
    """Read a ``checking`` dataset's file on the worker: ready with its rows, schema and privacy
    review, or rejected with the reason and its file deleted. Never raises for a bad file; a
    dataset no longer checking (a second delivery) is left as it is."""
    dataset = Dataset.objects.select_related("project").get(pk=dataset_id)
    if dataset.status != Dataset.Status.CHECKING:
        return dataset
    try:
        if not dataset.file:
            raise ApplicationError(
                f"'{dataset.name}' was deleted under the project's retention policy before it was "
                "checked: upload the data again"
            )
        with dataset.file.open("rb") as handle:
            inspection = dataset_read(handle.read(), name=dataset.name, id_column=dataset.id_column)
        with transaction.atomic():
            # Conditional, so that of two deliveries only one opens the review.
            claimed = Dataset.objects.filter(pk=dataset.pk, status=Dataset.Status.CHECKING).update(
                status=Dataset.Status.READY,
                row_count=len(inspection.frame),
                id_column=inspection.id_column,
                schema=inspection.schema,
                profile=inspection.profile.as_dict(),
            )
            if claimed:
                dataset.refresh_from_db()
                privacy_review_open(dataset=dataset, frame=inspection.frame)
                audit_record(
                    action="dataset.ready",
                    actor_name="worker",
                    project=dataset.project,
                    obj=dataset,
                    details={"rows": dataset.row_count, "table": inspection.profile.kind},
                )
    except ApplicationError as exc:
        _reject(dataset, exc.message)
    except Exception:
        logger.exception("dataset %s could not be checked", dataset_id)
        _reject(dataset, UNEXPECTED)
    dataset.refresh_from_db()
    return dataset


def _reject(dataset: Dataset, error: str) -> None:
    """Keep the record and the reason, nothing usable: the stored file goes once this commits."""
    stored = dataset.file.name
    with transaction.atomic():
        rejected = Dataset.objects.filter(pk=dataset.pk, status=Dataset.Status.CHECKING).update(
            status=Dataset.Status.REJECTED, error=error, file="", awaiting_dispatch=False
        )
        if rejected:
            audit_record(
                action="dataset.rejected",
                actor_name="worker",
                project=dataset.project,
                obj=dataset,
                details={"error": error},
            )
            if stored:
                transaction.on_commit(lambda: dataset.file.storage.delete(stored))


def dataset_ready_check(dataset: Dataset) -> None:
    """Refuse to segment a dataset whose file is still being checked, or was rejected."""
    if dataset.status == Dataset.Status.CHECKING:
        raise ApplicationError(
            f"'{dataset.name}' is still being checked (a worker is reading its rows and columns): "
            "start the run once the project page shows it ready",
            field="dataset",
        )
    if dataset.status == Dataset.Status.REJECTED:
        raise ApplicationError(
            f"'{dataset.name}' was rejected and cannot be segmented: {dataset.error} "
            "Upload a corrected file.",
            field="dataset",
        )


def dataset_enqueue(dataset_id: int) -> bool:
    """Hand a dataset's check to the broker; False, with it left waiting, when it is unreachable
    (the upload is committed: a broker down must not turn the request into a 500)."""
    try:
        celery_app.send_task(INSPECT_TASK, args=[dataset_id], retry=False)
    except (KombuError, OSError):
        logger.warning("dataset %s was not sent to the broker; it waits for the dispatcher", dataset_id)
        return False
    Dataset.objects.filter(pk=dataset_id).update(awaiting_dispatch=False)
    return True


def datasets_dispatch() -> tuple[int, int]:
    """Send the checks the broker has not taken yet, oldest first: (sent, still waiting).
    Stops at the first failure, as the broker is still down; sending one twice is harmless."""
    waiting = list(
        Dataset.objects.filter(status=Dataset.Status.CHECKING, awaiting_dispatch=True)
        .order_by("uploaded_at", "pk")
        .values_list("pk", flat=True)
    )
    sent = 0
    for dataset_id in waiting:
        if not dataset_enqueue(dataset_id):
            break
        sent += 1
    return sent, len(waiting) - sent
