"""Immutable segment versions and the append-only audit trail."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone


class ImmutableError(Exception):
    pass


class SegmentVersion(models.Model):
    """The frozen result of a run: spec, fitted model, metrics and profile, content-addressed.

    A version is never edited; a new run supersedes it with a new version whose parent it is.
    """

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="versions")
    run = models.OneToOneField(
        "projects.SegmentationRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="version"
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    number = models.PositiveIntegerField(help_text="1, 2, 3… within the project.")
    spec = models.JSONField()
    model = models.JSONField(help_text="The fitted model artefact (JSON, never pickle).")
    model_sha256 = models.CharField(max_length=64)
    data_sha256 = models.CharField(max_length=64)
    code_version = models.CharField(max_length=40)
    version_hash = models.CharField(max_length=64, db_index=True)
    metrics = models.JSONField()
    profile = models.JSONField(help_text="One record per segment.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["project", "number"], name="unique_version_number")]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return f"v{self.number}"

    @property
    def segment_names(self) -> list[str]:
        return [row["name"] for row in self.profile]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise ImmutableError("a segment version cannot be changed; start a new run instead")
        super().save(*args, **kwargs)


class AuditEvent(models.Model):
    """One thing that happened, who did it and to what. Rows are only ever appended.

    Each event stores the hash of its predecessor and its own hash over its content, so a row
    altered or removed later breaks the chain where it happened.
    """

    # Set by the writer, not auto_now_add, because the hash covers this exact value.
    created_at = models.DateTimeField(default=timezone.now, db_index=True, editable=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True, help_text="Kept if the account is deleted.")
    action = models.CharField(max_length=60, db_index=True)
    project = models.ForeignKey(
        "projects.Project", null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events"
    )
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    details = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_name or 'system'} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise ImmutableError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ImmutableError("audit events are append-only")
