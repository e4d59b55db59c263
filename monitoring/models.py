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
    # A refresh that found drift starts a retraining run on the same data: its version is a draft.
    retraining_run = models.ForeignKey(
        "projects.SegmentationRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.overall_level} on {self.version} ({self.created_at:%Y-%m-%d})"


class AlertSettings(models.Model):
    """Who hears of a project's monitoring levels, and from which level on."""

    project = models.OneToOneField(
        "projects.Project", on_delete=models.CASCADE, related_name="alert_settings"
    )
    level = models.CharField(
        max_length=10,
        choices=[("warning", "Warning and drift"), ("drift", "Drift only")],
        default="drift",
        help_text="The overall level from which a check alerts.",
    )
    emails = models.JSONField(default=list, blank=True, help_text="Addresses an alert is e-mailed to.")
    webhook_url = models.URLField(blank=True, help_text="An HTTPS endpoint an alert is POSTed to as JSON.")
    # Fernet token (DATA_ENCRYPTION_KEY) of the webhook's HMAC key; the receiver checks the signature.
    webhook_secret_encrypted = models.TextField(blank=True, editable=False)

    def __str__(self) -> str:
        return f"alerts of {self.project}"


class Alert(models.Model):
    """One alert of one check on one channel: sent, failed (with why) or suppressed by the rate limit."""

    class Channel(models.TextChoices):
        PORTAL = "portal", "Portal notification"
        EMAIL = "email", "E-mail"
        WEBHOOK = "webhook", "Webhook"

    class Status(models.TextChoices):
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SUPPRESSED = "suppressed", "Suppressed (rate limit)"

    monitoring_check = models.ForeignKey(MonitoringCheck, on_delete=models.CASCADE, related_name="alerts")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    status = models.CharField(max_length=12, choices=Status.choices)
    target = models.CharField(max_length=500, blank=True, help_text="The address, URL or member alerted.")
    detail = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]


class Notification(models.Model):
    """A portal notification for one member: a check reached its project's alert level."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    monitoring_check = models.ForeignKey(
        MonitoringCheck, on_delete=models.CASCADE, related_name="notifications"
    )
    message = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]


class DataSource(models.Model):
    """Where a lineage's current data is read from on a refresh: a PostgreSQL table or a read-only
    query giving the same columns as the version's data. The connection URL (with its credentials)
    is stored encrypted, like uploads."""

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="data_sources")
    lineage = models.CharField(max_length=255)
    # Fernet token (DATA_ENCRYPTION_KEY) of postgres://user:password@host:port/database
    url_encrypted = models.TextField(editable=False)
    table = models.CharField(max_length=255, blank=True, help_text="schema.table or table; or give a query.")
    query = models.TextField(blank=True, help_text="One SELECT, run in a read-only transaction.")
    # The refresh schedule (django-celery-beat), when the lineage is refreshed on one.
    schedule = models.OneToOneField(
        "django_celery_beat.PeriodicTask", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "lineage"], name="one_source_per_lineage")]

    def __str__(self) -> str:
        return f"source of {self.lineage} ({self.project})"


class Refresh(models.Model):
    """One refresh of a lineage, asked for in the portal, the API or by the scheduler and done by a
    worker: pull the data source, monitor the deployed version, retrain on drift.

    At most one refresh of a lineage is under way at a time, so two people pressing "Refresh now"
    together share one refresh instead of monitoring the same data twice. It is committed with
    ``awaiting_dispatch`` before it is sent, so a broker that is down loses nothing.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    class Trigger(models.TextChoices):
        PORTAL = "portal", "Portal"
        API = "api", "API"
        SCHEDULE = "schedule", "Schedule"

    UNDER_WAY = (Status.QUEUED, Status.RUNNING)

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="refreshes")
    lineage = models.CharField(max_length=255)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    trigger = models.CharField(max_length=10, choices=Trigger.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    monitoring_check = models.ForeignKey(
        MonitoringCheck, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    error = models.TextField(blank=True, help_text="Why the refresh failed, in words the user can act on.")
    awaiting_dispatch = models.BooleanField(default=True)
    attempts = models.PositiveSmallIntegerField(default=1)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "lineage"],
                condition=models.Q(status__in=["queued", "running"]),
                name="one_refresh_under_way_per_lineage",
            )
        ]

    def __str__(self) -> str:
        return f"refresh of {self.lineage} ({self.status})"
