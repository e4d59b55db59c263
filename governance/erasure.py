"""Data-subject erasure and the retention purge.

Erasure removes one customer's rows from every dataset of a project (anonymised file and any raw
copy still kept) and from every per-customer deliverable (``labels.csv``), then records that an
erasure happened, without the customer's id, original or pseudonymised. Versions themselves
are immutable and hold only aggregates (profiles, centroids), so they are never touched.

Retention deletes datasets' files (and kept raw uploads and label files) once the project's
retention period has passed; the rows of datasets and versions stay as the record of what was
done, the personal data goes.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from audit.services import audit_record
from projects.models import Dataset, Project
from segmentation import id_text, read_input
from segmentation.protection.pii import pseudonym
from segplatform.errors import ApplicationError

from .models import PrivacyReview
from .pii_review import csv_bytes, policy_for, project_key
from .signals import customer_erasure_requested, files_changed, retention_purge_requested


def rewrite_file(field: Any, data: bytes, name: str) -> str:
    """Store new bytes for a file field and return the old name (deleted after commit)."""
    old = field.name
    field.save(name, ContentFile(data), save=False)
    transaction.on_commit(lambda: field.storage.delete(old))
    return old


def customer_erase(
    *, project: Project, original_id: str, user: Any, request: HttpRequest | None = None
) -> dict[str, int]:
    """Remove one customer, named by the client's original id, from every file of the project."""
    original_id = (original_id or "").strip()
    if not original_id:
        raise ApplicationError("give the customer's id as the client knows it", field="original_id")
    hashed = pseudonym(original_id, project_key(project))
    counts = {"datasets": 0, "rows": 0, "label_files": 0}
    with transaction.atomic():
        for dataset in Dataset.objects.filter(project=project).exclude(file=""):
            review = PrivacyReview.objects.filter(dataset=dataset).first()
            key = hashed if review is not None and review.id_pseudonymised else original_id
            removed = erase_rows(dataset.file, dataset.id_column, {key}, f"{dataset.sha256[:16]}.csv")
            if removed:
                counts["datasets"] += 1
                counts["rows"] += removed
                Dataset.objects.filter(pk=dataset.pk).update(
                    file=dataset.file.name, row_count=dataset.row_count - removed
                )
            raw_name = f"{project.pk}-{dataset.pk}.csv"
            if (
                review is not None
                and review.raw_file
                and erase_rows(review.raw_file, dataset.id_column, {original_id}, raw_name)
            ):
                PrivacyReview.objects.filter(pk=review.pk).update(raw_file=review.raw_file.name)
        counts["label_files"] = files_changed(
            customer_erasure_requested, project=project, ids={hashed, original_id}
        )
        if not counts["rows"] and not counts["label_files"]:
            raise ApplicationError(
                "no customer with that id is in this project's data (it may already have been erased)",
                field="original_id",
            )
        # The event says an erasure happened and how much it removed, never whom.
        audit_record(action="customer.erase", actor=user, project=project, request=request, details=counts)
    return counts


def erase_rows(field: Any, column: str, ids: set[str], name: str) -> int:
    with field.open("rb") as handle:
        table = read_input(handle.read())
    if column not in table.columns:
        return 0
    keep = ~id_text(table[column]).isin(ids)
    removed = int((~keep).sum())
    if removed:
        rewrite_file(field, csv_bytes(table[keep.fillna(True)]), name)
    return removed


def retention_purge(*, now: Any = None) -> dict[str, int]:
    """Delete personal data whose retention has expired, project by project; returns counts."""
    now = now or timezone.now()
    totals = {"raw_files": 0, "datasets": 0, "label_files": 0}
    for review in PrivacyReview.objects.exclude(raw_file="").filter(raw_delete_after__lte=now):
        with transaction.atomic():
            name = review.raw_file.name
            PrivacyReview.objects.filter(pk=review.pk).update(raw_file="", raw_delete_after=None)
            transaction.on_commit(lambda name=name, storage=review.raw_file.storage: storage.delete(name))
            audit_record(
                action="retention.raw_deleted",
                actor_name="retention",
                project=review.dataset.project,
                obj=review.dataset,
            )
        totals["raw_files"] += 1
    for project in Project.objects.filter(datasets__isnull=False).distinct():
        cutoff = now - timedelta(days=policy_for(project).retention_days)
        datasets = list(Dataset.objects.filter(project=project, uploaded_at__lt=cutoff).exclude(file=""))
        with transaction.atomic():
            for dataset in datasets:
                name, storage = dataset.file.name, dataset.file.storage
                Dataset.objects.filter(pk=dataset.pk).update(file="")
                transaction.on_commit(lambda name=name, storage=storage: storage.delete(name))
            labels = files_changed(retention_purge_requested, project=project, cutoff=cutoff)
            if not datasets and not labels:
                continue
            audit_record(
                action="retention.purge",
                actor_name="retention",
                project=project,
                details={"datasets": len(datasets), "label_files": labels, "cutoff": cutoff.isoformat()},
            )
        totals["datasets"] += len(datasets)
        totals["label_files"] += labels
    return totals
