"""Clients, their projects, who may work on them, the data uploaded and the runs made on it."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
from django.conf import settings
from django.db import models

from segmentation import id_text, read_input
from segmentation.data.limits import InputLimits
from segmentation.data.profile import TableProfile
from segmentation.explain.vocabulary import DEFAULT_INDUSTRY, INDUSTRY_LABELS


class Client(models.Model):
    name = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Project(models.Model):
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="projects")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    industry = models.CharField(
        max_length=20,
        choices=list(INDUSTRY_LABELS.items()),
        default=DEFAULT_INDUSTRY,
        help_text="The words for segment names and suggested actions; a run may choose others.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Membership", related_name="projects")

    class Meta:
        ordering = ["client__name", "name"]
        constraints = [models.UniqueConstraint(fields=["client", "name"], name="unique_project_per_client")]

    def __str__(self) -> str:
        return f"{self.client} · {self.name}"


class Membership(models.Model):
    class Role(models.TextChoices):
        CONSULTANT = "consultant", "Consultant"
        REVIEWER = "reviewer", "Reviewer"
        ADMIN = "admin", "Administrator"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.CONSULTANT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "project"], name="one_membership_per_project")]

    def __str__(self) -> str:
        return f"{self.user} as {self.role} on {self.project}"


def dataset_path(instance: Dataset, filename: str) -> str:
    # The client's file name may itself be personal data: the stored name is opaque.
    return f"projects/{instance.project_id}/datasets/{instance.sha256[:16]}.csv.enc"


class Dataset(models.Model):
    class Status(models.TextChoices):
        # A large upload is stored at once and read on a worker; a small one is ready on arrival.
        CHECKING = "checking", "Checking the file"
        READY = "ready", "Ready"
        REJECTED = "rejected", "Rejected"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="datasets")
    name = models.CharField(max_length=255, help_text="The file name as uploaded.")
    file = models.FileField(upload_to=dataset_path, max_length=500)
    sha256 = models.CharField(max_length=64)
    size_bytes = models.PositiveBigIntegerField()
    row_count = models.PositiveIntegerField()
    id_column = models.CharField(max_length=255)
    schema = models.JSONField(help_text="Each column with its inferred kind and count of missing cells.")
    profile = models.JSONField(
        default=dict,
        blank=True,
        help_text="The table as the upload read it: each column's kind, missing share, distinct "
        "values, examples and suggested role, and whether it is a customer table or an event log.",
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    # Until ready, row_count is 0 and schema empty: only the worker's reading of the file says.
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.READY)
    error = models.TextField(blank=True, help_text="Why the file was rejected, in words the user can act on.")
    # The outbox, as for runs: set while the check waits for the broker to take it.
    awaiting_dispatch = models.BooleanField(default=False)

    class Meta:
        ordering = ["-uploaded_at"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_ready(self) -> bool:
        return self.status == self.Status.READY

    def read_table(self) -> pd.DataFrame:
        """The stored table as a frame, whatever its format (CSV, Parquet or XLSX, told by its bytes).

        Before its privacy review is confirmed this is the raw upload; afterwards the anonymised table.
        The id column is text, as in ``labels.csv`` (:func:`segmentation.id_text`), so the table
        joins the labels whether the file held the ids as text or as numbers; an id written ``NA``
        or ``null`` stays so written, for the run's data-quality report to name (the engine drops it).
        """
        with self.file.open("rb") as handle:
            frame = read_input(handle.read(), name=f"'{self.name}'", limits=upload_limits())
        if self.id_column in frame.columns:
            frame[self.id_column] = id_text(frame[self.id_column], keep_missing_words=True)
        return frame

    @property
    def table_profile(self) -> TableProfile | None:
        """The upload's profile, typed; None for a dataset checked before profiles were kept.
        Columns the privacy review dropped are left out, as they are from the stored table."""
        if not self.profile:
            return None
        profile = TableProfile.from_dict(self.profile)
        kept = set(self.columns)
        return replace(profile, columns=[c for c in profile.columns if c.name in kept])

    @property
    def is_event_log(self) -> bool:
        profile = self.table_profile
        return profile is not None and profile.is_events

    @property
    def size_sentence(self) -> str:
        """ "69,659 events from 23,570 customers", "800 customers" or, unprofiled, "800 rows"."""
        profile = self.table_profile
        return profile.sentence if profile else f"{self.row_count:,} rows"

    @property
    def columns(self) -> list[str]:
        return [c["name"] for c in self.schema]

    @property
    def numeric_columns(self) -> list[str]:
        return [c["name"] for c in self.schema if c["kind"] == "numeric" and c["name"] != self.id_column]


class SegmentationRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="runs")
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="runs")
    spec = models.JSONField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    step = models.CharField(max_length=200, blank=True)
    celery_task_id = models.CharField(max_length=255, blank=True)
    # The outbox: set when the run is started for a worker, cleared once the broker has taken
    # the task. A run whose send failed (broker down) keeps it, and runs_dispatch sends it later.
    # Runs executed in-process (enqueue=False) never set it, so no worker races them.
    awaiting_dispatch = models.BooleanField(default=False)
    # Written by the worker while it runs; a running run whose heartbeat is older than
    # RUN_HEARTBEAT_TIMEOUT lost its worker, and runs_reap fails it.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # Which hand-over to a worker this is: 1, plus one each time the reaper put the run back in
    # the queue after its worker was lost (RUN_LOST_RETRIES). A worker finishes only the attempt
    # it claimed, so a stalled worker that wakes up after a requeue cannot finish the run twice.
    attempts = models.PositiveSmallIntegerField(default=1)
    error = models.TextField(blank=True, help_text="Why the run failed, in words the user can act on.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Why the run was started, when not by hand: a retraining after a refresh found drift
    # ({"kind": "retraining", "deployed_version": ..., "check": ..., the drift found}).
    origin = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Run {self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


def upload_limits() -> InputLimits:
    """What an uploaded table may become once read, as this deployment's settings allow; the
    worker reads a stored dataset under the same limits it was accepted under."""
    return InputLimits(
        inflated_bytes=settings.MAX_UPLOAD_INFLATED_BYTES,
        rows=settings.MAX_UPLOAD_ROWS,
        columns=settings.MAX_UPLOAD_COLUMNS,
        cells=settings.MAX_UPLOAD_CELLS,
    )
