"""What the platform keeps of each monitoring pass of a version."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class MonitoringCheck(models.Model):
    """One comparison of current customers with a version's reference: ``drift.json`` as computed."""

    class Level(models.TextChoices):
        NONE = "none", "No drift"
        WARNING = "warning", "Warning"
        DRIFT = "drift", "Drift"

    version = models.ForeignKey("governance.SegmentVersion", on_delete=models.CASCADE, related_name="checks")
    # The current data; it may be purged under retention while the figures stay.
    dataset = models.ForeignKey(
        "projects.Dataset", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    overall_level = models.CharField(max_length=10, choices=Level.choices)
    result = models.JSONField(help_text="The content of drift.json.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.overall_level} on {self.version} ({self.created_at:%Y-%m-%d})"
