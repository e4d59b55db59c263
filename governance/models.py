"""Immutable segment versions, their lifecycle, privacy reviews, bias records and DP releases."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.functional import cached_property

from segmentation import RunMetrics, SegmentationSpec
from segplatform.errors import ImmutableError


class SegmentVersion(models.Model):
    """The frozen result of a run: spec, fitted model, metrics and profile, content-addressed.

    A version is never edited; a new run supersedes it with a new version whose parent it is.
    """

    # PROTECT, not CASCADE: a project with versions is never deleted (the database would refuse
    # anyway); its personal data goes through retention and erasure instead.
    project = models.ForeignKey("projects.Project", on_delete=models.PROTECT, related_name="versions")
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
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
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

    @cached_property
    def segmentation_spec(self) -> SegmentationSpec:
        """The stored spec as the engine reads it: the one way apps read a version's options."""
        return SegmentationSpec.from_dict(self.spec)

    @cached_property
    def metrics_view(self) -> RunMetrics:
        """The stored metrics as the engine reads them: the one way apps read a version's results
        (``metrics`` itself stays the stored JSON, never rewritten)."""
        return RunMetrics.from_dict(self.metrics)

    @property
    def segment_names(self) -> list[str]:
        return [row["name"] for row in self.profile]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise ImmutableError("a segment version cannot be changed; start a new run instead")
        super().save(*args, **kwargs)


class ProjectPolicy(models.Model):
    """A project's privacy settings and its pseudonymisation key (stored encrypted, never shown)."""

    project = models.OneToOneField("projects.Project", on_delete=models.CASCADE, related_name="policy")
    target_k = models.PositiveSmallIntegerField(
        default=5, help_text="Record-level exports are refused below this k-anonymity."
    )
    keep_raw_days = models.PositiveIntegerField(
        default=0, help_text="Days the raw upload is kept after anonymisation (0: deleted at once)."
    )
    retention_days = models.PositiveIntegerField(
        default=365, help_text="Days a dataset is kept after upload before the retention task purges it."
    )
    dp_budget_per_version = models.FloatField(
        default=1.0, help_text="Total epsilon that differentially private releases of one version may spend."
    )
    monitoring_thresholds = models.JSONField(
        default=dict,
        blank=True,
        help_text="Thresholds of the monitoring levels that differ from the defaults "
        '(segmentation.monitoring.levels.Thresholds), e.g. {"psi_drift": 0.2}.',
    )
    # Fernet token (DATA_ENCRYPTION_KEY) of 32 random bytes: the HMAC key of pseudonyms.
    pseudonym_key_encrypted = models.TextField(editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"policy of {self.project}"


class PrivacyReview(models.Model):
    """What PII detection found in an upload and what the consultant decided to do about it."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for the consultant"
        CONFIRMED = "confirmed", "Confirmed"

    dataset = models.OneToOneField(
        "projects.Dataset", on_delete=models.CASCADE, related_name="privacy_review"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    findings = models.JSONField(default=list, help_text="Detected direct identifiers, with masked samples.")
    decisions = models.JSONField(default=dict, help_text="{column: {action, kind}} as confirmed.")
    suggested_quasi_identifiers = models.JSONField(default=list)
    quasi_identifiers = models.JSONField(default=list)
    sensitive = models.JSONField(default=list)
    risk = models.JSONField(default=dict, help_text="k, l and t measured on the confirmed quasi-identifiers.")
    id_pseudonymised = models.BooleanField(default=False)
    raw_file = models.FileField(upload_to="raw/", max_length=500, blank=True)
    raw_delete_after = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"privacy review of {self.dataset}"

    @property
    def is_confirmed(self) -> bool:
        return self.status == self.Status.CONFIRMED

    @property
    def status_summary(self) -> str:
        """The status as it happened: a review with no findings was never confirmed by anyone."""
        if not self.is_confirmed:
            return str(self.Status.PENDING.label)
        if self.confirmed_by is None:
            return "Nothing to confirm: no personal data found"
        when = f" on {self.confirmed_at:%Y-%m-%d}" if self.confirmed_at else ""
        return f"Confirmed by {self.confirmed_by.get_username()}{when}"


class VersionStatusChange(models.Model):
    """One step of a version's lifecycle; append-only, the latest row is the current status."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        IN_REVIEW = "in_review", "In review"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        RETIRED = "retired", "Retired"

    version = models.ForeignKey(SegmentVersion, on_delete=models.PROTECT, related_name="status_changes")
    status = models.CharField(max_length=20, choices=Status.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.version} → {self.status}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise ImmutableError("status changes are append-only")
        super().save(*args, **kwargs)


class BiasAudit(models.Model):
    """The bias audit of a version, written once when the version is created."""

    version = models.OneToOneField(SegmentVersion, on_delete=models.CASCADE, related_name="bias_audit")
    protected_columns = models.JSONField(default=list)
    rows = models.JSONField(default=list, help_text="The rows of bias.csv.")
    findings = models.JSONField(default=dict, help_text="The content of bias.json.")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"bias audit of {self.version}"


class Deployment(models.Model):
    """The version a lineage is scored, monitored and refreshed with, from ``deployed_at`` until
    ``ended_at`` (when another version of the lineage is deployed). One open deployment a lineage."""

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="deployments")
    lineage = models.CharField(
        max_length=255, help_text="governance.lineage.lineage_key of the version's data."
    )
    version = models.ForeignKey(SegmentVersion, on_delete=models.PROTECT, related_name="deployments")
    deployed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    deployed_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-deployed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "lineage"],
                condition=models.Q(ended_at__isnull=True),
                name="one_open_deployment_per_lineage",
            )
        ]

    def __str__(self) -> str:
        return f"{self.version} deployed for {self.lineage}"


class Mitigation(models.Model):
    """A run started to segment a version's data again without the proxies its bias audit flagged.

    The run's version stores the side-by-side comparison in its bias audit (``mitigation``)."""

    source = models.ForeignKey(SegmentVersion, on_delete=models.CASCADE, related_name="mitigations")
    run = models.OneToOneField(
        "projects.SegmentationRun", on_delete=models.CASCADE, related_name="mitigation"
    )
    dropped_features = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"mitigation of {self.source} by run {self.run_id}"


class DPRelease(models.Model):
    """A differentially private profile released for a version, and the privacy budget it spent."""

    version = models.ForeignKey(SegmentVersion, on_delete=models.PROTECT, related_name="dp_releases")
    epsilon = models.FloatField(help_text="Epsilon spent by this release (from OpenDP's privacy map).")
    table = models.JSONField(help_text="The released rows: segment, noisy size, noisy means.")
    accounting = models.JSONField(
        default=dict,
        blank=True,
        help_text="What the epsilon bought: each part's epsilon, the clamping bounds and their source.",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"ε={self.epsilon:g} release of {self.version}"


class SegmentPresentation(models.Model):
    """What a consultant calls one segment of a version, and the actions they suggest for it.

    Presentation only: the version's model, profile and hash stay as the run made them; a segment
    without a row reads as the engine named it. Editable while the version is a draft.
    """

    NAME_MAX_LENGTH = 80

    version = models.ForeignKey(SegmentVersion, on_delete=models.CASCADE, related_name="presentations")
    segment = models.IntegerField(help_text="The segment's number in the version's profile.")
    name = models.CharField(max_length=NAME_MAX_LENGTH)
    actions = models.JSONField(default=list, help_text="Suggested actions, one text each.")
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    edited_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["version", "segment"]
        constraints = [
            models.UniqueConstraint(fields=["version", "segment"], name="one_presentation_per_segment"),
            models.UniqueConstraint(fields=["version", "name"], name="unique_segment_name_in_version"),
        ]

    def __str__(self) -> str:
        return f"{self.version} segment {self.segment}: {self.name}"


class ColumnLabel(models.Model):
    """How a project's reader should see a column: ``MonthlyCharges`` as "Monthly bill"."""

    LABEL_MAX_LENGTH = 60

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="column_labels")
    column = models.CharField(max_length=255)
    label = models.CharField(max_length=LABEL_MAX_LENGTH)

    class Meta:
        ordering = ["project", "column"]
        constraints = [models.UniqueConstraint(fields=["project", "column"], name="one_label_per_column")]

    def __str__(self) -> str:
        return f"{self.column} → {self.label}"
