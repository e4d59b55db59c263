"""The audit trail: every access and change, appended to a hash chain that shows any edit."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from segplatform.errors import ImmutableError

from .wording import action_label


class AuditEvent(models.Model):
    """One thing that happened, who did it and to what. Rows are only ever appended.

    Each event stores the hash of its predecessor and its own keyed hash over every column, so a
    row altered or removed later breaks the chain where it happened (see :mod:`audit.chain`).
    """

    # Set by the writer, not auto_now_add, because the hash covers this exact value.
    created_at = models.DateTimeField(default=timezone.now, db_index=True, editable=False)
    # PROTECT: the hash covers actor_id and project_id, so they can never be nulled afterwards;
    # accounts with history are deactivated, not deleted.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True, help_text="The username at the time.")
    action = models.CharField(max_length=60, db_index=True)
    project = models.ForeignKey(
        "projects.Project", null=True, blank=True, on_delete=models.PROTECT, related_name="audit_events"
    )
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    details = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)
    # Which hash the event carries (audit.chain): 1 for events written before the chain was keyed.
    scheme = models.PositiveSmallIntegerField(default=1, editable=False)

    class Meta:
        # The table keeps the name it had when the trail lived in governance.
        db_table = "governance_auditevent"
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_name or 'system'} {self.action}"

    @property
    def action_label(self) -> str:
        return action_label(self.action)

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise ImmutableError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ImmutableError("audit events are append-only")
